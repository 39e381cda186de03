//! Perpetual futures in the dev runtime: the preset's markets and vault, a trade signed as a
//! wallet signs it, and a 5x long backed by another asset that a fall of the underlying makes
//! liquidatable, as margin's health, its risk index and the engine see it.

use frame_support::unsigned::ValidateUnsigned;
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{ledger::Inspect as _, AssetId, DeficitHandler, Price};
use liquidation_runtime::{
	assets, genesis_config_presets as presets, Liquidation, Margin, Perpetuals, Runtime,
	RuntimeCall, RuntimeEvent, UncheckedExtrinsic,
};
use pallet_perpetuals::MarketStatus;
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::transaction_validity::TransactionSource;
use sp_runtime::{traits::Zero, FixedI128, FixedPointNumber, FixedU128};

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const ETH: AssetId = AssetId::Asset(assets::ETH);
const DOT: AssetId = AssetId::Asset(assets::DOT);
/// One whole ETH (18 decimals).
const ETHER: u128 = 1_000_000_000_000_000_000;

fn perps(call: pallet_perpetuals::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Perpetuals(call)
}

/// Bob deposits 4 ETH (12 000 USD) and opens a 1 BTC long on BTC-PERP (five times that).
fn bob_opens_a_5x_btc_long(chain: &mut TestChain) {
	let deposit =
		RuntimeCall::Margin(pallet_margin::Call::deposit { asset: ETH, amount: 4 * ETHER });
	assert_eq!(chain.dispatch(Bob, deposit), Ok(()));
	let open = perps(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::saturating_from_integer(1),
		limit_price: Price::from_u32(60_100),
	});
	assert_eq!(chain.dispatch(Bob, open), Ok(()));
}

/// A keeper's takeover of up to one BTC of `who`'s BTC-PERP position.
fn take_over_btc(who: sp_runtime::AccountId32) -> RuntimeCall {
	RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate_position {
		who,
		underlying: BTC,
		max_units: FixedU128::from_u32(1),
	})
}

/// A margin deposit of `usd` whole USD.
fn deposit_usd(usd: u128) -> RuntimeCall {
	RuntimeCall::Margin(pallet_margin::Call::deposit { asset: USD, amount: usd * 1_000_000 })
}

#[test]
fn the_preset_lists_three_markets_and_seeds_the_vault() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.execute_with(|| {
		let markets = Perpetuals::market_reports();
		let listed: Vec<AssetId> = markets.iter().map(|m| m.underlying).collect();
		assert_eq!(listed.len(), 3);
		for underlying in [BTC, ETH, DOT] {
			assert!(listed.contains(&underlying));
		}
		assert!(markets.iter().all(|m| m.status == MarketStatus::Active && m.skew.is_zero()));
		for (underlying, params) in presets::dev_perpetual_markets() {
			assert_eq!(params.check(), Ok(()), "{underlying:?}");
		}
		// Half of Alice's USD endowment, a deposit of the vault's account in margin.
		let seed = presets::DEV_VAULT_SEED_USD;
		let vault = Perpetuals::vault_report().expect("no market is skewed");
		assert_eq!(vault.nav, FixedI128::saturating_from_integer(seed as i128));
		assert_eq!(Margin::deposit_of(&Perpetuals::vault_account(), USD), seed * 1_000_000);
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}

/// The test: 4 ETH (12 000 USD) back a 1 BTC long on BTC-PERP (60 000 USD, five times
/// the collateral); BTC falls and the account becomes liquidatable, reported so by margin's
/// health, by its risk index and by the engine's scan.
#[test]
fn a_5x_btc_long_backed_by_eth_becomes_liquidatable_when_btc_falls() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	let bob = Bob.to_account_id();
	bob_opens_a_5x_btc_long(&mut chain);
	chain.execute_with(|| {
		let positions = Perpetuals::position_reports(&bob);
		assert_eq!(positions.len(), 1);
		// Fill 60 000 (1 + 1 / 25 000) = 60 002.4; its 5 bps fee lent to Bob in USD.
		assert_eq!(positions[0].entry_price, FixedU128::from_rational(600_024, 10));
		assert_eq!(Margin::debt_of(&bob, USD), 30_001_200);
		let health = Margin::health_of(&bob).unwrap();
		assert!(!health.is_liquidatable());
		assert!(!health.derivatives.maintenance_requirement.is_zero());
		// Filed in the risk index at his distance, the position's sensitivity included, in the
		// lists of ETH, of USD (the fee debt) and of BTC (the underlying): a walk with nothing
		// moved does not read him.
		let entry = pallet_margin::RiskEntryOf::<Runtime>::get(&bob).expect("filed");
		assert!(entry.bucket > 1_000, "{entry:?}");
		assert!(entry.assets.contains(&BTC) && entry.assets.contains(&ETH));
		assert!(!Margin::accounts_at_risk(None, 100).0.contains(&bob));
	});

	// BTC falls, in steps the circuit breaker accepts.
	chain.feed_price(BTC, Price::from_u32(52_000));
	chain.execute_with(|| {
		// Loss 8 002.4 plus 0.56% maintenance of 52 000 and the fee debt, against 10 200.
		assert!(!Margin::health_of(&bob).unwrap().is_liquidatable());
	});
	chain.feed_price(BTC, Price::from_u32(48_000));
	chain.execute_with(|| {
		// Loss 12 002.4 > 10 200 of maintenance collateral.
		let health = Margin::health_of(&bob).unwrap();
		assert!(health.is_liquidatable());
		// (12 002.4 and the little funding accrued over the blocks of the fall)
		let loss = health.derivatives.loss;
		assert!(loss >= FixedU128::from_rational(120_024, 10), "{loss:?}");
		assert!(loss < FixedU128::from_u32(12_003), "{loss:?}");
		assert!(Margin::accounts_at_risk(None, 100).0.contains(&bob));
		let (found, _) = Liquidation::liquidatable_accounts_at_risk(None, 100);
		assert!(found.iter().any(|(who, _)| *who == bob));
		// The position reports the price that made it so.
		// (1.05 × 60 002.4 + 31.50126 - 10 200) / (1.05 - 0.005634496) = 50 589.6: the loss and
		// the fee debt weigh as USD debt, the maintenance fraction is 28% of 2.01232%.
		let at = Perpetuals::position_reports(&bob)[0].liquidation_price.unwrap();
		assert!(at > FixedU128::from_u32(50_589) && at < FixedU128::from_u32(50_590), "{at:?}");
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}

/// Bob's 5x BTC long backed by 4 ETH, and BTC at 50 500: his maintenance health is
/// 10 200 - (1.05 × 9 502.4 + 31.50 + 284.5) < 0, health factor 0.991 (partial close-outs).
fn a_liquidatable_5x_long() -> TestChain {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	bob_opens_a_5x_btc_long(&mut chain);
	chain.feed_price(BTC, Price::from_u32(52_000));
	chain.feed_price(BTC, Price::from_u32(50_500));
	let bob = Bob.to_account_id();
	chain.execute_with(|| {
		let factor = Margin::health_of(&bob).unwrap().health_factor().unwrap();
		assert!(factor > FixedU128::from_rational(99, 100), "{factor:?}");
		assert!(factor < FixedU128::from_u32(1), "{factor:?}");
	});
	chain
}

/// The worker closes a liquidatable perpetual position against the vault (the backstop): half
/// of it (the close factor: releasing all of its margin would not reach the target), at the
/// oracle less the fee, insurance taking half of the fee; the shortfall falls, and the next
/// slice is valid at once. Its loss became USD debt, the spot engine's to repay from his ETH.
#[test]
fn the_worker_closes_half_a_liquidatable_long_against_the_vault() {
	let mut chain = a_liquidatable_5x_long();
	let bob = Bob.to_account_id();
	let call =
		pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who: bob.clone(), found_at: 0 };
	let (before, usd_debt, fund_usd, preview) = chain.execute_with(|| {
		assert!(Liquidation::due_accounts(None, 100).0.iter().any(|(who, _)| *who == bob));
		assert!(Liquidation::validate_unsigned(TransactionSource::Local, &call).is_ok());
		let fund = pallet_insurance::Pallet::<Runtime>::fund_account();
		(
			Margin::health_of(&bob).unwrap(),
			Margin::debt_of(&bob, USD),
			liquidation_runtime::Assets::balance(assets::USD, &fund),
			Liquidation::preview_position(&bob, None).expect("a close-out to preview"),
		)
	});
	chain.start_block();
	let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call.clone()));
	assert_eq!(chain.apply(xt), Ok(Ok(())));
	chain.finish_block();
	let events = chain.liquidation_events();
	let (units, whole, fee, to_insurance, taker) = events
		.iter()
		.find_map(|event| match event {
			pallet_liquidation::Event::PositionLiquidated {
				who,
				underlying,
				units,
				whole,
				fee,
				to_insurance,
				taker,
				keeper: false,
				..
			} if *who == bob && *underlying == BTC => {
				Some((*units, *whole, *fee, *to_insurance, taker.clone()))
			},
			_ => None,
		})
		.unwrap_or_else(|| panic!("a backstop close-out: {events:?}"));
	assert_eq!(units, FixedU128::from_rational(1, 2));
	assert!(!whole);
	assert_eq!(taker, Perpetuals::vault_account());
	// The runtime API's preview said as much.
	assert_eq!(
		(preview.underlying, preview.units, preview.whole, preview.fee, preview.to_insurance),
		(BTC, units, whole, fee, to_insurance)
	);
	assert!(preview.shortfall.is_zero());
	chain.execute_with(|| {
		// The fee: half the margin the half releases (a few dozen USD), half of it to insurance
		// (6 decimals, rounded down).
		assert!(fee > FixedU128::from_u32(60) && fee < FixedU128::from_u32(80), "{fee:?}");
		let half = fee.into_inner() / 2 / 1_000_000_000_000;
		assert!(to_insurance.abs_diff(half) <= 1, "{to_insurance} against {half}");
		let fund = pallet_insurance::Pallet::<Runtime>::fund_account();
		assert_eq!(
			liquidation_runtime::Assets::balance(assets::USD, &fund),
			fund_usd + to_insurance
		);
		let position = &Perpetuals::position_reports(&bob)[0];
		assert_eq!(position.size, FixedI128::from_rational(1, 2));
		// Half the loss (4 751.2) and the fee, lent to him in USD.
		let lent = Margin::debt_of(&bob, USD) - usd_debt;
		assert!(lent > 4_751 * 1_000_000 && lent < 4_900 * 1_000_000, "{lent}");
		let after = Margin::health_of(&bob).unwrap();
		assert!(after.maintenance_shortfall() < before.maintenance_shortfall());
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!((totals.close_outs, totals.taken_over), (1, 0));
		assert_eq!(totals.fee_to_insurance, to_insurance);
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
		Liquidation::do_try_state().expect("invariants hold");
		// Still liquidatable: the next slice is valid at once.
		if after.is_liquidatable() {
			assert!(Liquidation::validate_unsigned(TransactionSource::Local, &call).is_ok());
		}
	});
}

