//! The configuration of each pallet of the runtime, one `impl Config` per pallet.

use frame_support::{
	derive_impl, parameter_types,
	traits::fungible,
	traits::{
		AsEnsureOriginWithArg, ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, EitherOfDiverse,
		VariantCountOf,
	},
	weights::{
		constants::{RocksDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
	PalletId,
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot, EnsureSigned,
};
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	traits::{AccountIdConversion, One},
	AccountId32, Perbill,
};
use sp_version::RuntimeVersion;

use super::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, CouncilCollective, Hash, Nonce, Oracle,
	OracleOperatorsInstance, PalletInfo, Prices, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeFreezeReason, RuntimeHoldReason, RuntimeOrigin, RuntimeTask, System, Timestamp, DAYS,
	EXISTENTIAL_DEPOSIT, HOURS, MILLI_UNIT, SLOT_DURATION, UNIT, VERSION,
};
use frame_support::traits::tokens::fungible::{NativeFromLeft, NativeOrWithId};
use liquidation_primitives::{AssetId, LocalAssetId, Moment, NativeOrLocal, Price};
use sp_runtime::{transaction_validity::TransactionPriority, Permill};

/// The origin of every risk parameter and of the oracle operator set: root, or at least two
/// thirds of the council.
pub type GovernanceOrigin = EitherOfDiverse<
	EnsureRoot<AccountId>,
	pallet_collective::EnsureProportionAtLeast<AccountId, CouncilCollective, 2, 3>,
>;

/// Share of a block's weight and length that normal (non-operational) transactions may fill.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
	pub const BlockHashCount: BlockNumber = 2400;
	pub const Version: RuntimeVersion = VERSION;
	/// Two seconds of compute per six-second block.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(2u64 * WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	pub RuntimeBlockLength: BlockLength = BlockLength::max_with_normal_ratio(5 * 1024 * 1024, NORMAL_DISPATCH_RATIO);
	/// The generic Substrate address format.
	pub const SS58Prefix: u8 = 42;
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	// ParityDB's read and write costs are no higher than RocksDB's; the RocksDB figures are the
	// conservative published constants.
	type DbWeight = RocksDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<32>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_grandpa::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type WeightInfo = ();
	type MaxAuthorities = ConstU32<32>;
	type MaxNominators = ConstU32<0>;
	type MaxSetIdSessionEntries = ConstU64<0>;
	type KeyOwnerProof = sp_core::Void;
	type EquivocationReportSystem = ();
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the Unix epoch.
	type Moment = Moment;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

parameter_types! {
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// How long a council motion stays open for votes.
	pub const CouncilMotionDuration: BlockNumber = HOURS;
	pub const CouncilMaxProposals: u32 = 100;
	pub const CouncilMaxMembers: u32 = 100;
	pub MaxCouncilProposalWeight: Weight = Perbill::from_percent(50) * RuntimeBlockWeights::get().max_block;
}

impl pallet_collective::Config<CouncilCollective> for Runtime {
	type RuntimeOrigin = RuntimeOrigin;
	type Proposal = RuntimeCall;
	type RuntimeEvent = RuntimeEvent;
	type MotionDuration = CouncilMotionDuration;
	type MaxProposals = CouncilMaxProposals;
	type MaxMembers = CouncilMaxMembers;
	type DefaultVote = pallet_collective::PrimeDefaultVote;
	type WeightInfo = pallet_collective::weights::SubstrateWeight<Runtime>;
	type SetMembersOrigin = EnsureRoot<AccountId>;
	type MaxProposalWeight = MaxCouncilProposalWeight;
	type DisapproveOrigin = EnsureRoot<AccountId>;
	type KillOrigin = EnsureRoot<AccountId>;
	type Consideration = ();
}

parameter_types! {
	/// Deposit to create an asset class (held from the creator).
	pub const AssetDeposit: Balance = 10 * UNIT;
	/// Deposit for an account to hold a non-sufficient asset.
	pub const AssetAccountDeposit: Balance = MILLI_UNIT;
	pub const MetadataDepositBase: Balance = MILLI_UNIT;
	pub const MetadataDepositPerByte: Balance = MILLI_UNIT / 100;
	pub const ApprovalDeposit: Balance = MILLI_UNIT;
	/// Longest name or symbol of an asset, in bytes.
	pub const AssetsStringLimit: u32 = 50;
}

