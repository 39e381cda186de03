//! The stress test: what a set of price shocks would liquidate, and who would bear the losses,
//! computed by the engine's own code over the current state and then undone.
//!
//! No lending or perpetuals protocol answers this on chain; risk teams rebuild the engine off
//! chain and drift from it. Here the answer is the engine itself: inside a storage transaction
//! that is always rolled back, [`Pallet::stress_test`]
//!
//! 1. lifts the engine's per-block caps (they spread a crash over blocks, they do not change
//!    what is liquidated; insurance's per-block cover stays as it is in this block, what it
//!    cannot pay now waits for it and counts as insurance's later), and **works what already
//!    waits** (the bad-debt queues, the perpetual shortfalls), so that it is not counted as the
//!    shock's;
//! 2. **shocks** the prices ([`liquidation_primitives::PriceShock`]: an asset's price, mark and
//!    stable price times `1 + change`, as if the oracle had formed the level now; a halted or
//!    stale price stays unusable, as it would);
//! 3. **walks the ledger's risk index** from `start_after` (at most `limit` entries: a small
//!    shock reads only the accounts it could have pushed under) and **liquidates each account
//!    liquidatable at the shocked prices until it is safe**, worst shortfall first, as the
//!    worker and keepers would in the blocks that follow: its derivative positions closed out
//!    against the vault first (the worker's path), then, or when none can be closed, its spot
//!    debt repaid by a keeper at the oracle price with the penalty (the largest debt against the
//!    largest collateral, the worker's choice), and a bankrupt account's debt written off down
//!    the waterfall. The worker's auctions are modelled by the keeper: a lot sold at the oracle
//!    repays what a keeper repays (an auction sells above or below it, and books the whole lot
//!    as seized);
//! 4. **works the shortfalls** of insolvent positions (insurance, then auto-deleveraging of
//!    what insurance cannot pay before the delay, then the LPs) as `on_idle` would, pass after
//!    pass until one changes nothing;
//! 5. reports the **changes of the engine's own totals** ([`crate::LiquidationTotals`] per asset,
//!    [`crate::PositionTotals`] per market: one vocabulary with the live totals; `most_queued`
//!    is what the shock left waiting) and their value in USD at the shocked prices
//!    ([`StressValue`]).
//!
//! Insurance's part is what the fund pays at once (`insurance_now`) and what waits for it
//! within what it can pay before the socialization delay ends (`insurance_later`: the
//! waterfall socializes at once what is beyond it); the lenders' part is what is socialized. A
//! perpetual shortfall left waiting (`shortfall_waiting`) waits for insurance in later blocks,
//! or for auto-deleveraging once the delay ends.
//!
//! **Bounded work**: at most [`MAX_STRESS_PAGE`] index entries, [`MAX_STEPS_PER_ACCOUNT`]
//! liquidation steps an account and [`MAX_STEPS_PER_CALL`] a call (the accounts left are
//! `unresolved`, `budget_spent` set), [`MAX_SHORTFALL_TURNS`] turns a waiting shortfall, and a
//! cascade's falls times its page at most [`MAX_STRESS_PAGE`].
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
	AssetLimitsOf, Config, CursorOf, Error, LiquidationTotals, Pallet, Params, PendingShortfalls,
	PositionCloseOuts, PositionTotals, Totals,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::traits::{
	fungibles::{Inspect as _, Mutate as _},
	Get,
};
use liquidation_primitives::{
	ledger::{BadDebt as _, Inspect as _, RiskScan as _},
	value_in_usd, Balance, PositionLiquidation as _, PriceProvider, PriceShock, UsdValue,
};
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{AccountIdConversion, Bounded, Saturating, Zero},
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
/// slice, the waterfall): each slice of a close factor of 50 % halves what is left, so sixteen
/// leave a sixty-five-thousandth; an account still liquidatable after them is counted as
/// unresolved.
pub const MAX_STEPS_PER_ACCOUNT: u32 = 16;

/// Most liquidation steps one call takes over all its accounts: the bound of a call's work (a
/// few health reads a step), whatever the page. Accounts left when it is spent are counted as
/// unresolved and `budget_spent` is set: ask again with a smaller page. The benchmark
/// `stress_test_account` (an account with the most positions, liquidated until safe) measured
/// 166 ms on the debug node; a thousand steps keep a call to seconds.
pub const MAX_STEPS_PER_CALL: u32 = 1_000;

