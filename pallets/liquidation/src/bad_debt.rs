//! The bad-debt queue: insurance before socialization.
//!
//! A bankrupt account's debt is written off into its pool's bad debt. The insurance fund pays
//! what its per-block cap allows in that block; what is left *waits* in the pool (the pool counts
//! it as an asset, so the lenders' claims are whole) and the fund pays more of it at the start of
//! every following block (`Pallet::work_bad_debt_queue`, from `on_initialize`). Only two things
//! socialize bad debt over the lenders:
//!
//! - **beyond the fund**: what the funds cannot pay before the delay ends (all they hold in the
//!   asset and, by DEX purchases, in the others, and no more than the per-block cap allows in
//!   the blocks left: [`liquidation_primitives::DeficitHandler::capacity`]) is socialized at
//!   once, so lenders do not wait for a loss that is certain, and none of them can leave before
//!   it lands;
//! - **the delay**: what the fund has not covered [`crate::EngineParams::socialize_after_blocks`]
//!   after the asset's queue started waiting (a governed bound on how long lenders may be kept
//!   from a loss; a fund drained by other debts cannot keep it open forever).
//!
//! Stakers of the asset's fund who leave while bad debt waits leave their part of it behind
//! (`pallet-insurance` reads the queue through [`liquidation_primitives::QueuedBadDebt`]). The
//! other funds' purchases are made only here, at the start of a block, never inside a
//! transaction. While the engine or the asset is paused the queue waits (the delay still runs:
//! once resumed, what is due is socialized).
//!
//! ```text
//!   write-off w ─▶ cover now: c0 = min(w, cap left this block, fund in the asset)
//!               ─▶ socialize now: max(0, queued − capacity over the blocks left to the delay)
//!               ─▶ queued q ─▶ every block: the fund, then purchases by the other funds, within
//!                             the cap ─▶ after the delay: socialize what is left
//! ```
//!
//! [`crate::LiquidationTotals`] books each step per asset (`written_off = covered + socialized +
//! still queued`, `covered_later` the part of `covered` paid from the queue, `most_queued`), and
//! [`crate::Event::BadDebtQueueWorked`] each block's.

use crate::{
	BadDebtQueueCursor, BadDebtQueuedSince, Config, Event, Pallet, Params, Paused, Totals,
	WeightInfo,
};
use frame_support::{pallet_prelude::Weight, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{ledger::BadDebt as _, Balance, DeficitHandler, LossSocializer};
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto, Zero},
	DispatchError,
};

/// Most assets whose queue `on_initialize` works in one block; the next block resumes after the
/// last one worked ([`crate::BadDebtQueueCursor`]), so every queue is worked in turn.
pub const MAX_QUEUES_PER_BLOCK: u32 = 8;

/// What one step of the waterfall did in one asset.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct WaterfallStep {
	/// Paid by insurance in this step.
	pub covered: Balance,
	/// Spread over the lenders in this step.
	pub socialized: Balance,
	/// Left waiting for insurance.
	pub queued: Balance,
}

