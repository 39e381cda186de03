//! The configuration of each pallet of the runtime, one `impl Config` per pallet.
//!
//! One file per area, as the newest templates split them: [`system`], [`governance`],
//! [`assets_and_dex`], [`oracle`] and [`engine`] (and, for benchmarks, `benchmark_helpers`).

use frame_support::{
	derive_impl, parameter_types,
	traits::fungible,
	traits::{
		AsEnsureOriginWithArg, ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, EitherOfDiverse,
		VariantCountOf,
	},
	weights::{
		constants::{ParityDbWeight, WEIGHT_REF_TIME_PER_SECOND},
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

pub mod assets_and_dex;
pub mod engine;
pub mod governance;
pub mod oracle;
pub mod system;

pub use assets_and_dex::*;
pub use engine::*;
pub use governance::*;
pub use oracle::*;
pub use system::*;

#[cfg(feature = "runtime-benchmarks")]
pub mod benchmark_helpers;
