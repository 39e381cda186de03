//! Collateral auctions as the liquidation engine sees them.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::{DispatchError, DispatchResult},
	traits::tokens::{fungibles, Fortitude, Preservation},
};
use scale_info::TypeInfo;
use sp_runtime::RuntimeDebug;

/// What a running auction still sells and for what: the engine's view of one lot.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct AuctionLot<AssetId, Balance> {
	/// The collateral sold.
	pub collateral: AssetId,
	/// Collateral left to sell, in smallest units.
	pub lot: Balance,
	/// The asset the proceeds are paid in.
	pub debt_asset: AssetId,
	/// Proceeds still wanted at most (before the handler's [`AuctionHandler::wanted`] cap).
	pub to_raise: Balance,
}

/// Sells seized collateral for a debt asset in a descending-price (Dutch) auction.
pub trait CollateralAuction<AccountId> {
	/// Identifies an asset.
	type AssetId;
	/// An amount of an asset.
	type Balance;
	/// Identifies an auction.
	type AuctionId;

	/// The account that must hold a lot before its auction starts: move the collateral there
	/// (for instance with `ledger::Mutate::seize_collateral`), then call [`Self::start`].
	fn custody_account() -> AccountId;

	/// Whether auction `id` is still running.
	fn is_running(id: Self::AuctionId) -> bool;

	/// The lot and amount to raise of auction `id`, `None` once it ended.
	fn lot_of(id: Self::AuctionId) -> Option<AuctionLot<Self::AssetId, Self::Balance>>;

	/// Whether another auction may start now: fewer than the most allowed at once are running.
	/// (A start can still fail for other reasons: no parameters or no price for the asset.)
	fn has_capacity() -> bool;

	/// Starts an auction of `lot` of `collateral` (already in [`Self::custody_account`]) to raise
	/// up to `to_raise` of `debt_asset` on behalf of `owner`. Proceeds and the end are reported to
	/// the auction's [`AuctionHandler`], which also caps what it may still raise.
	fn start(
		owner: &AccountId,
		collateral: Self::AssetId,
		lot: Self::Balance,
		debt_asset: Self::AssetId,
		to_raise: Self::Balance,
	) -> Result<Self::AuctionId, DispatchError>;
}

/// What an auction's owner side does with its outcome (implemented by the liquidation engine).
///
/// Each callback is made after the auction's own books are updated; an error from it undoes
/// the whole take (or end) that caused it.
pub trait AuctionHandler<AuctionId, AccountId, AssetId, Balance> {
	/// The most auction `id` (selling `owner`'s collateral for `debt_asset`) may still raise:
	/// the debt it was started for that `owner` still owes, with the penalty on that debt. Zero
	/// when the auction is no longer needed (the owner repaid, or would be healthy with its lot
	/// back): no take may then buy, and the lot may be returned ([`Self::on_end`]).
	fn wanted(id: AuctionId, owner: &AccountId, debt_asset: AssetId) -> Balance;

	/// A buyer paid `amount` of `debt_asset` for `sold` of auction `id`'s lot (the lot in the
	/// auction's books no longer holds it: [`CollateralAuction::lot_of`] reports what is left);
	/// the payment is in `holder` (the auction's custody account), from which the handler moves
	/// it (repaying `owner`'s debt, paying the penalty due on what it repaid, returning any
	/// excess). What it decides from the lot it must decide as [`Self::wanted`] did, before the
	/// sale: with `sold` added back.
	fn on_proceeds(
		id: AuctionId,
		owner: &AccountId,
		debt_asset: AssetId,
		amount: Balance,
		sold: Balance,
		holder: &AccountId,
	) -> DispatchResult;

	/// Auction `id` ended. `returned` of `collateral` was not needed and is in `holder`, to be
	/// given back to `owner`; `shortfall` of what it still wanted in `debt_asset` was never
	/// raised (bad debt, unless `owner` has other collateral).
	fn on_end(
		id: AuctionId,
		owner: &AccountId,
		collateral: AssetId,
		returned: Balance,
		debt_asset: AssetId,
		shortfall: Balance,
		holder: &AccountId,
	) -> DispatchResult;
}

