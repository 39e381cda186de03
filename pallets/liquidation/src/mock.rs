//! A test runtime with the real neighbours of the engine: balances and assets, a real
//! `pallet-asset-conversion` DEX, the margin ledger, the auctions and the insurance fund, with
//! prices set by the test.

use crate::{self as pallet_liquidation, EngineParams};
use frame_support::{
	derive_impl, ord_parameter_types, parameter_types,
	traits::{
		fungible::{NativeFromLeft, NativeOrWithId, UnionOf},
		fungibles::Inspect,
		tokens::imbalance::ResolveAssetTo,
		AsEnsureOriginWithArg, ConstU128, ConstU32, ConstU64,
	},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSignedBy};
use liquidation_primitives::{AssetId, Balance, CollateralSwap, NativeOrLocal, Price};
use pallet_asset_conversion::{AccountIdConverter, Ascending, Chain, WithFirstAsset};
use sp_runtime::{
	traits::{AccountIdConversion, One},
	BuildStorage, DispatchError, FixedPointNumber, FixedU128, Permill,
};

type Block = frame_system::mocking::MockBlock<Test>;
pub type AccountId = u64;
pub type Extrinsic = frame_system::mocking::MockUncheckedExtrinsic<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Balances: pallet_balances,
		Assets: pallet_assets::<Instance1>,
		PoolAssets: pallet_assets::<Instance2>,
		AssetConversion: pallet_asset_conversion,
		Margin: pallet_margin,
		DutchAuction: pallet_auction,
		Insurance: pallet_insurance,
		Liquidation: pallet_liquidation,
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

liquidation_test_support::impl_test_assets_config!(Test, pallet_assets::Instance1);

impl pallet_assets::Config<pallet_assets::Instance2> for Test {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type RemoveItemsLimit = ConstU32<100>;
	type AssetId = u32;
	type AssetIdParameter = u32;
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSignedBy<AssetConversionOrigin, AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
	type AssetDeposit = ConstU128<0>;
	type AssetAccountDeposit = ConstU128<0>;
	type MetadataDepositBase = ConstU128<0>;
	type MetadataDepositPerByte = ConstU128<0>;
	type ApprovalDeposit = ConstU128<0>;
	type StringLimit = ConstU32<50>;
	type Freezer = ();
	type Holder = ();
	type Extra = ();
	type CallbackHandle = ();
	type WeightInfo = ();
}

parameter_types! {
	pub const AssetConversionPalletId: PalletId = PalletId(*b"py/ascon");
	pub const MarginRebaseMove: sp_runtime::Permill = sp_runtime::Permill::from_percent(2);
	pub const NativeKind: NativeOrWithId<u32> = NativeOrWithId::Native;
	pub storage LiquidityWithdrawalFee: Permill = Permill::from_percent(0);
}

ord_parameter_types! {
	pub const AssetConversionOrigin: AccountId =
		AccountIdConversion::<AccountId>::into_account_truncating(&AssetConversionPalletId::get());
}

/// The native token and assets keyed as the DEX keys them.
pub type DexAssets = UnionOf<Balances, Assets, NativeFromLeft, NativeOrWithId<u32>, AccountId>;
pub type PoolIdToAccountId =
	AccountIdConverter<AssetConversionPalletId, (NativeOrWithId<u32>, NativeOrWithId<u32>)>;

impl pallet_asset_conversion::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type Balance = Balance;
	type HigherPrecisionBalance = sp_core::U256;
	type AssetKind = NativeOrWithId<u32>;
	type Assets = DexAssets;
	type PoolId = (Self::AssetKind, Self::AssetKind);
	type PoolLocator = Chain<
		WithFirstAsset<NativeKind, AccountId, NativeOrWithId<u32>, PoolIdToAccountId>,
		Ascending<AccountId, NativeOrWithId<u32>, PoolIdToAccountId>,
	>;
	type PoolAssetId = u32;
	type PoolAssets = PoolAssets;
	type PoolSetupFee = ConstU128<0>;
	type PoolSetupFeeAsset = NativeKind;
	type PoolSetupFeeTarget = ResolveAssetTo<AssetConversionOrigin, Self::Assets>;
	type PalletId = AssetConversionPalletId;
	type WeightInfo = ();
	type LPFee = ConstU32<3>;
	type LiquidityWithdrawalFee = LiquidityWithdrawalFee;
	type MaxSwapPathLength = ConstU32<4>;
	type MintMinLiquidity = ConstU128<100>;
}

/// The native token and assets keyed by [`AssetId`], as our pallets hold them.
pub type AllAssets = UnionOf<Balances, Assets, NativeOrLocal, AssetId, AccountId>;

pub use liquidation_test_support::{set_price, set_price_error, TestPrices};

