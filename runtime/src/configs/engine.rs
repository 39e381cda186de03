//! The liquidation engine: insurance, margin, auctions and the engine itself, with the unsigned
//! transactions of its off-chain worker.

use super::*;

parameter_types! {
	pub const InsurancePalletId: PalletId = PalletId(*b"lq/insur");
	/// Where governance sends the insurance fund's surplus.
	pub TreasuryAccount: AccountId = PalletId(*b"lq/trsry").into_account_truncating();
	/// Most assets the insurance fund may insure.
	pub const MaxInsuredAssets: u32 = 32;
	/// Longest unstaking cooldown or window governance may set: 30 days.
	pub const MaxInsuranceCooldown: BlockNumber = 30 * DAYS;
	/// Shares a fund's first stake leaves locked: 1 000 smallest units, as Uniswap v2 locks
	/// `MINIMUM_LIQUIDITY` (1 000 wei): inflating a share's value then costs its attacker a
	/// thousand times what any later staker could lose to rounding.
	pub const InsuranceMinimumShares: Balance = 1_000;
}

parameter_types! {
	pub const InsuranceConversionSlippage: Permill = Permill::from_percent(5);
}

impl pallet_insurance::Config for Runtime {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type GovernanceOrigin = GovernanceOrigin;
	type PalletId = InsurancePalletId;
	type TreasuryAccount = TreasuryAccount;
	type MaxAssets = MaxInsuredAssets;
	type MaxCooldown = MaxInsuranceCooldown;
	type MinimumShares = InsuranceMinimumShares;
	/// Stakers' income vests over two weeks, twice the dev cooldown (7 days): a stake placed
	/// just before an income and withdrawn as early as allowed takes at most half of its
	/// pro-rata part, and only for the week it was at risk.
	type IncomeVestingPeriod = ConstU32<{ 14 * DAYS }>;
	type Prices = crate::Prices;
	type Decimals = crate::Margin;
	/// Funds sell through the runtime's DEX (its pools are against USD, the asset most bad
	/// debt is in).
	type Swap = DexSwap;
	/// As the engine's flash sales (5%): what the protocol accepts to lose to a DEX.
	type MaxConversionSlippage = InsuranceConversionSlippage;
	/// A staker leaving while bad debt waits for the fund leaves his part of it behind.
	type QueuedBadDebt = crate::Liquidation;
	type WeightInfo = pallet_insurance::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::InsuranceBenchmarkHelper;
}

parameter_types! {
	pub const MarginPalletId: PalletId = PalletId(*b"lq/margn");
	/// 6-second blocks in a 365-day year: converts annual interest rates to rates per block.
	pub const BlocksPerYear: u32 = 365 * DAYS;
	/// Most assets that may be listed for margin.
	pub const MaxMarginAssets: u32 = 32;
	/// Most assets one margin account may hold a position in: bounds the cost of its health.
	pub const MaxMarginPositions: u32 = 8;
	pub const MarginRebaseMove: sp_runtime::Permill = sp_runtime::Permill::from_percent(2);
}

/// The engine's penalty in force: margin refuses listings under which a liquidation would
/// lower an account's health, and the engine refuses a penalty that would (both ways).
pub struct LiquidationPenalty;
impl frame_support::traits::Get<Permill> for LiquidationPenalty {
	fn get() -> Permill {
		pallet_liquidation::Params::<Runtime>::get()
			.map(|params| params.liquidation_penalty)
			.unwrap_or_default()
	}
}

