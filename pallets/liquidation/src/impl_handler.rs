//! The engine as the auctions' handler: where proceeds, remainders and shortfalls go.

use crate::{Config, Event, Pallet, Totals};
use liquidation_primitives::{AuctionHandler, Balance, FundIncome, MarginLedger};
use sp_runtime::{traits::Zero, DispatchResult};

impl<T: Config> AuctionHandler<T::AccountId, T::AssetId, Balance> for Pallet<T> {
	/// Repays `owner`'s debt with the proceeds; what exceeds the debt is the penalty and goes to
	/// the insurance fund.
	fn on_proceeds(
		owner: &T::AccountId,
		debt_asset: T::AssetId,
		amount: Balance,
		holder: &T::AccountId,
	) -> DispatchResult {
		let debt = T::Ledger::debt_of(owner, debt_asset);
		let repaid = if debt.is_zero() {
			0
		} else {
			T::Ledger::repay_debt(holder, owner, debt_asset, amount.min(debt))?
		};
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
		Self::deposit_event(Event::AuctionShortfall {
			owner: owner.clone(),
			debt_asset,
			shortfall,
		});
	}
}
