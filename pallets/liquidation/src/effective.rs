//! An account with collateral at auction, as the engine judges it.
//!
//! A running auction shields only the collateral in its lot. The rest of the account is judged
//! by its **effective health**: the ledger's health (what the account still holds and owes)
//! with each of its running auctions taken as sold at the oracle price now:
//!
//! ```text
//!   raised    = min(lot value, wanted value)     what the lot brings, at most what is due
//!   repaid    = min(raised, debt value)          comes off the account's debt (debt first)
//!   remainder = lot value - raised               comes back as collateral
//! ```
//!
//! (`debt` what the auction may still repay, its [`AuctionDues`] trimmed to what the owner still
//! owes; `wanted` that debt and the penalty outstanding on it; the repayment never more than he
//! owes in all, the remainder at its lot's collateral weights). A keeper liquidation of the
//! rest is sized on that health, so the account is liquidated no further than it would be
//! without the auction; a worker liquidation starts a further auction only while it is still
//! liquidatable; and it is bankrupt only when nothing the auctions could return is worth the
//! dust value.
//!
//! An auction's debt is **needed** while its owner would be liquidatable with every lot back in
//! his account (ledger health plus the lots at their collateral weights). Once it is not (he
//! repaid or deposited, or prices rose) the auction wants only the penalty still outstanding on
//! debt it already repaid; with none, nothing sells and `close` returns its lot.

use crate::{AuctionDue, AuctionDues, Config, OwnerAuctions, Pallet};
use alloc::collections::btree_map::BTreeMap;
use liquidation_primitives::{
	ledger::Inspect as _, value_in_usd, AuctionLot, Balance, CollateralAuction, HealthReport,
	PriceProvider, UsdValue,
};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{Saturating, Zero},
	DispatchError, Rounding,
};

impl<T: Config> Pallet<T> {
	/// The dues of auction `id`; for an auction the engine did not start, its owner's debt
	/// with no penalty.
	pub(crate) fn dues_of(id: u32, owner: &T::AccountId, debt_asset: T::AssetId) -> AuctionDues {
		AuctionDue::<T>::get(id).unwrap_or_else(|| AuctionDues {
			debt: T::Ledger::debt_of(owner, debt_asset),
			..Default::default()
		})
	}

	/// The penalty due on `repaid` of the debt the auction was started for.
	pub(crate) fn penalty_on(dues: &AuctionDues, repaid: Balance) -> Balance {
		let started_for = dues.debt.saturating_add(dues.repaid);
		if started_for.is_zero() {
			return 0;
		}
		multiply_by_rational_with_rounding(dues.penalty, repaid, started_for, Rounding::Down)
			.unwrap_or(dues.penalty)
			.min(dues.penalty)
	}

	/// What auction `id` still raises for `owner`'s side: `(debt, penalty)`, the debt it may
	/// still repay (what it was started for, at most what the owner owes; none once it is not
	/// `needed`) and the penalty outstanding on all the debt it will then have repaid.
	pub(crate) fn raising(
		id: u32,
		owner: &T::AccountId,
		debt_asset: T::AssetId,
		needed: bool,
	) -> (Balance, Balance) {
		let dues = Self::dues_of(id, owner, debt_asset);
		let debt = if needed { dues.debt.min(T::Ledger::debt_of(owner, debt_asset)) } else { 0 };
		let penalty = Self::penalty_on(&dues, dues.repaid.saturating_add(debt))
			.saturating_sub(dues.penalty_paid);
		(debt, penalty)
	}

	/// Whether auction `id`'s debt is still needed: always for an auction the engine did not
	/// start; for its own, while the owner would be liquidatable with every lot back.
	pub(crate) fn debt_needed(id: u32, owner: &T::AccountId) -> bool {
		!AuctionDue::<T>::contains_key(id) || Self::auctions_needed(owner)
	}

	/// Whether `owner`'s auctions are still needed: with every lot back in his account he
	/// would be liquidatable. When his health cannot be computed they are (the safe side).
	pub(crate) fn auctions_needed(owner: &T::AccountId) -> bool {
		Self::auctions_needed_with(owner, None)
	}

	/// As [`Self::auctions_needed`], with `sold` added back to auction `id`'s lot (its state
	/// before a sale, while the payment has not yet repaid anything).
	pub(crate) fn auctions_needed_with(
		owner: &T::AccountId,
		sold_from: Option<(u32, Balance)>,
	) -> bool {
		let Ok(mut report) = T::Ledger::health(owner) else { return true };
		for id in OwnerAuctions::<T>::get(owner) {
			let Some(lot) = T::Auctions::lot_of(id) else { continue };
			let sold = sold_from.filter(|(from, _)| *from == id).map_or(0, |(_, sold)| sold);
			let value = Self::value_of(lot.collateral, lot.lot.saturating_add(sold));
			Self::add_collateral(&mut report, lot.collateral, value);
		}
		report.is_liquidatable()
	}

