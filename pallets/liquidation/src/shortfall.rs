//! The waterfall of a derivative shortfall: insurance, then auto-deleveraging, then the LPs.
//!
//! An insolvent account's positions are closed at its bankruptcy price (see [`crate::positions`]):
//! what it owed beyond all it held, the *shortfall* `S`, stays with the vault, its
//! counterparty. At the close-out the insurance fund pays into the vault's deposit what its
//! per-block cap allows; the rest waits in [`crate::PendingShortfalls`], one entry per market
//! and bankrupt side (a new shortfall joins its market's entry: its bankruptcy price becomes
//! the entries' average weighted by what each has left; `P_b = P + S/|s|` for a long of size `s`
//! closed at the oracle `P`, `P - S/|s|` for a short). What waits is owed to the vault: the
//! perpetuals pallet counts it in the vault's value until it is recovered or left to the LPs.
//! In every block's `on_idle`, as far as its spare weight goes, each waiting shortfall gets a
//! turn:
//!
//! 1. **insurance**: what the fund can pay this block in the settlement asset, within its cap
//!    (the fund's sales of its other assets are made only at the start of a block, for spot
//!    bad debt; a perpetual shortfall waits for its own-asset cover or the delay);
//! 2. **auto-deleveraging**, of what insurance cannot pay before the engine's
//!    `socialize_after_blocks` delay ends (its capacity over the blocks left, as for spot; all
//!    that is left once the delay has passed), so that no position is deleveraged while
//!    insurance could still pay. A *pass* reads the market's traders in windows (as many as the
//!    weight left allows, at most [`MAX_DELEVERAGE_SCAN`] a block, resuming where the last
//!    window stopped) and keeps the [`MAX_FINALISTS`] best positions opposite the bankrupt one
//!    in profit, by profit times leverage (Hyperliquid's ranking): the whole market is ranked,
//!    whatever an account's place in storage. When the pass ends the finalists are scored again
//!    at the current price (one closed, flipped or out of profit since is dropped) and reduced
//!    in that order, each at `min(P_b, entry)` for a short (`max` for a long) instead of the
//!    oracle, by just the units whose haircut covers what is still due: the haircuts add up to
//!    it, never more (each rounded down, in the trader's favour). A position whose account the
//!    haircut would leave liquidatable is passed over;
//! 3. **the LPs**: what is due after a pass that took nothing (no opposite profit left that can
//!    pay) is the vault's LPs' loss, written off the vault's value. A remainder below one
//!    smallest unit of the settlement asset (rounding) goes to them too.
//!
//! ```text
//!   shortfall S ─▶ insurance now (cap) ─▶ queued (one entry a market and side)
//!               ─▶ each block: insurance (cap) ─▶ due = left − what it can pay before the delay
//!               ─▶ ADL pass: rank the whole market, haircut the best, min(due left, theirs)
//!               ─▶ a pass that took nothing: the due part to the LPs
//! ```
//!
//! The queue holds [`MAX_PENDING_SHORTFALLS`] entries, two per market for as many markets as
//! the runtime may list (the runtime checks it); were it ever full, a shortfall of a new
//! market and side would be the LPs' at once (evented as such). [`crate::PositionCloseOuts`]
//! books every step per market: `shortfall = covered + deleveraged + to_lps + pending`.

use crate::{
	positions::usd_units, Config, DeleverageRank, Event, Pallet, Params, Paused, PendingShortfall,
	PendingShortfalls, PositionCloseOuts, PositionTotals, ShortfallsOwed, WeightInfo,
};
use frame_support::BoundedVec;
use frame_support::{pallet_prelude::Weight, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{
	ledger::{Inspect, Mutate},
	Balance, DeficitHandler, PositionLiquidation, UsdValue,
};
use sp_runtime::{
	traits::{CheckedDiv, Saturating, UniqueSaturatedInto, Zero},
	ArithmeticError, DispatchError, FixedU128,
};

/// Most shortfalls waiting at once: one per market and bankrupt side, for up to 16 markets.
pub const MAX_PENDING_SHORTFALLS: u32 = 32;

/// The best candidates a pass of auto-deleveraging keeps from the whole market and reduces when
/// it ends: enough that a pass rarely ends short of what is due (Hyperliquid's largest ADL
/// events reduced tens of accounts a market; a pass that ends short starts another).
pub const MAX_FINALISTS: u32 = 16;

/// Most candidates of one waiting shortfall whose haircut was refused that later passes leave
/// out; beyond them, a pass that takes nothing leaves what is due to the LPs.
pub const MAX_PASSED_OVER: u32 = 32;

/// Most traders of a market auto-deleveraging reads in one block for one shortfall (fewer when
/// the block's spare weight is short): a market with fewer traders is ranked in one block, a
/// larger one over several (dYdX v4 bounds its deleveraging iteration per block the same way).
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
	/// Finalists still candidates when scored again at the end of a pass, and tried.
	pub tried: u32,
}

