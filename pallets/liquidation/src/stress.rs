//! The stress test: what a set of price shocks would liquidate, and who would bear the losses,
//! computed by the engine's own code over the current state and then undone.
//!
//! No lending or perpetuals protocol answers this on chain; risk teams rebuild the engine off
//! chain and drift from it. Here the answer is the engine itself: inside a storage transaction
//! that is always rolled back, [`Pallet::stress_test`]
//!
//! 1. **shocks** the prices ([`liquidation_primitives::PriceShock`]: an asset's price, mark and
//!    stable price times `1 + change`, as if the oracle had formed the level now; a halted or
//!    stale price stays unusable, as it would);
//! 2. **walks the ledger's risk index** from `start_after` (at most `limit` entries: a small
//!    shock reads only the accounts it could have pushed under) and, for each account
//!    liquidatable at the shocked prices, **liquidates it until it is safe**, as the worker and
//!    keepers would in the blocks that follow: its derivative positions closed out against the
//!    vault first (the worker's path), then its spot debt repaid by a keeper at the oracle price
//!    with the penalty (the largest debt against the largest collateral, the worker's choice;
//!    an auction raises what a keeper pays, at the oracle), and a bankrupt account's debt
//!    written off down the waterfall. The per-block caps on liquidated value are lifted for the
//!    simulation: they spread a crash over blocks, they do not change what is liquidated;
//! 3. **works the shortfalls** of insolvent positions (insurance, then auto-deleveraging of
//!    what insurance cannot pay before the delay, then the LPs), as `on_idle` would;
//! 4. reports the **changes of the engine's own totals** ([`crate::LiquidationTotals`] per asset,
//!    [`crate::PositionTotals`] per market: one vocabulary with the live totals) and their value
//!    in USD at the shocked prices ([`StressValue`]).
//!
//! Insurance's part is what the fund pays at once (`insurance_now`) and what waits for it
//! within what it can pay before the socialization delay ends (`insurance_later`: the
//! waterfall socializes at once what is beyond it); the lenders' part is what is socialized.
//!
//! What the stress test leaves out, by design: a liquidation moves no price (no DEX, no second
//! round of the cascade; a larger shock is the way to ask for one), interest does not accrue,
//! and auctions already running keep their lots. Over several pages, each page starts from the
//! current state: the insurance fund is counted whole in each, so the sum of pages may count it
//! more than once (a client pages with a large `limit`, or reads `insurance_now` as a bound).
//!
//! [`Pallet::stress_cascade`] runs the same for uniform falls of every oracle-priced asset
//! (-1 % to -50 %, say): the cascade map of a risk analyst.

use crate::{
	AssetBlockUsage, BlockUsage, Config, CursorOf, Error, LiquidationTotals, Pallet,
	PendingShortfalls, PositionCloseOuts, PositionTotals, Totals,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::{
	fungibles::{Inspect as _, Mutate as _},
	Get,
};
use liquidation_primitives::{
	ledger::{Inspect as _, RiskScan as _},
	value_in_usd, Balance, PositionLiquidation as _, PriceProvider, PriceShock, UsdValue,
};
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{AccountIdConversion, Saturating, Zero},
	DispatchError, FixedPointNumber, FixedU128, RuntimeDebug,
};

/// Most index entries one stress test reads: a page.
pub const MAX_STRESS_PAGE: u32 = 1_000;

/// Most shocks in one stress test, and most falls in one cascade.
pub const MAX_SHOCKS: u32 = 64;

/// A shock's change in basis points may not go below this: a price of zero values a deposit at
/// nothing and would leave no price to size a seizure at (-99.99 % is the deepest fall).
pub const MIN_CHANGE_BPS: i32 = -9_999;

/// Nor above this: +1 000 %.
pub const MAX_CHANGE_BPS: i32 = 100_000;

/// Most liquidation steps the simulation takes for one account (a close-out, a keeper's
/// slice, the waterfall): with a close factor of 50 % a debt falls below the dust value in a
/// few dozen; an account still liquidatable after them is counted as unresolved.
pub const MAX_STEPS_PER_ACCOUNT: u32 = 64;

/// Most turns the simulation gives one waiting shortfall (each a window of auto-deleveraging's
/// pass, the last one the haircuts).
pub const MAX_SHORTFALL_TURNS: u32 = 64;

