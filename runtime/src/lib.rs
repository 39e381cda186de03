//! # Liquidation engine dev runtime
//!
//! The runtime of the dev chain: FRAME's system pallets (timestamp, Aura authoring, GRANDPA
//! finality, balances, transaction payment, sudo), `pallet-assets` for the non-native assets,
//! `orml-oracle` fed by an operator set kept in `pallet-membership`, a council
//! (`pallet-collective`) and, as they land, the liquidation engine's own pallets.
//!
//! ## Governance
//!
//! Every risk parameter of the engine's pallets is set through one origin,
//! [`configs::GovernanceOrigin`]: root (sudo on the dev chain), or at least two thirds of the
//! council. The oracle operator set is governed by the same origin.
//!
//! ## Assets
//!
//! [`assets`] names the dev assets (a USD stable, BTC, ETH, DOT) with their ids, symbols and
//! decimals; genesis creates them (see [`genesis_config_presets`]). Prices are USD per whole unit
//! as a `FixedU128`, keyed by [`AssetId`] (see `liquidation-primitives`).
#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-style macros expand to large enums and tuples.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

// Defines the `list_benchmarks!`/`add_benchmarks!` macros that `apis` uses: must come first.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
pub mod assets;
pub mod configs;
pub mod dev_pools;
pub mod feed_priority;
pub mod genesis_config_presets;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
#[cfg(feature = "std")]
use sp_version::NativeVersion;
use sp_version::{runtime_version, RuntimeVersion};

pub use frame_system::Call as SystemCall;
pub use liquidation_primitives::{AssetId, LocalAssetId, Moment, Price};
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types: what the node needs to know of blocks without knowing this runtime's types.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The session keys of an authority: Aura for authoring, GRANDPA for finality.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

#[runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("liquidation-engine"),
	impl_name: alloc::borrow::Cow::Borrowed("liquidation-engine"),
	authoring_version: 1,
	spec_version: 105,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	// 2: the worker's unsigned calls carry `found_at`.
	transaction_version: 2,
	system_version: 1,
};

mod block_times {
	/// Target block time in milliseconds: one block per Aura slot.
	pub const MILLI_SECS_PER_BLOCK: u64 = 6000;
	/// Aura slot length in milliseconds. It cannot change once the chain has started.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
}
pub use block_times::*;

/// Blocks in a minute, an hour and a day at the target block time.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// Number of decimals of the native token.
pub const NATIVE_DECIMALS: u8 = 12;
/// One whole native token, in planck.
pub const UNIT: Balance = 10u128.pow(NATIVE_DECIMALS as u32);
pub const MILLI_UNIT: Balance = UNIT / 1_000;
pub const MICRO_UNIT: Balance = MILLI_UNIT / 1_000;
/// Existential deposit of the native token, in planck.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// The version information used to identify this runtime when compiled natively.
#[cfg(feature = "std")]
pub fn native_version() -> NativeVersion {
	NativeVersion { runtime_version: VERSION, can_author_with: Default::default() }
}

/// Signature of a transaction.
pub type Signature = MultiSignature;
/// An account id: the public key of the signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// An amount in the smallest unit of its asset.
pub type Balance = liquidation_primitives::Balance;
/// Index of a transaction of an account.
pub type Nonce = u32;
/// Hash of a block or of some data.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A block signed with a justification.
pub type SignedBlock = generic::SignedBlock<Block>;
/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions: what every signed transaction carries besides its call.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	// A keeper's liquidation someone got to first is dropped, not included to fail, and given
	// its priority band. Every extension validates before any prepares, so the fee is not
	// withdrawn when this refuses; after the fee's check, a caller who cannot pay is refused
	// before the account's health is read.
	pallet_liquidation::CheckKeeperLiquidation<Runtime>,
	// The oracle operators' feeds before every liquidation (they pay no fee).
	feed_priority::PrioritizeOracleFeeds,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Storage migrations run at a runtime upgrade, before the pallets' `on_runtime_upgrade`. Each
/// checks the pallet's stored version and does nothing once applied, so a chain started from
/// this runtime's genesis (already at the latest versions) skips them all.
type Migrations = (pallet_insurance::migrations::v1::MigrateToV1<Runtime>,);

/// Executive: dispatches blocks and transactions to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// The instance of `pallet-collective` that is the council.
pub type CouncilCollective = pallet_collective::Instance1;
/// The instance of `pallet-membership` that keeps the oracle operators.
pub type OracleOperatorsInstance = pallet_membership::Instance1;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;
	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	// Governance.
	#[runtime::pallet_index(10)]
	pub type Council = pallet_collective<Instance1>;

	// Assets and prices.
	#[runtime::pallet_index(20)]
	pub type Assets = pallet_assets;
	#[runtime::pallet_index(21)]
	pub type OracleOperators = pallet_membership<Instance1>;
	#[runtime::pallet_index(22)]
	pub type Oracle = orml_oracle;
	#[runtime::pallet_index(23)]
	pub type Prices = pallet_prices;

	// The liquidation engine.
	#[runtime::pallet_index(30)]
	pub type Insurance = pallet_insurance;
	#[runtime::pallet_index(31)]
	pub type Margin = pallet_margin;
	#[runtime::pallet_index(32)]
	pub type Auction = pallet_auction;
	#[runtime::pallet_index(33)]
	pub type Liquidation = pallet_liquidation;
	#[runtime::pallet_index(34)]
	pub type Perpetuals = pallet_perpetuals;

	// The DEX of flash liquidations, its LP tokens, and the dev chain's first pools.
	#[runtime::pallet_index(40)]
	pub type PoolAssets = pallet_assets<Instance2>;
	#[runtime::pallet_index(41)]
	pub type AssetConversion = pallet_asset_conversion;
	#[runtime::pallet_index(42)]
	pub type DevPools = crate::dev_pools;
}
