//! Storage migrations of the insurance pallet, one module per step of [`crate::STORAGE_VERSION`]
//! (as `pallet-nomination-pools` keeps `v1`, `v2`, ...). Each is wrapped in
//! `frame_support::migrations::VersionedMigration`, so it runs once, only from the version it
//! expects, and bumps the stored version when done. A runtime lists the ones it needs in its
//! `Executive` migrations.

/// Version 0 to 1: the stakers' share of income is a `Permill`, as every share in the engine,
/// not a `Perbill`.
pub mod v1 {
	use crate::{Config, FundParams, Pallet, Params};
	use codec::{Decode, Encode};
	use core::marker::PhantomData;
	use frame_support::{
		migrations::VersionedMigration,
		traits::{Get, UncheckedOnRuntimeUpgrade},
		weights::Weight,
	};
	use liquidation_primitives::Balance;
	use sp_runtime::{Perbill, Permill};

	/// A fund's parameters as version 0 stored them.
	#[derive(Encode, Decode, Clone, Copy, PartialEq, Eq, Debug)]
	pub struct FundParamsV0 {
		/// As in version 1.
		pub max_cover_per_block: Balance,
		/// As in version 1 (`target_size`).
		pub target_size: Balance,
		/// The stakers' share of income, in billionths.
		pub staker_income_share: Perbill,
	}

	/// A `Perbill` share as the nearest `Permill` (half a millionth rounds up).
	pub fn to_permill(share: Perbill) -> Permill {
		Permill::from_parts(share.deconstruct().saturating_add(500) / 1_000)
	}

	impl From<FundParamsV0> for FundParams {
		fn from(old: FundParamsV0) -> Self {
			FundParams {
				max_cover_per_block: old.max_cover_per_block,
				target_size: old.target_size,
				staker_income_share: to_permill(old.staker_income_share),
			}
		}
	}

	/// Re-encodes every fund's parameters; use [`MigrateToV1`], which checks the version.
	pub struct VersionUncheckedMigrateToV1<T>(PhantomData<T>);

	impl<T: Config> UncheckedOnRuntimeUpgrade for VersionUncheckedMigrateToV1<T> {
		fn on_runtime_upgrade() -> Weight {
			let mut funds = 0u64;
			Params::<T>::translate::<FundParamsV0, _>(|_, old| {
				funds = funds.saturating_add(1);
				Some(old.into())
			});
			T::DbWeight::get().reads_writes(funds, funds)
		}

		/// Every fund's version 0 parameters, read raw (they do not decode as version 1).
		#[cfg(feature = "try-runtime")]
		fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
			let old: alloc::vec::Vec<(T::AssetId, FundParamsV0)> = Params::<T>::iter_keys()
				.filter_map(|asset| {
					let raw = frame_support::storage::unhashed::get_raw(
						&Params::<T>::hashed_key_for(asset),
					)?;
					Some((asset, FundParamsV0::decode(&mut &raw[..]).ok()?))
				})
				.collect();
			frame_support::ensure!(
				old.len() as u32 == Params::<T>::count(),
				"every fund's parameters decode as version 0"
			);
			Ok(old.encode())
		}

		/// Every fund now holds exactly its old parameters, the share as the nearest `Permill`.
		#[cfg(feature = "try-runtime")]
		fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
			let old: alloc::vec::Vec<(T::AssetId, FundParamsV0)> =
				Decode::decode(&mut &state[..]).map_err(|_| "the pre-upgrade state")?;
			for (asset, params) in old {
				frame_support::ensure!(
					Params::<T>::get(asset) == Some(params.into()),
					"a fund's parameters after the migration"
				);
			}
			Ok(())
		}
	}

	/// The migration from version 0 to 1, run only on a version 0 pallet.
	pub type MigrateToV1<T> = VersionedMigration<
		0,
		1,
		VersionUncheckedMigrateToV1<T>,
		Pallet<T>,
		<T as frame_system::Config>::DbWeight,
	>;
}
