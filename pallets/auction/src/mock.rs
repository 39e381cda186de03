//! A test runtime: balances and assets behind one `fungibles` adapter, prices and decimals set by
//! the test, a recording auction handler, and the auction pallet.

use crate::{self as pallet_auction, AuctionParams, PriceCurve};
use core::cell::RefCell;
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
use liquidation_primitives::{
	AssetDecimals, AssetId, AuctionHandler, Balance, Decimals, NativeOrLocal, Price,
};
use sp_runtime::{traits::One, BuildStorage, DispatchResult, FixedPointNumber, FixedU128, Permill};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Assets: pallet_assets,
		DutchAuction: pallet_auction,
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

pub use liquidation_test_support::{set_price, set_price_error, TestPrices};

/// Decimals of the test assets.
pub struct TestDecimals;
impl AssetDecimals<AssetId> for TestDecimals {
	fn decimals(asset: AssetId) -> Option<Decimals> {
		match asset {
			USD => Some(6),
			BTC => Some(8),
			NATIVE => Some(12),
			_ => None,
		}
	}
}

/// What the handler was told, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
	Proceeds { owner: AccountId, asset: AssetId, amount: Balance },
	Remainder { owner: AccountId, asset: AssetId, amount: Balance },
	Shortfall { owner: AccountId, asset: AssetId, amount: Balance },
}

thread_local! {
	static HANDLED: RefCell<Vec<Handled>> = RefCell::new(Vec::new());
	static FAIL_PROCEEDS: RefCell<bool> = RefCell::new(false);
	static WANTED: RefCell<Option<Balance>> = RefCell::new(None);
}

/// Caps what every auction may still raise (the owner repaid); `None`: no cap.
pub fn set_wanted(wanted: Option<Balance>) {
	WANTED.with(|w| *w.borrow_mut() = wanted);
}

pub fn handled() -> Vec<Handled> {
	HANDLED.with(|h| h.borrow().clone())
}

/// Makes the handler refuse proceeds (as a failing repayment would).
pub fn fail_proceeds(fail: bool) {
	FAIL_PROCEEDS.with(|f| *f.borrow_mut() = fail);
}

/// Moves proceeds to [`DEBT_SINK`] (where the owner's debt would be repaid) and remainders back
/// to the owner; records everything.
pub struct RecordingHandler;
impl AuctionHandler<crate::AuctionId, AccountId, AssetId, Balance> for RecordingHandler {
	fn wanted(_id: crate::AuctionId, _owner: &AccountId, _asset: AssetId) -> Balance {
		WANTED.with(|w| w.borrow().unwrap_or(Balance::MAX))
	}
	fn on_proceeds(
		_id: crate::AuctionId,
		owner: &AccountId,
		asset: AssetId,
		amount: Balance,
		_sold: Balance,
		holder: &AccountId,
	) -> DispatchResult {
		if FAIL_PROCEEDS.with(|f| *f.borrow()) {
			return Err(sp_runtime::DispatchError::Other("repayment failed"));
		}
		AllAssets::transfer(asset, holder, &DEBT_SINK, amount, Preservation::Expendable)?;
		HANDLED.with(|h| h.borrow_mut().push(Handled::Proceeds { owner: *owner, asset, amount }));
		Ok(())
	}
	fn on_end(
		_id: crate::AuctionId,
		owner: &AccountId,
		collateral: AssetId,
		returned: Balance,
		debt_asset: AssetId,
		shortfall: Balance,
		holder: &AccountId,
	) -> DispatchResult {
		if returned > 0 {
			AllAssets::transfer(collateral, holder, owner, returned, Preservation::Preserve)?;
			HANDLED.with(|h| {
				h.borrow_mut().push(Handled::Remainder {
					owner: *owner,
					asset: collateral,
					amount: returned,
				})
			});
		}
		if shortfall > 0 {
			HANDLED.with(|h| {
				h.borrow_mut().push(Handled::Shortfall {
					owner: *owner,
					asset: debt_asset,
					amount: shortfall,
				})
			});
		}
		Ok(())
	}
}

parameter_types! {
	pub const AuctionPalletId: PalletId = PalletId(*b"lq/auctn");
}

impl pallet_auction::Config for Test {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Prices = TestPrices;
	type Decimals = TestDecimals;
	type Custody = liquidation_primitives::TokensOnly<AllAssets>;
	type Handler = RecordingHandler;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type PalletId = AuctionPalletId;
	type MaxAuctions = ConstU32<3>;
	type MaxDurationBlocks = ConstU32<1_000>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AssetId, AccountId> for MockBenchmarkHelper {
	fn assets() -> (AssetId, AssetId) {
		set_price(BTC, Price::one());
		set_price(USD, Price::one());
		(BTC, USD)
	}
	fn indebted_owner(_debt_asset: AssetId, _amount: Balance) -> AccountId {
		ALICE
	}
	fn repay_all(_owner: &AccountId) {
		set_wanted(Some(0));
	}
}

/// 6 decimals.
pub const USD: AssetId = AssetId::Asset(1);
/// 8 decimals.
pub const BTC: AssetId = AssetId::Asset(2);
/// No decimals known, no auction parameters.
pub const DOT: AssetId = AssetId::Asset(4);
/// 12 decimals, existential deposit 5.
pub const NATIVE: AssetId = AssetId::Native;

/// The owner of the lots.
pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
/// Whoever moves lots into custody (the liquidation engine).
pub const ENGINE: AccountId = 10;
/// Where the handler repays the owner's debt.
pub const DEBT_SINK: AccountId = 99;

pub const ENDOWMENT: Balance = 1_000_000_000_000_000_000;
/// One whole BTC and one whole USD.
pub const BITCOIN: Balance = 100_000_000;
pub const DOLLAR: Balance = 1_000_000;

/// Start at 120% of the oracle, fall linearly to zero in 100 blocks, restart when under 50% of
/// the oracle or older than 200 blocks, 0.5% incentive, minimum lot 1 000 satoshi.
pub fn linear_params() -> AuctionParams {
	AuctionParams {
		start_premium: FixedU128::saturating_from_rational(12, 10),
		curve: PriceCurve::Linear { duration_blocks: 100 },
		max_duration_blocks: 200,
		floor: Permill::from_percent(50),
		restart_incentive: Permill::from_rational(5u32, 1_000),
		min_lot: 1_000,
		// The premium's width: a move past it takes the curve out of its range.
		reprice_band: Permill::from_percent(20),
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let accounts = [ALICE, BOB, CHARLIE, ENGINE, DEBT_SINK];
	let assets = [1u32, 2, 4];
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
		dutch_auction: pallet_auction::GenesisConfig {
			params: vec![(BTC, linear_params()), (NATIVE, linear_params())],
		},
		..Default::default()
	}
	.build_storage()
	.expect("the genesis config builds");
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		liquidation_test_support::clear_prices();
		HANDLED.with(|h| h.borrow_mut().clear());
		fail_proceeds(false);
		set_wanted(None);
		set_price(USD, Price::one());
		set_price(BTC, Price::from_u32(50_000));
		set_price(NATIVE, Price::from_u32(5));
	});
	ext
}

/// Runs `test` on the test genesis, then checks the pallet's invariants.
pub fn test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		DutchAuction::do_try_state().expect("invariants hold");
	});
}

pub fn run_to_block(number: u64) {
	System::set_block_number(number);
}

pub fn balance(asset: AssetId, who: AccountId) -> Balance {
	AllAssets::balance(asset, &who)
}
