//! The insurance fund as the rest of the engine sees it.

use frame_support::pallet_prelude::DispatchResult;

/// Pays bad debt from the insurance fund.
pub trait DeficitHandler<AccountId, AssetId, Balance> {
	/// Pays up to `amount` of bad debt in `asset` from the fund to `beneficiary` (the lending pool
	/// that lost it), within what the fund holds and its per-block cap, and returns what it paid.
	/// The caller socialises the rest, `amount - covered`, which the fund records as handed on.
	fn cover(asset: AssetId, amount: Balance, beneficiary: &AccountId) -> Balance;
}

/// Income of the insurance fund: the insurance share of liquidation penalties, the reserve share
/// of interest.
pub trait FundIncome<AccountId, AssetId, Balance> {
	/// Moves `amount` of `asset` from `payer` into the fund and books it as income.
	fn deposit_income(asset: AssetId, payer: &AccountId, amount: Balance) -> DispatchResult;
}
