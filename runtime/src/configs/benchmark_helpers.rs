//! What the pallets' benchmarks need from this runtime. Every step of a setup either succeeds or
//! panics with what failed: a benchmark never measures a setup that silently did nothing.

use super::*;
use core::fmt::Debug;
use frame_support::BoundedVec;

/// The result of one setup step, or a panic naming the step and why it failed.
fn ok<T, E: Debug>(result: Result<T, E>, step: &str) -> T {
	result.unwrap_or_else(|error| panic!("benchmark setup: {step}: {error:?}"))
}

/// Prices `asset` at `price` from now on. A fixed price for an asset in use waits the source
/// change delay on the dev chain (a day), so the delay is set to zero first; the price is then
/// checked, so that a benchmark never runs at a price it did not ask for.
fn fixed_price(asset: AssetId, price: Price) {
	use liquidation_primitives::PriceProvider;
	let root = crate::RuntimeOrigin::root();
	ok(crate::Prices::set_source_change_delay(root.clone(), 0), "set source change delay");
	ok(crate::Prices::set_fixed_price(root, asset, price), "set fixed price");
	let now = crate::Prices::price(&asset).map(|info| info.price);
	assert_eq!(now, Ok(price), "benchmark setup: the fixed price of {asset:?}");
}

/// Prices `asset` from the oracle at `price`, fresh now, with a volatility of `daily` a day:
/// written into the prices pallet's state directly (no operator feeds a benchmark, and a
/// volatility needs many feeds), then checked usable.
fn volatile_price(asset: AssetId, price: Price, daily: sp_runtime::FixedU128) {
	use frame_support::traits::Time;
	use liquidation_primitives::PriceProvider;
	use sp_runtime::Saturating;
	let now = <crate::Timestamp as Time>::now();
	pallet_prices::Sources::<Runtime>::insert(
		asset,
		pallet_prices::PriceSource::Oracle(crate::genesis_config_presets::dev_oracle_params()),
	);
	pallet_prices::States::<Runtime>::insert(
		asset,
		pallet_prices::PriceState {
			price,
			formed_at: now,
			mark: price,
			stable: price,
			variance: daily.saturating_mul(daily),
			accepted_at: now,
			breaker: pallet_prices::Breaker::Live,
			last_seen: (price, now),
		},
	);
	let info = ok(crate::Prices::price(&asset).map_err(|e| alloc::format!("{e:?}")), "a price");
	assert_eq!(info.price, price, "benchmark setup: the volatile price of {asset:?}");
}

/// Gives `who` the native tokens a margin account's opening holds (its refundable deposit) and
/// the existential deposit beside it, twice over.
fn fund_margin_account(who: &AccountId) {
	use frame_support::traits::{fungibles::Mutate, Get};
	let deposit: Balance =
		<<Runtime as pallet_margin::Config>::AccountDeposit as Get<Balance>>::get()
			.saturating_add(crate::EXISTENTIAL_DEPOSIT)
			.saturating_mul(2);
	ok(AllAssets::mint_into(AssetId::Native, who, deposit), "mint the margin account deposit");
}

/// BTC-PERP's dev parameters with a wide skew scale and caps, for benchmark markets.
fn bench_market_params() -> pallet_perpetuals::MarketParams {
	let btc = AssetId::Asset(crate::assets::BTC);
	let params = crate::genesis_config_presets::dev_perpetual_markets()
		.into_iter()
		.find(|(underlying, _)| *underlying == btc)
		.map(|(_, params)| params);
	match params {
		Some(params) => pallet_perpetuals::MarketParams {
			skew_scale: sp_runtime::FixedU128::from_u32(1_000_000),
			max_open_interest_usd: 1_000_000_000,
			..params
		},
		None => panic!("benchmark setup: the dev preset lists BTC-PERP"),
	}
}