/// Where an auction's lots are held: tokens in its custody account, and (when the collateral's
/// lending pool had lent out its cash) deposit positions of that account in a margin ledger.
/// Lots of one asset are fungible: any of them may be paid from either.
pub trait LotCustody<AccountId, AssetId, Balance> {
	/// What `holder` holds of `asset`: tokens and positions.
	fn held(asset: AssetId, holder: &AccountId) -> Balance;

	/// Pays `amount` of `asset` from `holder` to `to`: tokens while there are (keeping the
	/// holder's minimum balance), then positions (into `to`'s margin account).
	fn pay(asset: AssetId, holder: &AccountId, to: &AccountId, amount: Balance) -> DispatchResult;
}

/// Lots held as tokens only (a runtime without a margin ledger).
pub struct TokensOnly<Assets>(core::marker::PhantomData<Assets>);

impl<AccountId, Assets> LotCustody<AccountId, Assets::AssetId, Assets::Balance>
	for TokensOnly<Assets>
where
	AccountId: Eq,
	Assets: fungibles::Mutate<AccountId>,
{
	fn held(asset: Assets::AssetId, holder: &AccountId) -> Assets::Balance {
		Assets::balance(asset, holder)
	}

	fn pay(
		asset: Assets::AssetId,
		holder: &AccountId,
		to: &AccountId,
		amount: Assets::Balance,
	) -> DispatchResult {
		Assets::transfer(asset, holder, to, amount, Preservation::Preserve).map(|_| ())
	}
}

/// Lots held as tokens and as deposit positions in `Ledger` (see [`LotCustody`]).
pub struct TokensThenPositions<Assets, Ledger>(core::marker::PhantomData<(Assets, Ledger)>);

impl<AccountId, AssetId, Assets, Ledger> LotCustody<AccountId, AssetId, crate::Balance>
	for TokensThenPositions<Assets, Ledger>
where
	AccountId: Eq,
	AssetId: Copy,
	Assets: fungibles::Mutate<AccountId, AssetId = AssetId, Balance = crate::Balance>,
	Ledger: crate::ledger::Mutate<AccountId, AssetId = AssetId, Balance = crate::Balance>,
{
	fn held(asset: AssetId, holder: &AccountId) -> crate::Balance {
		Assets::balance(asset, holder).saturating_add(Ledger::deposit_of(holder, asset))
	}

	fn pay(
		asset: AssetId,
		holder: &AccountId,
		to: &AccountId,
		amount: crate::Balance,
	) -> DispatchResult {
		let tokens =
			Assets::reducible_balance(asset, holder, Preservation::Preserve, Fortitude::Polite)
				.min(amount);
		if tokens > 0 {
			Assets::transfer(asset, holder, to, tokens, Preservation::Preserve)?;
		}
		// A position held rounds down by a unit at most: the last payment is what is left.
		let rest = amount.saturating_sub(tokens).min(Ledger::deposit_of(holder, asset));
		if rest > 0 {
			Ledger::transfer_deposit(holder, asset, rest, to)?;
		}
		Ok(())
	}
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

	/// Buys exactly `amount_out` of `asset_out` for `who` with its `asset_in`, paying at most
	/// `max_in`; fails, changing nothing, if that is not enough. Returns what it paid.
	fn buy(
		who: &AccountId,
		asset_in: AssetId,
		asset_out: AssetId,
		amount_out: Balance,
		max_in: Balance,
	) -> Result<Balance, DispatchError>;
}

/// No exchange: every sale fails.
impl<AccountId, AssetId, Balance> CollateralSwap<AccountId, AssetId, Balance> for () {
	fn sell(
		_who: &AccountId,
		_asset_in: AssetId,
		_asset_out: AssetId,
		_amount_in: Balance,
		_min_out: Balance,
	) -> Result<Balance, DispatchError> {
		Err(DispatchError::Other("no exchange"))
	}

	fn buy(
		_who: &AccountId,
		_asset_in: AssetId,
		_asset_out: AssetId,
		_amount_out: Balance,
		_max_in: Balance,
	) -> Result<Balance, DispatchError> {
		Err(DispatchError::Other("no exchange"))
	}
}
