//! Assets and the DEX: `pallet-assets`, the native token and assets as one `fungibles`, the
//! DEX pools and the swap the engine sells through.

use super::*;

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

/// The native token and every `pallet-assets` asset as one `fungibles` implementation, keyed by
/// [`AssetId`]: how the engine's pallets hold any asset.
pub type AllAssets = fungible::UnionOf<Balances, crate::Assets, NativeOrLocal, AssetId, AccountId>;

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
	crate::Assets,
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
	type PoolAssets = crate::PoolAssets;
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
		<crate::AssetConversion as pallet_asset_conversion::Swap<AccountId>>::swap_exact_tokens_for_tokens(
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
		<crate::AssetConversion as pallet_asset_conversion::Swap<AccountId>>::swap_tokens_for_exact_tokens(
			who.clone(),
			alloc::vec![asset_in.into(), asset_out.into()],
			amount_out,
			Some(max_in),
			who.clone(),
			false,
		)
	}
}