/// As many new markets as an account may trade, on new underlyings at a fixed 1 000 USD,
/// listed in margin too (so that an account trading them is placed in the risk index by its
/// distance: an underlying that is not a margin asset sends it to bucket 0).
fn list_benchmark_markets() -> alloc::vec::Vec<AssetId> {
	use pallet_perpetuals::BenchmarkHelper as _;
	let markets = <Runtime as pallet_perpetuals::Config>::MaxPositionsPerAccount::get();
	let underlyings = PerpetualsBenchmarkHelper::underlyings(markets);
	let params = bench_market_params();
	let margin_params = crate::genesis_config_presets::dev_margin_params()
		.into_iter()
		.find(|(asset, _, _)| *asset == AssetId::Asset(crate::assets::BTC))
		.map(|(_, _, params)| params)
		.unwrap_or_default();
	for underlying in underlyings.iter() {
		ok(
			crate::Margin::list_asset(crate::RuntimeOrigin::root(), *underlying, 12, margin_params),
			"list an underlying in margin",
		);
		ok(
			crate::Perpetuals::list_market(crate::RuntimeOrigin::root(), *underlying, params),
			"list a market",
		);
	}
	underlyings
}

/// Opens for `who` a position of 10 units (10 000 USD of notional at 1 000 USD) in each of
/// `underlyings`: a short in the first when `first_short`, longs otherwise. `who` needs the
/// initial margin (about 200 USD a position) and the fees.
fn open_positions_of_ten(who: &AccountId, underlyings: &[AssetId], first_short: bool) {
	for (index, underlying) in underlyings.iter().enumerate() {
		let short = first_short && index == 0;
		let (size, limit) = if short {
			(sp_runtime::FixedI128::from_inner(-10_000_000_000_000_000_000), Price::from_u32(1))
		} else {
			(sp_runtime::FixedI128::from_u32(10), Price::from_u32(2_000))
		};
		ok(
			crate::Perpetuals::modify_position(
				crate::RuntimeOrigin::signed(who.clone()),
				*underlying,
				size,
				limit,
			),
			"open a position",
		);
	}
}

/// Opens for `who` a small long (10 units at 1 000 USD, 10 000 USD of notional) in each of as
/// many new markets as an account may trade; returns the underlyings.
fn open_benchmark_positions(who: &AccountId) -> alloc::vec::Vec<AssetId> {
	let underlyings = list_benchmark_markets();
	open_positions_of_ten(who, &underlyings, false);
	underlyings
}

/// Feeds two dev assets in the oracle's benchmarks.
pub struct OracleBenchmarkHelper;
impl orml_oracle::BenchmarkHelper<AssetId, Price, MaxFeedValues> for OracleBenchmarkHelper {
	fn get_currency_id_value_pairs() -> BoundedVec<(AssetId, Price), MaxFeedValues> {
		BoundedVec::truncate_from(alloc::vec![
			(AssetId::Asset(crate::assets::BTC), Price::from_u32(60_000)),
			(AssetId::Asset(crate::assets::ETH), Price::from_u32(3_000)),
		])
	}
}

/// Feeds the oracle as its root operator, so one value makes a price.
pub struct PricesBenchmarkHelper;
impl pallet_prices::BenchmarkHelper<AssetId> for PricesBenchmarkHelper {
	/// An asset id no dev asset uses: a fixed price or a removal of a dev asset (held in the
	/// genesis pools and the vault) waits for the governed delay or is refused as in use, and the
	/// benchmarks measure the immediate path.
	fn asset(index: u32) -> AssetId {
		AssetId::Asset(1_000u32.saturating_add(index))
	}
	fn feed(asset: &AssetId, price: Price) {
		use orml_oracle::DataFeeder;
		ok(
			<crate::Oracle as DataFeeder<AssetId, Price, AccountId>>::feed_value(
				None,
				asset.clone(),
				price,
			),
			"feed value",
		);
	}
	fn set_time(now: Moment) {
		pallet_timestamp::Now::<Runtime>::put(now);
	}
}

