//! Runtime API of `pallet-margin`: accounts' health and pools' state, without decoding storage.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
use liquidation_primitives::{Balance, HealthError};
pub use pallet_margin::{AccountHealth, AssetStatus, PoolReport};

sp_api::decl_runtime_apis! {
	/// Margin accounts and lending pools.
	pub trait MarginApi<AssetId, AccountId> where AssetId: Codec, AccountId: Codec {
		/// `who`'s health at current prices: collateral and debt values, weighted under the
		/// initial and maintenance weights, the margins and the health factor. An error names
		/// the asset whose price is not usable.
		fn account_health(who: AccountId) -> Result<AccountHealth, HealthError<AssetId>>;
		/// `who`'s positions in smallest units: `(asset, deposit, debt)`, with interest to now.
		fn positions(who: AccountId) -> Vec<(AssetId, Balance, Balance)>;
		/// One pool's state as of the current block (`None` if the asset is not listed).
		fn pool(asset: AssetId) -> Option<PoolReport>;
		/// Every listed asset's pool.
		fn pools() -> Vec<(AssetId, PoolReport)>;
	}
}
