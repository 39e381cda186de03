//! The waterfall of a derivative shortfall: insurance, then auto-deleveraging, then the LPs.
//!
//! An insolvent account's positions are closed at its bankruptcy price (see [`crate::positions`]):
//! what it owed beyond all it held, the *shortfall* `S`, stays with the vault, its
//! counterparty. At the close-out the insurance fund pays into the vault's deposit what its
//! per-block cap allows; the rest waits in [`crate::PendingShortfalls`] (oldest first) with the
//! bankrupt position's side and bankruptcy price (`P_b = P + S/|s|` for a long of size `s`
//! closed at the oracle `P`, `P - S/|s|` for a short). In every block's `on_idle`, as far as its
//! spare weight goes, each waiting shortfall gets in turn:
//!
//! 1. **insurance**: what the fund can pay this block in the settlement asset, then by selling
//!    its other assets (as for spot bad debt, and only here, outside any transaction);
//! 2. **auto-deleveraging**, of what insurance cannot pay before the engine's
//!    `socialize_after_blocks` delay ends (its capacity over the blocks left, as for spot; all
//!    that is left once the delay has passed), so that no position is deleveraged while
//!    insurance could still pay: the profitable positions opposite the bankrupt one are read
//!    in windows of the market's traders (as many as the weight left allows, at most
//!    [`MAX_DELEVERAGE_SCAN`] a block, resuming where the last window stopped), ranked in each
//!    window by profit times leverage (Hyperliquid's ranking), and each is reduced at
//!    `min(P_b, entry)` for a short (`max` for a long) instead of the oracle by just the units
//!    whose haircut covers what is still due: the haircuts add up to it, never more (each
//!    rounded down, in the trader's favour). Each candidate is re-checked when its turn comes
//!    (one closed, flipped or out of profit since the ranking is passed over);
//! 3. **the LPs**: what is still due after a whole pass over the market's traders found no
//!    more opposite profit is the vault's LPs' loss (it already is: the vault's value is lower
//!    by the shortfall from the close-out on, and what insurance and deleveraging recover
//!    raises it again).
//!
//! ```text
//!   shortfall S ─▶ insurance now (cap) ─▶ queued ─▶ each block: insurance (cap, sales)
//!               ─▶ due = left − what insurance can pay before the delay ends
//!               ─▶ ADL: opposite winners by profit × leverage, haircut = min(due left, theirs)
//!               ─▶ pass over the market ended with some due left: the LPs
//! ```
//!
//! The queue holds at most [`MAX_PENDING_SHORTFALLS`]; a shortfall arriving when it is full is
//! the LPs' at once (evented as such). [`crate::PositionCloseOuts`] books every step per
//! market: `shortfall = covered + deleveraged + to_lps + pending`.

use crate::{
	positions::usd_units, Config, DeleverageRank, Event, Pallet, Params, Paused, PendingShortfall,
	PendingShortfalls, PositionCloseOuts, PositionTotals, WeightInfo,
};
use frame_support::{pallet_prelude::Weight, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{
	ledger::{Inspect, Mutate},
	Balance, DeficitHandler, PositionLiquidation, Price, UsdValue,
};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto, Zero},
	ArithmeticError, DispatchError, FixedU128,
};

/// Most shortfalls waiting at once: one per insolvent position closed while insurance and
/// deleveraging have not caught up. Beyond it a new shortfall is the LPs' at once.
pub const MAX_PENDING_SHORTFALLS: u32 = 32;

/// Most traders of a market auto-deleveraging reads in one block for one shortfall (fewer when
/// the block's spare weight is short): a market with fewer traders is ranked whole, a larger
/// one in windows, block by block (dYdX v4 bounds its deleveraging iteration the same way).
pub const MAX_DELEVERAGE_SCAN: u32 = 64;

