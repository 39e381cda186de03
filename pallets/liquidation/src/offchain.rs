//! The off-chain worker: finds liquidatable accounts and submits unsigned liquidations, then
//! with the room left the accounts due for predictive de-risking and submits their slices.

use crate::{Call, Config, Pallet};
use frame_support::traits::Get;
use frame_system::{
	offchain::{CreateBare, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use liquidation_primitives::CollateralAuction;
use sp_runtime::offchain::{
	storage::StorageValueRef,
	storage_lock::{StorageLock, Time},
	Duration,
};

/// Offchain storage key of the lock that keeps two runs from overlapping.
const LOCK_KEY: &[u8] = b"liquidation-engine/worker-lock";
/// Offchain storage key of where the next run's walk of the risk index resumes.
const CURSOR_KEY: &[u8] = b"liquidation-engine/worker-cursor";
/// Offchain storage key of where the next run's walk of the indebted accounts for de-risking
/// resumes.
const DERISK_CURSOR_KEY: &[u8] = b"liquidation-engine/derisk-cursor";

impl<T: Config> Pallet<T> {
	/// One run (unless one ran less than `WorkerLockMillis` ago): read up to `ScanBatch`
	/// accounts at risk from the ledger's risk index after the stored cursor (only those the
	/// price moves could have pushed under), and submit an unsigned liquidation for each
	/// liquidatable one, worst shortfall first, at most `MaxUnsignedPerBlock`. Then, with the
	/// slots left and de-risking switched on, read up to `ScanBatch` indebted accounts after a
	/// second cursor and submit an unsigned de-risking for each one due, largest excess of value
	/// at risk over buffer first (liquidations come first: de-risking only uses what they
	/// leave, and the pool orders every liquidation before it). Returns how many were submitted.
	pub(crate) fn run_worker(now: BlockNumberFor<T>) -> u32 {
		let mut lock = StorageLock::<Time>::with_deadline(
			LOCK_KEY,
			Duration::from_millis(T::WorkerLockMillis::get()),
		);
		let Ok(guard) = lock.try_lock() else {
			log::debug!(target: "runtime::liquidation", "worker at {now:?}: a recent run holds the lock");
			return 0;
		};
		// Held until its deadline, not just for this run: a run started again within
		// `WorkerLockMillis` (a re-executed block, an overlapping import) submits nothing twice.
		guard.forget();
		let mut cursor_ref = StorageValueRef::persistent(CURSOR_KEY);
		let cursor: Option<crate::CursorOf<T>> = cursor_ref.get().ok().flatten();
		let (found, next) = Self::due_accounts(cursor.as_ref(), T::ScanBatch::get());
		match &next {
			Some(next) => cursor_ref.set(next),
			None => cursor_ref.clear(),
		}
		let auction_room = T::Auctions::has_capacity();
		let mut submitted = 0u32;
		for (who, shortfall) in found {
			if submitted >= T::MaxUnsignedPerBlock::get() {
				break;
			}
			// Health was just checked; the pool re-checks everything anyway (it runs the
			// liquidation and undoes it), this saves submissions it would refuse: while the
			// engine is paused, and while every auction slot is taken, all but the bankrupt
			// accounts' (the waterfall needs none).
			if !Self::engine_running() || !Self::unsigned_can_act(&who, auction_room) {
				continue;
			}
			let call = Call::<T>::liquidate_unsigned { who: who.clone() };
			let xt = <T as CreateBare<Call<T>>>::create_bare(call.into());
			match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
				Ok(()) => submitted = submitted.saturating_add(1),
				Err(()) => log::debug!(
					target: "runtime::liquidation",
					"worker at {now:?}: the pool refused the liquidation of {who:?} (shortfall {shortfall:?})"
				),
			}
		}
		submitted.saturating_add(Self::submit_deriskings(now, submitted))
	}

	/// The worker's de-riskings after `liquidations` submitted in this run: how many it
	/// submitted.
	fn submit_deriskings(now: BlockNumberFor<T>, liquidations: u32) -> u32 {
		let room = T::MaxUnsignedPerBlock::get().saturating_sub(liquidations);
		if room == 0 || crate::DeriskParamsOf::<T>::get().is_none() || !Self::engine_running() {
			return 0;
		}
		let mut cursor_ref = StorageValueRef::persistent(DERISK_CURSOR_KEY);
		let cursor: Option<T::AccountId> = cursor_ref.get().ok().flatten();
		let (due, next) = Self::derisk_candidates(cursor, T::ScanBatch::get());
		match &next {
			Some(next) => cursor_ref.set(next),
			None => cursor_ref.clear(),
		}
		let mut submitted = 0u32;
		for (who, excess) in due {
			if submitted >= room {
				break;
			}
			let call = Call::<T>::derisk_unsigned { who: who.clone() };
			let xt = <T as CreateBare<Call<T>>>::create_bare(call.into());
			match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
				Ok(()) => submitted = submitted.saturating_add(1),
				Err(()) => log::debug!(
					target: "runtime::liquidation",
					"worker at {now:?}: the pool refused the de-risking of {who:?} (excess {excess:?})"
				),
			}
		}
		submitted
	}
}