/// What a stress test found, in USD at the shocked prices.
#[derive(Clone, Copy, PartialEq, Eq, Default, Encode, Decode, TypeInfo, RuntimeDebug)]
pub struct StressValue {
	/// Spot debt repaid by liquidations: the value liquidated.
	pub debt_repaid: UsdValue,
	/// Collateral seized for it (the debt with the penalty, or less from an insolvent account).
	pub collateral_seized: UsdValue,
	/// Notional of derivative positions closed out.
	pub notional_closed: UsdValue,
	/// Spot debt written off bankrupt accounts.
	pub bad_debt: UsdValue,
	/// Shortfalls of insolvent accounts' derivative positions, left with the vault.
	pub shortfall: UsdValue,
	/// Paid by the insurance fund at once, of the bad debt and the shortfalls.
	pub insurance_now: UsdValue,
	/// Waiting for the insurance fund, within what it can pay before the delay ends.
	pub insurance_later: UsdValue,
	/// Socialized over the lenders of the assets written off.
	pub to_lenders: UsdValue,
	/// Taken from the opposite positions' profit by auto-deleveraging.
	pub deleveraged: UsdValue,
	/// Borne by the perpetuals vault's LPs.
	pub to_lps: UsdValue,
}

/// A stress test's result (see the [module docs](self)).
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, RuntimeDebug)]
pub struct StressReport<AssetId, Cursor> {
	/// Accounts the walk of the risk index returned (read and judged).
	pub read: u32,
	/// Of them, those liquidatable at the shocked prices.
	pub liquidatable: u32,
	/// Of those, the ones still liquidatable when the simulation stopped: a price it needs is
	/// unusable, an asset or the engine is paused, or a step failed (a client asks
	/// `preview` why).
	pub unresolved: u32,
	/// Where to continue the walk (`None`: it is complete).
	pub next: Option<Cursor>,
	/// Per asset, how the engine's totals would change: liquidations, repaid, seized,
	/// penalty to insurance, written off, covered, socialized.
	pub assets: Vec<(AssetId, LiquidationTotals)>,
	/// Per derivative market (its underlying), how its close-out totals would change:
	/// close-outs, notional, fees, shortfall, covered, deleveraged, to the LPs, pending.
	pub markets: Vec<(AssetId, PositionTotals)>,
	/// The same in USD at the shocked prices, over all assets and markets.
	pub value: StressValue,
}

/// One fall of a cascade map: every oracle-priced asset down `drop_percent`.
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, RuntimeDebug)]
pub struct CascadeStep<AssetId, Cursor> {
	/// The fall, percent.
	pub drop_percent: u8,
	/// What the stress test found at it.
	pub report: StressReport<AssetId, Cursor>,
}

/// The report of a stress test in this runtime.
pub type StressReportOf<T> = StressReport<<T as Config>::AssetId, CursorOf<T>>;

impl<T: Config> Pallet<T> {
	/// The account the simulation's keeper repays from (funded inside the simulation only).
	pub fn stress_keeper() -> T::AccountId {
		T::PalletId::get().into_sub_account_truncating(*b"stress")
	}

	/// What `shocks` (asset, change in basis points: `-2_000` for a fall of 20 %) would
	/// liquidate among the accounts of up to `limit` risk-index entries after `start_after`,
	/// and who would bear the losses; nothing is kept (see the [module docs](self)).
	pub fn stress_test(
		shocks: &[(T::AssetId, i32)],
		start_after: Option<&CursorOf<T>>,
		limit: u32,
	) -> Result<StressReportOf<T>, DispatchError> {
		frame_support::ensure!(shocks.len() as u32 <= MAX_SHOCKS, Error::<T>::TooManyShocks);
		let limit = limit.min(MAX_STRESS_PAGE);
		frame_support::storage::with_transaction(|| {
			let result = Self::simulate(shocks, start_after, limit);
			sp_runtime::TransactionOutcome::Rollback(Ok::<_, DispatchError>(result))
		})?
	}

	/// A stress test for each fall of `drops_percent` (each 1 to 99) of every oracle-priced
	/// asset, over the accounts of up to `limit` risk-index entries from the start.
	pub fn stress_cascade(
		drops_percent: &[u8],
		limit: u32,
	) -> Result<Vec<CascadeStep<T::AssetId, CursorOf<T>>>, DispatchError> {
		frame_support::ensure!(drops_percent.len() as u32 <= MAX_SHOCKS, Error::<T>::TooManyShocks);
		let assets = T::Shock::oracle_assets();
		drops_percent
			.iter()
			.map(|&drop_percent| {
				frame_support::ensure!(
					(1..=99).contains(&drop_percent),
					Error::<T>::ShockOutOfRange
				);
				let change = -(i32::from(drop_percent) * 100);
				let shocks: Vec<_> = assets.iter().map(|asset| (*asset, change)).collect();
				let report = Self::stress_test(&shocks, None, limit)?;
				Ok(CascadeStep { drop_percent, report })
			})
			.collect()
	}