impl pallet_assets::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type AssetId = LocalAssetId;
	type AssetIdParameter = codec::Compact<LocalAssetId>;
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type ForceOrigin = GovernanceOrigin;
	type AssetDeposit = AssetDeposit;
	type AssetAccountDeposit = AssetAccountDeposit;
	type MetadataDepositBase = MetadataDepositBase;
	type MetadataDepositPerByte = MetadataDepositPerByte;
	type ApprovalDeposit = ApprovalDeposit;
	type StringLimit = AssetsStringLimit;
	type Freezer = ();
	type Holder = ();
	type Extra = ();
	// Genesis sets the next free id (after the dev assets): every creation must use it and moves
	// it on, so ids are never guessed or taken twice.
	type CallbackHandle = pallet_assets::AutoIncAssetId<Runtime>;
	type WeightInfo = pallet_assets::weights::SubstrateWeight<Runtime>;
	type RemoveItemsLimit = ConstU32<1000>;
	// pallet-assets is not benchmarked here: its `runtime-benchmarks` feature pulls in
	// pallet-revive's contract fixtures, which need a nightly toolchain. Its published weights
	// (`SubstrateWeight`) are used.
}

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
	type Members = super::OracleOperators;
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
	pub const MaxTwapWindow: Moment = 60 * 60 * 1_000;
	/// Most confirming blocks governance may require to resume a halted asset.
	pub const MaxBreakerConfirmations: u32 = 100;
	/// Volatility is stated per day (ms).
	pub const VolatilityPeriod: Moment = 24 * 60 * 60 * 1_000;
}

impl pallet_prices::Config for Runtime {
	type AssetId = AssetId;
	type Oracle = Oracle;
	type Time = Timestamp;
	type GovernanceOrigin = GovernanceOrigin;
	type MaxAssets = MaxPricedAssets;
	type MaxTwapSamples = MaxTwapSamples;
	type MaxTwapWindow = MaxTwapWindow;
	type MaxConfirmations = MaxBreakerConfirmations;
	type VolatilityPeriod = VolatilityPeriod;
	// No asset that margin accounts hold or auctions sell loses its price source.
	type PriceUsers = (super::Margin, super::Auction);
	/// A week, as margin's longest delay for a tightening of weights.
	type MaxSourceChangeDelay = ConstU32<{ 7 * DAYS }>;
	type WeightInfo = pallet_prices::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::PricesBenchmarkHelper;
}

/// The native token and every `pallet-assets` asset as one `fungibles` implementation, keyed by
/// [`AssetId`]: how the engine's pallets hold any asset.
pub type AllAssets = fungible::UnionOf<Balances, super::Assets, NativeOrLocal, AssetId, AccountId>;

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
	type Prices = super::Prices;
	type Decimals = super::Margin;
	/// Funds sell through the runtime's DEX (its pools are against USD, the asset most bad
	/// debt is in).
	type Swap = DexSwap;
	/// As the engine's flash sales (5%): what the protocol accepts to lose to a DEX.
	type MaxConversionSlippage = InsuranceConversionSlippage;
	/// A staker leaving while bad debt waits for the fund leaves his part of it behind.
	type QueuedBadDebt = super::Liquidation;
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
	type Prices = super::Prices;
	type ReserveIncome = super::Insurance;
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
	type WeightInfo = pallet_margin::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::MarginBenchmarkHelper;
}

parameter_types! {
	pub const AuctionPalletId: PalletId = PalletId(*b"lq/auctn");
	/// Most collateral auctions running at once: room for the off-chain worker to start its 20
	/// a block (`MaxUnsignedLiquidations`) for 200 blocks, twice the ~100 blocks a lot takes
	/// on the dev curve (110 %, 1 % off a minute) to come down to the oracle price, so that in
	/// a crash accounts do not wait for a slot while lots are still selling. Only a storage
	/// bound (no hook walks the auctions): 4 000 running take about half a megabyte.
	pub const MaxAuctions: u32 = 4_000;
	/// Longest auction curve or age governance may set: a week.
	pub const MaxAuctionDuration: u32 = 7 * DAYS;
}

