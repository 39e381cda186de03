//! The engine as the auctions' handler: where proceeds, remainders and shortfalls go.

use crate::{AuctionDue, Config, Event, Pallet, Totals};
use liquidation_primitives::{AuctionHandler, Balance, FundIncome, MarginLedger};
use sp_runtime::{traits::Zero, DispatchResult};

impl<T: Config> AuctionHandler<T::AccountId, T::AssetId, Balance> for Pallet<T> {
	/// The proceeds repay the debt the auctions were started for, then pay their penalty to the
	/// insurance fund; anything beyond both (rounding) repays more debt, else goes to insurance.
	fn on_proceeds(
		owner: &T::AccountId,
		debt_asset: T::AssetId,
		amount: Balance,
		holder: &T::AccountId,
	) -> DispatchResult {
		let owed = T::Ledger::debt_of(owner, debt_asset);
		let (debt_due, penalty_due) = AuctionDue::<T>::get(owner, debt_asset);
		let to_debt = amount.min(debt_due).min(owed);
		let to_penalty = amount.saturating_sub(to_debt).min(penalty_due);
		let beyond = amount.saturating_sub(to_debt).saturating_sub(to_penalty);
		let repay = to_debt.saturating_add(beyond.min(owed.saturating_sub(to_debt)));
		let repaid = if repay.is_zero() {
			0
		} else {
			T::Ledger::repay_debt(holder, owner, debt_asset, repay)?
		};
		Self::reduce_due(owner, debt_asset, to_debt, to_penalty);
		let penalty = amount.saturating_sub(repaid);
		T::Income::deposit_income(debt_asset, holder, penalty)?;
		Totals::<T>::mutate(debt_asset, |totals| {
			totals.repaid = totals.repaid.saturating_add(repaid);
			totals.penalty_to_insurance = totals.penalty_to_insurance.saturating_add(penalty);
		});
		Self::deposit_event(Event::AuctionProceeds {
			owner: owner.clone(),
			debt_asset,
			repaid,
			penalty,
		});
		Ok(())
	}

	/// Collateral the auction did not need goes back into `owner`'s margin account.
	fn on_remainder(
		owner: &T::AccountId,
		collateral: T::AssetId,
		amount: Balance,
		holder: &T::AccountId,
	) -> DispatchResult {
		T::Ledger::credit_collateral(holder, owner, collateral, amount)
	}

	/// The unpaid debt stays on `owner`'s account; if it has no collateral left, it is bankrupt
	/// and the next liquidation (the worker's, or anyone's `settle_bankrupt`) sends its debt
	/// down the waterfall.
	fn on_shortfall(owner: &T::AccountId, debt_asset: T::AssetId, shortfall: Balance) {
		// What the auction will never raise is no longer due from it: penalty first.
		let (_, penalty_due) = AuctionDue::<T>::get(owner, debt_asset);
		let from_penalty = shortfall.min(penalty_due);
		Self::reduce_due(owner, debt_asset, shortfall.saturating_sub(from_penalty), from_penalty);
		Self::deposit_event(Event::AuctionShortfall {
			owner: owner.clone(),
			debt_asset,
			shortfall,
		});
	}
}

impl<T: Config> Pallet<T> {
	/// Takes `debt` and `penalty` off what auctions still owe `owner`'s side in `debt_asset`.
	fn reduce_due(owner: &T::AccountId, debt_asset: T::AssetId, debt: Balance, penalty: Balance) {
		AuctionDue::<T>::mutate_exists(owner, debt_asset, |due| {
			if let Some((debt_due, penalty_due)) = due {
				*debt_due = debt_due.saturating_sub(debt);
				*penalty_due = penalty_due.saturating_sub(penalty);
				if debt_due.is_zero() && penalty_due.is_zero() {
					*due = None;
				}
			}
		});
	}
}