	/// The body of [`Self::stress_test`], in the transaction it rolls back.
	fn simulate(
		shocks: &[(T::AssetId, i32)],
		start_after: Option<&CursorOf<T>>,
		limit: u32,
	) -> Result<StressReportOf<T>, DispatchError> {
		let mut touched: Vec<T::AssetId> = T::Shock::oracle_assets();
		for (asset, change_bps) in shocks {
			frame_support::ensure!(
				(MIN_CHANGE_BPS..=MAX_CHANGE_BPS).contains(change_bps),
				Error::<T>::ShockOutOfRange
			);
			let factor = FixedU128::saturating_from_rational(
				10_000i64.saturating_add(i64::from(*change_bps)).unsigned_abs(),
				10_000u64,
			);
			frame_support::ensure!(T::Shock::shock(asset, factor), Error::<T>::NoPriceToShock);
			if !touched.contains(asset) {
				touched.push(*asset);
			}
		}
		let (batch, next) = T::Ledger::accounts_at_risk(start_after, limit);
		let read = batch.len() as u32;
		// Every asset an account of the page holds, besides the priced ones: their totals.
		for who in &batch {
			for (asset, _, _) in T::Ledger::positions_of(who) {
				if !touched.contains(&asset) {
					touched.push(asset);
				}
			}
		}
		let before: Vec<_> = touched
			.iter()
			.map(|asset| (Totals::<T>::get(asset), PositionCloseOuts::<T>::get(asset)))
			.collect();

		let mut liquidatable = 0u32;
		let mut unresolved = 0u32;
		for who in batch {
			let due = Self::effective_report(&who).is_ok_and(|report| report.is_liquidatable());
			if !due {
				continue;
			}
			liquidatable = liquidatable.saturating_add(1);
			if !Self::liquidate_until_safe(&who) {
				unresolved = unresolved.saturating_add(1);
			}
		}
		Self::work_shortfalls_now();

		let mut report = StressReport {
			read,
			liquidatable,
			unresolved,
			next,
			assets: Vec::new(),
			markets: Vec::new(),
			value: StressValue::default(),
		};
		for (asset, (totals_before, positions_before)) in touched.into_iter().zip(before) {
			let spot = totals_change(&totals_before, &Totals::<T>::get(asset));
			if spot != LiquidationTotals::default() {
				Self::add_spot_value(&mut report.value, asset, &spot);
				report.assets.push((asset, spot));
			}
			let market = positions_change(&positions_before, &PositionCloseOuts::<T>::get(asset));
			if market != PositionTotals::default() {
				add_market_value(&mut report.value, &market);
				report.markets.push((asset, market));
			}
		}
		Ok(report)
	}

	/// Liquidates `who` as the worker and keepers would until it is no longer liquidatable, or
	/// nothing more can be done; returns whether it ended safe (or settled).
	fn liquidate_until_safe(who: &T::AccountId) -> bool {
		let all = FixedU128::from_inner(u128::MAX);
		for _ in 0..MAX_STEPS_PER_ACCOUNT {
			// The caps spread a crash over blocks; they do not change what is liquidated.
			BlockUsage::<T>::kill();
			let _ = AssetBlockUsage::<T>::clear(u32::MAX, None);
			match Self::effective_report(who) {
				Ok(report) if report.is_liquidatable() => {},
				Ok(_) => return true,
				Err(_) => return false,
			}
			// Its positions first, the largest requirement first, the vault the backstop.
			let positions = T::Derivatives::positions_at_risk(who);
			if !positions.is_empty() {
				let closed = positions.into_iter().any(|position| {
					frame_support::storage::with_storage_layer(|| {
						Self::do_close_position(who, Some(position.underlying), None, all)
					})
					.is_ok()
				});
				if closed {
					continue;
				}
				return false;
			}
			if !T::Ledger::positions_of(who).iter().any(|(_, _, debt)| !debt.is_zero()) {
				// Liquidatable with no debt and no position at risk: nothing to act on.
				return false;
			}
			let step = if Self::is_bankrupt(who).0 {
				frame_support::storage::with_storage_layer(|| Self::do_settle_bankrupt(who))
					.map(|_| ())
			} else {
				Self::keeper_step(who)
			};
			if step.is_err() {
				return false;
			}
			if !Self::actionable(who) {
				// All that is left is at auction or written off.
				return true;
			}
		}
		false
	}

	/// A keeper's liquidation of `who`'s largest debt against its largest collateral, the
	/// simulation's keeper funded with what it repays.
	fn keeper_step(who: &T::AccountId) -> Result<(), DispatchError> {
		let plan = Self::preview(who, None)?;
		let keeper = Self::stress_keeper();
		let asset = plan.debt_asset;
		// The repayment, the insurance share of a penalty paid in the debt asset (a seizure
		// of a deposit position), and the asset's minimum balance.
		let funds = plan.repay.saturating_mul(2).saturating_add(T::Assets::minimum_balance(asset));
		T::Assets::mint_into(asset, &keeper, funds)?;
		Self::do_liquidate_keeper(
			keeper,
			who.clone(),
			plan.debt_asset,
			plan.collateral_asset,
			Balance::MAX,
		)
		.map(|_| ())
	}