/// A keeper takes over half of the position at the fill less the fee: he holds about the fee as
/// unrealised profit and pays insurance's half of it; a keeper without the margin for it is
/// refused, and a healthy account cannot be touched.
#[test]
fn a_keeper_takes_over_half_a_liquidatable_long() {
	let mut chain = a_liquidatable_5x_long();
	// Charlie has no margin: the takeover would leave him below initial health.
	assert!(chain.dispatch(Charlie, take_over_btc(Bob.to_account_id())).is_err());
	assert_eq!(chain.dispatch(Charlie, deposit_usd(20_000)), Ok(()));
	// Dave's account is healthy: nothing to liquidate, refused before any fee.
	assert_eq!(
		chain.submit(Charlie, take_over_btc(Dave.to_account_id())),
		Err(sp_runtime::transaction_validity::TransactionValidityError::Invalid(
			sp_runtime::transaction_validity::InvalidTransaction::Custom(
				pallet_liquidation::invalid::NOT_LIQUIDATABLE
			)
		))
	);
	assert_eq!(chain.dispatch(Charlie, take_over_btc(Bob.to_account_id())), Ok(()));
	let charlie = Charlie.to_account_id();
	chain.execute_with(|| {
		let his = &Perpetuals::position_reports(&charlie)[0];
		assert_eq!(his.size, FixedI128::from_rational(1, 2));
		// (The fallback may have closed a first slice in the blocks the calls took.)
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!(totals.taken_over, 1);
		// His unrealised profit is his takeover's fee (less the funding of the block).
		let fee = frame_system::Pallet::<Runtime>::events()
			.into_iter()
			.find_map(|record| match record.event {
				RuntimeEvent::Liquidation(pallet_liquidation::Event::PositionLiquidated {
					fee,
					keeper: true,
					..
				}) => Some(FixedI128::from_inner(fee.into_inner() as i128)),
				_ => None,
			})
			.expect("the takeover's event");
		// (less the skew premium of the sale the close price starts from: a few USD)
		let profit = his.unrealised_pnl;
		assert!(profit <= fee && profit > fee - FixedI128::from_u32(5), "{profit:?} {fee:?}");
		// Open interest unchanged by the takeover: Bob's and Charlie's longs.
		let market = Perpetuals::market_report(BTC).unwrap();
		let bobs = Perpetuals::position_reports(&Bob.to_account_id())
			.first()
			.map(|position| position.size.into_inner() as u128)
			.unwrap_or_default();
		assert_eq!(market.long_interest.into_inner(), bobs + his.size.into_inner() as u128);
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}

/// With no worker, `on_idle` closes the position out after the grace period.
#[test]
fn the_fallback_closes_positions_when_no_worker_runs() {
	let mut chain = a_liquidatable_5x_long();
	let bob = Bob.to_account_id();
	for _ in 0..6 {
		chain.produce_block(vec![]);
	}
	chain.execute_with(|| {
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert!(totals.close_outs >= 1, "{totals:?}");
		let left = Perpetuals::position_reports(&bob);
		assert!(left.is_empty() || left[0].size < FixedI128::from_u32(1), "{left:?}");
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}

/// A perpetual-only trader whose loss exceeds his account: 3 000 USD behind a 1 BTC long, BTC
/// falls to 52 000 (a loss of 8 002.4). The worker closes the whole position; he is charged
/// all he has and no more (closed at his bankruptcy price as far as his account goes), so no
/// debt is left to the USD lenders; the vault holds the shortfall, of which the insurance
/// fund (2 000 USD staked) pays what it holds and the LPs bear the rest.
#[test]
fn an_insolvent_long_is_closed_at_its_bankruptcy_and_its_shortfall_covered_then_borne_by_lps() {
	const DOLLAR: u128 = 1_000_000;
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	let stake = RuntimeCall::Insurance(pallet_insurance::Call::stake {
		asset: USD,
		amount: 2_000 * DOLLAR,
		min_shares: 2_000 * DOLLAR - 1_000,
	});
	assert_eq!(chain.dispatch(Dave, stake), Ok(()));
	assert_eq!(chain.dispatch(Bob, deposit_usd(3_000)), Ok(()));
	let open = perps(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::saturating_from_integer(1),
		limit_price: Price::from_u32(60_100),
	});
	assert_eq!(chain.dispatch(Bob, open), Ok(()));
	chain.feed_price(BTC, Price::from_u32(52_000));
	let bob = Bob.to_account_id();
	let vault = Perpetuals::vault_account();
	let (owed_beyond, bob_usd, vault_usd, fund_usd) = chain.execute_with(|| {
		let report = Liquidation::effective_report(&bob).unwrap();
		// His bankruptcy price: where his equity is zero, 52 000 plus what he owes beyond it.
		let bankruptcy = Perpetuals::position_reports(&bob)[0].bankruptcy_price.unwrap();
		let expected = FixedU128::from_u32(52_000) + (report.debt_value - report.collateral_value);
		assert!(bankruptcy.into_inner().abs_diff(expected.into_inner()) < 1_000, "{bankruptcy:?}");
		let fund = pallet_insurance::Pallet::<Runtime>::fund_account();
		(
			report.debt_value - report.collateral_value,
			Margin::deposit_of(&bob, USD),
			Margin::deposit_of(&vault, USD),
			liquidation_runtime::Assets::balance(assets::USD, &fund),
		)
	});
	// About 8 002.4 of loss against 2 969.9988 of deposit.
	assert!(owed_beyond > FixedU128::from_u32(5_000), "{owed_beyond:?}");
	assert!(owed_beyond < FixedU128::from_u32(5_100), "{owed_beyond:?}");
	worker_liquidates(&mut chain, bob.clone());
	chain.finish_block();
	let events = chain.liquidation_events();
	let (shortfall, covered, queued) = events
		.iter()
		.find_map(|event| match event {
			pallet_liquidation::Event::PositionShortfall {
				who,
				shortfall,
				covered,
				queued,
				to_lps,
				..
			} if *who == bob && to_lps.is_zero() => Some((*shortfall, *covered, *queued)),
			_ => None,
		})
		.unwrap_or_else(|| panic!("a shortfall: {events:?}"));
	// In the same block's `on_idle`: the fund has nothing left and no short is in profit (the
	// vault was his only counterparty): one pass over the market's traders, and the LPs bear it.
	let to_lps = events
		.iter()
		.find_map(|event| match event {
			pallet_liquidation::Event::ShortfallWorked {
				covered: 0,
				deleveraged,
				to_lps,
				left,
				..
			} if deleveraged.is_zero() && left.is_zero() => Some(*to_lps),
			_ => None,
		})
		.unwrap_or_else(|| panic!("the shortfall's turn: {events:?}"));
	assert_eq!(to_lps, queued);
	assert!(events.iter().any(|event| matches!(
		event,
		pallet_liquidation::Event::PositionLiquidated { whole: true, keeper: false, .. }
	)));
	chain.execute_with(|| {
		// His whole deposit went to the vault; no debt is left (to rounding).
		assert!(Perpetuals::position_reports(&bob).is_empty());
		assert_eq!(Margin::deposit_of(&bob, USD), 0);
		assert!(Margin::debt_of(&bob, USD) <= 1, "{}", Margin::debt_of(&bob, USD));
		// The shortfall: what he owed beyond his account, at the fill of the sale (his long
		// was the skew: the sale fills a little above the oracle); no fee, the vault takes an
		// insolvent account's units without one (it would charge it to itself).
		assert!(shortfall <= owed_beyond, "{shortfall:?}");
		assert!(shortfall + FixedU128::from_u32(10) > owed_beyond, "{shortfall:?}");
		// Insurance paid what it held (the 2 000 staked, its locked shares' part aside); the
		// LPs bore the rest.
		let fund = pallet_insurance::Pallet::<Runtime>::fund_account();
		let paid = fund_usd - liquidation_runtime::Assets::balance(assets::USD, &fund);
		assert_eq!(paid, covered);
		assert!(covered > 1_900 * DOLLAR && covered <= 2_000 * DOLLAR, "{covered}");
		let covered_value = FixedU128::from_rational(covered, DOLLAR);
		assert_eq!(to_lps, shortfall - covered_value);
		assert_eq!(Margin::deposit_of(&vault, USD), vault_usd + bob_usd + covered);
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!(totals.shortfall, shortfall);
		assert_eq!(totals.covered + totals.to_lps, totals.shortfall);
		assert!(totals.pending.is_zero() && totals.deleveraged.is_zero());
		assert!(Liquidation::pending_shortfalls().is_empty());
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
		Liquidation::do_try_state().expect("invariants hold");
	});
}

/// A small deterministic generator (xorshift), so a failing seed replays.
struct Rng(u64);
impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0
	}
	/// In `[low, high)`.
	fn range(&mut self, low: u64, high: u64) -> u64 {
		low + self.next() % (high - low)
	}
}

/// One seeded run of [`random_crashes_close_out_positions_soundly`]: returns the close-outs,
/// the shortfalls, the partial close-outs and the positions deleveraged it saw.
fn random_crash_run(seed: u64) -> (u32, u32, u32, u32) {
	use frame_support::traits::{fungible::Mutate as _, fungibles::Mutate as _};
	use liquidation_runtime::{Balances, RuntimeOrigin};
	use sp_runtime::AccountId32;
	const DOLLAR: u128 = 1_000_000;
	let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	let (mut btc, mut eth) = (60_000u64, 3_000u64);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	let traders: Vec<AccountId32> = (0..14u8).map(|i| AccountId32::from([0x40 + i; 32])).collect();
	// Each trader: USD or ETH collateral worth 1 000 to 10 000 USD, one position long or short
	// in BTC or ETH at 2x to 25x of it (what initial margin refuses is skipped).
	chain.start_block();
	chain.execute_with(|| {
		for who in traders.iter() {
			let signed = || RuntimeOrigin::signed(who.clone());
			Balances::mint_into(who, 1_000_000_000_000_000).unwrap();
			let value = rng.range(1_000, 10_000) as u128;
			if rng.next() % 2 == 0 {
				liquidation_runtime::Assets::mint_into(assets::USD, who, value * DOLLAR).unwrap();
				Margin::deposit(signed(), USD, value * DOLLAR).unwrap();
			} else {
				let amount = value * ETHER / 3_000;
				liquidation_runtime::Assets::mint_into(assets::ETH, who, amount).unwrap();
				Margin::deposit(signed(), ETH, amount).unwrap();
			}
			let (underlying, price) =
				if rng.next() % 2 == 0 { (BTC, 60_000) } else { (ETH, 3_000) };
			let leverage = rng.range(2, 26) as u128;
			let units = FixedI128::saturating_from_rational(value * leverage, price);
			let (size, limit) = if rng.next() % 2 == 0 {
				(units, Price::from_u32(price as u32 * 2))
			} else {
				(FixedI128::zero() - units, Price::from_u32(1))
			};
			let _ = Perpetuals::modify_position(signed(), underlying, size, limit);
		}
	});
	chain.finish_block();
	// An insurance fund of 3 000 USD: shortfalls beyond it are deleveraged, none within it.
	let stake = RuntimeCall::Insurance(pallet_insurance::Call::stake {
		asset: USD,
		amount: 3_000 * DOLLAR,
		min_shares: 3_000 * DOLLAR - 1_000,
	});
	assert_eq!(chain.dispatch(Dave, stake), Ok(()));
	let (mut close_outs, mut shortfalls, mut partial, mut deleveraged) = (0u32, 0u32, 0u32, 0u32);
	for _ in 0..20 {
		// A move of -7% to +4% each, now and then a crash of -12% (steps the circuit breaker
		// accepts).
		let step = |price: u64, rng: &mut Rng| {
			let low = if rng.next() % 5 == 0 { 88 } else { 93 };
			price * rng.range(low, 105) / 100
		};
		btc = step(btc, &mut rng);
		eth = step(eth, &mut rng);
		chain
			.feed_prices(&[(BTC, Price::from_u32(btc as u32)), (ETH, Price::from_u32(eth as u32))]);
		// The worker's block: an unsigned liquidation of every due account.
		let before: Vec<(AccountId32, FixedU128)> = chain.execute_with(|| {
			Liquidation::due_accounts(None, 1_000)
				.0
				.into_iter()
				.map(|(who, _)| {
					let shortfall =
						Liquidation::effective_report(&who).unwrap().maintenance_shortfall();
					(who, shortfall)
				})
				.collect()
		});
		chain.start_block();
		for (who, _) in before.iter() {
			let call = pallet_liquidation::Call::<Runtime>::liquidate_unsigned {
				who: who.clone(),
				found_at: 0,
			};
			let _ = chain.apply(UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call)));
		}
		chain.finish_block();
		let events = chain.liquidation_events();
		chain.execute_with(|| {
			for event in events.iter() {
				match event {
					pallet_liquidation::Event::PositionLiquidated { who, whole, .. } => {
						close_outs += 1;
						// Only a liquidatable account is closed out, and a partial close-out
						// never raises its shortfall (funding over one block aside).
						let shortfall = before
							.iter()
							.find(|(due, _)| due == who)
							.map(|(_, shortfall)| *shortfall)
							.unwrap_or_else(|| panic!("seed {seed}: {who:?} was not due"));
						if !whole {
							partial += 1;
							let after =
								Liquidation::effective_report(who).unwrap().maintenance_shortfall();
							assert!(
								after <= shortfall + FixedU128::from_rational(1, 100),
								"seed {seed}: {after:?} > {shortfall:?}"
							);
						}
					},
					pallet_liquidation::Event::PositionShortfall { .. } => shortfalls += 1,
					pallet_liquidation::Event::ShortfallWorked {
						deleveraged: taken,
						to_lps,
						left,
						..
					} if !taken.is_zero() => {
						// Deleveraged only what the fund could not pay before the delay ends:
						// what it can still pay is at most what waits or went to the LPs.
						let capacity = <pallet_insurance::Pallet<Runtime> as DeficitHandler<
							_,
							_,
							_,
						>>::capacity(USD, 14_400);
						let capacity = FixedU128::from_rational(capacity, DOLLAR);
						assert!(
							capacity <= *left + *to_lps + FixedU128::from_rational(1, DOLLAR),
							"seed {seed}: deleveraged {taken:?} while insurance could pay \
							 {capacity:?} (left {left:?})"
						);
					},
					_ => {},
				}
			}
			// Each haircut is at most what its shortfall's turn took: the haircuts of the
			// block are the turns' deleveraged, to rounding.
			let haircuts: Vec<FixedU128> =
				haircuts().into_iter().map(|(_, haircut)| haircut).collect();
			let taken = events.iter().fold(FixedU128::zero(), |sum, event| match event {
				pallet_liquidation::Event::ShortfallWorked { deleveraged, .. } => {
					sum + *deleveraged
				},
				_ => sum,
			});
			let haircut_sum = haircuts.iter().fold(FixedU128::zero(), |sum, h| sum + *h);
			assert_eq!(haircut_sum, taken, "seed {seed}: haircuts {haircuts:?}");
			deleveraged += haircuts.len() as u32;
			// A trader left with nothing owes nothing: his positions' shortfall stayed with
			// the vault, none of it with the USD lenders.
			for who in traders.iter() {
				let holds = !Perpetuals::position_reports(who).is_empty()
					|| Margin::deposit_of(who, USD) > 0
					|| Margin::deposit_of(who, ETH) > 0
					|| Liquidation::in_auction(who);
				if !holds {
					assert!(Margin::debt_of(who, USD) <= 1, "seed {seed}: {who:?} left owing");
				}
			}
			Perpetuals::do_try_state().unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
			Margin::do_try_state().unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
			Liquidation::do_try_state().unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
		});
	}
	(close_outs, shortfalls, partial, deleveraged)
}

