//! A test runtime: balances and assets, prices set by the test, a clock, the real margin
//! ledger, and the perpetuals pallet as its derivatives.

use crate::{self as pallet_perpetuals, MarketParams, VaultParams};
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible::UnionOf, ConstU128, ConstU32, ConstU64},
	PalletId,
};
use frame_system::EnsureRoot;
use liquidation_primitives::{AssetId, Balance, FundIncome, NativeOrLocal, Price};
use sp_runtime::{traits::One, BuildStorage, DispatchResult, FixedPointNumber, FixedU128, Permill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Timestamp: pallet_timestamp,
		Balances: pallet_balances,
		Assets: pallet_assets,
		Margin: pallet_margin,
		Perpetuals: pallet_perpetuals,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

impl pallet_timestamp::Config for Test {
	type Moment = u64;
	type OnTimestampSet = ();
	type MinimumPeriod = ConstU64<1>;
	type WeightInfo = ();
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
}

liquidation_test_support::impl_test_assets_config!(Test);

/// The native token and `pallet-assets` as one `fungibles`.
pub type AllAssets = UnionOf<Balances, Assets, NativeOrLocal, AssetId, AccountId>;

pub use liquidation_test_support::{set_price, TestPrices};

/// Margin's reserve income is dropped (kept by the pool): these tests do not follow it.
pub struct NoIncome;
impl FundIncome<AccountId, AssetId, Balance> for NoIncome {
	fn deposit_income(_: AssetId, _: &AccountId, _: Balance) -> DispatchResult {
		Ok(())
	}
}

parameter_types! {
	pub const MarginPalletId: PalletId = PalletId(*b"lq/margn");
	pub const PerpetualsPalletId: PalletId = PalletId(*b"lq/perps");
	pub const MarginRebaseMove: Permill = Permill::from_percent(2);
	pub const LiquidationPenalty: Permill = Permill::from_percent(5);
	pub const Settlement: AssetId = USD;
}

impl pallet_margin::Config for Test {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Prices = TestPrices;
	type ReserveIncome = NoIncome;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type PalletId = MarginPalletId;
	type BlocksPerYear = ConstU32<5_256_000>;
	type MaxAssets = ConstU32<4>;
	type MaxPositions = ConstU32<4>;
	type RebaseMove = MarginRebaseMove;
	type MaxReindexPerBlock = ConstU32<3>;
	type MaxRiskChangeDelay = ConstU64<100>;
	type MinPositionValue = ConstU128<0>;
	type NativeBalance = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AccountDeposit = ConstU128<0>;
	type LiquidationPenalty = LiquidationPenalty;
	type Derivatives = Perpetuals;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MarginBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MarginBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl pallet_margin::BenchmarkHelper<AssetId, AccountId> for MarginBenchmarkHelper {
	fn assets(n: u32) -> Vec<AssetId> {
		[USD, BTC, ETH, AssetId::Native].into_iter().take(n as usize).collect()
	}
}

impl pallet_perpetuals::Config for Test {
	type AssetId = AssetId;
	type Ledger = Margin;
	type Decimals = Margin;
	type Prices = TestPrices;
	type Widening = ();
	type Time = Timestamp;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type SettlementAsset = Settlement;
	type PalletId = PerpetualsPalletId;
	type MaxMarkets = ConstU32<4>;
	type MaxPositionsPerAccount = ConstU32<2>;
	type MinimumShares = ConstU128<1_000>;
	type ShortfallReceivable = frame_support::traits::GetDefault;
	type MaxWithdrawalDelay = ConstU64<1_000>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = PerpsBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct PerpsBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AccountId, AssetId> for PerpsBenchmarkHelper {
	fn underlyings(n: u32) -> Vec<AssetId> {
		let all: Vec<AssetId> = (10..10 + n).map(AssetId::Asset).collect();
		for asset in &all {
			set_price(*asset, Price::from_u32(1_000));
		}
		all
	}
	fn fund_margin(who: &AccountId, usd: u128) {
		use frame_support::traits::fungibles::Mutate;
		let amount = usd * DOLLAR;
		AllAssets::mint_into(USD, who, amount).expect("mints");
		pallet_margin::Pallet::<Test>::deposit(RuntimeOrigin::signed(*who), USD, amount)
			.expect("deposits");
	}
	fn fund_tokens(who: &AccountId, usd: u128) {
		use frame_support::traits::fungibles::Mutate;
		AllAssets::mint_into(USD, who, usd * DOLLAR).expect("mints");
	}
	fn fund_collateral(who: &AccountId, usd: u128) {
		use frame_support::traits::fungibles::Mutate;
		// ETH at 3 000 USD, 18 decimals.
		let amount = usd * 10u128.pow(18) / 3_000;
		AllAssets::mint_into(ETH, who, amount).expect("mints");
		pallet_margin::Pallet::<Test>::deposit(RuntimeOrigin::signed(*who), ETH, amount)
			.expect("deposits");
	}
}

/// The settlement asset, 6 decimals.
pub const USD: AssetId = AssetId::Asset(1);
/// 8 decimals, listed in margin.
pub const BTC: AssetId = AssetId::Asset(2);
/// 18 decimals, listed in margin.
pub const ETH: AssetId = AssetId::Asset(3);
/// Priced, not listed in margin: a perpetual's underlying need not be lendable.
pub const DOT: AssetId = AssetId::Asset(4);

/// One USD in smallest units.
pub const DOLLAR: Balance = 1_000_000;

pub const LP: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
/// Lends USD in margin.
pub const LENDER: AccountId = 5;

/// Every account starts with this much of every asset.
pub const ENDOWMENT: Balance = 1_000_000_000_000_000_000_000;
/// The vault's deposit at genesis: 5 000 000 USD.
pub const VAULT_SEED: Balance = 5_000_000 * DOLLAR;

fn margin_params(cw: (u32, u32), lw: (u32, u32)) -> pallet_margin::AssetParams {
	pallet_margin::AssetParams {
		initial_collateral_weight: Permill::from_percent(cw.0),
		maintenance_collateral_weight: Permill::from_percent(cw.1),
		initial_liability_weight: FixedU128::saturating_from_rational(lw.0, 100),
		maintenance_liability_weight: FixedU128::saturating_from_rational(lw.1, 100),
		supply_cap_usd: 1_000_000_000_000_000_000,
		borrow_cap_usd: 1_000_000_000_000_000_000,
		debt_ceiling_usd: None,
		interest: pallet_margin::InterestCurve {
			base_rate: FixedU128::saturating_from_rational(2, 100),
			slope_below_kink: FixedU128::saturating_from_rational(10, 100),
			kink: Permill::from_percent(80),
			slope_above_kink: FixedU128::one(),
		},
		reserve_factor: Permill::from_percent(10),
		min_position: 1,
	}
}

/// BTC-PERP: skew scale 10 000 BTC, velocity 9 a day per day (Synthetix v3's BTC), funding
/// bound 5% a day, IMF 2% + |s| / 10 000 × 1.54, maintenance half of it, fee 5 bps, 100 M USD
/// per side, 10 USD minimum, profit counted 50% to open and 100% against liquidation.
pub fn btc_perp() -> MarketParams {
	MarketParams {
		skew_scale: FixedU128::saturating_from_integer(10_000),
		max_funding_velocity: FixedU128::saturating_from_integer(9),
		max_funding_rate: FixedU128::saturating_from_rational(5, 100),
		min_initial_margin: Permill::from_percent(2),
		initial_margin_slope: FixedU128::saturating_from_rational(154, 100),
		maintenance_share: Permill::from_percent(50),
		taker_fee: Permill::from_parts(500),
		max_open_interest_usd: 100_000_000,
		min_position_usd: 10,
		initial_profit_weight: Permill::from_percent(50),
		maintenance_profit_weight: Permill::from_percent(100),
		liquidation_fee_share: Permill::from_percent(50),
	}
}

/// DOT-PERP: as BTC-PERP with a skew scale of 1 000 000 DOT.
pub fn dot_perp() -> MarketParams {
	MarketParams { skew_scale: FixedU128::saturating_from_integer(1_000_000), ..btc_perp() }
}

/// A withdrawal waits 10 blocks; the vault's net exposure may reach 80% of its value.
pub fn vault_params() -> VaultParams<u64> {
	VaultParams { withdrawal_delay_blocks: 10, max_utilisation: Permill::from_percent(80) }
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let accounts = [LP, BOB, CHARLIE, DAVE, LENDER];
	let assets = [1u32, 2, 3, 4];
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: accounts.iter().map(|who| (*who, ENDOWMENT)).collect(),
			..Default::default()
		},
		assets: pallet_assets::GenesisConfig {
			assets: assets.iter().map(|id| (*id, LP, true, 1)).collect(),
			metadata: vec![],
			accounts: accounts
				.iter()
				.flat_map(|who| assets.iter().map(move |id| (*id, *who, ENDOWMENT)))
				.collect(),
			next_asset_id: None,
		},
		margin: pallet_margin::GenesisConfig {
			assets: vec![
				(USD, 6, margin_params((90, 95), (110, 105))),
				(BTC, 8, margin_params((80, 90), (125, 110))),
				(ETH, 18, margin_params((75, 85), (130, 115))),
			],
			risk_change_delay: 0,
		},
		perpetuals: pallet_perpetuals::GenesisConfig {
			markets: vec![(BTC, btc_perp()), (DOT, dot_perp())],
			vault: Some(vault_params()),
			vault_deposits: vec![(LP, VAULT_SEED)],
		},
		..Default::default()
	}
	.build_storage()
	.expect("the genesis config builds");
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		liquidation_test_support::clear_prices();
		set_price(USD, Price::one());
		set_price(BTC, Price::from_u32(60_000));
		set_price(ETH, Price::from_u32(3_000));
		set_price(DOT, Price::from_u32(5));
	});
	ext
}

/// Runs `test` on the test genesis, then checks both pallets' invariants.
pub fn test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		check_invariants();
	});
}

/// Both pallets' `try_state`.
pub fn check_invariants() {
	Margin::do_try_state().expect("margin's invariants hold");
	Perpetuals::do_try_state().expect("perpetuals' invariants hold");
}

/// Moves the clock to `ms`.
pub fn set_time(ms: u64) {
	pallet_timestamp::Now::<Test>::put(ms);
}