/// The dev assets (listed at genesis), each given a fixed price of 1 USD so no oracle round
/// is needed; mints them to benchmark accounts.
pub struct MarginBenchmarkHelper;
impl pallet_margin::BenchmarkHelper<AssetId, AccountId> for MarginBenchmarkHelper {
	/// The asset oracle-priced at its price now (1 USD in these benchmarks), volatile.
	fn volatile(asset: AssetId, daily: sp_runtime::FixedU128) {
		use liquidation_primitives::PriceProvider;
		let price =
			crate::Prices::price(&asset).map(|info| info.price).unwrap_or(Price::from_u32(1));
		volatile_price(asset, price, daily);
	}

	fn assets(n: u32) -> alloc::vec::Vec<AssetId> {
		let mut assets: alloc::vec::Vec<AssetId> =
			crate::assets::DEV_ASSETS.iter().map(|asset| asset.id).take(n as usize).collect();
		// More assets than the dev chain has, to fill a portfolio of `MaxPositions`.
		while assets.len() < n as usize {
			let Some(next) = pallet_assets::NextAssetId::<Runtime>::get() else { break };
			let owner = sp_runtime::MultiAddress::Id(AccountId::from([0u8; 32]));
			ok(
				crate::Assets::force_create(
					crate::RuntimeOrigin::root(),
					next.into(),
					owner,
					true,
					1,
				),
				"force create",
			);
			assets.push(AssetId::Asset(next));
		}
		for asset in &assets {
			fixed_price(*asset, Price::from_u32(1));
		}
		assets
	}

	fn derivative_positions(who: &AccountId, underlyings: &[AssetId]) -> u32 {
		use liquidation_primitives::PriceProvider;
		let usd = AssetId::Asset(crate::assets::USD);
		let most = <Runtime as pallet_perpetuals::Config>::MaxPositionsPerAccount::get();
		let params = bench_market_params();
		let mut opened = 0u32;
		for underlying in underlyings.iter().filter(|asset| **asset != usd).take(most as usize) {
			if pallet_perpetuals::Markets::<Runtime>::get(underlying).is_none() {
				ok(
					crate::Perpetuals::list_market(
						crate::RuntimeOrigin::root(),
						*underlying,
						params,
					),
					"list a market",
				);
			}
			// 100 USD of notional: above every market's minimum, far within the account.
			let Ok(info) = crate::Prices::price(underlying) else { continue };
			let units = sp_runtime::FixedI128::from_rational(100, 1)
				.const_checked_div(sp_runtime::FixedI128::from_inner(
					i128::try_from(info.price.into_inner()).unwrap_or(i128::MAX),
				))
				.unwrap_or_default();
			ok(
				crate::Perpetuals::modify_position(
					crate::RuntimeOrigin::signed(who.clone()),
					*underlying,
					units,
					Price::from_u32(u32::MAX),
				),
				"open a long",
			);
			opened = opened.saturating_add(1);
		}
		opened
	}
}

/// BTC for USD, both at 1 USD (USD is fixed at 1 on the dev chain); an owner with USD debt
/// borrowed against BTC in the margin pallet, so the handler has a debt to repay.
pub struct AuctionBenchmarkHelper;
impl pallet_auction::BenchmarkHelper<AssetId, AccountId> for AuctionBenchmarkHelper {
	fn assets() -> (AssetId, AssetId) {
		let btc = AssetId::Asset(crate::assets::BTC);
		fixed_price(btc, Price::from_u32(1));
		(btc, AssetId::Asset(crate::assets::USD))
	}
	fn indebted_owner(debt_asset: AssetId, amount: Balance) -> AccountId {
		use frame_support::traits::fungibles::Mutate;
		let (collateral, _) = Self::assets();
		let lender = AccountId::from([1u8; 32]);
		let owner = AccountId::from([2u8; 32]);
		fund_margin_account(&lender);
		fund_margin_account(&owner);
		ok(AllAssets::mint_into(debt_asset, &lender, amount.saturating_mul(10)), "mint into");
		ok(
			crate::Margin::deposit(
				crate::RuntimeOrigin::signed(lender),
				debt_asset,
				amount.saturating_mul(10),
			),
			"deposit",
		);
		// Collateral worth ten times the debt (both at 1 USD a whole unit).
		let collateral_amount = amount.saturating_mul(10).saturating_mul(100);
		ok(AllAssets::mint_into(collateral, &owner, collateral_amount), "mint into");
		ok(
			crate::Margin::deposit(
				crate::RuntimeOrigin::signed(owner.clone()),
				collateral,
				collateral_amount,
			),
			"deposit",
		);
		ok(
			crate::Margin::borrow(crate::RuntimeOrigin::signed(owner.clone()), debt_asset, amount),
			"borrow",
		);
		owner
	}
	fn repay_all(owner: &AccountId) {
		use frame_support::traits::fungibles::Mutate;
		for (asset, _, debt) in crate::Margin::positions(owner) {
			if debt > 0 {
				ok(AllAssets::mint_into(asset, owner, debt), "mint into");
				ok(
					crate::Margin::repay(
						crate::RuntimeOrigin::signed(owner.clone()),
						asset,
						pallet_margin::Amount::All,
					),
					"repay",
				);
			}
		}
	}
}