impl<T: Config> Pallet<T> {
	/// Covers what the fund can pay of `asset`'s bad debt in this block and socializes what is
	/// due (beyond the fund, or past the delay); queues the rest. Books the totals (not the
	/// write-off).
	/// `purchases`: whether the other funds may buy the asset for it (only at the start of a
	/// block).
	pub(crate) fn run_waterfall(
		asset: T::AssetId,
		purchases: bool,
	) -> Result<WaterfallStep, DispatchError> {
		let now = frame_system::Pallet::<T>::block_number();
		let outstanding = T::Ledger::bad_debt(asset);
		let mut step = WaterfallStep::default();
		if outstanding.is_zero() {
			BadDebtQueuedSince::<T>::remove(asset);
			return Ok(step);
		}
		let since = BadDebtQueuedSince::<T>::get(asset);
		let engine = Self::engine_account();
		let coverable = T::Deficit::coverable_now(asset).min(outstanding);
		if !coverable.is_zero() {
			let paid = T::Deficit::cover(asset, coverable, &engine);
			step.covered = T::Ledger::settle_bad_debt(asset, &engine, paid)?;
		}
		let left = outstanding.saturating_sub(step.covered);
		if purchases && !left.is_zero() {
			let paid = T::Deficit::cover_by_sales(asset, left, &engine);
			let settled = T::Ledger::settle_bad_debt(asset, &engine, paid)?;
			step.covered = step.covered.saturating_add(settled);
		}
		let left = outstanding.saturating_sub(step.covered);
		let delay = Params::<T>::get().map_or(0, |params| params.socialize_after_blocks);
		let due_at = since.unwrap_or(now).saturating_add(delay.into());
		let due = if now >= due_at {
			left
		} else {
			// What the funds cannot pay in the blocks left to the delay is certain loss now.
			let blocks_left: u32 = due_at.saturating_sub(now).unique_saturated_into();
			left.saturating_sub(T::Deficit::capacity(asset, blocks_left.saturating_sub(1)))
		};
		if !due.is_zero() {
			step.socialized = T::Socializer::socialize(asset, due)?;
		}
		step.queued = T::Ledger::bad_debt(asset);
		if step.queued.is_zero() {
			BadDebtQueuedSince::<T>::remove(asset);
		} else if since.is_none() {
			BadDebtQueuedSince::<T>::insert(asset, now);
		}
		let later = since.is_some_and(|since| since < now);
		Totals::<T>::mutate(asset, |totals| {
			totals.covered = totals.covered.saturating_add(step.covered);
			totals.socialized = totals.socialized.saturating_add(step.socialized);
			if later {
				totals.covered_later = totals.covered_later.saturating_add(step.covered);
			}
			totals.most_queued = totals.most_queued.max(step.queued);
		});
		Ok(step)
	}

	/// Works the queue of every asset with bad debt waiting (at most
	/// [`MAX_QUEUES_PER_BLOCK`]): what the fund can pay this block, and what is due for
	/// socialization. Returns the weight used.
	pub(crate) fn work_bad_debt_queue(now: BlockNumberFor<T>) -> Weight {
		let db = T::DbWeight::get();
		let mut weight = db.reads_writes(2, 1);
		let limit = MAX_QUEUES_PER_BLOCK as usize;
		let cursor = BadDebtQueueCursor::<T>::get();
		let mut queued: alloc::vec::Vec<T::AssetId> = match cursor {
			Some(last) => BadDebtQueuedSince::<T>::iter_keys_from(
				BadDebtQueuedSince::<T>::hashed_key_for(last),
			)
			.take(limit)
			.collect(),
			None => alloc::vec::Vec::new(),
		};
		// Wrap around to the start of the map for the rest of the block's turn.
		for asset in BadDebtQueuedSince::<T>::iter_keys() {
			if queued.len() >= limit || queued.contains(&asset) {
				break;
			}
			queued.push(asset);
		}
		match queued.last() {
			Some(last) => BadDebtQueueCursor::<T>::put(last),
			None => {
				BadDebtQueueCursor::<T>::kill();
				return weight;
			},
		}
		for asset in queued {
			// A write-off, its cover and its socialization, as for one bankrupt position.
			weight.saturating_accrue(T::WeightInfo::settle_bankrupt(1));
			// Queued in this block already (a write-off before this hook): that step ran.
			if BadDebtQueuedSince::<T>::get(asset) == Some(now) {
				continue;
			}
			// The waterfall waits while the engine or the asset is paused.
			if Paused::<T>::get() || Self::is_paused(asset) {
				continue;
			}
			let result =
				frame_support::storage::with_storage_layer(|| Self::run_waterfall(asset, true));
			match result {
				Ok(step) if step != WaterfallStep::default() => {
					if !step.covered.is_zero() || !step.socialized.is_zero() {
						Self::deposit_event(Event::BadDebtQueueWorked {
							asset,
							covered: step.covered,
							socialized: step.socialized,
							queued: step.queued,
						});
					}
				},
				Ok(_) => {},
				Err(error) => {
					log::warn!(target: "runtime::liquidation", "bad debt queue of {asset:?}: {error:?}");
				},
			}
		}
		weight
	}

	/// Bad debt waiting for insurance in `asset`, and since when.
	pub fn queued_bad_debt(asset: T::AssetId) -> (Balance, Option<BlockNumberFor<T>>) {
		(T::Ledger::bad_debt(asset), BadDebtQueuedSince::<T>::get(asset))
	}
}

impl<T: Config> liquidation_primitives::QueuedBadDebt<T::AssetId, Balance> for Pallet<T> {
	fn queued(asset: T::AssetId) -> Balance {
		T::Ledger::bad_debt(asset)
	}
}