	/// Gives every waiting shortfall the turns `on_idle` would, until its pass of
	/// auto-deleveraging is done: insurance, the haircuts of what it cannot pay before the
	/// delay, the LPs.
	fn work_shortfalls_now() {
		let queue = PendingShortfalls::<T>::get();
		let mut worked = Vec::new();
		for mut entry in queue.into_iter() {
			for _ in 0..MAX_SHORTFALL_TURNS {
				let before = (entry.left, entry.cursor.clone());
				let turn = frame_support::storage::with_storage_layer(|| {
					Self::work_shortfall(&mut entry, crate::shortfall::MAX_DELEVERAGE_SCAN)
				});
				// A turn that ended its pass (no cursor) and changed nothing: nothing more is
				// due now.
				if turn.is_err()
					|| entry.left.is_zero()
					|| (entry.cursor.is_none() && before == (entry.left, None))
				{
					break;
				}
			}
			if !entry.left.is_zero() {
				worked.push(entry);
			}
		}
		PendingShortfalls::<T>::put(frame_support::BoundedVec::truncate_from(worked));
	}

	/// Adds the USD value of an asset's change of totals at its (shocked) price.
	fn add_spot_value(value: &mut StressValue, asset: T::AssetId, change: &LiquidationTotals) {
		let Some(price) = T::Prices::valuation_price(&asset) else { return };
		let Some(weights) = T::Ledger::risk_weights(asset) else { return };
		let usd =
			|amount: Balance| value_in_usd(amount, weights.decimals, price).unwrap_or_default();
		let waiting =
			change.written_off.saturating_sub(change.covered).saturating_sub(change.socialized);
		value.debt_repaid.saturating_accrue(usd(change.repaid));
		value.collateral_seized.saturating_accrue(usd(change.seized));
		value.bad_debt.saturating_accrue(usd(change.written_off));
		value.insurance_now.saturating_accrue(usd(change.covered));
		value.insurance_later.saturating_accrue(usd(waiting));
		value.to_lenders.saturating_accrue(usd(change.socialized));
	}
}

/// Adds a market's change of totals (already USD).
fn add_market_value(value: &mut StressValue, change: &PositionTotals) {
	value.notional_closed.saturating_accrue(change.notional);
	value.shortfall.saturating_accrue(change.shortfall);
	value.insurance_now.saturating_accrue(change.covered);
	value.insurance_later.saturating_accrue(change.pending);
	value.deleveraged.saturating_accrue(change.deleveraged);
	value.to_lps.saturating_accrue(change.to_lps);
}

/// `after - before`, field by field (the totals only grow, but for `most_queued`, a maximum:
/// its change is the new maximum when it rose).
fn totals_change(before: &LiquidationTotals, after: &LiquidationTotals) -> LiquidationTotals {
	LiquidationTotals {
		liquidations: after.liquidations.saturating_sub(before.liquidations),
		repaid: after.repaid.saturating_sub(before.repaid),
		seized: after.seized.saturating_sub(before.seized),
		penalty_to_insurance: after
			.penalty_to_insurance
			.saturating_sub(before.penalty_to_insurance),
		written_off: after.written_off.saturating_sub(before.written_off),
		covered: after.covered.saturating_sub(before.covered),
		socialized: after.socialized.saturating_sub(before.socialized),
		covered_later: after.covered_later.saturating_sub(before.covered_later),
		most_queued: if after.most_queued > before.most_queued { after.most_queued } else { 0 },
	}
}

/// `after - before`, field by field; `pending` is what waits at the end that did not before
/// (what the stress added to the queue and insurance will pay later).
fn positions_change(before: &PositionTotals, after: &PositionTotals) -> PositionTotals {
	PositionTotals {
		close_outs: after.close_outs.saturating_sub(before.close_outs),
		taken_over: after.taken_over.saturating_sub(before.taken_over),
		notional: after.notional.saturating_sub(before.notional),
		fees: after.fees.saturating_sub(before.fees),
		fee_to_insurance: after.fee_to_insurance.saturating_sub(before.fee_to_insurance),
		shortfall: after.shortfall.saturating_sub(before.shortfall),
		covered: after.covered.saturating_sub(before.covered),
		deleveraged: after.deleveraged.saturating_sub(before.deleveraged),
		to_lps: after.to_lps.saturating_sub(before.to_lps),
		pending: after.pending.saturating_sub(before.pending),
	}
}