/// Sales through the real `pallet-asset-conversion`.
pub struct DexSwap;
impl CollateralSwap<AccountId, AssetId, Balance> for DexSwap {
	fn sell(
		who: &AccountId,
		asset_in: AssetId,
		asset_out: AssetId,
		amount_in: Balance,
		min_out: Balance,
	) -> Result<Balance, DispatchError> {
		<AssetConversion as pallet_asset_conversion::Swap<AccountId>>::swap_exact_tokens_for_tokens(
			*who,
			vec![asset_in.into(), asset_out.into()],
			amount_in,
			Some(min_out),
			*who,
			false,
		)
	}

	fn buy(
		who: &AccountId,
		asset_in: AssetId,
		asset_out: AssetId,
		amount_out: Balance,
		max_in: Balance,
	) -> Result<Balance, DispatchError> {
		<AssetConversion as pallet_asset_conversion::Swap<AccountId>>::swap_tokens_for_exact_tokens(
			*who,
			vec![asset_in.into(), asset_out.into()],
			amount_out,
			Some(max_in),
			*who,
			false,
		)
	}
}

parameter_types! {
	pub const MarginPalletId: PalletId = PalletId(*b"lq/margn");
	pub const AuctionPalletId: PalletId = PalletId(*b"lq/auctn");
	pub const InsurancePalletId: PalletId = PalletId(*b"lq/insur");
	pub const EnginePalletId: PalletId = PalletId(*b"lq/engin");
	/// Settable by a test (thread-local): the worker's page.
	pub static ScanBatch: u32 = 100;
	/// Settable by a test (thread-local): the worker's bound per run.
	pub static MaxUnsignedPerBlock: u32 = 3;
	pub static MaxUnsignedBatch: u32 = 2;
	pub const Treasury: AccountId = 777;
	pub const ConversionSlippage: Permill = Permill::from_percent(5);
}

impl pallet_margin::Config for Test {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Prices = TestPrices;
	type ReserveIncome = Insurance;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type PalletId = MarginPalletId;
	type BlocksPerYear = ConstU32<5_256_000>;
	type MaxAssets = ConstU32<8>;
	type MaxPositions = ConstU32<4>;
	type RebaseMove = MarginRebaseMove;
	type MaxReindexPerBlock = ConstU32<3>;
	type MaxRiskChangeDelay = frame_support::traits::ConstU64<100>;
	type MinPositionValue = ConstU128<0>;
	type NativeBalance = Balances;
	type RuntimeHoldReason = RuntimeHoldReason;
	type AccountDeposit = ConstU128<0>;
	type LiquidationPenalty = LiquidationPenalty;
	type Derivatives = ();
	type WeightInfo = ();
}

/// The engine's penalty in force, for margin's listing checks.
pub struct LiquidationPenalty;
impl frame_support::traits::Get<Permill> for LiquidationPenalty {
	fn get() -> Permill {
		pallet_liquidation::Params::<Test>::get()
			.map(|params| params.liquidation_penalty)
			.unwrap_or_default()
	}
}

impl pallet_auction::Config for Test {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Prices = TestPrices;
	type Decimals = Margin;
	type Custody = liquidation_primitives::TokensThenPositions<AllAssets, Margin>;
	type Handler = Liquidation;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type PalletId = AuctionPalletId;
	type MaxAuctions = ConstU32<16>;
	type MaxDurationBlocks = ConstU32<1_000>;
	type WeightInfo = ();
}

impl pallet_insurance::Config for Test {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type PalletId = InsurancePalletId;
	type TreasuryAccount = Treasury;
	type MaxAssets = ConstU32<8>;
	type MaxCooldown = ConstU64<1_000>;
	type MinimumShares = ConstU128<10>;
	type IncomeVestingPeriod = frame_support::traits::ConstU64<20>;
	type Prices = TestPrices;
	type Decimals = Margin;
	type Swap = DexSwap;
	type MaxConversionSlippage = ConversionSlippage;
	type QueuedBadDebt = Liquidation;
	type WeightInfo = ();
}