impl pallet_auction::Config for Runtime {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Prices = super::Prices;
	type Decimals = super::Margin;
	// The liquidation engine: proceeds repay the owner's debt (the rest, the penalty, goes to
	// insurance), unneeded collateral goes back to the owner's margin account.
	// Lots are tokens, or deposit positions when a collateral's pool had lent out its cash.
	type Custody = liquidation_primitives::TokensThenPositions<AllAssets, super::Margin>;
	type Handler = super::Liquidation;
	type GovernanceOrigin = GovernanceOrigin;
	type PalletId = AuctionPalletId;
	type MaxAuctions = MaxAuctions;
	type MaxDuration = MaxAuctionDuration;
	type WeightInfo = pallet_auction::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::AuctionBenchmarkHelper;
}

parameter_types! {
	pub const AssetConversionPalletId: PalletId = PalletId(*b"py/ascon");
	pub const NativeKind: NativeOrWithId<LocalAssetId> = NativeOrWithId::Native;
	pub const LiquidityWithdrawalFee: Permill = Permill::zero();
	pub AssetConversionAccount: AccountId = AssetConversionPalletId::get().into_account_truncating();
}

/// LP tokens of the DEX pools: a second `pallet-assets` instance, created only by the DEX.
impl pallet_assets::Config<pallet_assets::Instance2> for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type AssetId = u32;
	type AssetIdParameter = u32;
	type Currency = Balances;
	type CreateOrigin =
		AsEnsureOriginWithArg<frame_system::EnsureSignedBy<AssetConversionOrigin, AccountId>>;
	type ForceOrigin = GovernanceOrigin;
	type AssetDeposit = ConstU128<0>;
	type AssetAccountDeposit = ConstU128<0>;
	type MetadataDepositBase = ConstU128<0>;
	type MetadataDepositPerByte = ConstU128<0>;
	type ApprovalDeposit = ConstU128<0>;
	type StringLimit = AssetsStringLimit;
	type Freezer = ();
	type Holder = ();
	type Extra = ();
	type CallbackHandle = ();
	type WeightInfo = pallet_assets::weights::SubstrateWeight<Runtime>;
	type RemoveItemsLimit = ConstU32<1000>;
}

/// The DEX's origin for creating LP tokens.
pub struct AssetConversionOrigin;
impl frame_support::traits::SortedMembers<AccountId> for AssetConversionOrigin {
	fn sorted_members() -> alloc::vec::Vec<AccountId> {
		alloc::vec![AssetConversionAccount::get()]
	}
}

/// The native token and every asset, keyed as the DEX keys them.
pub type DexAssets = fungible::UnionOf<
	Balances,
	super::Assets,
	NativeFromLeft,
	NativeOrWithId<LocalAssetId>,
	AccountId,
>;

impl pallet_asset_conversion::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type HigherPrecisionBalance = sp_core::U256;
	type AssetKind = NativeOrWithId<LocalAssetId>;
	type Assets = DexAssets;
	type PoolId = (Self::AssetKind, Self::AssetKind);
	type PoolLocator = pallet_asset_conversion::Chain<
		pallet_asset_conversion::WithFirstAsset<
			NativeKind,
			AccountId,
			NativeOrWithId<LocalAssetId>,
			pallet_asset_conversion::AccountIdConverter<
				AssetConversionPalletId,
				(NativeOrWithId<LocalAssetId>, NativeOrWithId<LocalAssetId>),
			>,
		>,
		pallet_asset_conversion::Ascending<
			AccountId,
			NativeOrWithId<LocalAssetId>,
			pallet_asset_conversion::AccountIdConverter<
				AssetConversionPalletId,
				(NativeOrWithId<LocalAssetId>, NativeOrWithId<LocalAssetId>),
			>,
		>,
	>;
	type PoolAssetId = u32;
	type PoolAssets = super::PoolAssets;
	// Free pool creation on the dev chain.
	type PoolSetupFee = ConstU128<0>;
	type PoolSetupFeeAsset = NativeKind;
	type PoolSetupFeeTarget = frame_support::traits::tokens::imbalance::ResolveAssetTo<
		AssetConversionAccount,
		Self::Assets,
	>;
	type PalletId = AssetConversionPalletId;
	type WeightInfo = pallet_asset_conversion::weights::SubstrateWeight<Runtime>;
	/// 0.3% per swap.
	type LPFee = ConstU32<3>;
	type LiquidityWithdrawalFee = LiquidityWithdrawalFee;
	type MaxSwapPathLength = ConstU32<3>;
	type MintMinLiquidity = ConstU128<100>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

