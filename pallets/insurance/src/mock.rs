//! A test runtime: balances and assets behind one `fungibles` adapter, and the insurance pallet.

use crate::{self as pallet_insurance, FundParams};
use frame_support::{
	derive_impl, parameter_types,
	traits::{fungible::UnionOf, ConstU128, ConstU32, ConstU64},
	PalletId,
};
use frame_system::EnsureRoot;
use liquidation_primitives::{AssetId, Balance, NativeOrLocal};
use sp_runtime::{BuildStorage, Permill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Assets: pallet_assets,
		Insurance: pallet_insurance,
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
	type ExistentialDeposit = ConstU128<1>;
	type AccountStore = System;
}

// Written out rather than derived: the derived preset names `BenchmarkHelper` under this crate's
// `runtime-benchmarks` feature, which pallet-assets does not get here (see runtime/Cargo.toml).
liquidation_test_support::impl_test_assets_config!(Test);

/// The native token and `pallet-assets` as one `fungibles`.
pub type AllAssets = UnionOf<Balances, Assets, NativeOrLocal, AssetId, AccountId>;

parameter_types! {
	pub const InsurancePalletId: PalletId = PalletId(*b"lq/insur");
	pub const Treasury: AccountId = 777;
}

/// Every mock asset has 6 decimals.
pub struct SixDecimals;
impl liquidation_primitives::AssetDecimals<AssetId> for SixDecimals {
	fn decimals(_: AssetId) -> Option<liquidation_primitives::Decimals> {
		Some(6)
	}
}

frame_support::parameter_types! {
	pub const ConversionSlippage: sp_runtime::Permill = sp_runtime::Permill::from_percent(5);
}

impl pallet_insurance::Config for Test {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type PalletId = InsurancePalletId;
	type TreasuryAccount = Treasury;
	type MaxAssets = ConstU32<4>;
	type MaxCooldown = ConstU64<1_000>;
	type MinimumShares = ConstU128<10>;
	/// Twice the cooldown (10 blocks).
	type IncomeVestingPeriod = frame_support::traits::ConstU64<20>;
	type Prices = liquidation_test_support::TestPrices;
	type Decimals = SixDecimals;
	type Swap = ();
	type QueuedBadDebt = ();
	type MaxConversionSlippage = ConversionSlippage;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AssetId, AccountId> for MockBenchmarkHelper {
	fn asset() -> AssetId {
		USD
	}
}

/// A stable asset of `pallet-assets` (sufficient, min balance 1).
pub const USD: AssetId = AssetId::Asset(1);
/// An asset nobody insured.
pub const DOT: AssetId = AssetId::Asset(4);
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
/// The lending pool that suffers bad debt and receives cover.
pub const POOL: AccountId = 100;
/// Pays income into the fund (the liquidation engine, say).
pub const ENGINE: AccountId = 200;
/// Every account starts with this much of every asset.
pub const ENDOWMENT: Balance = 1_000_000;
pub const COOLDOWN: u64 = 10;
pub const WINDOW: u64 = 5;

/// USD insured with a per-block cap of 500 and a target size of 2 000; stakers take 80% of income.
pub fn usd_params() -> FundParams {
	FundParams {
		max_cover_per_block: 500,
		target_size: 2_000,
		staker_income_share: Permill::from_percent(80),
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let accounts = [ALICE, BOB, CHARLIE, POOL, ENGINE];
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: accounts.iter().map(|who| (*who, ENDOWMENT)).collect(),
			..Default::default()
		},
		assets: pallet_assets::GenesisConfig {
			assets: vec![(1, ALICE, true, 1), (4, ALICE, true, 1)],
			metadata: vec![],
			accounts: accounts
				.iter()
				.flat_map(|who| [(1, *who, ENDOWMENT), (4, *who, ENDOWMENT)])
				.collect(),
			next_asset_id: None,
		},
		insurance: pallet_insurance::GenesisConfig {
			assets: vec![(USD, usd_params()), (AssetId::Native, usd_params())],
			cooldown: COOLDOWN,
			unstake_window: WINDOW,
		},
		..Default::default()
	}
	.build_storage()
	.expect("the genesis config builds");
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Runs `test` on the test genesis, then checks the pallet's invariants and that the fund's
/// custody equals what it accounts for (no one transfers to it directly in these tests).
pub fn test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Insurance::do_try_state().expect("invariants hold");
		for asset in [USD, AssetId::Native, DOT] {
			let fund = crate::Funds::<Test>::get(asset);
			assert_eq!(Insurance::custody(asset), fund.total(), "custody of {asset:?}");
		}
	});
}

pub fn run_to_block(number: u64) {
	System::set_block_number(number);
}