/// BTC collateral against debts in the dev assets (and more created for the purpose), all
/// at fixed prices; the genesis BTC/USD pool serves the flash path.
pub struct LiquidationBenchmarkHelper;
impl pallet_liquidation::BenchmarkHelper<AssetId, AccountId> for LiquidationBenchmarkHelper {
	fn assets() -> (AssetId, AssetId) {
		let btc = AssetId::Asset(crate::assets::BTC);
		fixed_price(btc, Price::from_u32(60_000));
		(btc, AssetId::Asset(crate::assets::USD))
	}
	fn liquidatable_account(debt_positions: u32, bankrupt: bool) -> AccountId {
		Self::liquidatable(debt_positions, bankrupt, false)
	}

	fn liquidatable_account_with_positions(debt_positions: u32) -> AccountId {
		Self::liquidatable(debt_positions, false, true)
	}

	fn liquidatable_accounts(n: u32, debt_positions: u32) -> Option<alloc::vec::Vec<AccountId>> {
		// Maintenance health 0.2: the collateral is worth less than twice what an auction of
		// one debt seizes, so the lot is the whole deposit. Filed against real references (an
		// epoch started), so that a liquidation re-files the account for real.
		Some(Self::liquidatable_many(n, debt_positions, false, false, 20, true))
	}

	/// The liquidatable account with positions, BTC back up to where its maintenance
	/// collateral is 1.3 times its maintenance debt, oracle-priced with a volatility of 20 % a
	/// day (a week's move at risk at 99 % is all of its price); a keeper holding a million of
	/// each debt asset.
	fn derisk_account(debt_positions: u32) -> Option<(AccountId, AccountId)> {
		use frame_support::traits::fungibles::Mutate;
		use liquidation_primitives::ledger::Inspect;
		let who = Self::liquidatable(debt_positions, false, true);
		let btc = AssetId::Asset(crate::assets::BTC);
		let report = ok(
			<crate::Margin as Inspect<AccountId>>::health(&who)
				.map_err(|e| alloc::format!("{e:?}")),
			"health",
		);
		use sp_runtime::Saturating;
		let price =
			report.maintenance_debt.saturating_mul(sp_runtime::FixedU128::from_rational(130, 90));
		volatile_price(btc, price, sp_runtime::FixedU128::from_rational(20, 100));
		// USD the largest debt (the others a tenth smaller): the partner of the slice, which
		// the worker's sale needs a DEX pool for (the genesis BTC/USD pool).
		let usd = AssetId::Asset(crate::assets::USD);
		for (asset, _, debt) in crate::Margin::positions(&who) {
			if debt > 0 && asset != usd {
				ok(
					crate::Margin::repay(
						crate::RuntimeOrigin::signed(who.clone()),
						asset,
						pallet_margin::Amount::Exact(debt / 10),
					),
					"repay",
				);
			}
		}
		let keeper = AccountId::from([0x7d; 32]);
		fund_margin_account(&keeper);
		for (asset, _, debt) in crate::Margin::positions(&who) {
			if debt > 0 {
				ok(AllAssets::mint_into(asset, &keeper, debt.saturating_mul(1_000)), "mint into");
			}
		}
		Some((who, keeper))
	}

