//! Collateral auctions as the liquidation engine sees them.

use frame_support::pallet_prelude::{DispatchError, DispatchResult};

/// Sells seized collateral for a debt asset in a descending-price (Dutch) auction.
pub trait CollateralAuction<AccountId> {
	/// Identifies an asset.
	type AssetId;
	/// An amount of an asset.
	type Balance;
	/// Identifies an auction.
	type AuctionId;

	/// The account that must hold a lot before its auction starts: move the collateral there
	/// (for instance with `MarginLedger::seize_collateral`), then call [`Self::start`].
	fn custody_account() -> AccountId;

	/// Whether auction `id` is still running.
	fn is_running(id: Self::AuctionId) -> bool;

	/// Whether another auction may start now: fewer than the most allowed at once are running.
	/// (A start can still fail for other reasons: no parameters or no price for the asset.)
	fn has_capacity() -> bool;

	/// Starts an auction of `lot` of `collateral` (already in [`Self::custody_account`]) to raise
	/// up to `target` of `debt_asset` on behalf of `owner`. Proceeds, the unsold remainder and
	/// any shortfall are reported to the auction's `AuctionHandler`.
	fn start(
		owner: &AccountId,
		collateral: Self::AssetId,
		lot: Self::Balance,
		debt_asset: Self::AssetId,
		target: Self::Balance,
	) -> Result<Self::AuctionId, DispatchError>;
}

/// What an auction's owner side does with its outcome (implemented by the liquidation engine).
///
/// Each callback is made after the auction's own books are updated; an error from it undoes
/// the whole take (or restart) that caused it.
pub trait AuctionHandler<AccountId, AssetId, Balance> {
	/// A buyer paid `amount` of `debt_asset` for `owner`'s lot; the payment is in `holder` (the
	/// auction's custody account), from which the handler moves it (repaying `owner`'s debt,
	/// paying the penalty to insurance).
	fn on_proceeds(
		owner: &AccountId,
		debt_asset: AssetId,
		amount: Balance,
		holder: &AccountId,
	) -> DispatchResult;

	/// The target was met: `amount` of `collateral` was not needed and is in `holder`, to be
	/// given back to `owner`.
	fn on_remainder(
		owner: &AccountId,
		collateral: AssetId,
		amount: Balance,
		holder: &AccountId,
	) -> DispatchResult;

	/// The lot is gone with `shortfall` of the target in `debt_asset` unmet: bad debt, unless
	/// `owner` has other collateral.
	fn on_shortfall(owner: &AccountId, debt_asset: AssetId, shortfall: Balance);
}

/// Sells one asset for another on an exchange (the runtime's DEX), for flash liquidations.
pub trait CollateralSwap<AccountId, AssetId, Balance> {
	/// Sells exactly `amount_in` of `asset_in` held by `who` for `asset_out`, paid to `who`;
	/// fails, changing nothing, if that would bring less than `min_out`. Returns what it brought.
	fn sell(
		who: &AccountId,
		asset_in: AssetId,
		asset_out: AssetId,
		amount_in: Balance,
		min_out: Balance,
	) -> Result<Balance, DispatchError>;
}
