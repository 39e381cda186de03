//! Runtime API of `pallet-perpetuals`: markets, an account's positions and the vault, valued
//! now, without decoding storage.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
pub use pallet_perpetuals::{MarketReport, PositionReport, UsdValue, VaultReport};

sp_api::decl_runtime_apis! {
	/// Perpetual futures.
	pub trait PerpetualsApi<AccountId, AssetId> where AccountId: Codec, AssetId: Codec {
		/// Every listed market: parameters, status, oracle price, open interest each side, skew,
		/// funding rate and index now.
		fn markets() -> Vec<MarketReport<AssetId>>;
		/// `who`'s positions: size, entry, mark, unrealised profit and accrued funding,
		/// requirements, liquidation price.
		fn positions(who: AccountId) -> Vec<PositionReport<AssetId>>;
		/// The vault: cash, what the traders owe it unrealised, value, exposure, utilisation,
		/// shares; `None` if a price it needs is missing.
		fn vault() -> Option<VaultReport>;
		/// The profit the vault owes `who` beyond what it could pay, in the settlement asset's
		/// smallest units (paid by `claim_profit`).
		fn profit_owed(who: AccountId) -> u128;
		/// Up to `count` positions at a loss in `underlying` (funding included), reading its
		/// traders after `start_after`: account and loss (USD), largest first; and the account
		/// to start after for the next page (`None`: the last page). What `realise_loss` may
		/// realise while the vault owes more profit than it holds.
		fn positions_at_loss(
			underlying: AssetId,
			start_after: Option<AccountId>,
			count: u32,
		) -> (Vec<(AccountId, UsdValue)>, Option<AccountId>);
	}
}