	/// The liquidatable trader, every underlying back at 1 000 USD, the first oracle-priced
	/// with a volatility of 50 % a day; the keeper as for a takeover.
	fn derisk_trader() -> Option<(AccountId, AccountId)> {
		let (trader, keeper) = Self::liquidatable_trader()?;
		let underlyings: alloc::vec::Vec<AssetId> =
			crate::Perpetuals::position_reports(&trader).iter().map(|p| p.underlying).collect();
		for underlying in underlyings.iter() {
			fixed_price(*underlying, Price::from_u32(1_000));
		}
		let first = *underlyings.first()?;
		volatile_price(
			first,
			Price::from_u32(1_000),
			sp_runtime::FixedU128::from_rational(50, 100),
		);
		Some((trader, keeper))
	}

	/// A trader with 10 000 USD in margin and a 10-unit long in each of the most markets an
	/// account may trade (new underlyings at 1 000 USD, 80 000 USD of notional), then every
	/// price 11% lower: a loss of 8 800 USD (9 240 weighed as USD debt) and 399 of
	/// requirements against 9 462 of maintenance collateral, a health factor near 0.98 (a
	/// partial close-out). The keeper holds 100 000 USD in margin and in tokens.
	fn liquidatable_trader() -> Option<(AccountId, AccountId)> {
		use pallet_perpetuals::BenchmarkHelper as _;
		let trader = AccountId::from([0x79; 32]);
		let keeper = AccountId::from([0x7a; 32]);
		PerpetualsBenchmarkHelper::fund_margin(&trader, 10_000);
		PerpetualsBenchmarkHelper::fund_margin(&keeper, 100_000);
		PerpetualsBenchmarkHelper::fund_tokens(&keeper, 100_000);
		let underlyings = open_benchmark_positions(&trader);
		for underlying in underlyings.iter() {
			fixed_price(*underlying, Price::from_u32(890));
		}
		Some((trader, keeper))
	}

	/// `traders` accounts, each with 10 000 USD in margin and a 10-unit position in each of
	/// as many new markets as an account may trade, all at 1 000 USD: in the first market a
	/// short for `winners` of them, a long for the others, longs elsewhere; then the first
	/// market's price 10% lower (every short 1 000 USD in profit). An LP's 20 million USD in
	/// the vault carries their exposure; the insurance fund holds 1 000 USD.
	fn deleverage_market(traders: u32, winners: u32) -> Option<AssetId> {
		use pallet_perpetuals::BenchmarkHelper as _;
		let lp = AccountId::from([0x7c; 32]);
		PerpetualsBenchmarkHelper::fund_tokens(&lp, 20_000_000);
		ok(
			crate::Perpetuals::deposit_to_vault(
				crate::RuntimeOrigin::signed(lp.clone()),
				20_000_000 * 1_000_000,
			),
			"deposit into the vault",
		);
		// Twice the stake: the rest keeps the account alive.
		PerpetualsBenchmarkHelper::fund_tokens(&lp, 2_000);
		ok(
			crate::Insurance::stake(
				crate::RuntimeOrigin::signed(lp),
				AssetId::Asset(crate::assets::USD),
				1_000 * 1_000_000,
				0,
			),
			"stake into the insurance fund",
		);
		let underlyings = list_benchmark_markets();
		let market = *underlyings.first()?;
		for index in 0..traders {
			let mut raw = [0x7b; 32];
			raw[..4].copy_from_slice(&index.to_le_bytes());
			let trader = AccountId::from(raw);
			PerpetualsBenchmarkHelper::fund_margin(&trader, 10_000);
			open_positions_of_ten(&trader, &underlyings, index < winners);
		}
		fixed_price(market, Price::from_u32(900));
		Some(market)
	}
}