	/// Whether `owner` is insolvent: what he holds and has at auction is worth less than what he
	/// owes (unweighted, at the prices held positions are valued at). A penalty is then junior
	/// to his debt (see `impl_handler.rs`). Not when his health cannot be computed.
	pub fn insolvent(owner: &T::AccountId) -> bool {
		let Ok(report) = T::Ledger::health(owner) else { return false };
		let at_auction = OwnerAuctions::<T>::get(owner)
			.into_iter()
			.filter_map(|id| T::Auctions::lot_of(id))
			.fold(UsdValue::zero(), |total, lot| {
				total.saturating_add(Self::value_of(lot.collateral, lot.lot))
			});
		report.collateral_value.saturating_add(at_auction) < report.debt_value
	}

	/// What auction `id` may still raise (see [`liquidation_primitives::AuctionHandler::wanted`]):
	/// the debt it may still repay and the penalty outstanding on what it repays. Once the owner
	/// no longer needs it, only the penalty on debt it already repaid.
	pub(crate) fn auction_wanted(id: u32, owner: &T::AccountId, debt_asset: T::AssetId) -> Balance {
		let (debt, penalty) = Self::raising(id, owner, debt_asset, Self::debt_needed(id, owner));
		debt.saturating_add(penalty)
	}

	/// `who`'s effective health (see the module docs); the ledger's health when it has no
	/// auction running.
	pub fn effective_report(who: &T::AccountId) -> Result<HealthReport, DispatchError> {
		let mut report = Self::health(who)?;
		let ids = OwnerAuctions::<T>::get(who);
		if ids.is_empty() {
			return Ok(report);
		}
		// What the auctions may still repay, per debt asset: never more than is owed.
		let mut owed_left: BTreeMap<T::AssetId, UsdValue> = BTreeMap::new();
		for id in ids {
			let Some(AuctionLot { collateral, lot, debt_asset, to_raise }) =
				T::Auctions::lot_of(id)
			else {
				continue;
			};
			let (debt, penalty) = Self::raising(id, who, debt_asset, true);
			let wanted = to_raise.min(debt.saturating_add(penalty));
			let lot_value = Self::value_of(collateral, lot);
			let raised = lot_value.min(Self::value_of(debt_asset, wanted));
			let left = owed_left
				.entry(debt_asset)
				.or_insert_with(|| Self::value_of(debt_asset, T::Ledger::debt_of(who, debt_asset)));
			// Proceeds repay the debt first.
			let repaid = raised.min(Self::value_of(debt_asset, debt)).min(*left);
			*left = left.saturating_sub(repaid);
			Self::remove_debt(&mut report, debt_asset, repaid);
			Self::add_collateral(&mut report, collateral, lot_value.saturating_sub(raised));
		}
		Ok(report)
	}

	/// Whether any running auction of `who` is raising `debt_asset`.
	/// (Only debt counts: an auction left raising the penalty on what it already repaid does not
	/// hold the waterfall back.)
	pub(crate) fn at_auction(who: &T::AccountId, debt_asset: T::AssetId) -> bool {
		OwnerAuctions::<T>::get(who).into_iter().any(|id| {
			T::Auctions::lot_of(id).is_some_and(|lot| lot.debt_asset == debt_asset)
				&& !Self::raising(id, who, debt_asset, true).0.is_zero()
		})
	}

	/// `amount` of `asset` in USD at the price held positions are valued at; zero when it has
	/// none.
	pub(crate) fn value_of(asset: T::AssetId, amount: Balance) -> UsdValue {
		let (Some(price), Some(weights)) =
			(T::Prices::valuation_price(&asset), T::Ledger::risk_weights(asset))
		else {
			return UsdValue::zero();
		};
		value_in_usd(amount, weights.decimals, price).unwrap_or_default()
	}

	/// Adds `value` USD of `asset` to the report's collateral, at its weights.
	fn add_collateral(report: &mut HealthReport, asset: T::AssetId, value: UsdValue) {
		if value.is_zero() {
			return;
		}
		let Some(weights) = T::Ledger::risk_weights(asset) else { return };
		report.collateral_value = report.collateral_value.saturating_add(value);
		report.initial_collateral = report
			.initial_collateral
			.saturating_add(value.saturating_mul(weights.initial_collateral_weight.into()));
		report.maintenance_collateral = report
			.maintenance_collateral
			.saturating_add(value.saturating_mul(weights.maintenance_collateral_weight.into()));
	}

	/// Takes `value` USD of `asset` debt off the report, at its weights.
	fn remove_debt(report: &mut HealthReport, asset: T::AssetId, value: UsdValue) {
		if value.is_zero() {
			return;
		}
		let Some(weights) = T::Ledger::risk_weights(asset) else { return };
		report.debt_value = report.debt_value.saturating_sub(value);
		report.initial_debt = report
			.initial_debt
			.saturating_sub(value.saturating_mul(weights.initial_liability_weight));
		report.maintenance_debt = report
			.maintenance_debt
			.saturating_sub(value.saturating_mul(weights.maintenance_liability_weight));
	}
}
