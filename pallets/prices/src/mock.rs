//! A test runtime: frame-system, timestamp, the real `orml-oracle` with five operators, and
//! this pallet as the oracle's combiner and listener.

use crate::{self as pallet_prices, FreshMedian, OracleParams, PriceSource, Smoothing};
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64, Hooks, SortedMembers},
	BoundedVec,
};
use frame_system::EnsureRoot;
use liquidation_primitives::{AssetId, Moment, Price};
use sp_runtime::traits::One;
use sp_runtime::{BuildStorage, FixedU128};

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Timestamp: pallet_timestamp,
		Oracle: orml_oracle,
		Prices: pallet_prices,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

impl pallet_timestamp::Config for Test {
	type Moment = Moment;
	type OnTimestampSet = ();
	type MinimumPeriod = ConstU64<1>;
	type WeightInfo = ();
}

/// The five oracle operators: accounts 1 to 5.
pub const OPERATORS: [u64; 5] = [1, 2, 3, 4, 5];
/// An account that is neither an operator nor governance.
pub const STRANGER: u64 = 42;

pub struct Operators;
impl SortedMembers<u64> for Operators {
	fn sorted_members() -> Vec<u64> {
		OPERATORS.to_vec()
	}
}

parameter_types! {
	pub const RootOperator: u64 = 999;
}

impl orml_oracle::Config for Test {
	type OnNewData = Prices;
	type CombineData = FreshMedian<Test>;
	type Time = Timestamp;
	type OracleKey = AssetId;
	type OracleValue = Price;
	type RootOperatorAccountId = RootOperator;
	type Members = Operators;
	type WeightInfo = ();
	type MaxHasDispatchedSize = ConstU32<10>;
	type MaxFeedValues = ConstU32<10>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

/// One day in ms: the volatility period.
pub const DAY: Moment = 86_400_000;
/// Block time in ms.
pub const BLOCK_TIME: Moment = 6_000;
/// When the test chain starts (ms).
pub const START: Moment = 1_700_000_000_000;

std::thread_local! {
	static IN_USE: core::cell::RefCell<Vec<AssetId>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Positions the test says hold an asset ([`set_in_use`]).
pub struct InUse;
impl liquidation_primitives::PriceUsers<AssetId> for InUse {
	fn in_use(asset: &AssetId) -> bool {
		IN_USE.with(|held| held.borrow().contains(asset))
	}
}

/// Whether positions hold `asset`.
pub fn set_in_use(asset: AssetId, held: bool) {
	IN_USE.with(|assets| {
		let mut assets = assets.borrow_mut();
		assets.retain(|a| *a != asset);
		if held {
			assets.push(asset);
		}
	});
}

impl pallet_prices::Config for Test {
	type AssetId = AssetId;
	type Oracle = Oracle;
	type Time = Timestamp;
	type GovernanceOrigin = EnsureRoot<u64>;
	type MaxAssets = ConstU32<8>;
	type MaxTwapSamples = ConstU32<16>;
	type MaxTwapWindowMs = ConstU64<3_600_000>;
	type MaxConfirmations = ConstU32<10>;
	type VolatilityPeriodMs = ConstU64<DAY>;
	type PriceUsers = InUse;
	type MaxSourceChangeDelay = frame_support::traits::ConstU64<100>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AssetId> for MockBenchmarkHelper {
	fn asset(index: u32) -> AssetId {
		AssetId::Asset(index)
	}
	fn feed(asset: &AssetId, price: Price) {
		use orml_traits::DataFeeder;
		let _ = <Oracle as DataFeeder<AssetId, Price, u64>>::feed_value(None, asset.clone(), price);
	}
	fn set_time(now: Moment) {
		Timestamp::set_timestamp(now);
	}
}

pub const BTC: AssetId = AssetId::Asset(2);
pub const ETH: AssetId = AssetId::Asset(3);
pub const USD: AssetId = AssetId::Asset(1);

/// Oracle parameters the tests start from: 10 minutes max age, 3 fresh values, 20% bound,
/// 2 confirmations, a 1-minute EMA, a 10-minute volatility half-life.
pub fn default_params() -> OracleParams {
	OracleParams {
		max_age_ms: 600_000,
		min_fresh_values: 3,
		max_move: FixedU128::from_rational(1, 5),
		confirmations: 2,
		smoothing: Smoothing::Ema { half_life_ms: 60_000 },
		volatility_half_life_ms: 600_000,
		stable_growth_per_hour: sp_runtime::Permill::from_percent(6),
	}
}

/// BTC and ETH from the oracle, USD fixed at 1.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = RuntimeGenesisConfig {
		prices: pallet_prices::GenesisConfig {
			sources: vec![
				(BTC, PriceSource::Oracle(default_params())),
				(ETH, PriceSource::Oracle(default_params())),
				(USD, PriceSource::Fixed(Price::one())),
			],
			source_change_delay: 0,
		},
		..Default::default()
	}
	.build_storage()
	.expect("the genesis config builds");
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		Timestamp::set_timestamp(START);
	});
	ext
}

/// Runs `test` on the test genesis, then checks the pallet's invariants.
pub fn test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Prices::do_try_state().expect("invariants hold");
	});
}

/// Ends the current block and starts the next, `BLOCK_TIME` later.
pub fn next_block() {
	let number = System::block_number();
	Prices::on_finalize(number);
	Oracle::on_finalize(number);
	System::set_block_number(number + 1);
	Timestamp::set_timestamp(now() + BLOCK_TIME);
	Oracle::on_initialize(number + 1);
	Prices::on_initialize(number + 1);
}

/// The current time (ms).
pub fn now() -> Moment {
	pallet_timestamp::Now::<Test>::get()
}

/// Lets `ms` pass (whole blocks) without feeds.
pub fn advance(ms: Moment) {
	for _ in 0..ms.div_ceil(BLOCK_TIME) {
		next_block();
	}
}

/// `operator` feeds `price` for `asset` in the current block.
pub fn feed(operator: u64, asset: AssetId, price: Price) {
	Oracle::feed_values(
		RuntimeOrigin::signed(operator),
		BoundedVec::truncate_from(vec![(asset, price)]),
	)
	.expect("an operator's first feed in a block succeeds");
}

/// Every operator feeds `price` for `asset` in the current block.
pub fn feed_all(asset: AssetId, price: Price) {
	for operator in OPERATORS {
		feed(operator, asset, price);
	}
}