impl crate::dev_pools::Config for Runtime {}

/// Flash liquidations sell through the runtime's DEX, in a direct pool.
pub struct DexSwap;
impl liquidation_primitives::CollateralSwap<AccountId, AssetId, Balance> for DexSwap {
	fn sell(
		who: &AccountId,
		asset_in: AssetId,
		asset_out: AssetId,
		amount_in: Balance,
		min_out: Balance,
	) -> Result<Balance, sp_runtime::DispatchError> {
		<super::AssetConversion as pallet_asset_conversion::Swap<AccountId>>::swap_exact_tokens_for_tokens(
			who.clone(),
			alloc::vec![asset_in.into(), asset_out.into()],
			amount_in,
			Some(min_out),
			who.clone(),
			false,
		)
	}

	fn buy(
		who: &AccountId,
		asset_in: AssetId,
		asset_out: AssetId,
		amount_out: Balance,
		max_in: Balance,
	) -> Result<Balance, sp_runtime::DispatchError> {
		<super::AssetConversion as pallet_asset_conversion::Swap<AccountId>>::swap_tokens_for_exact_tokens(
			who.clone(),
			alloc::vec![asset_in.into(), asset_out.into()],
			amount_out,
			Some(max_in),
			who.clone(),
			false,
		)
	}
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Runtime
where
	RuntimeCall: From<C>,
{
	type Extrinsic = super::UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateBare<C> for Runtime
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> super::UncheckedExtrinsic {
		super::UncheckedExtrinsic::new_bare(call)
	}
}

parameter_types! {
	pub const EnginePalletId: PalletId = PalletId(*b"lq/engin");
	/// Most auctions running for one account.
	pub const MaxAuctionsPerAccount: u32 = 8;
	/// Indebted accounts the off-chain worker reads per block.
	pub const LiquidationScanBatch: u32 = 1_000;
	/// Unsigned liquidations the worker submits per block.
	pub const MaxUnsignedLiquidations: u32 = 20;
	/// Above ordinary transactions: a liquidation that waits costs solvency.
	pub const UnsignedLiquidationPriority: TransactionPriority = TransactionPriority::MAX / 2;
	/// Three blocks: a liquidation not included by then is re-found and re-submitted.
	pub const UnsignedLiquidationLongevity: u64 = 3;
	/// Four seconds, under the six-second block: a run is never repeated within a block.
	pub const WorkerLockMillis: u64 = 4_000;
}

impl pallet_liquidation::Config for Runtime {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Ledger = super::Margin;
	type Socializer = super::Margin;
	type Deficit = super::Insurance;
	type Income = super::Insurance;
	type Auctions = super::Auction;
	type Swap = DexSwap;
	type Prices = super::Prices;
	type GovernanceOrigin = GovernanceOrigin;
	type PalletId = EnginePalletId;
	type MaxPositions = MaxMarginPositions;
	type MaxAuctionsPerAccount = MaxAuctionsPerAccount;
	type ScanBatch = LiquidationScanBatch;
	/// Two blocks for the worker's transaction to land (it is valid for three), then on_idle acts.
	type WorkerGraceBlocks = ConstU32<3>;
	type MaxUnsignedPerBlock = MaxUnsignedLiquidations;
	type UnsignedPriority = UnsignedLiquidationPriority;
	type UnsignedLongevity = UnsignedLiquidationLongevity;
	type WorkerLockMillis = WorkerLockMillis;
	type WeightInfo = pallet_liquidation::weights::SubstrateWeight<Runtime>;
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = benchmark_helpers::LiquidationBenchmarkHelper;
}

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmark_helpers {
	use super::*;
	use frame_support::BoundedVec;

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
		fn asset(index: u32) -> AssetId {
			AssetId::Asset(index)
		}
		fn feed(asset: &AssetId, price: Price) {
			use orml_oracle::DataFeeder;
			let _ = <crate::Oracle as DataFeeder<AssetId, Price, AccountId>>::feed_value(
				None,
				asset.clone(),
				price,
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
		fn assets(n: u32) -> alloc::vec::Vec<AssetId> {
			let mut assets: alloc::vec::Vec<AssetId> =
				crate::assets::DEV_ASSETS.iter().map(|asset| asset.id).take(n as usize).collect();
			// More assets than the dev chain has, to fill a portfolio of `MaxPositions`.
			while assets.len() < n as usize {
				let Some(next) = pallet_assets::NextAssetId::<Runtime>::get() else { break };
				let owner = sp_runtime::MultiAddress::Id(AccountId::from([0u8; 32]));
				let _ = crate::Assets::force_create(
					crate::RuntimeOrigin::root(),
					next.into(),
					owner,
					true,
					1,
				);
				assets.push(AssetId::Asset(next));
			}
			for asset in &assets {
				let _ = crate::Prices::set_fixed_price(
					crate::RuntimeOrigin::root(),
					*asset,
					Price::from_u32(1),
				);
			}
			assets
		}
		fn fund_account(asset: AssetId, who: &AccountId, amount: Balance) {
			use frame_support::traits::fungibles::Mutate;
			let _ = AllAssets::mint_into(asset, who, amount);
		}
	}

	/// BTC for USD, both at 1 USD (USD is fixed at 1 on the dev chain); an owner with USD debt
	/// borrowed against BTC in the margin pallet, so the handler has a debt to repay.
	pub struct AuctionBenchmarkHelper;
	impl pallet_auction::BenchmarkHelper<AssetId, AccountId> for AuctionBenchmarkHelper {
		fn assets() -> (AssetId, AssetId) {
			let btc = AssetId::Asset(crate::assets::BTC);
			let _ = crate::Prices::set_fixed_price(
				crate::RuntimeOrigin::root(),
				btc,
				Price::from_u32(1),
			);
			(btc, AssetId::Asset(crate::assets::USD))
		}
		fn fund_account(asset: AssetId, who: &AccountId, amount: Balance) {
			use frame_support::traits::fungibles::Mutate;
			let _ = AllAssets::mint_into(asset, who, amount);
		}
		fn indebted_owner(debt_asset: AssetId, amount: Balance) -> AccountId {
			use frame_support::traits::fungibles::Mutate;
			let (collateral, _) = Self::assets();
			let lender = AccountId::from([1u8; 32]);
			let owner = AccountId::from([2u8; 32]);
			let _ = AllAssets::mint_into(debt_asset, &lender, amount.saturating_mul(10));
			let _ = crate::Margin::deposit(
				crate::RuntimeOrigin::signed(lender),
				debt_asset,
				amount.saturating_mul(10),
			);
			// Collateral worth ten times the debt (both at 1 USD a whole unit).
			let collateral_amount = amount.saturating_mul(10).saturating_mul(100);
			let _ = AllAssets::mint_into(collateral, &owner, collateral_amount);
			let _ = crate::Margin::deposit(
				crate::RuntimeOrigin::signed(owner.clone()),
				collateral,
				collateral_amount,
			);
			let _ = crate::Margin::borrow(
				crate::RuntimeOrigin::signed(owner.clone()),
				debt_asset,
				amount,
			);
			owner
		}
		fn repay_all(owner: &AccountId) {
			use frame_support::traits::fungibles::Mutate;
			for (asset, _, debt) in crate::Margin::positions(owner) {
				if debt > 0 {
					let _ = AllAssets::mint_into(asset, owner, debt);
					let _ = crate::Margin::repay(
						crate::RuntimeOrigin::signed(owner.clone()),
						asset,
						pallet_margin::Amount::All,
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
			let _ = crate::Prices::set_fixed_price(
				crate::RuntimeOrigin::root(),
				btc,
				Price::from_u32(60_000),
			);
			(btc, AssetId::Asset(crate::assets::USD))
		}
		fn fund_account(asset: AssetId, who: &AccountId, amount: Balance) {
			use frame_support::traits::fungibles::Mutate;
			let _ = AllAssets::mint_into(asset, who, amount);
		}
		fn liquidatable_account(debt_positions: u32, bankrupt: bool) -> AccountId {
			use frame_support::traits::fungibles::Mutate;
			use liquidation_primitives::ledger;
			let (btc, usd) = Self::assets();
			let who = AccountId::from([0x77; 32]);
			let lender = AccountId::from([0x78; 32]);
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
				let _ = crate::Assets::force_create(root(), next.into(), owner, true, 1);
				let params = crate::genesis_config_presets::dev_margin_params()
					.into_iter()
					.map(|(_, _, params)| params)
					.next()
					.unwrap_or_default();
				let _ = crate::Margin::list_asset(root(), AssetId::Asset(next), 12, params);
				debts.push(AssetId::Asset(next));
			}
			// A thousand USD of debt in each (every debt asset priced at 1 USD a whole unit).
			let _ = AllAssets::mint_into(btc, &who, 100_000_000);
			let _ =
				crate::Margin::deposit(crate::RuntimeOrigin::signed(who.clone()), btc, 100_000_000);
			for asset in debts.iter().take(debt_positions.max(1) as usize) {
				if *asset != usd {
					let _ = crate::Prices::set_fixed_price(root(), *asset, Price::from_u32(1));
				}
				let decimals =
					<crate::Margin as liquidation_primitives::AssetDecimals<AssetId>>::decimals(
						*asset,
					)
					.unwrap_or(12);
				let unit = 10u128.saturating_pow(decimals.into());
				let amount = 1_000u128.saturating_mul(unit);
				let _ = AllAssets::mint_into(*asset, &lender, amount.saturating_mul(10));
				let _ = crate::Margin::deposit(
					crate::RuntimeOrigin::signed(lender.clone()),
					*asset,
					amount.saturating_mul(10),
				);
				let _ = crate::Margin::borrow(
					crate::RuntimeOrigin::signed(who.clone()),
					*asset,
					amount,
				);
			}
			if bankrupt {
				// One satoshi left: dust, so the waterfall also moves a deposit.
				let _ = <crate::Margin as ledger::Mutate<AccountId>>::seize_collateral(
					&who, btc, 99_999_999, &lender,
				);
			} else if let Ok(report) = <crate::Margin as ledger::Inspect<AccountId>>::health(&who) {
				// Crash BTC so that maintenance collateral is 97% of maintenance debt.
				use sp_runtime::Saturating;
				// 1 BTC at this price counts 0.9 of it: 97% of the weighted debt.
				let price = report
					.maintenance_debt
					.saturating_mul(sp_runtime::FixedU128::from_rational(97, 90));
				let _ = crate::Prices::set_fixed_price(root(), btc, price);
			}
			who
		}
	}

	/// Insures the USD stable (created at genesis) and mints it to benchmark accounts.
	pub struct InsuranceBenchmarkHelper;
	impl pallet_insurance::BenchmarkHelper<AssetId, AccountId> for InsuranceBenchmarkHelper {
		fn asset() -> AssetId {
			AssetId::Asset(crate::assets::USD)
		}
		fn fund_account(asset: AssetId, who: &AccountId, amount: Balance) {
			use frame_support::traits::fungibles::Mutate;
			let _ = AllAssets::mint_into(asset, who, amount);
		}
	}
}