/// What one block's turn of one waiting shortfall did.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct ShortfallStep {
	/// Paid by insurance, settlement units.
	pub covered: Balance,
	/// USD value of `covered`.
	pub covered_value: UsdValue,
	/// Taken by auto-deleveraging, USD.
	pub deleveraged: UsdValue,
	/// Borne by the LPs, USD.
	pub to_lps: UsdValue,
	/// Traders read.
	pub read: u32,
}

impl<T: Config> Pallet<T> {
	/// A shortfall at its close-out: insurance pays what it can now into the vault, the rest
	/// is queued (the LPs' at once when the queue is full). Returns what insurance paid
	/// (settlement units), what was queued and what the LPs bore (USD).
	pub(crate) fn take_shortfall(
		who: &T::AccountId,
		underlying: T::AssetId,
		shortfall: UsdValue,
		(asset, vault): (T::AssetId, &T::AccountId),
		(bankrupt_long, bankruptcy_price): (bool, Price),
	) -> Result<(Balance, UsdValue, UsdValue), DispatchError> {
		let (covered, covered_value) = Self::insure_vault(asset, vault, shortfall, false)?;
		let left = shortfall.saturating_sub(covered_value);
		let mut queued = UsdValue::zero();
		let mut to_lps = UsdValue::zero();
		if !left.is_zero() {
			let entry = PendingShortfall {
				underlying,
				bankrupt_long,
				bankruptcy_price,
				left,
				since: frame_system::Pallet::<T>::block_number(),
				cursor: None,
			};
			match PendingShortfalls::<T>::try_mutate(|queue| queue.try_push(entry)) {
				Ok(()) => queued = left,
				Err(_) => to_lps = left,
			}
		}
		PositionCloseOuts::<T>::mutate(underlying, |totals: &mut PositionTotals| {
			totals.shortfall = totals.shortfall.saturating_add(shortfall);
			totals.covered = totals.covered.saturating_add(covered_value);
			totals.to_lps = totals.to_lps.saturating_add(to_lps);
			totals.pending = totals.pending.saturating_add(queued);
		});
		Self::deposit_event(Event::PositionShortfall {
			who: who.clone(),
			underlying,
			shortfall,
			covered,
			queued,
			to_lps,
		});
		Ok((covered, queued, to_lps))
	}

	/// What insurance pays now of `wanted` USD into the vault's deposit: from the fund's own
	/// settlement asset within its per-block cap, then, with `sales`, by selling its others.
	/// Returns it in settlement units and USD (at most `wanted`).
	fn insure_vault(
		asset: T::AssetId,
		vault: &T::AccountId,
		wanted: UsdValue,
		sales: bool,
	) -> Result<(Balance, UsdValue), DispatchError> {
		let decimals = T::Ledger::risk_weights(asset).map(|weights| weights.decimals).unwrap_or(0);
		let units = usd_units(wanted, decimals)?;
		let engine = Self::engine_account();
		let mut covered: Balance = 0;
		let coverable = T::Deficit::coverable_now(asset).min(units);
		if !coverable.is_zero() {
			covered = T::Deficit::cover(asset, coverable, &engine);
		}
		let short = units.saturating_sub(covered);
		if sales && !short.is_zero() {
			covered = covered.saturating_add(T::Deficit::cover_by_sales(asset, short, &engine));
		}
		if !covered.is_zero() {
			T::Ledger::credit_collateral(&engine, vault, asset, covered)?;
		}
		let value = liquidation_primitives::value_in_usd(covered, decimals, FixedU128::from(1))
			.ok_or(ArithmeticError::Overflow)?
			.min(wanted);
		Ok((covered, value))
	}