/// Random traders (USD or ETH behind longs and shorts in BTC and ETH, 2x to 25x) through
/// random crashes and rallies, the worker liquidating every due account each block: only
/// liquidatable accounts are closed out, a partial close-out never raises a shortfall, a
/// trader left with nothing owes nothing (his shortfall stays with the vault: insurance,
/// auto-deleveraging, the LPs), no position is deleveraged while the insurance fund could
/// still pay, the haircuts are exactly what the shortfalls' turns took, and every pallet's
/// invariants hold after every block (the shortfall identity among them). Close-outs,
/// shortfalls and deleveraging do occur.
#[test]
fn random_crashes_close_out_positions_soundly() {
	let (mut close_outs, mut shortfalls, mut partial, mut deleveraged) = (0, 0, 0, 0);
	for seed in 1..=3 {
		let (c, s, p, d) = random_crash_run(seed);
		close_outs += c;
		shortfalls += s;
		partial += p;
		deleveraged += d;
	}
	eprintln!(
		"{close_outs} close-outs ({partial} partial), {shortfalls} shortfalls, {deleveraged} \
		 positions deleveraged"
	);
	assert!(close_outs > 5, "{close_outs} close-outs");
	assert!(partial > 0, "no partial close-out occurred");
	assert!(shortfalls > 0, "no shortfall occurred");
	assert!(deleveraged > 0, "no position was deleveraged");
}

