//! A test runtime: balances and assets behind one `fungibles` adapter, prices set by the test,
//! and the margin pallet.

use crate::{self as pallet_margin, AssetParams, InterestCurve};
use frame_support::{
	derive_impl, parameter_types,
	traits::{
		fungible::UnionOf,
		fungibles::{Inspect, Mutate},
		tokens::Preservation,
		ConstU128, ConstU32,
	},
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
		Balances: pallet_balances,
		Assets: pallet_assets,
		Margin: pallet_margin,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type Balance = Balance;
	type ExistentialDeposit = ConstU128<5>;
	type AccountStore = System;
}

// Written out rather than derived: the derived preset names `BenchmarkHelper` under this crate's
// `runtime-benchmarks` feature, which pallet-assets does not get here (see runtime/Cargo.toml).
liquidation_test_support::impl_test_assets_config!(Test);

/// The native token and `pallet-assets` as one `fungibles`.
pub type AllAssets = UnionOf<Balances, Assets, NativeOrLocal, AssetId, AccountId>;

pub use liquidation_test_support::{set_price, set_price_error, set_stable_price, TestPrices};

/// Collected reserve goes to [`INSURANCE`], as the insurance fund would take it.
pub struct ToInsurance;
impl FundIncome<AccountId, AssetId, Balance> for ToInsurance {
	fn deposit_income(asset: AssetId, payer: &AccountId, amount: Balance) -> DispatchResult {
		AllAssets::transfer(asset, payer, &INSURANCE, amount, Preservation::Preserve).map(|_| ())
	}
}

parameter_types! {
	pub const MarginPalletId: PalletId = PalletId(*b"lq/margn");
	pub const MarginRebaseMove: sp_runtime::Permill = sp_runtime::Permill::from_percent(2);
}

/// Blocks per year in the tests: small, so interest shows in a few blocks and hand figures stay
/// short.
pub const BLOCKS_PER_YEAR: u32 = 1_000;

frame_support::parameter_types! {
	/// The engine's penalty the listings are checked against (the liquidation mock's 10%).
	pub const LiquidationPenalty: Permill = Permill::from_percent(10);
	/// Zero unless a test sets it (most tests use tiny positions).
	pub storage MinPositionValue: Balance = 0;
	/// Zero unless a test sets it (most tests check native balances to the unit).
	pub storage AccountDeposit: Balance = 0;
	/// Derivative positions (set by the tests) settle in USD.
	pub const SettlementAsset: AssetId = USD;
}

impl pallet_margin::Config for Test {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Prices = TestPrices;
	type ReserveIncome = ToInsurance;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type PalletId = MarginPalletId;
	type BlocksPerYear = ConstU32<BLOCKS_PER_YEAR>;
	type MaxAssets = ConstU32<4>;
	type MaxPositions = ConstU32<4>;
	type RebaseMove = MarginRebaseMove;
	type MaxReindexPerBlock = ConstU32<3>;
	type MaxRiskChangeDelay = frame_support::traits::ConstU64<100>;
	type MinPositionValue = MinPositionValue;
	type NativeBalance = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AccountDeposit = AccountDeposit;
	type LiquidationPenalty = LiquidationPenalty;
	type Derivatives = liquidation_test_support::TestExposure<SettlementAsset>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AssetId, AccountId> for MockBenchmarkHelper {
	fn assets(n: u32) -> Vec<AssetId> {
		let assets: Vec<AssetId> = [USD, BTC, ETH, NATIVE].into_iter().take(n as usize).collect();
		for asset in &assets {
			set_price(*asset, Price::one());
		}
		assets
	}
}

/// A stable asset, 6 decimals.
pub const USD: AssetId = AssetId::Asset(1);
/// 8 decimals.
pub const BTC: AssetId = AssetId::Asset(2);
/// 18 decimals.
pub const ETH: AssetId = AssetId::Asset(3);
/// Exists but is not listed at genesis.
pub const DOT: AssetId = AssetId::Asset(4);
/// The native token, 12 decimals, existential deposit 5.
pub const NATIVE: AssetId = AssetId::Native;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
/// Receives collected reserve.
pub const INSURANCE: AccountId = 99;
/// A liquidator or an auction.
pub const KEEPER: AccountId = 50;

/// Every account starts with this much of every asset.
pub const ENDOWMENT: Balance = 1_000_000_000_000_000_000_000;

/// Borrow rate 2% at zero utilization, 12% at the kink (80%), 112% at full utilization.
pub fn curve() -> InterestCurve {
	InterestCurve {
		base_rate: FixedU128::saturating_from_rational(2, 100),
		slope_below_kink: FixedU128::saturating_from_rational(10, 100),
		kink: Permill::from_percent(80),
		slope_above_kink: FixedU128::one(),
	}
}

/// Parameters with the given collateral weights (initial, maintenance, in percent) and liability
/// weights (initial, maintenance, in hundredths); reserve factor 10%, minimum position 10.
pub fn params(cw: (u32, u32), lw: (u32, u32)) -> AssetParams {
	AssetParams {
		initial_collateral_weight: Permill::from_percent(cw.0),
		maintenance_collateral_weight: Permill::from_percent(cw.1),
		initial_liability_weight: FixedU128::saturating_from_rational(lw.0, 100),
		maintenance_liability_weight: FixedU128::saturating_from_rational(lw.1, 100),
		supply_cap_usd: 1_000_000_000_000_000_000,
		borrow_cap_usd: 1_000_000_000_000_000_000,
		debt_ceiling_usd: None,
		interest: curve(),
		reserve_factor: Permill::from_percent(10),
		min_position: 10,
	}
}

pub fn usd_params() -> AssetParams {
	params((90, 95), (110, 105))
}
pub fn btc_params() -> AssetParams {
	params((80, 90), (125, 110))
}
pub fn eth_params() -> AssetParams {
	params((75, 85), (130, 115))
}
pub fn native_params() -> AssetParams {
	params((50, 60), (150, 130))
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let accounts = [ALICE, BOB, CHARLIE, DAVE, KEEPER, INSURANCE];
	let assets = [1u32, 2, 3, 4];
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: accounts.iter().map(|who| (*who, ENDOWMENT)).collect(),
			..Default::default()
		},
		assets: pallet_assets::GenesisConfig {
			assets: assets.iter().map(|id| (*id, ALICE, true, 1)).collect(),
			metadata: vec![],
			accounts: accounts
				.iter()
				.flat_map(|who| assets.iter().map(move |id| (*id, *who, ENDOWMENT)))
				.collect(),
			next_asset_id: None,
		},
		margin: pallet_margin::GenesisConfig {
			assets: vec![
				(USD, 6, usd_params()),
				(BTC, 8, btc_params()),
				(ETH, 18, eth_params()),
				(NATIVE, 12, native_params()),
			],
			risk_change_delay: 0,
		},
		..Default::default()
	}
	.build_storage()
	.expect("the genesis config builds");
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		liquidation_test_support::clear_prices();
		liquidation_test_support::clear_exposures();
		set_price(USD, Price::one());
		set_price(BTC, Price::from_u32(60_000));
		set_price(ETH, Price::from_u32(3_000));
		set_price(NATIVE, Price::from_u32(5));
		set_price(DOT, Price::from_u32(7));
	});
	ext
}

/// Runs `test` on the test genesis, then checks the pallet's invariants.
pub fn test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Margin::do_try_state().expect("invariants hold");
	});
}

pub fn run_to_block(number: u64) {
	System::set_block_number(number);
}

pub fn balance(asset: AssetId, who: AccountId) -> Balance {
	AllAssets::balance(asset, &who)
}

pub use liquidation_test_support::units;