impl<C> frame_system::offchain::CreateTransactionBase<C> for Test
where
	RuntimeCall: From<C>,
{
	type Extrinsic = Extrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<C> frame_system::offchain::CreateBare<C> for Test
where
	RuntimeCall: From<C>,
{
	fn create_bare(call: RuntimeCall) -> Extrinsic {
		Extrinsic::new_bare(call)
	}
}

impl pallet_liquidation::Config for Test {
	type AssetId = AssetId;
	type Assets = AllAssets;
	type Ledger = Margin;
	type Socializer = Margin;
	type Deficit = Insurance;
	type Income = Insurance;
	type Auctions = DutchAuction;
	type Swap = DexSwap;
	type Prices = TestPrices;
	type Shock = ();
	type VolatilityPeriodMs = frame_support::traits::ConstU64<86_400_000>;
	type Derivatives = ();
	type GovernanceOrigin = EnsureRoot<AccountId>;
	type PalletId = EnginePalletId;
	type MaxPositions = ConstU32<4>;
	type MaxAuctionsPerAccount = ConstU32<4>;
	type ScanBatch = ScanBatch;
	type WorkerGraceBlocks = ConstU64<3>;
	type MaxUnsignedPerBlock = MaxUnsignedPerBlock;
	type MaxUnsignedBatch = MaxUnsignedBatch;
	type UnsignedPriority = ConstU64<1_000>;
	type KeeperPriority = ConstU64<{ 1u64 << 62 }>;
	type UnsignedLongevity = ConstU64<5>;
	type WorkerLockMillis = ConstU64<2_000>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = MockBenchmarkHelper;
}

/// 6 decimals.
pub const USD: AssetId = AssetId::Asset(1);
/// 8 decimals.
pub const BTC: AssetId = AssetId::Asset(2);
/// 18 decimals.
pub const ETH: AssetId = AssetId::Asset(3);
/// 12 decimals.
pub const NATIVE: AssetId = AssetId::Native;

/// A lender of USD.
pub const LENDER: AccountId = 1;
/// Borrowers.
pub const ALICE: AccountId = 2;
pub const BOB: AccountId = 3;
pub const CHARLIE: AccountId = 4;
pub const DAVE: AccountId = 5;
/// A liquidator.
pub const KEEPER: AccountId = 10;
/// Provides DEX liquidity and buys at auctions.
pub const MARKET: AccountId = 20;
/// Stakes into the insurance fund.
pub const STAKER: AccountId = 30;

pub const ENDOWMENT: Balance = 1_000_000_000_000_000_000_000;
pub const DOLLAR: Balance = 1_000_000;
pub const BITCOIN: Balance = 100_000_000;

fn curve() -> pallet_margin::InterestCurve {
	pallet_margin::InterestCurve {
		base_rate: FixedU128::saturating_from_rational(2, 100),
		slope_below_kink: FixedU128::saturating_from_rational(10, 100),
		kink: Permill::from_percent(80),
		slope_above_kink: FixedU128::one(),
	}
}

/// Margin parameters: collateral weights (initial, maintenance) in percent, liability weights in
/// hundredths.
pub fn margin_params(cw: (u32, u32), lw: (u32, u32)) -> pallet_margin::AssetParams {
	pallet_margin::AssetParams {
		initial_collateral_weight: Permill::from_percent(cw.0),
		maintenance_collateral_weight: Permill::from_percent(cw.1),
		initial_liability_weight: FixedU128::saturating_from_rational(lw.0, 100),
		maintenance_liability_weight: FixedU128::saturating_from_rational(lw.1, 100),
		supply_cap_usd: 1_000_000_000_000_000_000,
		borrow_cap_usd: 1_000_000_000_000_000_000,
		debt_ceiling_usd: None,
		interest: curve(),
		reserve_factor: Permill::from_percent(10),
		min_position: 1,
	}
}

/// Penalty 10% (half to insurance), close factor 50%, target health factor 1.2, whole positions
/// below 0.95, dust under 10 USD, 5% slippage, 10 million USD per block, bad debt socialized
/// after waiting 10 blocks for insurance.
pub fn engine_params() -> EngineParams {
	EngineParams {
		liquidation_penalty: Permill::from_percent(10),
		insurance_share: Permill::from_percent(50),
		close_factor: Permill::from_percent(50),
		target_health_factor: FixedU128::saturating_from_rational(12, 10),
		full_liquidation_health_factor: FixedU128::saturating_from_rational(95, 100),
		dust_value: FixedU128::from_u32(10),
		max_slippage: Permill::from_percent(5),
		max_value_per_block: FixedU128::from_u32(10_000_000),
		socialize_after_blocks: 10,
	}
}

/// Auctions start at 110% of the oracle and lose 1% of the start every block over 100 blocks;
/// under 50% of the oracle or after 200 blocks they restart.
pub fn auction_params() -> pallet_auction::AuctionParams {
	pallet_auction::AuctionParams {
		start_premium: FixedU128::saturating_from_rational(11, 10),
		curve: pallet_auction::PriceCurve::Linear { duration_blocks: 100 },
		max_duration_blocks: 200,
		floor: Permill::from_percent(50),
		restart_incentive: Permill::zero(),
		min_lot: 1,
		reprice_band: Permill::from_percent(10),
	}
}

pub fn new_test_ext() -> sp_io::TestExternalities {
	let accounts = [LENDER, ALICE, BOB, CHARLIE, DAVE, KEEPER, MARKET, STAKER];
	let assets = [1u32, 2, 3];
	let storage = RuntimeGenesisConfig {
		balances: pallet_balances::GenesisConfig {
			balances: accounts.iter().map(|who| (*who, ENDOWMENT)).collect(),
			..Default::default()
		},
		assets: pallet_assets::GenesisConfig {
			assets: assets.iter().map(|id| (*id, LENDER, true, 1)).collect(),
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
				(NATIVE, 12, margin_params((50, 60), (150, 130))),
			],
			risk_change_delay: 0,
		},
		dutch_auction: pallet_auction::GenesisConfig {
			params: vec![(BTC, auction_params()), (ETH, auction_params())],
		},
		insurance: pallet_insurance::GenesisConfig {
			assets: vec![(
				USD,
				pallet_insurance::FundParams {
					max_cover_per_block: 5_000 * DOLLAR,
					target_size: 5_000 * DOLLAR,
					staker_income_share: Permill::from_percent(50),
				},
			)],
			cooldown: 10,
			unstake_window: 10,
		},
		liquidation: pallet_liquidation::GenesisConfig {
			params: Some(engine_params()),
			asset_limits: vec![],
			derisk_params: None,
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
		set_price(NATIVE, Price::from_u32(5));
	});
	ext
}