impl pallet_margin::Config for Runtime {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Prices = crate::Prices;
	type ReserveIncome = crate::Insurance;
	type GovernanceOrigin = GovernanceOrigin;
	type PalletId = MarginPalletId;
	type BlocksPerYear = BlocksPerYear;
	type MaxAssets = MaxMarginAssets;
	type MaxPositions = MaxMarginPositions;
	/// A new reference when any asset moved 2% against accounts since the last.
	type RebaseMove = MarginRebaseMove;
	/// Re-filing costs about a health check; the block's spare weight bounds it first.
	type MaxReindexPerBlock = ConstU32<2_000>;
	/// A week: long enough for any notice governance means to give, short enough that a
	/// needed tightening is not put off for long.
	type MaxRiskChangeDelay = ConstU32<{ 7 * DAYS }>;
	/// The engine's dust value (10 USD): a smaller position would be liquidated whole at once.
	type MinPositionValue = ConstU128<10>;
	type NativeBalance = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	/// One LIQ (5 USD at the dev pools' price) for the about half a kilobyte a margin account
	/// takes in storage: a million accounts lock five million USD.
	type AccountDeposit = ConstU128<UNIT>;
	type LiquidationPenalty = LiquidationPenalty;
	/// Perpetual positions count in the same health.
	type Derivatives = crate::Perpetuals;
	type WeightInfo = pallet_margin::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::MarginBenchmarkHelper;
}

parameter_types! {
	pub const AuctionPalletId: PalletId = PalletId(*b"lq/auctn");
	/// Most collateral auctions running at once. The worker starts as many a block as one
	/// block's weight holds (hundreds in a crash), and a lot takes ~100 blocks on the dev curve
	/// (110 %, 1 % off a minute) to come down to the oracle price: a slot per account of a
	/// 10 000-account book, so that in a crash accounts do not wait for a slot while lots are
	/// still selling (the replays at 10 000 accounts never ran more than half of them at once,
	/// see the README's *Crash replay*). Only a storage bound (no hook walks the auctions):
	/// 10 000 running take about 1.3 megabytes.
	pub const MaxAuctions: u32 = 10_000;
	/// Longest auction curve or age governance may set: a week.
	pub const MaxAuctionDuration: u32 = 7 * DAYS;
}

impl pallet_auction::Config for Runtime {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Prices = crate::Prices;
	type Decimals = crate::Margin;
	// The liquidation engine: proceeds repay the owner's debt (the rest, the penalty, goes to
	// insurance), unneeded collateral goes back to the owner's margin account.
	// Lots are tokens, or deposit positions when a collateral's pool had lent out its cash.
	type Custody = liquidation_primitives::TokensThenPositions<AllAssets, crate::Margin>;
	type Handler = crate::Liquidation;
	type GovernanceOrigin = GovernanceOrigin;
	type PalletId = AuctionPalletId;
	type MaxAuctions = MaxAuctions;
	type MaxDurationBlocks = MaxAuctionDuration;
	type WeightInfo = pallet_auction::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::AuctionBenchmarkHelper;
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = crate::UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> crate::UncheckedExtrinsic {
		crate::UncheckedExtrinsic::new_bare(call)
	}
}

parameter_types! {
	pub const EnginePalletId: PalletId = PalletId(*b"lq/engin");
	/// Most auctions running for one account.
	pub const MaxAuctionsPerAccount: u32 = 8;
	/// Indebted accounts the off-chain worker reads per block.
	pub const LiquidationScanBatch: u32 = 1_000;
	/// Most unsigned transactions the worker submits in one run: as many as its page of the
	/// risk index can hold. What bounds them first is weight: the worker submits what one
	/// block's normal-class weight holds (`Liquidation::worker_budget`).
	pub const MaxUnsignedLiquidations: u32 = LiquidationScanBatch::get();
	/// Most accounts in one of the worker's batches. A batch declares the sum of its
	/// accounts' bounds (up to 14.5 ms each for an account with perpetual positions, 5.7 ms for
	/// a spot one, with the weights of commit `3541026`) and waits until the block has that
	/// free: 32 declare at most about a third of the normal class (about 470 ms of 1 500), so a batch
	/// still fits after keepers took most of a block, while the keys the batch shares (its
	/// first account pays for them) are spread over 32 accounts.
	pub const MaxUnsignedLiquidationBatch: u32 = 32;
	/// Above ordinary transactions: a liquidation that waits costs solvency.
	pub const UnsignedLiquidationPriority: TransactionPriority = TransactionPriority::MAX / 2;
	/// Keepers' liquidations (checked by `CheckKeeperLiquidation`) go into a block before the
	/// worker's: a quarter of the priority range above them, more than any shortfall in USD.
	pub const KeeperLiquidationPriority: TransactionPriority =
		TransactionPriority::MAX / 2 + TransactionPriority::MAX / 4;
	/// Three blocks: a liquidation not included by then is re-found and re-submitted.
	pub const UnsignedLiquidationLongevity: u64 = 3;
	/// Four seconds, under the six-second block: a run is never repeated within a block.
	pub const WorkerLockMillis: u64 = 4_000;
}