/// A halted price closes out no position, and hides none: with BTC halted by governance,
/// Bob's liquidatable long is still reported liquidatable (valued at its last price). The
/// worker may act on his spot pair (the valuation rule: only the pair a liquidation repays
/// and seizes needs a usable price: his fee debt against his ETH), but neither it nor a
/// keeper closes the position; once resumed, the worker closes it.
#[test]
fn a_halted_price_closes_out_no_position_and_hides_none() {
	use frame_support::pallet_prelude::TransactionSource;
	let mut chain = a_liquidatable_5x_long();
	let bob = Bob.to_account_id();
	let sudo =
		|call: RuntimeCall| RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) });
	let halt = sudo(RuntimeCall::Prices(pallet_prices::Call::halt { asset: BTC }));
	assert_eq!(chain.dispatch(Alice, halt), Ok(()));
	let call =
		pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who: bob.clone(), found_at: 0 };
	let valid = chain.execute_with(|| {
		assert!(Margin::health_of(&bob).unwrap().is_liquidatable());
		assert!(Liquidation::preview_position(&bob, None).is_err());
		Liquidation::validate_unsigned(TransactionSource::Local, &call).is_ok()
	});
	if valid {
		chain.start_block();
		let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call.clone()));
		assert_eq!(chain.apply(xt), Ok(Ok(())));
		chain.finish_block();
		assert!(!chain
			.liquidation_events()
			.iter()
			.any(|event| matches!(event, pallet_liquidation::Event::PositionLiquidated { .. })));
	}
	assert_eq!(chain.dispatch(Charlie, deposit_usd(20_000)), Ok(()));
	// Refused before any fee: the position is not at risk while its price is halted.
	assert!(chain.submit(Charlie, take_over_btc(bob.clone())).is_err());
	chain.execute_with(|| {
		assert_eq!(Perpetuals::position_reports(&bob)[0].size, FixedI128::from_u32(1));
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!(totals.close_outs, 0);
	});
	let resume = sudo(RuntimeCall::Prices(pallet_prices::Call::resume { asset: BTC }));
	assert_eq!(chain.dispatch(Alice, resume), Ok(()));
	chain.execute_with(|| {
		assert!(Liquidation::preview_position(&bob, None).is_ok());
		assert!(Liquidation::validate_unsigned(TransactionSource::Local, &call).is_ok());
	});
}

