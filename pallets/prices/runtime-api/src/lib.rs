//! Runtime API of `pallet-prices`: what a client (a UI, a keeper, a risk dashboard) needs to know
//! of prices without decoding storage.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use liquidation_primitives::{PriceError, PriceInfo, PriceReport};

sp_api::decl_runtime_apis! {
	/// Prices as the engine sees them.
	pub trait PricesApi<AssetId> where AssetId: Codec {
		/// The report of `asset`: the usable price or why there is none, the last accepted price,
		/// and the level awaiting confirmation when halted.
		fn price(asset: AssetId) -> PriceReport;
		/// The report of every priced asset.
		fn all_prices() -> Vec<(AssetId, PriceReport)>;
	}
}