impl pallet_liquidation::Config for Runtime {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Ledger = crate::Margin;
	type Socializer = crate::Margin;
	type Deficit = crate::Insurance;
	type Income = crate::Insurance;
	type Auctions = crate::Auction;
	type Swap = DexSwap;
	type Prices = crate::Prices;
	// The stress test shocks the prices pallet's state inside a simulation it undoes.
	type Shock = crate::Prices;
	// The prices pallet's: de-risking scales its volatility to the governed horizon.
	type VolatilityPeriodMs = super::oracle::VolatilityPeriodMs;
	type Derivatives = crate::Perpetuals;
	type GovernanceOrigin = GovernanceOrigin;
	type PalletId = EnginePalletId;
	type MaxPositions = MaxMarginPositions;
	type MaxAuctionsPerAccount = MaxAuctionsPerAccount;
	type ScanBatch = LiquidationScanBatch;
	/// Two blocks for the worker's transaction to land (it is valid for three), then on_idle acts.
	type WorkerGraceBlocks = ConstU32<3>;
	type MaxUnsignedPerBlock = MaxUnsignedLiquidations;
	type MaxUnsignedBatch = MaxUnsignedLiquidationBatch;
	type UnsignedPriority = UnsignedLiquidationPriority;
	type KeeperPriority = KeeperLiquidationPriority;
	type UnsignedLongevity = UnsignedLiquidationLongevity;
	type WorkerLockMillis = WorkerLockMillis;
	type WeightInfo = pallet_liquidation::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::LiquidationBenchmarkHelper;
}

parameter_types! {
	pub const PerpetualsPalletId: PalletId = PalletId(*b"lq/perps");
	/// Everything settles in the dev USD stablecoin.
	pub const PerpetualsSettlementAsset: AssetId = AssetId::Asset(crate::assets::USD);
	/// Most perpetual markets: the vault's value reads every one.
	pub const MaxPerpetualMarkets: u32 = 16;
	/// Most positions one account may hold: as many as its spot positions
	/// ([`MaxMarginPositions`]), so its health reads at most twice as many entries.
	pub const MaxPerpetualPositions: u32 = 8;
	/// Shares the vault's first deposit leaves locked, as the insurance fund's
	/// ([`InsuranceMinimumShares`]).
	pub const VaultMinimumShares: Balance = 1_000;
	/// Longest withdrawal delay governance may set: 30 days.
	pub const MaxVaultWithdrawalDelay: BlockNumber = 30 * DAYS;
}

impl pallet_perpetuals::Config for Runtime {
	type AssetId = AssetId;
	type Ledger = crate::Margin;
	type Decimals = crate::Margin;
	type Prices = crate::Prices;
	// Margins widened by volatility in pallet-margin widen the markets' margin fractions too.
	type Widening = crate::Margin;
	type Time = crate::Timestamp;
	type GovernanceOrigin = GovernanceOrigin;
	type SettlementAsset = PerpetualsSettlementAsset;
	type PalletId = PerpetualsPalletId;
	type MaxMarkets = MaxPerpetualMarkets;
	type MaxPositionsPerAccount = MaxPerpetualPositions;
	type MinimumShares = VaultMinimumShares;
	type ShortfallReceivable = pallet_liquidation::shortfall::PendingShortfallTotal<Runtime>;
	type MaxWithdrawalDelay = MaxVaultWithdrawalDelay;
	type WeightInfo = pallet_perpetuals::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::PerpetualsBenchmarkHelper;
}

// The engine's queue of perpetual shortfalls holds one entry a market and bankrupt side.
const _: () = assert!(
	2 * MaxPerpetualMarkets::get() <= pallet_liquidation::shortfall::MAX_PENDING_SHORTFALLS,
	"the engine's shortfall queue must hold two entries for every perpetual market"
);