/// The worker's unsigned liquidation of `who`, in a new block left open (its `on_idle` has not
/// run: what waits for it can be read).
fn worker_liquidates(chain: &mut TestChain, who: sp_runtime::AccountId32) {
	chain.start_block();
	let call = pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who, found_at: 0 };
	let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call));
	assert_eq!(chain.apply(xt), Ok(Ok(())));
}

/// This block's auto-deleveraging haircuts (the perpetuals pallet's `Deleveraged` events): who
/// gave up how much, in order.
fn haircuts() -> Vec<(sp_runtime::AccountId32, FixedU128)> {
	frame_system::Pallet::<Runtime>::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Perpetuals(pallet_perpetuals::Event::Deleveraged {
				who,
				haircut,
				..
			}) => Some((who, haircut)),
			_ => None,
		})
		.collect()
}

/// Bob's insolvent long (3 000 USD behind 1 BTC, BTC from 60 000 to 52 000) and two shorts in
/// profit: Charlie 1 BTC on 30 000 USD, Dave 0.5 BTC on 5 000 USD (ranked first: more profit
/// times leverage).
fn a_bankrupt_long_and_two_winning_shorts() -> TestChain {
	const DOLLAR: u128 = 1_000_000;
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	for (who, usd) in [(Bob, 3_000u128), (Charlie, 30_000), (Dave, 5_000)] {
		let deposit =
			RuntimeCall::Margin(pallet_margin::Call::deposit { asset: USD, amount: usd * DOLLAR });
		assert_eq!(chain.dispatch(who, deposit), Ok(()));
	}
	let trade = |size: FixedI128, limit: u32| {
		perps(pallet_perpetuals::Call::modify_position {
			underlying: BTC,
			size_delta: size,
			limit_price: Price::from_u32(limit),
		})
	};
	assert_eq!(chain.dispatch(Bob, trade(FixedI128::from_u32(1), 60_100)), Ok(()));
	assert_eq!(
		chain.dispatch(Charlie, trade(FixedI128::from_inner(-1_000_000_000_000_000_000), 1)),
		Ok(())
	);
	assert_eq!(
		chain.dispatch(Dave, trade(FixedI128::from_inner(-500_000_000_000_000_000), 1)),
		Ok(())
	);
	chain.feed_price(BTC, Price::from_u32(52_000));
	let (charlie, dave) = (Charlie.to_account_id(), Dave.to_account_id());
	chain.execute_with(|| {
		use liquidation_primitives::PositionLiquidation;
		let ranked: Vec<_> =
			<Perpetuals as PositionLiquidation<_, _>>::deleverage_candidates(BTC, false, None, 64)
				.expect("BTC's price is usable")
				.candidates
				.into_iter()
				.map(|candidate| candidate.who)
				.collect();
		assert_eq!(ranked, vec![dave.clone(), charlie.clone()]);
	});
	chain
}

