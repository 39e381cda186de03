//! An account with collateral at auction, as the engine judges it.
//!
//! A running auction shields only the collateral in its lot. The rest of the account is judged
//! by its **effective health**: the ledger's health (what the account still holds and owes)
//! with each of its running auctions taken as sold at the oracle price now:
//!
//! ```text
//!   raised    = min(lot value, wanted value)            what the lot brings, at most what is due
//!   repaid    = raised * debt / (debt + penalty)         comes off the account's debt
//!   remainder = lot value - raised                       comes back as collateral
//! ```
//!
//! (`debt` and `penalty` the auction's [`AuctionDues`], trimmed to what the owner still owes;
//! the repayment never more than he owes, the remainder at its lot's collateral weights). A keeper liquidation of the
//! rest is sized on that health, so the account is liquidated no further than it would be
//! without the auction; a worker liquidation starts a further auction only while it is still
//! liquidatable; and it is bankrupt only when nothing the auctions could return is worth the
//! dust value.
//!
//! An auction is **needed** while its owner would be liquidatable with every lot back in his
//! account (ledger health plus the lots at their collateral weights). One that is not needed
//! (he deposited, or prices rose) wants nothing: no take buys, and `close` returns its lot.

use crate::{AuctionDue, AuctionDues, Config, OwnerAuctions, Pallet};
use alloc::collections::btree_map::BTreeMap;
use liquidation_primitives::{
	value_in_usd, AuctionLot, Balance, CollateralAuction, HealthReport, MarginLedger,
	PriceProvider, UsdValue,
};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{Saturating, Zero},
	DispatchError, Rounding,
};

/// `value * part / whole`, rounded down; zero for a zero `whole`.
fn share(value: UsdValue, part: Balance, whole: Balance) -> UsdValue {
	if whole.is_zero() {
		return UsdValue::zero();
	}
	multiply_by_rational_with_rounding(value.into_inner(), part, whole, Rounding::Down)
		.map(UsdValue::from_inner)
		.unwrap_or_default()
}

impl<T: Config> Pallet<T> {
	/// What auction `id` of `owner` still owes his side, trimmed to what he owes now: once he
	/// owes less than the auction's debt (he repaid, or a keeper did), its debt falls to what he
	/// owes and its penalty in proportion. An auction the engine did not start is owed at most
	/// its owner's debt, with no penalty.
	pub(crate) fn dues_now(id: u32, owner: &T::AccountId, debt_asset: T::AssetId) -> AuctionDues {
		let owed = T::Ledger::debt_of(owner, debt_asset);
		let dues = AuctionDue::<T>::get(id).unwrap_or(AuctionDues { debt: owed, penalty: 0 });
		if owed >= dues.debt {
			return dues;
		}
		let penalty =
			multiply_by_rational_with_rounding(dues.penalty, owed, dues.debt, Rounding::Down)
				.unwrap_or(0);
		AuctionDues { debt: owed, penalty }
	}

	/// Whether `owner`'s auctions are still needed: with every lot back in his account he
	/// would be liquidatable. When his health cannot be computed they are (the safe side).
	pub(crate) fn auctions_needed(owner: &T::AccountId) -> bool {
		let Ok(mut report) = T::Ledger::health(owner) else { return true };
		for id in OwnerAuctions::<T>::get(owner) {
			let Some(lot) = T::Auctions::lot_of(id) else { continue };
			let value = Self::value_of(lot.collateral, lot.lot);
			Self::add_collateral(&mut report, lot.collateral, value);
		}
		report.is_liquidatable()
	}

	/// What auction `id` may still raise (see [`liquidation_primitives::AuctionHandler::wanted`]).
	pub(crate) fn auction_wanted(id: u32, owner: &T::AccountId, debt_asset: T::AssetId) -> Balance {
		let dues = Self::dues_now(id, owner, debt_asset);
		if dues.debt.is_zero() {
			return 0;
		}
		// Auctions the engine started are needed only while their owner is unsafe without them.
		if AuctionDue::<T>::contains_key(id) && !Self::auctions_needed(owner) {
			return 0;
		}
		dues.debt.saturating_add(dues.penalty)
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
			let Some(AuctionLot { collateral, lot, debt_asset, target }) = T::Auctions::lot_of(id)
			else {
				continue;
			};
			let dues = Self::dues_now(id, who, debt_asset);
			let wanted = target.min(dues.debt.saturating_add(dues.penalty));
			let lot_value = Self::value_of(collateral, lot);
			let wanted_value = Self::value_of(debt_asset, wanted);
			let raised = lot_value.min(wanted_value);
			let left = owed_left
				.entry(debt_asset)
				.or_insert_with(|| Self::value_of(debt_asset, T::Ledger::debt_of(who, debt_asset)));
			let repaid =
				share(raised, dues.debt, dues.debt.saturating_add(dues.penalty)).min(*left);
			*left = left.saturating_sub(repaid);
			Self::remove_debt(&mut report, debt_asset, repaid);
			Self::add_collateral(&mut report, collateral, lot_value.saturating_sub(raised));
		}
		Ok(report)
	}

	/// Whether any running auction of `who` is raising `debt_asset`.
	pub(crate) fn at_auction(who: &T::AccountId, debt_asset: T::AssetId) -> bool {
		OwnerAuctions::<T>::get(who)
			.into_iter()
			.any(|id| T::Auctions::lot_of(id).is_some_and(|lot| lot.debt_asset == debt_asset))
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
