//! Prices: the oracle operators, `orml-oracle` and `pallet-prices`.

use super::*;

impl pallet_membership::Config<OracleOperatorsInstance> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type AddOrigin = GovernanceOrigin;
	type RemoveOrigin = GovernanceOrigin;
	type SwapOrigin = GovernanceOrigin;
	type ResetOrigin = GovernanceOrigin;
	type PrimeOrigin = GovernanceOrigin;
	type MembershipInitialized = ();
	// A removed operator's raw values are dropped by the oracle.
	type MembershipChanged = Oracle;
	type MaxMembers = MaxOracleOperators;
	type WeightInfo = pallet_membership::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Most oracle operators the membership may hold.
	pub const MaxOracleOperators: u32 = 16;
	/// The account under which root-fed values are recorded: no one holds its key.
	pub RootOracleOperator: AccountId = AccountId32::new(*b"oracle/root-operator\0\0\0\0\0\0\0\0\0\0\0\0");
	/// Most values one `feed_values` call may carry.
	pub const MaxFeedValues: u32 = 16;
}

impl orml_oracle::Config for Runtime {
	// Each feed marks the asset for the prices pallet's end-of-block update.
	type OnNewData = Prices;
	// Only fresh values, per each asset's parameters in the prices pallet; never an old value.
	type CombineData = pallet_prices::FreshMedian<Runtime>;
	type Time = Timestamp;
	type OracleKey = AssetId;
	type OracleValue = Price;
	type RootOperatorAccountId = RootOracleOperator;
	type Members = crate::OracleOperators;
	type WeightInfo = ();
	// One entry per operator that fed in the current block (plus the root operator).
	type MaxHasDispatchedSize = ConstU32<{ MaxOracleOperators::get() + 1 }>;
	type MaxFeedValues = MaxFeedValues;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::OracleBenchmarkHelper;
}

parameter_types! {
	/// Most assets the prices pallet may price.
	pub const MaxPricedAssets: u32 = 32;
	/// Samples kept per TWAP-smoothed asset.
	pub const MaxTwapSamples: u32 = 32;
	/// Longest TWAP window (ms): one hour.
	pub const MaxTwapWindowMs: Moment = 60 * 60 * 1_000;
	/// Most confirming blocks governance may require to resume a halted asset.
	pub const MaxBreakerConfirmations: u32 = 100;
	/// Volatility is stated per day (ms).
	pub const VolatilityPeriodMs: Moment = 24 * 60 * 60 * 1_000;
}

impl pallet_prices::Config for Runtime {
	type AssetId = AssetId;
	type Oracle = Oracle;
	type Time = Timestamp;
	type GovernanceOrigin = GovernanceOrigin;
	type MaxAssets = MaxPricedAssets;
	type MaxTwapSamples = MaxTwapSamples;
	type MaxTwapWindowMs = MaxTwapWindowMs;
	type MaxConfirmations = MaxBreakerConfirmations;
	type VolatilityPeriodMs = VolatilityPeriodMs;
	// No asset that margin accounts hold or auctions sell loses its price source.
	type PriceUsers = ((crate::Margin, crate::Auction), crate::Perpetuals);
	/// A week, as margin's longest delay for a tightening of weights.
	type MaxSourceChangeDelay = ConstU32<{ 7 * DAYS }>;
	type WeightInfo = pallet_prices::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::PricesBenchmarkHelper;
}