/// Auto-deleveraging with an empty insurance fund: Bob's insolvent long (3 000 USD behind
/// 1 BTC, BTC at 52 000) leaves a shortfall of about 5 030 USD, so his bankruptcy price is
/// about 57 030. The shorts in profit are reduced there, the higher profit times leverage
/// first: Dave (0.5 BTC on 5 000 USD) wholly, then Charlie (1 BTC on 30 000 USD) by just the
/// rest; the haircuts add up to the shortfall and the LPs bear nothing.
#[test]
fn auto_deleveraging_takes_exactly_the_shortfall_from_the_opposite_winners() {
	let mut chain = a_bankrupt_long_and_two_winning_shorts();
	let (bob, charlie, dave) = (Bob.to_account_id(), Charlie.to_account_id(), Dave.to_account_id());
	worker_liquidates(&mut chain, bob.clone());
	// Before the block's `on_idle`: the shortfall waits, and the runtime API's preview ranks
	// Dave then Charlie, with what deleveraging will take from each (the shorts' side).
	let preview = chain.execute_with(|| {
		let waiting = Liquidation::pending_shortfalls();
		assert_eq!(waiting.len(), 1);
		assert!(waiting[0].bankrupt_long);
		let preview = Liquidation::deleveraging_preview(BTC, false);
		// Nothing waits opposite the longs; the preview changed nothing.
		assert!(Liquidation::deleveraging_preview(BTC, true).iter().all(|r| r.haircut.is_zero()));
		assert_eq!(Liquidation::pending_shortfalls(), waiting);
		preview
	});
	let previewed: Vec<_> = preview.iter().map(|rank| (rank.who.clone(), rank.haircut)).collect();
	chain.finish_block();
	let events = chain.liquidation_events();
	let shortfall = events
		.iter()
		.find_map(|event| match event {
			pallet_liquidation::Event::PositionShortfall {
				shortfall,
				covered: 0,
				queued,
				to_lps,
				..
			} if queued == shortfall && to_lps.is_zero() => Some(*shortfall),
			_ => None,
		})
		.unwrap_or_else(|| panic!("a shortfall queued whole: {events:?}"));
	// Deleveraged in the same block's `on_idle` (the fund is empty: nothing to wait for).
	let (deleveraged, to_lps) = events
		.iter()
		.find_map(|event| match event {
			pallet_liquidation::Event::ShortfallWorked {
				covered: 0,
				deleveraged,
				to_lps,
				left,
				read: 2,
				..
			} if left.is_zero() => Some((*deleveraged, *to_lps)),
			_ => None,
		})
		.unwrap_or_else(|| panic!("the shortfall's turn: {events:?}"));
	chain.execute_with(|| {
		let haircuts = haircuts();
		// Dave first, wholly; Charlie by the rest: as previewed.
		assert_eq!(haircuts, previewed);
		assert_eq!(haircuts.len(), 2, "{haircuts:?}");
		assert_eq!(haircuts[0].0, dave);
		assert_eq!(haircuts[1].0, charlie);
		assert!(Perpetuals::position_reports(&dave).is_empty());
		let charlies = &Perpetuals::position_reports(&charlie)[0];
		assert!(
			charlies.size < FixedI128::zero()
				&& charlies.size > FixedI128::from_inner(-1_000_000_000_000_000_000)
		);
		// The haircuts add up to the shortfall, never more; the LPs bear nothing (to rounding).
		let sum = haircuts[0].1 + haircuts[1].1;
		assert_eq!(sum, deleveraged);
		assert!(deleveraged <= shortfall);
		assert!(to_lps < FixedU128::from_rational(1, 1_000_000_000_000), "{to_lps:?}");
		assert_eq!(deleveraged + to_lps, shortfall);
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!(totals.deleveraged, deleveraged);
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
		Liquidation::do_try_state().expect("invariants hold");
	});
}

/// Two insolvent BTC longs (Bob 3 000 USD and Eve 2 000 USD behind 1 BTC each, BTC from 60 000
/// to 52 000) closed in one block wait as one shortfall of BTC's longs: what it has left is the
/// sum of theirs, with their 2 BTC. What waits counts in the vault's value (owed to it), so the
/// close-outs leave that value as it was; once the waterfall leaves it to the LPs (no
/// insurance, no short to deleverage), the value falls by it.
#[test]
fn shortfalls_of_a_market_and_side_wait_as_one_and_count_in_the_vault_value() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	let open = perps(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::saturating_from_integer(1),
		limit_price: Price::from_u32(60_200),
	});
	for (who, usd) in [(Bob, 3_000u128), (Eve, 2_000)] {
		assert_eq!(chain.dispatch(who, deposit_usd(usd)), Ok(()));
		assert_eq!(chain.dispatch(who, open.clone()), Ok(()));
	}
	chain.feed_price(BTC, Price::from_u32(52_000));
	let nav = || Perpetuals::vault_report().expect("the vault is valued").nav;
	let before = chain.execute_with(nav);
	chain.start_block();
	for who in [Bob, Eve] {
		let call = pallet_liquidation::Call::<Runtime>::liquidate_unsigned {
			who: who.to_account_id(),
			found_at: 0,
		};
		let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call));
		assert_eq!(chain.apply(xt), Ok(Ok(())));
	}
	let (queued, waiting, during) = chain.execute_with(|| {
		let queued: Vec<FixedU128> = frame_system::Pallet::<Runtime>::events()
			.into_iter()
			.filter_map(|record| match record.event {
				RuntimeEvent::Liquidation(pallet_liquidation::Event::PositionShortfall {
					queued,
					covered: 0,
					..
				}) => Some(queued),
				_ => None,
			})
			.collect();
		(queued, Liquidation::pending_shortfalls(), nav())
	});
	assert_eq!(queued.len(), 2, "{queued:?}");
	assert_eq!(waiting.len(), 1, "{waiting:?}");
	let entry = &waiting[0];
	assert!(entry.bankrupt_long);
	assert_eq!(entry.left, queued[0] + queued[1]);
	// Their 2 BTC wait with it: the bankruptcy price is the oracle plus what is left a unit.
	assert_eq!(entry.units, FixedU128::from_u32(2));
	let shortfall = (queued[0] + queued[1]).to_float();
	assert!(shortfall > 9_000.0, "{shortfall}");
	// Owed to the vault: its value moved by the close-outs' fees only.
	let moved = (during - before).to_float();
	assert!(moved.abs() < 500.0, "the vault's value moved by {moved} at the close-outs");
	chain.finish_block();
	chain.execute_with(|| {
		// No insurance and no short in profit: a pass that took nothing leaves it to the LPs.
		assert!(Liquidation::pending_shortfalls().is_empty());
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!(totals.to_lps, queued[0] + queued[1]);
		let written_off = (during - nav()).to_float();
		assert!((written_off - shortfall).abs() < 1.0, "{written_off} against {shortfall}");
		Perpetuals::do_try_state().expect("invariants hold");
		Liquidation::do_try_state().expect("invariants hold");
	});
}

