//! The off-chain worker: finds liquidatable accounts and submits unsigned liquidations, then
//! with the room left the accounts due for predictive de-risking and submits their slices.

use crate::{invalid, Call, Config, Pallet, WeightInfo as _};
use alloc::vec::Vec;
use frame_support::{dispatch::DispatchClass, traits::Get, weights::Weight};
use frame_system::{
	offchain::{CreateBare, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use liquidation_primitives::{ledger::Inspect as _, PositionLiquidation as _, UsdValue};
use sp_runtime::offchain::{
	storage::StorageValueRef,
	storage_lock::{StorageLock, Time},
	Duration,
};
use sp_runtime::Saturating as _;

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
	/// price moves could have pushed under), and submit the liquidatable ones in batches
	/// ([`Pallet::liquidate_unsigned_batch`]), worst shortfall first, as many as one block's
	/// weight holds, at most `MaxUnsignedPerBlock`, and only those whose liquidation succeeds
	/// when the next block is planned with them (see [`Self::plan_worker_batches`]): no more
	/// than its caps on liquidated value take. Then, when every
	/// liquidatable account found was submitted and de-risking is switched on, with the slots
	/// left: read up to `ScanBatch` indebted accounts after a second cursor and submit an
	/// unsigned de-risking for each one due, largest excess of value at risk over buffer first
	/// (see [`Self::submit_deriskings`]). Returns how many were submitted.
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
		// The next block planned: each account's liquidation run against what those chosen
		// before it leave, and all of it undone afterwards.
		let plan = Self::planning_next_block(|| Self::plan_worker_batches(found));
		let Some(plan) = plan else {
			log::warn!(target: "runtime::liquidation", "worker at {now:?}: no storage layer to plan in");
			return 0;
		};
		let mut submitted = 0u32;
		for batch in plan.batches {
			submitted = submitted.saturating_add(Self::submit_batch(now, batch));
		}
		// Read again only when this run submitted some of it: a page the pool refuses in full
		// (all pending, or failing) must not hold the walk.
		if !plan.page_left || submitted == 0 {
			match &next {
				Some(next) => cursor_ref.set(next),
				None => cursor_ref.clear(),
			}
		}
		// De-risking only when every liquidatable account found was submitted: one left waiting
		// (every auction slot taken, no room left in the block) keeps the slots, the caps and the
		// block's weight for liquidations. One the pool refused is already pending: not waiting.
		if !plan.held_back {
			let room =
				Self::derisk_room(plan.offered, Self::worker_budget().saturating_sub(plan.used));
			submitted = submitted.saturating_add(Self::submit_deriskings(now, room));
		}
		submitted
	}

	/// The worker's choice for the next block from `found` (liquidatable accounts, worst
	/// first), to run in [`Self::planning_next_block`]: each account checked as validation
	/// checks it, after those chosen before it, with its effects kept
	/// ([`Self::check_unsigned_kept`]), and put in a batch ([`crate::batch`]) while the block
	/// could still take it: a batch holds at most `MaxUnsignedBatch` accounts and must find
	/// what it declares free after what the batches before it are likely left charged (what
	/// a block checks before dispatching it). What the block then cannot take (keepers' calls
	/// go first) waits in the pool for the next. Public so that tools can model the worker.
	pub fn plan_worker_batches(found: Vec<(T::AccountId, UsdValue)>) -> WorkerPlan<T::AccountId> {
		let mut plan = WorkerPlan {
			batches: Vec::new(),
			held_back: false,
			page_left: false,
			used: Weight::zero(),
			offered: 0,
			refused: Vec::new(),
		};
		// The open batch: its accounts, what it declares and what it is likely left charged,
		// and what it touched so far.
		let mut batch: Vec<T::AccountId> = Vec::new();
		let mut batch_declared = Self::batch_base_weight();
		let mut batch_expected = Self::batch_base_weight();
		let mut keys = crate::batch::BatchKeys::default();
		// Every transaction also costs the block its base weight.
		let base = <T as frame_system::Config>::BlockWeights::get()
			.get(DispatchClass::Normal)
			.base_extrinsic;
		let budget = Self::worker_budget();
		let fits = |used: Weight, declared: Weight| {
			budget.all_gte(used.saturating_add(declared).saturating_add(base))
		};
		for (who, shortfall) in found {
			if plan.offered >= T::MaxUnsignedPerBlock::get() {
				plan.held_back = true;
				plan.page_left = true;
				break;
			}
			// As a batch declares it (see `liquidate_unsigned_batch_weight`).
			let declared = Self::liquidate_unsigned_weight(&who)
				.saturating_add(T::DbWeight::get().reads(crate::batch::READS_BEFORE));
			// In the open batch while it has room and the block could still take it whole; else
			// in a new one after it, if the block could take that.
			let in_open = (batch.len() as u32) < T::MaxUnsignedBatch::get()
				&& fits(plan.used, batch_declared.saturating_add(declared));
			let closed_used = plan.used.saturating_add(batch_expected).saturating_add(base);
			if !in_open && !fits(closed_used, Self::batch_base_weight().saturating_add(declared)) {
				plan.held_back = true;
				plan.page_left = true;
				break;
			}
			// Whether it would be charged a share of the batch (see `batch`): what can be known
			// before its liquidation runs.
			let (assets, debts, plain) = Self::share_profile(&who);
			let pair = if plain { Self::largest_positions(&who) } else { None };
			// What validation checks, run as the next block would, after those chosen before it,
			// keeping what it did. This saves submissions the pool would refuse (while the engine
			// is paused; while every auction slot is taken, all but the bankrupt accounts', whose
			// waterfall needs none; a liquidation that would fail) and those beyond the next
			// block's caps, which the pool would keep unapplied.
			match Self::check_unsigned_kept(&who) {
				Ok(_) => {},
				// No room: auction slots or the caps. The page is read again when this run
				// submitted some of it (it may have taken the room).
				Err(code @ (invalid::AUCTIONS_FULL | invalid::CAPS_FULL)) => {
					plan.held_back = true;
					plan.page_left = true;
					plan.refused.push((who, code));
					continue;
				},
				Err(invalid::PAUSED) => {
					plan.held_back = true;
					plan.refused.push((who, invalid::PAUSED));
					continue;
				},
				// Healthy once those before it are liquidated, or failing: not submitted, as the
				// pool would refuse it, and not held back (a failure that lasts must not hold the
				// walk on this page).
				Err(code) => {
					log::debug!(
						target: "runtime::liquidation",
						"worker: the liquidation of {who:?} (shortfall {shortfall:?}) would be refused ({code})"
					);
					plan.refused.push((who, code));
					continue;
				},
			}
			if !in_open {
				plan.batches.push(core::mem::take(&mut batch));
				plan.used = closed_used;
				batch_declared = Self::batch_base_weight();
				batch_expected = Self::batch_base_weight();
				keys = crate::batch::BatchKeys::default();
			}
			// The worker does not see which path validation's run took: one that may share every
			// key with those before it is taken to be auctioned for its largest debt and
			// collateral, in tokens, re-filed (the upper figure), its backed debt, if re-counted,
			// re-counted before.
			let shared = pair.is_some_and(|pair| keys.covers(&assets, pair, &[]));
			let class = crate::batch::ShareClass::of(assets.len(), debts.len());
			let held = assets.len() as u64;
			keys.record(assets, pair, Vec::new());
			let expected = if shared {
				Self::batch_share_weight(class).saturating_add(Self::refiling_beyond(class, held))
			} else {
				// Its path alone, and the batch's reads of it before its liquidation.
				Self::liquidate_unsigned_expected_weight(&who)
					.saturating_add(T::DbWeight::get().reads(crate::batch::READS_BEFORE))
			};
			plan.offered = plan.offered.saturating_add(1);
			batch.push(who);
			batch_declared = batch_declared.saturating_add(declared);
			batch_expected = batch_expected.saturating_add(expected);
		}
		if !batch.is_empty() {
			plan.batches.push(batch);
			plan.used = plan.used.saturating_add(batch_expected).saturating_add(base);
		}
		plan
	}

	/// Offers `accounts` to the pool as one batch; how many accounts the pool took (all or
	/// none).
	fn submit_batch(now: BlockNumberFor<T>, accounts: Vec<T::AccountId>) -> u32 {
		let count = accounts.len() as u32;
		let Ok(accounts) = frame_support::BoundedVec::try_from(accounts) else { return 0 };
		let call = Call::<T>::liquidate_unsigned_batch { accounts, found_at: now };
		let xt = <T as CreateBare<Call<T>>>::create_bare(call.into());
		match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
			Ok(()) => count,
			// Refused (the fork-aware pool reports none): a batch of an earlier run liquidating
			// one of them is still pending at an equal or higher priority. The others wait for
			// the next run, which plans them again once that batch is included.
			Err(()) => {
				log::debug!(
					target: "runtime::liquidation",
					"worker at {now:?}: the pool refused a batch of {count}"
				);
				0
			},
		}
	}

	/// The weight of one block's transactions the worker submits in a run: the block's whole
	/// normal-class weight (75 % of a 2 s block on the dev chain). Signed transactions, keepers'
	/// liquidations among them, go into a block first (a higher priority); what the worker
	/// submitted that does not fit waits in the pool for the next block (valid for
	/// `UnsignedLongevity`), so submitting more than a block holds would only cost validations.
	pub fn worker_budget() -> Weight {
		let weights = <T as frame_system::Config>::BlockWeights::get();
		weights.get(DispatchClass::Normal).max_total.unwrap_or(weights.max_block)
	}

	/// The weight a block reserves for the worker's liquidation of `who` before dispatch (its
	/// declared weight: the costliest path, and the block's check, see
	/// [`Pallet::liquidate_unsigned`]).
	pub fn liquidate_unsigned_weight(who: &T::AccountId) -> Weight {
		Self::unsigned_weight_for(who).saturating_add(Self::unsigned_check_weight())
	}

	/// What the block is likely left charged for the worker's liquidation of `who` after the
	/// refund: the path it takes now, the read that chose its bound, and the block's check of
	/// the account. An account with derivative positions has one closed against the vault; any
	/// other is auctioned, or, when bankrupt, settled by the waterfall over the positions it
	/// holds (the larger of the two).
	pub fn liquidate_unsigned_expected_weight(who: &T::AccountId) -> Weight {
		let path = if T::Derivatives::holds_positions(who) {
			T::WeightInfo::backstop_position()
		} else {
			let positions = T::Ledger::positions_of(who).len().try_into().unwrap_or(u32::MAX);
			T::WeightInfo::liquidate_unsigned().max(T::WeightInfo::settle_bankrupt(positions))
		};
		Self::with_unsigned_check(path)
	}

	/// What the worker's liquidation is charged for `path`, the path it took: the path, the
	/// storage read that chose its declared bound, and the block's check of the account before
	/// dispatch ([`Pallet::check_unsigned_in_block`]).
	pub(crate) fn with_unsigned_check(path: Weight) -> Weight {
		path.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(Self::unsigned_check_weight())
	}

	/// The block's check of the worker's liquidation before dispatch, its costlier branch: an
	/// account without derivative positions (its bankruptcy read when the caps or the auction
	/// slots are full), or one with them (its positions at risk read).
	pub fn unsigned_check_weight() -> Weight {
		T::WeightInfo::check_unsigned_in_block()
			.max(T::WeightInfo::check_unsigned_in_block_positions())
	}

	/// How many de-riskings fit after `liquidations` submitted liquidations: the unsigned
	/// transactions left under `MaxUnsignedPerBlock`, and the worker's budget `left` divided by
	/// a de-risking's declared weight.
	pub fn derisk_room(liquidations: u32, left: Weight) -> u32 {
		let by_count = T::MaxUnsignedPerBlock::get().saturating_sub(liquidations);
		let by_weight =
			left.checked_div_per_component(&Self::derisk_unsigned_weight()).unwrap_or(0);
		by_count.min(by_weight.try_into().unwrap_or(u32::MAX))
	}

	/// The worker's de-riskings, at most `room`: how many it submitted (see
	/// [`Self::worker_derisk_page`]).
	fn submit_deriskings(now: BlockNumberFor<T>, room: u32) -> u32 {
		if room == 0 || !Self::engine_running() {
			return 0;
		}
		let mut cursor_ref = StorageValueRef::persistent(DERISK_CURSOR_KEY);
		let cursor: Option<T::AccountId> = cursor_ref.get().ok().flatten();
		let (chosen, next) = Self::worker_derisk_page(cursor, room);
		match &next {
			Some(next) => cursor_ref.set(next),
			None => cursor_ref.clear(),
		}
		let mut submitted = 0u32;
		for (who, excess) in chosen {
			let call = Call::<T>::derisk_unsigned { who: who.clone(), found_at: now };
			let xt = <T as CreateBare<Call<T>>>::create_bare(call.into());
			match SubmitTransaction::<T, Call<T>>::submit_transaction(xt) {
				Ok(()) => submitted = submitted.saturating_add(1),
				// Refused (a liquidation of it pending, the slice failing): not held for.
				Err(()) => log::debug!(
					target: "runtime::liquidation",
					"worker at {now:?}: the pool refused the de-risking of {who:?} (excess {excess:?})"
				),
			}
		}
		submitted
	}

	/// The worker's choice of de-riskings in one run: it reads a page of `ScanBatch` indebted
	/// accounts after `start_after` and chooses, of those due, the `room` with the largest
	/// excess of value at risk over buffer whose slice would succeed now (a due account whose
	/// slice fails, on the DEX's floor or a paused asset, is passed over as if served: it cannot
	/// hold the walk). Returns them and where the next run resumes: just before the first due
	/// account (in the page's order) it had no room for, so that none is passed over; after the
	/// page when it had room for every one (`None`: the walk is complete). Nothing when
	/// de-risking is off. Public so that tools can model the worker.
	pub fn worker_derisk_page(
		start_after: Option<T::AccountId>,
		room: u32,
	) -> (Vec<(T::AccountId, UsdValue)>, Option<T::AccountId>) {
		use liquidation_primitives::ledger::RiskScan as _;
		let Some(params) = crate::DeriskParamsOf::<T>::get() else { return (Vec::new(), None) };
		let limit = T::ScanBatch::get();
		let page = T::Ledger::indebted_accounts(start_after.as_ref(), limit);
		let complete = (page.len() as u32) < limit;
		let mut due: Vec<(usize, UsdValue)> = page
			.iter()
			.enumerate()
			.filter_map(|(index, who)| {
				let report = Self::risk_report(who, Some(params)).ok()?;
				report.due.then(|| (index, report.value_at_risk.saturating_sub(report.buffer)))
			})
			.collect();
		due.sort_by(|a, b| b.1.cmp(&a.1));
		let room = room as usize;
		let mut chosen: Vec<(T::AccountId, UsdValue)> = Vec::new();
		let mut first_left: Option<usize> = None;
		for (index, excess) in due {
			let Some(who) = page.get(index) else { continue };
			if chosen.len() >= room {
				first_left = Some(first_left.map_or(index, |first| first.min(index)));
			} else if Self::check_derisk_unsigned(who).is_ok() {
				chosen.push((who.clone(), excess));
			}
		}
		let next = match first_left {
			Some(0) => start_after,
			Some(index) => page.get(index.saturating_sub(1)).cloned(),
			None if complete => None,
			None => page.last().cloned(),
		};
		(chosen, next)
	}
}

/// The worker's choice for the next block ([`Pallet::plan_worker_batches`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WorkerPlan<AccountId> {
	/// The batches to submit, in order, each liquidating its accounts in order.
	pub batches: Vec<Vec<AccountId>>,
	/// Whether a liquidatable account was left for want of room (the block's weight, the
	/// caps, auction slots, the bound on accounts) or because the engine is paused: de-risking
	/// then waits.
	pub held_back: bool,
	/// Whether accounts of this page were left for want of room: the next run reads the page
	/// again.
	pub page_left: bool,
	/// What the batches are likely to leave the block charged.
	pub used: Weight,
	/// Accounts in the batches.
	pub offered: u32,
	/// Accounts the check refused, with its code ([`crate::invalid`]). Those after the last
	/// one in a batch that are in neither list were left for want of room.
	pub refused: Vec<(AccountId, u8)>,
}
