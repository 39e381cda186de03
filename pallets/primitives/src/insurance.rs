//! The insurance fund as the rest of the engine sees it.

use frame_support::pallet_prelude::DispatchResult;

/// Pays bad debt from the insurance fund.
pub trait DeficitHandler<AccountId, AssetId, Balance> {
	/// Pays up to `amount` of bad debt in `asset` from the fund to `beneficiary` (the lending pool
	/// that lost it), within what the fund holds and its per-block cap, and returns what it paid.
	/// The rest, `amount - covered`, the fund records as handed on (the caller queues it for
	/// later blocks or socialises it).
	fn cover(asset: AssetId, amount: Balance, beneficiary: &AccountId) -> Balance;

	/// What the fund could pay in `asset` in total, over as many blocks as its per-block cap
	/// needs: bad debt beyond it can never be covered and need not wait.
	fn capacity(asset: AssetId) -> Balance;

	/// What [`DeficitHandler::cover`] would pay in `asset` in this block at most.
	fn coverable_now(asset: AssetId) -> Balance;
}

/// Income of the insurance fund: the insurance share of liquidation penalties, the reserve share
/// of interest.
pub trait FundIncome<AccountId, AssetId, Balance> {
	/// Moves `amount` of `asset` from `payer` into the fund and books it as income.
	fn deposit_income(asset: AssetId, payer: &AccountId, amount: Balance) -> DispatchResult;
}