/// A pass over the market's traders in windows of one (as when a block's spare weight reads one
/// trader) ranks the whole market before it takes anything: the first two turns read Dave and
/// Charlie (in storage order) and take nothing, the third finds the end of the market and
/// reduces them best first, Dave wholly then Charlie, whatever their place in storage.
#[test]
fn a_pass_over_windows_ranks_the_whole_market_before_deleveraging() {
	let mut chain = a_bankrupt_long_and_two_winning_shorts();
	let (charlie, dave) = (Charlie.to_account_id(), Dave.to_account_id());
	worker_liquidates(&mut chain, Bob.to_account_id());
	chain.execute_with(|| {
		let mut queue = pallet_liquidation::PendingShortfalls::<Runtime>::get();
		let entry = &mut queue[0];
		let shortfall = entry.left;
		for turn in 0..2 {
			let step = Liquidation::work_shortfall(entry, 1).expect("a turn");
			assert_eq!((step.read, step.tried), (1, 0), "turn {turn}");
			assert!(step.deleveraged.is_zero() && step.to_lps.is_zero(), "turn {turn}");
		}
		assert_eq!(entry.finalists.len(), 2);
		let step = Liquidation::work_shortfall(entry, 1).expect("the last turn");
		assert_eq!((step.read, step.tried), (0, 2));
		let haircuts: Vec<sp_runtime::AccountId32> =
			haircuts().into_iter().map(|(who, _)| who).collect();
		assert_eq!(haircuts, vec![dave.clone(), charlie.clone()]);
		assert_eq!(step.deleveraged + step.to_lps + entry.left, shortfall);
		assert!(entry.left.is_zero());
		pallet_liquidation::PendingShortfalls::<Runtime>::kill();
		Liquidation::do_try_state().expect("invariants hold");
	});
}

/// Insurance first, then auto-deleveraging: with 1 000 USD staked in the fund, Bob's shortfall
/// (about 5 030 USD) is covered by what the fund holds at his close-out (its locked minimum
/// aside); what it cannot pay is deleveraged in the block's `on_idle`, Dave's half BTC at the
/// bankruptcy price (the oracle plus what is left a unit) then Charlie's: the cover and the
/// haircuts add up to the shortfall, and nothing is left to the LPs.
#[test]
fn insurance_covers_first_and_deleveraging_takes_just_the_rest() {
	const DOLLAR: u128 = 1_000_000;
	let mut chain = a_bankrupt_long_and_two_winning_shorts();
	let stake = RuntimeCall::Insurance(pallet_insurance::Call::stake {
		asset: USD,
		amount: 1_000 * DOLLAR,
		min_shares: 1_000 * DOLLAR - 1_000,
	});
	assert_eq!(chain.dispatch(Eve, stake), Ok(()));
	worker_liquidates(&mut chain, Bob.to_account_id());
	chain.finish_block();
	let events = chain.liquidation_events();
	let (shortfall, covered, queued) = events
		.iter()
		.find_map(|event| match event {
			pallet_liquidation::Event::PositionShortfall { shortfall, covered, queued, .. } => {
				Some((*shortfall, *covered, *queued))
			},
			_ => None,
		})
		.unwrap_or_else(|| panic!("a shortfall: {events:?}"));
	assert!(covered > 900 * DOLLAR && covered <= 1_000 * DOLLAR, "{covered}");
	let covered_value = FixedU128::from_rational(covered, DOLLAR);
	assert_eq!(queued, shortfall - covered_value);
	chain.execute_with(|| {
		let haircuts: Vec<FixedU128> = haircuts().into_iter().map(|(_, haircut)| haircut).collect();
		assert_eq!(haircuts.len(), 2, "{haircuts:?}");
		let taken = haircuts[0] + haircuts[1];
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!(totals.covered, covered_value);
		assert_eq!(totals.deleveraged, taken);
		assert!(totals.to_lps < FixedU128::from_rational(1, 1_000_000), "{:?}", totals.to_lps);
		assert_eq!(covered_value + taken + totals.to_lps, shortfall);
		assert!(Liquidation::pending_shortfalls().is_empty());
		Liquidation::do_try_state().expect("invariants hold");
		Perpetuals::do_try_state().expect("invariants hold");
	});
}

/// Each finalist is checked again when the pass ends: Dave, read in the pass, closes his short
/// before its last turn; he is passed over (not a candidate any more) and Charlie alone is
/// reduced: his one BTC matches Bob's at the bankruptcy price, all of the shortfall.
#[test]
fn a_finalist_closed_before_the_pass_ends_is_passed_over() {
	let mut chain = a_bankrupt_long_and_two_winning_shorts();
	let (charlie, dave) = (Charlie.to_account_id(), Dave.to_account_id());
	worker_liquidates(&mut chain, Bob.to_account_id());
	chain.execute_with(|| {
		let mut queue = pallet_liquidation::PendingShortfalls::<Runtime>::get();
		let entry = &mut queue[0];
		for _ in 0..2 {
			Liquidation::work_shortfall(entry, 1).expect("a turn");
		}
		assert_eq!(entry.finalists.len(), 2);
		assert_eq!(
			Perpetuals::close_position(
				liquidation_runtime::RuntimeOrigin::signed(dave.clone()),
				BTC,
				Price::from_u32(u32::MAX),
			),
			Ok(())
		);
		let step = Liquidation::work_shortfall(entry, 1).expect("the last turn");
		assert_eq!((step.read, step.tried), (0, 1));
		let haircuts: Vec<sp_runtime::AccountId32> =
			haircuts().into_iter().map(|(who, _)| who).collect();
		assert_eq!(haircuts, vec![charlie.clone()]);
		assert!(entry.left.is_zero() && entry.units.is_zero(), "{entry:?}");
		assert!(step.to_lps < FixedU128::from_rational(1, 1_000_000), "{step:?}");
		pallet_liquidation::PendingShortfalls::<Runtime>::kill();
		Liquidation::do_try_state().expect("invariants hold");
	});
}

