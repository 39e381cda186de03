//! Runtime API of `pallet-auction`: running auctions and what they cost now.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_auction::{Auction, AuctionId, AuctionPrice, AuctionReport};

sp_api::decl_runtime_apis! {
	/// Collateral auctions.
	pub trait AuctionApi<AccountId, AssetId, BlockNumber>
	where
		AccountId: Codec,
		AssetId: Codec,
		BlockNumber: Codec,
	{
		/// Every running auction: its lot and amount to raise, its price now, the oracle's price and
		/// whether a restart is due.
		fn auctions() -> Vec<AuctionReport<AccountId, AssetId, BlockNumber>>;
		/// One running auction (`None` if it is not running).
		fn auction(id: AuctionId) -> Option<AuctionReport<AccountId, AssetId, BlockNumber>>;
	}
}