	/// Works the waiting shortfalls, oldest first, as far as `remaining` goes (`on_idle`);
	/// returns the weight used. Nothing while the engine is paused.
	pub(crate) fn work_position_shortfalls(remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let mut used = db.reads(2);
		if remaining.any_lt(used) {
			return Weight::zero();
		}
		let mut queue = PendingShortfalls::<T>::get();
		if queue.is_empty() || Paused::<T>::get() {
			return used;
		}
		used.saturating_accrue(db.writes(1));
		let base = T::WeightInfo::work_position_shortfall(0);
		let per_trader = T::WeightInfo::work_position_shortfall(1).saturating_sub(base);
		let mut index = 0usize;
		while let Some(entry) = queue.get(index).cloned() {
			let room = remaining.saturating_sub(used);
			if room.any_lt(base.saturating_add(per_trader)) {
				break;
			}
			let scan = room
				.saturating_sub(base)
				.checked_div_per_component(&per_trader)
				.unwrap_or(u64::MAX)
				.min(MAX_DELEVERAGE_SCAN.into()) as u32;
			let mut worked = entry.clone();
			let outcome = frame_support::storage::with_storage_layer(|| {
				Self::work_shortfall(&mut worked, scan)
			});
			match outcome {
				Ok(step) => {
					used.saturating_accrue(T::WeightInfo::work_position_shortfall(step.read));
					Self::deposit_event(Event::ShortfallWorked {
						underlying: worked.underlying,
						covered: step.covered,
						deleveraged: step.deleveraged,
						to_lps: step.to_lps,
						left: worked.left,
						read: step.read,
					});
				},
				Err(error) => {
					used.saturating_accrue(base);
					log::warn!(target: "runtime::liquidation", "position shortfall: {error:?}");
				},
			}
			if worked.left.is_zero() {
				if index < queue.len() {
					queue.remove(index);
				}
			} else {
				if let Some(slot) = queue.get_mut(index) {
					*slot = worked;
				}
				index = index.saturating_add(1);
			}
		}
		PendingShortfalls::<T>::put(queue);
		used
	}

	/// One block's turn of one waiting shortfall (see the module docs): insurance, then
	/// auto-deleveraging of what is due reading up to `scan` traders, then the LPs when a pass
	/// over the market ended. Updates `entry` and the market's totals.
	pub(crate) fn work_shortfall(
		entry: &mut PendingShortfall<T::AssetId, T::AccountId, BlockNumberFor<T>>,
		scan: u32,
	) -> Result<ShortfallStep, DispatchError> {
		let mut step = ShortfallStep::default();
		let (asset, vault) = T::Derivatives::settlement().ok_or(crate::Error::<T>::NoPosition)?;
		let (covered, covered_value) = Self::insure_vault(asset, &vault, entry.left, true)?;
		step.covered = covered;
		step.covered_value = covered_value;
		entry.left = entry.left.saturating_sub(covered_value);
		let due = Self::due_for_deleveraging(entry, asset)?;
		if !due.is_zero() && scan > 0 {
			let opposite = !entry.bankrupt_long;
			// A market whose price cannot be used now ranks nothing: the shortfall waits.
			if let Ok(window) = T::Derivatives::deleverage_candidates(
				entry.underlying,
				opposite,
				entry.cursor.as_ref(),
				scan,
			) {
				step.read = window.read;
				let mut still_due = due;
				for candidate in window.candidates {
					if still_due.is_zero() {
						break;
					}
					// Re-checked by the call: a position closed, flipped or out of profit since
					// the ranking is refused, and the next one tried.
					let taken = frame_support::storage::with_storage_layer(|| {
						T::Derivatives::deleverage(
							&candidate.who,
							entry.underlying,
							opposite,
							entry.bankruptcy_price,
							still_due,
						)
					});
					if let Ok(haircut) = taken {
						let haircut = haircut.min(still_due);
						still_due = still_due.saturating_sub(haircut);
						step.deleveraged = step.deleveraged.saturating_add(haircut);
					}
				}
				entry.left = entry.left.saturating_sub(step.deleveraged);
				entry.cursor = window.next;
				if entry.cursor.is_none() && !still_due.is_zero() {
					// A whole pass over the market's traders: no opposite profit left for it.
					step.to_lps = still_due;
					entry.left = entry.left.saturating_sub(still_due);
				}
			}
		}
		PositionCloseOuts::<T>::mutate(entry.underlying, |totals: &mut PositionTotals| {
			totals.covered = totals.covered.saturating_add(step.covered_value);
			totals.deleveraged = totals.deleveraged.saturating_add(step.deleveraged);
			totals.to_lps = totals.to_lps.saturating_add(step.to_lps);
			let worked =
				step.covered_value.saturating_add(step.deleveraged).saturating_add(step.to_lps);
			totals.pending = totals.pending.saturating_sub(worked);
		});
		Ok(step)
	}