/// A close-out can cost a solvent account more than its equity: Charlie's 40 BTC short makes
/// the market's skew short, so selling Bob's 1 BTC long fills about 0.3 % under the oracle, and
/// the fee comes on top. With BTC fed where Bob's equity is about 50 USD (solvent, and
/// liquidatable), his close-out leaves him owing more than he holds: the vault takes that
/// deficit as a shortfall of BTC's market (`PositionShortfall`), repaying his USD debt, so he
/// owes nothing and the USD lenders write nothing off.
#[test]
fn a_close_out_costing_more_than_the_equity_leaves_the_deficit_with_the_vault() {
	const DOLLAR: u128 = 1_000_000;
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	for lp in [Dave, Eve, Ferdie] {
		let deposit = perps(pallet_perpetuals::Call::deposit_to_vault { amount: 900_000 * DOLLAR });
		assert_eq!(chain.dispatch(lp, deposit), Ok(()));
	}
	assert_eq!(chain.dispatch(Charlie, deposit_usd(500_000)), Ok(()));
	let short = perps(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::from_inner(-40_000_000_000_000_000_000),
		limit_price: Price::from_u32(1),
	});
	assert_eq!(chain.dispatch(Charlie, short), Ok(()));
	assert_eq!(chain.dispatch(Bob, deposit_usd(8_500)), Ok(()));
	let open = perps(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::saturating_from_integer(1),
		limit_price: Price::from_u32(61_000),
	});
	assert_eq!(chain.dispatch(Bob, open), Ok(()));
	let bob = Bob.to_account_id();
	// The price where his equity is about 50 USD: his entry less his deposit, plus 50.
	let target = chain.execute_with(|| {
		let entry = Perpetuals::position_reports(&bob)[0].entry_price;
		let deposit = FixedU128::from_rational(Margin::deposit_of(&bob, USD), DOLLAR);
		entry + FixedU128::from_u32(50) - deposit
	});
	chain.feed_price(BTC, target);
	chain.execute_with(|| {
		let report = Liquidation::effective_report(&bob).unwrap();
		assert!(report.is_liquidatable(), "{report:?}");
		let equity = report.collateral_value - report.debt_value;
		assert!(equity > FixedU128::zero() && equity < FixedU128::from_u32(100), "{equity:?}");
	});
	worker_liquidates(&mut chain, bob.clone());
	chain.finish_block();
	let shortfall = chain
		.liquidation_events()
		.iter()
		.find_map(|event| match event {
			pallet_liquidation::Event::PositionShortfall { who, shortfall, .. } if *who == bob => {
				Some(*shortfall)
			},
			_ => None,
		})
		.expect("the deficit taken by the vault");
	chain.execute_with(|| {
		assert!(shortfall > FixedU128::zero() && shortfall < FixedU128::from_u32(1_000));
		assert!(Perpetuals::position_reports(&bob).is_empty());
		assert!(Margin::debt_of(&bob, USD) <= 1, "{}", Margin::debt_of(&bob, USD));
		let spot = pallet_liquidation::Totals::<Runtime>::get(USD);
		assert_eq!(spot.written_off, 0, "the USD lenders wrote off {}", spot.written_off);
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!(totals.shortfall, shortfall);
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
		Liquidation::do_try_state().expect("invariants hold");
	});
}

/// The vault owes Bob profit its deposit could not pay (the LPs left a balanced book): he may
/// not withdraw against it; his debt, with nothing deposited and no position, is not written
/// off while it is owed (the engine and the ledger both refuse); once a loser's loss is
/// realised anyone lands the profit in his account, repaying the debt first.
#[test]
fn an_account_owed_profit_is_not_written_off_and_the_profit_repays_its_debt() {
	const DOLLAR: u128 = 1_000_000;
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	bob_opens_a_5x_btc_long(&mut chain);
	assert_eq!(chain.dispatch(Charlie, deposit_usd(100_000)), Ok(()));
	let short = perps(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::saturating_from_integer(-1),
		limit_price: Price::from_u32(1),
	});
	assert_eq!(chain.dispatch(Charlie, short), Ok(()));
	// The book is balanced: governance shortens the delay and Alice takes all her shares out.
	let alice = Alice.to_account_id();
	chain.execute_with(|| {
		let params = pallet_perpetuals::VaultParams {
			withdrawal_delay_blocks: 0,
			max_utilisation: sp_runtime::Permill::from_percent(80),
		};
		assert_eq!(
			Perpetuals::set_vault_params(liquidation_runtime::RuntimeOrigin::root(), params),
			Ok(())
		);
	});
	let shares = chain.execute_with(|| pallet_perpetuals::Shares::<Runtime>::get(&alice));
	assert_eq!(
		chain.dispatch(Alice, perps(pallet_perpetuals::Call::request_withdrawal { shares })),
		Ok(())
	);
	assert_eq!(
		chain.dispatch(Alice, perps(pallet_perpetuals::Call::withdraw_from_vault {})),
		Ok(())
	);
	chain.feed_price(BTC, Price::from_u32(66_000));
	let close = perps(pallet_perpetuals::Call::close_position {
		underlying: BTC,
		limit_price: Price::from_u32(1),
	});
	assert_eq!(chain.dispatch(Bob, close), Ok(()));
	let bob = Bob.to_account_id();
	let owed = chain.execute_with(|| pallet_perpetuals::ProfitOwed::<Runtime>::get(&bob));
	assert!(owed > 5_000 * DOLLAR, "owed {owed}");
	// Owed profit is no collateral for opening risk: he may not take his ETH out against it.
	let withdraw = RuntimeCall::Margin(pallet_margin::Call::withdraw {
		asset: ETH,
		amount: pallet_margin::Amount::All,
	});
	assert_eq!(
		chain.dispatch(Bob, withdraw),
		Err(pallet_margin::Error::<Runtime>::InsufficientMargin.into())
	);
	// His ETH gone as a liquidation would seize it: his lent fee is his only position left.
	let debt = chain.execute_with(|| {
		use liquidation_primitives::ledger::Mutate as _;
		assert!(Margin::forfeit_collateral(&bob, ETH).is_ok());
		assert!(Margin::positions_of(&bob).iter().all(|(_, deposit, _)| deposit.is_zero()));
		assert!(Perpetuals::position_reports(&bob).is_empty());
		Margin::debt_of(&bob, USD)
	});
	assert!(debt > 0);
	let settle =
		RuntimeCall::Liquidation(pallet_liquidation::Call::settle_bankrupt { who: bob.clone() });
	assert_eq!(
		chain.dispatch(Dave, settle),
		Err(pallet_liquidation::Error::<Runtime>::NotBankrupt.into())
	);
	chain.execute_with(|| {
		use liquidation_primitives::ledger::BadDebt as _;
		assert_eq!(
			frame_support::storage::with_storage_layer(|| Margin::write_off(&bob, USD)),
			Err(pallet_margin::Error::<Runtime>::NotBankrupt.into())
		);
		assert_eq!(Margin::debt_of(&bob, USD), debt);
	});
	// Nothing to pay him with yet; Charlie's loss realised brings it.
	let claim = perps(pallet_perpetuals::Call::claim_profit { who: bob.clone() });
	assert_eq!(
		chain.dispatch(Dave, claim.clone()),
		Err(pallet_perpetuals::Error::<Runtime>::VaultCannotPay.into())
	);
	let realise = perps(pallet_perpetuals::Call::realise_loss {
		who: Charlie.to_account_id(),
		underlying: BTC,
	});
	assert_eq!(chain.dispatch(Dave, realise), Ok(()));
	assert_eq!(chain.dispatch(Dave, claim), Ok(()));
	chain.execute_with(|| {
		assert_eq!(pallet_perpetuals::ProfitOwed::<Runtime>::get(&bob), 0);
		assert_eq!(Margin::debt_of(&bob, USD), 0);
		// Less the ledger's rounding of the repayment and the deposit (down, a unit each).
		let deposit = Margin::deposit_of(&bob, USD);
		assert!(deposit <= owed - debt && deposit + 2 >= owed - debt, "{deposit}");
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
		Liquidation::do_try_state().expect("invariants hold");
	});
}
