//! The engine as the auctions' handler: what an auction may still raise, and where proceeds,
//! returned collateral and shortfalls go.
//!
//! The owner may act while his collateral is at auction. The rules:
//! - an auction raises at most the debt it was started for that its owner still owes, with the
//!   penalty due on that debt ([`AuctionHandler::wanted`], see [`crate::effective`]); repaying
//!   (or a keeper repaying) lowers it, and an auction no longer needed raises nothing;
//! - proceeds repay the debt first, then the penalty due on the debt actually repaid (never
//!   more); anything beyond both (he repaid meanwhile) goes back to the owner;
//! - the penalty is junior to the owner's debt: while he is insolvent (what he holds and has at
//!   auction is worth less than he owes, see [`Pallet::insolvent`]) the penalty's share of the
//!   proceeds repays more of his debt instead of going to insurance, which would otherwise
//!   receive it and pay it straight back as cover for his bad debt;
//! - collateral the auction did not sell goes back into the owner's margin account.

use crate::{AuctionDue, Config, Event, OwnerAuctions, Pallet, Totals};
use frame_support::{
	storage::with_storage_layer,
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::{Fortitude, Preservation},
	},
};
use liquidation_primitives::{
	ledger::{Inspect as _, Mutate as _},
	AuctionHandler, Balance, FundIncome,
};
use sp_runtime::{traits::Zero, DispatchResult};

impl<T: Config> AuctionHandler<u32, T::AccountId, T::AssetId, Balance> for Pallet<T> {
	fn wanted(id: u32, owner: &T::AccountId, debt_asset: T::AssetId) -> Balance {
		Self::auction_wanted(id, owner, debt_asset)
	}

	fn on_proceeds(
		id: u32,
		owner: &T::AccountId,
		debt_asset: T::AssetId,
		amount: Balance,
		sold: Balance,
		holder: &T::AccountId,
	) -> DispatchResult {
		// Whether its debt is needed, judged as `wanted` judged it: on the lot before the sale
		// (judged on the lot left, before the payment repays anything, a sale could turn an
		// auction no longer needed into a needed one and its penalty into debt repaid).
		let needed = !AuctionDue::<T>::contains_key(id)
			|| Self::auctions_needed_with(owner, Some((id, sold)));
		let (debt, _) = Self::raising(id, owner, debt_asset, needed);
		// Debt first; then the penalty due on the debt repaid, never more; the rest is his.
		let to_debt = amount.min(debt);
		let mut dues = Self::dues_of(id, owner, debt_asset);
		let repaid = if to_debt.is_zero() {
			0
		} else {
			match with_storage_layer(|| T::Ledger::repay_debt(holder, owner, debt_asset, to_debt)) {
				Ok(repaid) => repaid,
				// Less than one index unit of debt cannot be repaid: the auction's debt is met
				// (else every later take would fail on it and the lot stay locked).
				Err(_) => {
					dues.debt = 0;
					0
				},
			}
		};
		let penalty_due = Self::penalty_on(&dues, dues.repaid.saturating_add(repaid))
			.saturating_sub(dues.penalty_paid)
			.min(amount.saturating_sub(repaid));
		// The penalty is junior to the owner's debt: while he is insolvent it repays more of
		// his debt instead (insurance would otherwise receive it and pay it back as cover).
		let instead = if !penalty_due.is_zero() && Self::insolvent(owner) {
			let extra = penalty_due.min(T::Ledger::debt_of(owner, debt_asset));
			with_storage_layer(|| T::Ledger::repay_debt(holder, owner, debt_asset, extra))
				.unwrap_or(0)
		} else {
			0
		};
		let penalty = penalty_due.saturating_sub(instead);
		T::Income::deposit_income(debt_asset, holder, penalty)?;
		let returned = amount.saturating_sub(repaid).saturating_sub(penalty_due);
		Self::give_back(holder, owner, debt_asset, returned, false);
		if AuctionDue::<T>::contains_key(id) {
			dues.debt = dues.debt.saturating_sub(repaid);
			dues.repaid = dues.repaid.saturating_add(repaid);
			// The penalty's claim is spent either way.
			dues.penalty_paid = dues.penalty_paid.saturating_add(penalty_due);
			AuctionDue::<T>::insert(id, dues);
		}
		let repaid = repaid.saturating_add(instead);
		Totals::<T>::mutate(debt_asset, |totals| {
			totals.repaid = totals.repaid.saturating_add(repaid);
			totals.penalty_to_insurance = totals.penalty_to_insurance.saturating_add(penalty);
		});
		Self::deposit_event(Event::AuctionProceeds {
			owner: owner.clone(),
			auction: id,
			debt_asset,
			repaid,
			penalty,
			returned,
		});
		Ok(())
	}