/// Most turns the simulation gives one waiting shortfall (each a window of auto-deleveraging's
/// pass of up to [`crate::shortfall::MAX_DELEVERAGE_SCAN`] traders, the last one the haircuts).
pub const MAX_SHORTFALL_TURNS: u32 = 32;

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
	/// Paid by the insurance fund at once (within its per-block cap), of the bad debt and the
	/// shortfalls.
	pub insurance_now: UsdValue,
	/// Spot bad debt waiting for the insurance funds, within what they can pay before the
	/// delay ends (what is beyond is socialized at once).
	pub insurance_later: UsdValue,
	/// Shortfalls still waiting after auto-deleveraging's passes: for insurance in later
	/// blocks, or for a pass once the delay ends.
	pub shortfall_waiting: UsdValue,
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
	/// Whether the call's step budget ([`MAX_STEPS_PER_CALL`]) ran out before every
	/// liquidatable account was done (those left are counted as unresolved).
	pub budget_spent: bool,
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
		frame_support::ensure!(limit > 0, Error::<T>::ShockOutOfRange);
		// Each asset once: repeated shocks would compound beyond the bounds.
		let repeated = shocks
			.iter()
			.enumerate()
			.any(|(index, (asset, _))| shocks.iter().skip(index + 1).any(|(a, _)| a == asset));
		frame_support::ensure!(!repeated, Error::<T>::ShockOutOfRange);
		let limit = limit.min(MAX_STRESS_PAGE);
		frame_support::storage::with_transaction(|| {
			let result = Self::simulate(shocks, start_after, limit);
			sp_runtime::TransactionOutcome::Rollback(Ok::<_, DispatchError>(result))
		})?
	}

	/// A stress test for each fall of `drops_percent` (each 1 to 99) of every oracle-priced
	/// asset, over the accounts of up to `limit` risk-index entries from the start; the falls
	/// times the page at most [`MAX_STRESS_PAGE`].
	pub fn stress_cascade(
		drops_percent: &[u8],
		limit: u32,
	) -> Result<Vec<CascadeStep<T::AssetId, CursorOf<T>>>, DispatchError> {
		frame_support::ensure!(drops_percent.len() as u32 <= MAX_SHOCKS, Error::<T>::TooManyShocks);
		frame_support::ensure!(
			(drops_percent.len() as u32).saturating_mul(limit) <= MAX_STRESS_PAGE,
			Error::<T>::TooManyShocks
		);
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
		// The engine's caps are lifted: they spread a crash over blocks, they do not change what
		// is liquidated. (Insurance's per-block cover is left as it is in this block: what it
		// cannot pay now waits for it, within what it can pay before the delay, and is counted
		// as insurance's later.)
		if let Some(mut params) = Params::<T>::get() {
			params.max_value_per_block = UsdValue::max_value();
			Params::<T>::put(params);
		}
		let limited: Vec<_> = AssetLimitsOf::<T>::iter().collect();
		for (asset, mut limits) in limited {
			limits.max_value_per_block = UsdValue::max_value();
			AssetLimitsOf::<T>::insert(asset, limits);
		}
		// What already waits is worked first and not counted as the shock's: the bad-debt
		// queues and the perpetual shortfalls.
		Self::work_queues_now();

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
		}
		let (batch, next) = T::Ledger::accounts_at_risk(start_after, limit);
		let read = batch.len() as u32;
		let before_spot: Vec<_> = Totals::<T>::iter().collect();
		let before_markets: Vec<_> = PositionCloseOuts::<T>::iter().collect();

		// Worst shortfall first, as the worker; an account whose health cannot be read is
		// unresolved.
		let mut due: Vec<(T::AccountId, UsdValue)> = Vec::new();
		let mut unresolved = 0u32;
		for who in batch {
			match Self::effective_report(&who) {
				Ok(report) if report.is_liquidatable() => {
					due.push((who, report.maintenance_shortfall()))
				},
				Ok(_) => {},
				Err(_) => unresolved = unresolved.saturating_add(1),
			}
		}
		due.sort_by(|a, b| b.1.cmp(&a.1));
		let liquidatable = (due.len() as u32).saturating_add(unresolved);
		let mut budget = MAX_STEPS_PER_CALL;
		let mut budget_spent = false;
		for (who, _) in due {
			if budget == 0 {
				budget_spent = true;
				unresolved = unresolved.saturating_add(1);
				continue;
			}
			if !Self::liquidate_until_safe(&who, &mut budget) {
				unresolved = unresolved.saturating_add(1);
			}
		}
		Self::work_shortfalls_now();

		let mut report = StressReport {
			read,
			liquidatable,
			unresolved,
			budget_spent,
			next,
			assets: Vec::new(),
			markets: Vec::new(),
			value: StressValue::default(),
		};
		for (asset, after) in Totals::<T>::iter() {
			let before = before_spot
				.iter()
				.find(|(a, _)| *a == asset)
				.map(|(_, totals)| *totals)
				.unwrap_or_default();
			let mut spot = totals_change(&before, &after);
			// What the shock left waiting (the queue was worked before it).
			spot.most_queued = T::Ledger::bad_debt(asset);
			if spot != LiquidationTotals::default() {
				Self::add_spot_value(&mut report.value, asset, &spot);
				report.assets.push((asset, spot));
			}
		}
		for (underlying, after) in PositionCloseOuts::<T>::iter() {
			let before = before_markets
				.iter()
				.find(|(a, _)| *a == underlying)
				.map(|(_, totals)| *totals)
				.unwrap_or_default();
			let market = positions_change(&before, &after);
			if market != PositionTotals::default() {
				add_market_value(&mut report.value, &market);
				report.markets.push((underlying, market));
			}
		}
		report.assets.sort_by(|a, b| a.0.cmp(&b.0));
		report.markets.sort_by(|a, b| a.0.cmp(&b.0));
		Ok(report)
	}

	/// Works what already waits as the next blocks would: each asset's bad-debt queue once (the
	/// funds' cover within their cap, and what is due socialized) and the perpetual shortfalls.
	fn work_queues_now() {
		for asset in crate::BadDebtQueuedSince::<T>::iter_keys().collect::<Vec<_>>() {
			let _ =
				frame_support::storage::with_storage_layer(|| Self::run_waterfall(asset, false));
		}
		Self::work_shortfalls_now();
	}

	/// Liquidates `who` as the worker and keepers would until it is no longer liquidatable, or
	/// nothing more can be done, spending one of `budget` a step; returns whether it ended safe
	/// (or settled).
	fn liquidate_until_safe(who: &T::AccountId, budget: &mut u32) -> bool {
		let all = FixedU128::from_inner(u128::MAX);
		for _ in 0..MAX_STEPS_PER_ACCOUNT {
			if *budget == 0 {
				return false;
			}
			*budget = budget.saturating_sub(1);
			match Self::effective_report(who) {
				Ok(report) if report.is_liquidatable() => {},
				Ok(_) => return true,
				Err(_) => return false,
			}
			// Its positions first, the largest requirement first, the vault the backstop; when
			// none can be closed, its spot debt, as the worker.
			let closed = T::Derivatives::positions_at_risk(who)
				.into_iter()
				.take(crate::positions::POSITIONS_TRIED as usize)
				.any(|position| {
					frame_support::storage::with_storage_layer(|| {
						Self::do_close_position(who, Some(position.underlying), None, all)
					})
					.is_ok()
				});
			if closed {
				continue;
			}
			if !T::Ledger::positions_of(who).iter().any(|(_, _, debt)| !debt.is_zero()) {
				// Liquidatable with no debt and no position that closes: nothing to act on.
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

	/// Gives every waiting shortfall the turns `on_idle` would in the next blocks, until a
	/// whole pass of auto-deleveraging changes nothing: insurance, the haircuts of what it
	/// cannot pay before the delay, the LPs. Nothing while the engine is paused (as `on_idle`).
	fn work_shortfalls_now() {
		if crate::Paused::<T>::get() {
			return;
		}
		let queue = PendingShortfalls::<T>::get();
		let mut kept = Vec::new();
		for entry in queue.into_iter() {
			let mut entry = entry;
			// What a pass starts from: a pass (from no cursor back to none) that changes none
			// of it is the last one that could act now.
			let mut pass_start = (entry.left, entry.units, entry.passed_over.len());
			for _ in 0..MAX_SHORTFALL_TURNS {
				let starts_pass = entry.cursor.is_none();
				if starts_pass {
					pass_start = (entry.left, entry.units, entry.passed_over.len());
				}
				let mut worked = entry.clone();
				let turn = frame_support::storage::with_storage_layer(|| {
					Self::work_shortfall(&mut worked, crate::shortfall::MAX_DELEVERAGE_SCAN)
				});
				if turn.is_err() {
					break;
				}
				entry = worked;
				let pass_ended = entry.cursor.is_none();
				let unchanged = pass_start == (entry.left, entry.units, entry.passed_over.len());
				if entry.left.is_zero() || (pass_ended && unchanged) {
					break;
				}
			}
			if !entry.left.is_zero() {
				kept.push(entry);
			}
		}
		PendingShortfalls::<T>::put(frame_support::BoundedVec::truncate_from(kept));
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
	value.shortfall_waiting.saturating_accrue(change.pending);
	value.deleveraged.saturating_accrue(change.deleveraged);
	value.to_lps.saturating_accrue(change.to_lps);
}

/// `after - before`, field by field; `most_queued`, a running maximum, is the new maximum when
/// it rose, else zero (the stress test replaces it by what the shock left waiting).
pub fn totals_change(before: &LiquidationTotals, after: &LiquidationTotals) -> LiquidationTotals {
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

/// `after - before`, field by field (what already waited was worked before the shock: `pending`
/// is what the shock's shortfalls left waiting).
pub fn positions_change(before: &PositionTotals, after: &PositionTotals) -> PositionTotals {
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
