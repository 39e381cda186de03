//! The pallets whose benchmarks the runtime runs (`liquidation-node benchmark pallet`).

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_collective, Council]
	[pallet_membership, OracleOperators]
	[orml_oracle, Oracle]
	[pallet_prices, Prices]
	[pallet_insurance, Insurance]
	[pallet_perpetuals, Perpetuals]
	[pallet_margin, Margin]
	[pallet_auction, Auction]
	[pallet_liquidation, Liquidation]
);