	/// What of a waiting shortfall is due for auto-deleveraging now: what insurance cannot pay
	/// before the engine's `socialize_after_blocks` delay ends (from when it was queued), all
	/// of what is left once it has.
	fn due_for_deleveraging(
		entry: &PendingShortfall<T::AssetId, T::AccountId, BlockNumberFor<T>>,
		asset: T::AssetId,
	) -> Result<UsdValue, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let delay = Params::<T>::get().map_or(0, |params| params.socialize_after_blocks);
		let due_at = entry.since.saturating_add(delay.into());
		if now >= due_at {
			return Ok(entry.left);
		}
		let blocks_left: u32 = due_at.saturating_sub(now).unique_saturated_into();
		let decimals = T::Ledger::risk_weights(asset).map(|weights| weights.decimals).unwrap_or(0);
		// This block's cover has been paid: the capacity of the blocks after it.
		let capacity = T::Deficit::capacity(asset, blocks_left.saturating_sub(1));
		let capacity_value =
			liquidation_primitives::value_in_usd(capacity, decimals, FixedU128::from(1))
				.ok_or(ArithmeticError::Overflow)?;
		Ok(entry.left.saturating_sub(capacity_value))
	}

	/// Auto-deleveraging's ranking now of the positions on the `long` side (or short) of
	/// `underlying`'s market (the first window of its traders, at most
	/// [`MAX_DELEVERAGE_SCAN`]), best first, with what deleveraging would take from each for
	/// the shortfalls of the opposite side waiting in that market, were all of them due now
	/// (at the oldest one's bankruptcy price; nothing when none waits). Runs the haircuts and
	/// undoes them (runtime API). Empty when the market's price cannot be used.
	pub fn deleveraging_preview(
		underlying: T::AssetId,
		long: bool,
	) -> alloc::vec::Vec<DeleverageRank<T::AccountId>> {
		let waiting: alloc::vec::Vec<_> = PendingShortfalls::<T>::get()
			.into_iter()
			.filter(|entry| entry.underlying == underlying && entry.bankrupt_long != long)
			.collect();
		let mut left =
			waiting.iter().fold(UsdValue::zero(), |sum, entry| sum.saturating_add(entry.left));
		let price = waiting.first().map(|entry| entry.bankruptcy_price);
		frame_support::storage::with_transaction(|| {
			let ranked =
				T::Derivatives::deleverage_candidates(underlying, long, None, MAX_DELEVERAGE_SCAN)
					.map(|window| window.candidates)
					.unwrap_or_default()
					.into_iter()
					.map(|candidate| {
						let haircut = match price {
							Some(price) if !left.is_zero() => T::Derivatives::deleverage(
								&candidate.who,
								underlying,
								long,
								price,
								left,
							)
							.unwrap_or_default()
							.min(left),
							_ => UsdValue::zero(),
						};
						left = left.saturating_sub(haircut);
						DeleverageRank {
							who: candidate.who,
							score: candidate.score,
							profit: candidate.profit,
							haircut,
						}
					})
					.collect();
			sp_runtime::TransactionOutcome::Rollback(Ok::<_, DispatchError>(ranked))
		})
		.unwrap_or_default()
	}

	/// The shortfalls waiting for insurance and auto-deleveraging, oldest first (runtime API).
	pub fn pending_shortfalls(
	) -> alloc::vec::Vec<PendingShortfall<T::AssetId, T::AccountId, BlockNumberFor<T>>> {
		PendingShortfalls::<T>::get().into_inner()
	}
}