impl LiquidationBenchmarkHelper {
	/// See [`pallet_liquidation::BenchmarkHelper::liquidatable_account`]; with `positions`, the
	/// most derivative positions opened before the crash.
	fn liquidatable(debt_positions: u32, bankrupt: bool, positions: bool) -> AccountId {
		Self::liquidatable_many(1, debt_positions, bankrupt, positions, 97, false)
			.into_iter()
			.next()
			.unwrap_or_else(|| AccountId::from([0x77; 32]))
	}

	/// `n` accounts made as [`Self::liquidatable`] makes one, all opened before the crash that
	/// makes them liquidatable at once, at a maintenance health of `health_percent` % (unless
	/// `bankrupt`). With `epoch`, an epoch of the risk index starts once every asset is listed
	/// and priced, before the accounts open (as on a running chain, where the margin pallet's
	/// `on_idle` starts one): they are filed at a distance from real references.
	fn liquidatable_many(
		n: u32,
		debt_positions: u32,
		bankrupt: bool,
		positions: bool,
		health_percent: u32,
		epoch: bool,
	) -> alloc::vec::Vec<AccountId> {
		use frame_support::traits::fungibles::Mutate;
		use liquidation_primitives::ledger;
		let (btc, usd) =
			<Self as pallet_liquidation::BenchmarkHelper<AssetId, AccountId>>::assets();
		let accounts: alloc::vec::Vec<AccountId> = (0..n.max(1))
			.map(|index: u32| {
				let mut raw = [0x77u8; 32];
				if index > 0 {
					raw[..4].copy_from_slice(&index.to_le_bytes());
				}
				AccountId::from(raw)
			})
			.collect();
		let lender = AccountId::from([0x78; 32]);
		fund_margin_account(&lender);
		let root = || crate::RuntimeOrigin::root();
		// Debt assets: USD first, then the other dev assets, then new ones.
		let mut debts: alloc::vec::Vec<AssetId> = alloc::vec![usd];
		debts.extend(
			crate::assets::DEV_ASSETS
				.iter()
				.map(|asset| asset.id)
				.filter(|id| *id != btc && *id != usd),
		);
		while debts.len() < debt_positions as usize {
			let Some(next) = pallet_assets::NextAssetId::<Runtime>::get() else { break };
			let owner = sp_runtime::MultiAddress::Id(lender.clone());
			ok(crate::Assets::force_create(root(), next.into(), owner, true, 1), "force create");
			let params = crate::genesis_config_presets::dev_margin_params()
				.into_iter()
				.map(|(_, _, params)| params)
				.next()
				.unwrap_or_default();
			ok(crate::Margin::list_asset(root(), AssetId::Asset(next), 12, params), "list asset");
			debts.push(AssetId::Asset(next));
		}
		if epoch {
			use frame_support::traits::Hooks;
			for asset in debts.iter().take(debt_positions.max(1) as usize) {
				if *asset != usd {
					fixed_price(*asset, Price::from_u32(1));
				}
			}
			let now = frame_system::Pallet::<Runtime>::block_number();
			let _ = <crate::Margin as Hooks<crate::BlockNumber>>::on_idle(now, Weight::MAX);
		}
		for who in &accounts {
			fund_margin_account(who);
			// A thousand USD of debt in each (every debt asset priced at 1 USD a whole unit).
			ok(AllAssets::mint_into(btc, who, 100_000_000), "mint into");
			ok(
				crate::Margin::deposit(crate::RuntimeOrigin::signed(who.clone()), btc, 100_000_000),
				"deposit",
			);
			for asset in debts.iter().take(debt_positions.max(1) as usize) {
				if *asset != usd {
					fixed_price(*asset, Price::from_u32(1));
				}
				let decimals =
					<crate::Margin as liquidation_primitives::AssetDecimals<AssetId>>::decimals(
						*asset,
					)
					.unwrap_or(12);
				let unit = 10u128.saturating_pow(decimals.into());
				let amount = 1_000u128.saturating_mul(unit);
				ok(AllAssets::mint_into(*asset, &lender, amount.saturating_mul(10)), "mint into");
				ok(
					crate::Margin::deposit(
						crate::RuntimeOrigin::signed(lender.clone()),
						*asset,
						amount.saturating_mul(10),
					),
					"deposit",
				);
				ok(
					crate::Margin::borrow(
						crate::RuntimeOrigin::signed(who.clone()),
						*asset,
						amount,
					),
					"borrow",
				);
			}
			if positions {
				open_benchmark_positions(who);
			}
			if bankrupt {
				// One satoshi left: dust, so the waterfall also moves a deposit.
				ok(
					<crate::Margin as ledger::Mutate<AccountId>>::seize_collateral(
						who, btc, 99_999_999, &lender,
					),
					"seize collateral",
				);
			}
		}
		let first = accounts.first().cloned().unwrap_or_else(|| AccountId::from([0x77; 32]));
		if !bankrupt {
			if let Ok(report) = <crate::Margin as ledger::Inspect<AccountId>>::health(&first) {
				// Crash BTC so that maintenance collateral is `health_percent` % of maintenance
				// debt: 1 BTC at this price counts 0.9 of it.
				use sp_runtime::Saturating;
				let price = report.maintenance_debt.saturating_mul(
					sp_runtime::FixedU128::from_rational(health_percent.into(), 90),
				);
				fixed_price(btc, price);
			}
		}
		accounts
	}
}