/// Runs `test` on the test genesis, then checks the invariants of the engine and its neighbours.
pub fn test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		check_invariants();
	});
}

pub fn check_invariants() {
	Liquidation::do_try_state().expect("engine invariants hold");
	Margin::do_try_state().expect("margin invariants hold");
	DutchAuction::do_try_state().expect("auction invariants hold");
	Insurance::do_try_state().expect("insurance invariants hold");
}

pub fn run_to_block(number: u64) {
	System::set_block_number(number);
}

pub fn balance(asset: AssetId, who: AccountId) -> Balance {
	AllAssets::balance(asset, &who)
}

#[cfg(feature = "runtime-benchmarks")]
pub struct MockBenchmarkHelper;
#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<AssetId, AccountId> for MockBenchmarkHelper {
	/// The mock has no derivatives.
	fn liquidatable_trader() -> Option<(AccountId, AccountId)> {
		None
	}

	fn deleverage_market(_: u32, _: u32) -> Option<AssetId> {
		None
	}

	fn assets() -> (AssetId, AssetId) {
		if pallet_asset_conversion::Pools::<Test>::iter().next().is_none() {
			AssetConversion::create_pool(
				RuntimeOrigin::signed(MARKET),
				Box::new(BTC.into()),
				Box::new(USD.into()),
			)
			.expect("benchmark setup: the BTC/USD pool");
			AssetConversion::add_liquidity(
				RuntimeOrigin::signed(MARKET),
				Box::new(BTC.into()),
				Box::new(USD.into()),
				100 * BITCOIN,
				5_000_000 * DOLLAR,
				1,
				1,
				MARKET,
			)
			.expect("benchmark setup: the pool's liquidity");
		}
		(BTC, USD)
	}
	fn liquidatable_account(debt_positions: u32, bankrupt: bool) -> AccountId {
		use frame_support::traits::fungibles::Mutate;
		use liquidation_primitives::ledger::Mutate as _;
		let who: AccountId = 5_000 + u64::from(debt_positions);
		set_price(BTC, Price::from_u32(60_000));
		AllAssets::mint_into(BTC, &who, BITCOIN).expect("benchmark setup");
		Margin::deposit(RuntimeOrigin::signed(who), BTC, BITCOIN).expect("benchmark setup");
		// Lenders for every debt asset; debts of about 10 000 USD each in the first ones.
		let debts = [
			(USD, 10_000 * DOLLAR),
			(ETH, 3_000_000_000_000_000_000),
			(NATIVE, 2_000_000_000_000_000),
		];
		for (asset, amount) in debts.into_iter().take(debt_positions.max(1) as usize) {
			Margin::deposit(RuntimeOrigin::signed(LENDER), asset, amount * 10)
				.expect("benchmark setup");
			Margin::borrow(RuntimeOrigin::signed(who), asset, amount).expect("benchmark setup");
		}
		if bankrupt {
			Margin::seize_collateral(&who, BTC, BITCOIN - 1, &MARKET).expect("benchmark setup");
		} else {
			// About 10 000 USD per debt against 54 000 * 0.9: a crash to make it liquidatable.
			let debt_usd = 10_000u32 * debt_positions.max(1);
			set_price(BTC, Price::from_u32(debt_usd * 113 / 100));
		}
		who
	}
}