impl<T: Config> Pallet<T> {
	/// A shortfall at its close-out, of `units` closed on the `bankrupt_long` side (or short):
	/// insurance pays what it can now into the vault, the rest waits, joining its market and
	/// side's entry (the LPs' at once were the queue ever full). Returns what insurance paid
	/// (settlement units), what was queued and what the LPs bore (USD).
	pub(crate) fn take_shortfall(
		who: &T::AccountId,
		underlying: T::AssetId,
		shortfall: UsdValue,
		(asset, vault): (T::AssetId, &T::AccountId),
		(bankrupt_long, units): (bool, FixedU128),
	) -> Result<(Balance, UsdValue, UsdValue), DispatchError> {
		let settlement = (asset, Self::decimals_of(asset));
		let (covered, covered_value) = Self::insure_vault(settlement, vault, shortfall)?;
		let mut left = shortfall.saturating_sub(covered_value);
		let mut queued = UsdValue::zero();
		let mut to_lps = UsdValue::zero();
		if left < Self::one_unit(settlement.1) || units.is_zero() {
			// Rounding below the settlement asset's smallest unit: nothing to recover.
			to_lps = left;
			left = UsdValue::zero();
		}
		if !left.is_zero() {
			let mut queue = PendingShortfalls::<T>::get();
			let now = frame_system::Pallet::<T>::block_number();
			let joined = match queue.iter_mut().find(|entry| {
				entry.underlying == underlying && entry.bankrupt_long == bankrupt_long
			}) {
				Some(entry) => {
					// What was due of it stays due; the delay restarts for the rest, so the
					// newcomer waits its full delay for insurance.
					let due = Self::due_for_deleveraging(entry, settlement).unwrap_or(entry.left);
					entry.overdue = due;
					entry.since = now;
					entry.left = entry.left.saturating_add(left);
					entry.units = entry.units.saturating_add(units);
					Ok(())
				},
				None => queue
					.try_push(PendingShortfall {
						underlying,
						bankrupt_long,
						units,
						left,
						overdue: UsdValue::zero(),
						since: now,
						cursor: None,
						finalists: Default::default(),
						seen: false,
						passed_over: Default::default(),
					})
					.map_err(|_| ()),
			};
			match joined {
				Ok(()) => {
					PendingShortfalls::<T>::put(queue);
					queued = left;
				},
				Err(()) => to_lps = to_lps.saturating_add(left),
			}
		}
		PositionCloseOuts::<T>::mutate(underlying, |totals: &mut PositionTotals| {
			totals.shortfall = totals.shortfall.saturating_add(shortfall);
			totals.covered = totals.covered.saturating_add(covered_value);
			totals.to_lps = totals.to_lps.saturating_add(to_lps);
			totals.pending = totals.pending.saturating_add(queued);
			ShortfallsOwed::<T>::mutate(|owed| *owed = owed.saturating_add(queued));
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

	/// What insurance pays now of `wanted` USD into the vault's deposit, from the fund's
	/// settlement asset within its per-block cap. Returns it in settlement units and USD (at
	/// most `wanted`).
	fn insure_vault(
		(asset, decimals): (T::AssetId, u8),
		vault: &T::AccountId,
		wanted: UsdValue,
	) -> Result<(Balance, UsdValue), DispatchError> {
		let units = usd_units(wanted, decimals)?;
		let coverable = T::Deficit::coverable_now(asset).min(units);
		if coverable.is_zero() {
			return Ok((0, UsdValue::zero()));
		}
		let engine = Self::engine_account();
		let covered = T::Deficit::cover(asset, coverable, &engine);
		if !covered.is_zero() {
			T::Ledger::credit_collateral(&engine, vault, asset, covered)?;
		}
		let value = liquidation_primitives::value_in_usd(covered, decimals, FixedU128::from(1))
			.ok_or(ArithmeticError::Overflow)?
			.min(wanted);
		Ok((covered, value))
	}

	/// The settlement asset's decimals (read once a turn, passed to what needs them).
	pub(crate) fn decimals_of(asset: T::AssetId) -> u8 {
		T::Ledger::risk_weights(asset).map(|weights| weights.decimals).unwrap_or(0)
	}

	/// The USD value of one smallest unit of a settlement asset of `decimals` (one USD a whole
	/// unit): what is left of a shortfall below it is rounding.
	fn one_unit(decimals: u8) -> UsdValue {
		liquidation_primitives::value_in_usd(1, decimals, FixedU128::from(1)).unwrap_or_default()
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
		let base = T::WeightInfo::work_position_shortfall(0, 0);
		let per_trader = T::WeightInfo::work_position_shortfall(1, 0).saturating_sub(base);
		// A pass may end in this turn: room for its finalists' haircuts first.
		let finalists =
			T::WeightInfo::work_position_shortfall(0, MAX_FINALISTS).saturating_sub(base);
		let mut index = 0usize;
		while let Some(entry) = queue.get(index).cloned() {
			let room = remaining.saturating_sub(used);
			let fixed = base.saturating_add(finalists);
			if room.any_lt(fixed.saturating_add(per_trader)) {
				break;
			}
			let scan = room
				.saturating_sub(fixed)
				.checked_div_per_component(&per_trader)
				.unwrap_or(u64::MAX)
				.min(MAX_DELEVERAGE_SCAN.into()) as u32;
			let mut worked = entry.clone();
			let outcome = frame_support::storage::with_storage_layer(|| {
				Self::work_shortfall(&mut worked, scan)
			});
			let worked = match outcome {
				Ok(step) => {
					used.saturating_accrue(T::WeightInfo::work_position_shortfall(
						step.read, step.tried,
					));
					Self::deposit_event(Event::ShortfallWorked {
						underlying: worked.underlying,
						covered: step.covered,
						deleveraged: step.deleveraged,
						to_lps: step.to_lps,
						left: worked.left,
						read: step.read,
					});
					worked
				},
				Err(error) => {
					// Nothing of the turn stays: the entry as it was.
					used.saturating_accrue(fixed);
					log::warn!(target: "runtime::liquidation", "position shortfall: {error:?}");
					entry
				},
			};
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

	/// One block's turn of one waiting shortfall (see the module docs): insurance, then a
	/// window of auto-deleveraging's pass over what is due reading up to `scan` traders (and,
	/// when the pass ends, its finalists' haircuts), then the LPs after a pass that read no
	/// candidate. Updates `entry` and the market's totals.
	pub fn work_shortfall(
		entry: &mut PendingShortfall<T::AssetId, T::AccountId, BlockNumberFor<T>>,
		scan: u32,
	) -> Result<ShortfallStep, DispatchError> {
		let mut step = ShortfallStep::default();
		let (asset, vault) = T::Derivatives::settlement().ok_or(crate::Error::<T>::NoPosition)?;
		let settlement = (asset, Self::decimals_of(asset));
		let (covered, covered_value) = Self::insure_vault(settlement, &vault, entry.left)?;
		step.covered = covered;
		step.covered_value = covered_value;
		entry.left = entry.left.saturating_sub(covered_value);
		entry.overdue = entry.overdue.min(entry.left);
		let due = Self::due_for_deleveraging(entry, settlement)?;
		if !due.is_zero() && scan > 0 {
			Self::deleveraging_window(entry, scan, due, &mut step);
		}
		if !entry.left.is_zero() && entry.left < Self::one_unit(settlement.1) {
			step.to_lps = step.to_lps.saturating_add(entry.left);
			entry.left = UsdValue::zero();
		}
		PositionCloseOuts::<T>::mutate(entry.underlying, |totals: &mut PositionTotals| {
			totals.covered = totals.covered.saturating_add(step.covered_value);
			totals.deleveraged = totals.deleveraged.saturating_add(step.deleveraged);
			totals.to_lps = totals.to_lps.saturating_add(step.to_lps);
			let worked =
				step.covered_value.saturating_add(step.deleveraged).saturating_add(step.to_lps);
			totals.pending = totals.pending.saturating_sub(worked);
			ShortfallsOwed::<T>::mutate(|owed| *owed = owed.saturating_sub(worked));
		});
		Ok(step)
	}

	/// A window of the pass over `due` (see [`Self::work_shortfall`]): its candidates join the
	/// finalists; at the end of the market, the finalists are reduced, and a pass that read no
	/// candidate at all (or refused more than [`MAX_PASSED_OVER`]) leaves `due` to the LPs.
	fn deleveraging_window(
		entry: &mut PendingShortfall<T::AssetId, T::AccountId, BlockNumberFor<T>>,
		scan: u32,
		due: UsdValue,
		step: &mut ShortfallStep,
	) {
		let opposite = !entry.bankrupt_long;
		// A market whose price cannot be used now ranks nothing: the shortfall waits.
		let Ok(window) = T::Derivatives::deleverage_candidates(
			entry.underlying,
			opposite,
			entry.cursor.as_ref(),
			scan,
		) else {
			return;
		};
		step.read = window.read;
		let mut finalists = core::mem::take(&mut entry.finalists).into_inner();
		let fresh: alloc::vec::Vec<_> = window
			.candidates
			.into_iter()
			.filter(|candidate| !entry.passed_over.contains(&candidate.who))
			.map(|candidate| (candidate.who, candidate.score))
			.collect();
		entry.seen |= !fresh.is_empty();
		finalists.extend(fresh);
		finalists.sort_by(|a, b| b.1.cmp(&a.1));
		finalists.truncate(MAX_FINALISTS as usize);
		entry.cursor = window.next;
		if entry.cursor.is_some() {
			// The pass goes on in the next turn.
			entry.finalists = BoundedVec::truncate_from(finalists);
			return;
		}
		let seen = core::mem::take(&mut entry.seen);
		let (tried, taken, refused) = Self::deleverage_finalists(entry, opposite, finalists, due);
		step.tried = tried;
		step.deleveraged = taken;
		entry.left = entry.left.saturating_sub(taken);
		entry.overdue = entry.overdue.saturating_sub(taken);
		if taken.is_zero() {
			// Those refused are left out of the next pass, which reads the market again for
			// the others; a pass that read no candidate (or too many refused) finds no
			// opposite profit that can pay: the due part is the LPs'.
			let room = refused
				.into_iter()
				.try_for_each(|who| entry.passed_over.try_push(who).map_err(|_| ()));
			if !seen || room.is_err() {
				step.to_lps = due.min(entry.left);
				entry.left = entry.left.saturating_sub(step.to_lps);
				entry.overdue = entry.overdue.saturating_sub(step.to_lps);
			}
		}
	}

	/// The end of a pass: the finalists scored again now (those no longer candidates dropped),
	/// best first, each reduced by what is still of `due` at the bankruptcy price of the
	/// entry's units (the oracle moved by `left / units` against them), at most those units
	/// in all. Returns how many were still candidates (and tried), the haircuts taken (at most
	/// `due`) and who refused.
	fn deleverage_finalists(
		entry: &mut PendingShortfall<T::AssetId, T::AccountId, BlockNumberFor<T>>,
		opposite: bool,
		finalists: alloc::vec::Vec<(T::AccountId, FixedU128)>,
		due: UsdValue,
	) -> (u32, UsdValue, alloc::vec::Vec<T::AccountId>) {
		let mut ranked: alloc::vec::Vec<_> = finalists
			.iter()
			.filter_map(|(who, _)| {
				T::Derivatives::deleverage_candidate(who, entry.underlying, opposite)
			})
			.collect();
		ranked.sort_by(|a, b| b.score.cmp(&a.score));
		let tried = ranked.len() as u32;
		let mut still_due = due;
		let mut left = entry.left;
		let mut refused = alloc::vec::Vec::new();
		for candidate in ranked {
			if still_due.is_zero() || entry.units.is_zero() {
				break;
			}
			// The shortfall a bankrupt unit: how far beyond the oracle they went bankrupt. A
			// haircut takes at most that a unit, so at most the entry's units are reduced.
			let Some(gap) = left.checked_div(&entry.units) else { break };
			// All or nothing: a haircut refused changes nothing, and the next one pays.
			match T::Derivatives::deleverage(
				&candidate.who,
				entry.underlying,
				opposite,
				gap,
				still_due,
			) {
				Ok((haircut, units)) => {
					let haircut = haircut.min(still_due);
					still_due = still_due.saturating_sub(haircut);
					left = left.saturating_sub(haircut);
					entry.units = entry.units.saturating_sub(units);
				},
				Err(_) => refused.push(candidate.who),
			}
		}
		(tried, due.saturating_sub(still_due), refused)
	}

	/// What of a waiting shortfall is due for auto-deleveraging now: what was overdue when a
	/// later shortfall joined, or what the fund cannot pay from its own settlement asset
	/// before the engine's `socialize_after_blocks` delay ends (from when the last one
	/// joined), whichever is more; all of what is left once the delay has passed.
	fn due_for_deleveraging(
		entry: &PendingShortfall<T::AssetId, T::AccountId, BlockNumberFor<T>>,
		(asset, decimals): (T::AssetId, u8),
	) -> Result<UsdValue, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let delay = Params::<T>::get().map_or(0, |params| params.socialize_after_blocks);
		let due_at = entry.since.saturating_add(delay.into());
		if now >= due_at {
			return Ok(entry.left);
		}
		let blocks_left: u32 = due_at.saturating_sub(now).unique_saturated_into();
		// This block's cover has been paid: the capacity of the blocks after it, from what the
		// fund holds of the settlement asset (a perpetual shortfall makes no sales).
		let capacity = T::Deficit::own_capacity(asset, blocks_left.saturating_sub(1));
		let capacity_value =
			liquidation_primitives::value_in_usd(capacity, decimals, FixedU128::from(1))
				.ok_or(ArithmeticError::Overflow)?;
		Ok(entry.left.saturating_sub(capacity_value).max(entry.overdue.min(entry.left)))
	}

	/// Auto-deleveraging's ranking now of the positions on the `long` side (or short) of
	/// `underlying`'s market (the first window of its traders, at most
	/// [`MAX_DELEVERAGE_SCAN`]), best first, with what deleveraging would take from each for
	/// the shortfall waiting opposite it in that market, were all of it due now. Runs the
	/// haircuts and undoes them (runtime API). Empty when the market's price cannot be used.
	pub fn deleveraging_preview(
		underlying: T::AssetId,
		long: bool,
	) -> alloc::vec::Vec<DeleverageRank<T::AccountId>> {
		let waiting = PendingShortfalls::<T>::get()
			.into_iter()
			.find(|entry| entry.underlying == underlying && entry.bankrupt_long != long);
		let (mut left, mut units) = waiting
			.map_or((UsdValue::zero(), FixedU128::zero()), |entry| (entry.left, entry.units));
		frame_support::storage::with_transaction(|| {
			let ranked =
				T::Derivatives::deleverage_candidates(underlying, long, None, MAX_DELEVERAGE_SCAN)
					.map(|window| window.candidates)
					.unwrap_or_default()
					.into_iter()
					.map(|candidate| {
						let taken =
							left.checked_div(&units).filter(|_| !left.is_zero()).and_then(|gap| {
								T::Derivatives::deleverage(
									&candidate.who,
									underlying,
									long,
									gap,
									left,
								)
								.ok()
							});
						let haircut = match taken {
							Some((haircut, closed)) => {
								let haircut = haircut.min(left);
								left = left.saturating_sub(haircut);
								units = units.saturating_sub(closed);
								haircut
							},
							None => UsdValue::zero(),
						};
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

/// What the vault is owed for the shortfalls waiting in [`PendingShortfalls`], USD
/// ([`crate::ShortfallsOwed`], one small value): the perpetuals pallet's `ShortfallReceivable`
/// (counted in the vault's value until recovered or left to the LPs).
pub struct PendingShortfallTotal<T>(core::marker::PhantomData<T>);

impl<T: Config> Get<UsdValue> for PendingShortfallTotal<T> {
	fn get() -> UsdValue {
		ShortfallsOwed::<T>::get()
	}
}