/// Insures the USD stable (created at genesis) and mints it to benchmark accounts.
pub struct InsuranceBenchmarkHelper;
impl pallet_insurance::BenchmarkHelper<AssetId, AccountId> for InsuranceBenchmarkHelper {
	fn asset() -> AssetId {
		AssetId::Asset(crate::assets::USD)
	}
}

/// New assets with a fixed price of 1 000 USD as underlyings; USD minted as tokens or
/// deposited into margin accounts.
pub struct PerpetualsBenchmarkHelper;
impl pallet_perpetuals::BenchmarkHelper<AccountId, AssetId> for PerpetualsBenchmarkHelper {
	fn underlyings(n: u32) -> alloc::vec::Vec<AssetId> {
		let mut underlyings = alloc::vec::Vec::new();
		while underlyings.len() < n as usize {
			let Some(next) = pallet_assets::NextAssetId::<Runtime>::get() else { break };
			let owner = sp_runtime::MultiAddress::Id(AccountId::from([0u8; 32]));
			ok(
				crate::Assets::force_create(
					crate::RuntimeOrigin::root(),
					next.into(),
					owner,
					true,
					1,
				),
				"force create",
			);
			let asset = AssetId::Asset(next);
			fixed_price(asset, Price::from_u32(1_000));
			underlyings.push(asset);
		}
		underlyings
	}

	fn fund_margin(who: &AccountId, usd: u128) {
		let usd_asset = AssetId::Asset(crate::assets::USD);
		Self::fund_tokens(who, usd);
		fund_margin_account(who);
		ok(
			crate::Margin::deposit(
				crate::RuntimeOrigin::signed(who.clone()),
				usd_asset,
				usd.saturating_mul(1_000_000),
			),
			"deposit USD into margin",
		);
	}

	fn fund_tokens(who: &AccountId, usd: u128) {
		use frame_support::traits::fungibles::Mutate;
		let usd_asset = AssetId::Asset(crate::assets::USD);
		ok(AllAssets::mint_into(usd_asset, who, usd.saturating_mul(1_000_000)), "mint USD");
	}

	/// BTC at a fixed 1 USD, `usd` whole units of it deposited.
	fn fund_collateral(who: &AccountId, usd: u128) {
		use frame_support::traits::fungibles::Mutate;
		let btc = AssetId::Asset(crate::assets::BTC);
		fixed_price(btc, Price::from_u32(1));
		let amount = usd.saturating_mul(100_000_000);
		fund_margin_account(who);
		ok(AllAssets::mint_into(btc, who, amount), "mint BTC");
		ok(
			crate::Margin::deposit(crate::RuntimeOrigin::signed(who.clone()), btc, amount),
			"deposit BTC into margin",
		);
	}
}