	/// Returned collateral goes back into `owner`'s margin account (tokens that cannot be
	/// credited there go to his account; dust that can go nowhere stays with the custody); a
	/// shortfall stays on his account as debt (bankrupt if he has nothing else: the worker, or anyone's
	/// `settle_bankrupt`, then sends it down the waterfall).
	fn on_end(
		id: u32,
		owner: &T::AccountId,
		collateral: T::AssetId,
		returned: Balance,
		debt_asset: T::AssetId,
		shortfall: Balance,
		holder: &T::AccountId,
	) -> DispatchResult {
		AuctionDue::<T>::remove(id);
		OwnerAuctions::<T>::mutate_exists(owner, |ids| {
			if let Some(list) = ids {
				list.retain(|running| *running != id);
				if list.is_empty() {
					*ids = None;
				}
			}
		});
		if !returned.is_zero() {
			// Tokens while the custody has them, then its deposit position (a lot taken as a
			// position when the pool's cash was lent out).
			let tokens = T::Assets::reducible_balance(
				collateral,
				holder,
				Preservation::Preserve,
				Fortitude::Polite,
			)
			.min(returned);
			Self::give_back(holder, owner, collateral, tokens, true);
			// The rest as the custody's position (rounding may leave it a unit short).
			let rest =
				returned.saturating_sub(tokens).min(T::Ledger::deposit_of(holder, collateral));
			if !rest.is_zero() {
				// Only a position can carry it (the pool has no cash): refused only if his
				// portfolio is full with other assets, and then the end waits for a free slot
				// rather than lose his collateral.
				T::Ledger::transfer_deposit(holder, collateral, rest, owner)?;
			}
		}
		if !shortfall.is_zero() {
			Self::deposit_event(Event::AuctionShortfall {
				owner: owner.clone(),
				auction: id,
				debt_asset,
				shortfall,
			});
		}
		Ok(())
	}
}

impl<T: Config> Pallet<T> {
	/// Pays `amount` of `asset` tokens from `holder` back to `owner`: into his margin account
	/// when `to_margin` (collateral coming back), else to his account; each way falling back to
	/// the other (a full portfolio, a transfer below the minimum balance, less than one index
	/// unit). Never fails: what neither way can move (dust) stays with `holder`, so no owner's
	/// return can block an auction's end.
	fn give_back(
		holder: &T::AccountId,
		owner: &T::AccountId,
		asset: T::AssetId,
		amount: Balance,
		to_margin: bool,
	) {
		if amount.is_zero() {
			return;
		}
		let to_account = || {
			with_storage_layer(|| {
				T::Assets::transfer(asset, holder, owner, amount, Preservation::Expendable)
					.map(|_| ())
			})
		};
		let to_margin_account =
			|| with_storage_layer(|| T::Ledger::credit_collateral(holder, owner, asset, amount));
		let _ = if to_margin {
			to_margin_account().or_else(|_| to_account())
		} else {
			to_account().or_else(|_| to_margin_account())
		};
	}
}
