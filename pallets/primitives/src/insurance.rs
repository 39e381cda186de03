//! The insurance fund as the rest of the engine sees it.

use frame_support::pallet_prelude::DispatchResult;

/// Pays bad debt from the insurance fund.
pub trait DeficitHandler<AccountId, AssetId, Balance> {
	/// Pays up to `amount` of bad debt in `asset` from the fund to `beneficiary` (the lending pool
	/// that lost it), within what the fund holds and its per-block cap, and returns what it paid.
	/// The rest, `amount - covered`, the fund records as handed on (the caller queues it for
	/// later blocks or socializes it).
	fn cover(asset: AssetId, amount: Balance, beneficiary: &AccountId) -> Balance;

	/// Pays up to `amount` of bad debt in `asset` to `beneficiary` with what the fund's other
	/// assets buy of it (a DEX purchase within a slippage bound of the oracle), within this
	/// block's cap; returns what it paid. Called at the start of a block, never inside a
	/// transaction someone could wrap around it.
	fn cover_by_sales(asset: AssetId, amount: Balance, beneficiary: &AccountId) -> Balance;

	/// What the fund could pay in `asset` in this block and the `blocks` after it, in its own
	/// asset and by sales of the others (at the oracle less the slippage bound, valued at the
	/// last price when one is halted), within its per-block cap: bad debt beyond it cannot be
	/// covered in that time.
	fn capacity(asset: AssetId, blocks: u32) -> Balance;

	/// What the fund could pay in `asset` from what it holds of `asset` itself (no sales) in
	/// this block and the `blocks` after it, within its per-block cap.
	fn own_capacity(asset: AssetId, blocks: u32) -> Balance;

	/// What [`DeficitHandler::cover`] would pay in `asset` in this block at most.
	fn coverable_now(asset: AssetId) -> Balance;
}

/// Bad debt waiting for the insurance fund.
pub trait QueuedBadDebt<AssetId, Balance> {
	/// What waits in `asset`.
	fn queued(asset: AssetId) -> Balance;
}

impl<AssetId, Balance: Default> QueuedBadDebt<AssetId, Balance> for () {
	fn queued(_: AssetId) -> Balance {
		Balance::default()
	}
}

/// Income of the insurance fund: the insurance share of liquidation penalties, the reserve share
/// of interest.
pub trait FundIncome<AccountId, AssetId, Balance> {
	/// Moves `amount` of `asset` from `payer` into the fund and books it as income.
	fn deposit_income(asset: AssetId, payer: &AccountId, amount: Balance) -> DispatchResult;
}
