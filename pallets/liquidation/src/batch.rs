//! The worker's batches: many accounts' unsigned liquidations in one transaction.
//!
//! A transaction's weight counts each storage key it reads and writes once, whatever the
//! transactions before it in the block touched. Accounts liquidated alike touch mostly the
//! same keys: the engine's parameters and caps, the auction pallet's counters, and for each
//! asset its market, prices, pool and custody accounts, insurance fund and totals. An auction
//! liquidation of a two-position account reads some 60 keys and writes 16 (see
//! `WeightInfo::liquidate_unsigned`), of which it shares all but about a dozen reads and four
//! writes (its portfolio, its list of auctions, the new auction and its dues) with any other
//! account auctioned for the same two assets. One by one, each pays for all of them; in one
//! batch the first pays for the shared keys and each next one only for its own.
//!
//! **Charging by what was shared.** Two batch benchmarks liquidate `n` accounts alike on the
//! costliest branch an auction takes for their shape, filed in the risk index against real
//! references, each so deep that its lot is its whole deposit (the debts it backed re-counted,
//! its entry re-filed without the collateral): `liquidate_unsigned_batch(n)` accounts with a
//! deposit and the most debts an account may hold (15 index keys written each), and
//! `liquidate_unsigned_batch_one_debt(n)` accounts with one deposit and one debt, the commonest
//! shape (3 index keys). A slope is what one more such account costs once the shared keys are
//! read; the larger intercept, what the batch costs beyond its accounts. An account holding at
//! most two assets, at most one of them owed, is charged the one-debt slope ([`ShareClass`]),
//! any other the most-debts slope; and only when the batch already read what it shares:
//! - it was auctioned for the same debt and collateral assets as an account liquidated before
//!   it in the batch, and holds no asset that no account liquidated before it held;
//! - it holds no derivative position, is owed no profit by the vault (either files it with
//!   its exposure, in one list more, reading the markets' keys) and had no auction running
//!   (whose keys its health reads);
//! - its lot was seized in tokens (the deposit position moved to the custody instead writes the
//!   custody's portfolio);
//! - when its lot was its whole deposit, an account before it had the backed debt of the same
//!   collateral and each of its debts re-counted;
//! - when its liquidation re-filed it in the risk index
//!   ([`liquidation_primitives::ledger::RiskScan::risk_filing`] before and after tells), what a
//!   re-filing may cost beyond the benchmark's (its accounts are filed against real references
//!   and re-filed within the current slot): the size of a slot it leaves and that slot's
//!   references, and a key more for each asset it keeps.
//!
//! Any other is charged its path alone, as [`Pallet::liquidate_unsigned`] would be, and the
//! block's check of it; one the check refuses, the check; one whose liquidation fails, its
//! declared bound.
//!
//! **Validated once.** The pool runs the whole batch (each account after those before it) and
//! undoes it, and takes the batch only if every account succeeds
//! ([`Pallet::check_unsigned_batch`]); when it re-validates the batch after a block in which a
//! keeper liquidated one of its accounts, it drops the whole batch, and the worker's next run
//! (after the same block) submits the others again. The block then checks each account before
//! liquidating it ([`Pallet::check_unsigned_in_block`]: what the block's earlier transactions
//! may have changed) and passes over one it refuses, without running the batch a second time;
//! the batch is then included, and an account passed over waits for the worker's next run.

use crate::{
	invalid, Config, Event, OwnerAuctions, Pallet, Params, Paused, UnsignedOutcome, WeightInfo as _,
};
use alloc::{collections::BTreeSet, vec::Vec};
use frame_support::{traits::Get, weights::Weight};
use liquidation_primitives::{
	ledger::{Inspect as _, RiskScan as _},
	PositionLiquidation as _, UsdValue,
};
use sp_runtime::{
	traits::{Saturating as _, Zero as _},
	DispatchError,
};

/// Storage reads a batch makes of each account before liquidating it, to tell its charge: its
/// positions, its derivative positions, profit owed to it, its running auctions and its filing
/// in the risk index.
pub const READS_BEFORE: u64 = 5;

/// Which batch benchmark's slope an account shares a batch at (see the module's docs).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ShareClass {
	/// At most two assets held, at most one of them owed: the shape of
	/// `liquidate_unsigned_batch_one_debt`'s accounts (one deposit, one debt).
	OneDebt,
	/// Any other: measured by `liquidate_unsigned_batch`'s accounts (a deposit and the most
	/// debts an account may hold).
	MostDebts,
}

impl ShareClass {
	/// The class of an account holding `held` assets, `debts` of them owed.
	pub fn of(held: usize, debts: usize) -> Self {
		if held <= 2 && debts <= 1 {
			Self::OneDebt
		} else {
			Self::MostDebts
		}
	}

	/// The assets each of the class's benchmark accounts holds (`max_positions`: the most an
	/// account may hold). Its re-filing, its whole deposit auctioned, removes a key for each,
	/// writes one for each debt it keeps, and its entry: twice as many writes.
	pub fn benchmark_assets(self, max_positions: u32) -> u64 {
		match self {
			Self::OneDebt => 2,
			Self::MostDebts => u64::from(max_positions.max(2)),
		}
	}
}

/// What a batch has touched so far, to tell whether its next account shares every key it
/// touches (see the module's docs).
pub struct BatchKeys<AssetId> {
	/// Assets some account liquidated before held.
	read: BTreeSet<AssetId>,
	/// (Debt, collateral) pairs auctioned.
	auctioned: BTreeSet<(AssetId, AssetId)>,
	/// (Collateral, debt) pairs whose backed debt was re-counted (a whole deposit auctioned).
	backing: BTreeSet<(AssetId, AssetId)>,
}

impl<AssetId> Default for BatchKeys<AssetId> {
	fn default() -> Self {
		Self { read: BTreeSet::new(), auctioned: BTreeSet::new(), backing: BTreeSet::new() }
	}
}

impl<AssetId: Ord + Copy> BatchKeys<AssetId> {
	/// Whether the accounts before read every key of `assets`, of an auction of `pair`, and of
	/// the backed debt of each (collateral, debt) pair in `backing`.
	pub fn covers(
		&self,
		assets: &[AssetId],
		pair: (AssetId, AssetId),
		backing: &[(AssetId, AssetId)],
	) -> bool {
		assets.iter().all(|asset| self.read.contains(asset))
			&& self.auctioned.contains(&pair)
			&& backing.iter().all(|pair| self.backing.contains(pair))
	}

	/// Records a liquidated account's `assets`, the pair it was auctioned for (`None`: not
	/// auctioned), and the backed-debt pairs re-counted.
	pub fn record(
		&mut self,
		assets: Vec<AssetId>,
		auctioned: Option<(AssetId, AssetId)>,
		backing: Vec<(AssetId, AssetId)>,
	) {
		if let Some(pair) = auctioned {
			self.auctioned.insert(pair);
		}
		self.read.extend(assets);
		self.backing.extend(backing);
	}
}

impl<T: Config> Pallet<T> {
	/// What the pool checks of a batch: every account liquidated in order, each after those
	/// before it (in a storage transaction undone afterwards), none twice. Returns the largest
	/// shortfall among them (the batch's priority), or the first refusal's code.
	pub fn check_unsigned_batch(accounts: &[T::AccountId]) -> Result<UsdValue, u8> {
		Self::check_batch_shape(accounts)?;
		let checked = frame_support::storage::with_transaction(|| {
			let mut worst = UsdValue::zero();
			let mut outcome = Ok(());
			for who in accounts {
				match Self::check_unsigned_kept(who) {
					Ok(shortfall) => worst = worst.max(shortfall),
					Err(code) => {
						outcome = Err(code);
						break;
					},
				}
			}
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(
				outcome.map(|()| worst),
			))
		});
		checked.map_err(|_| invalid::WOULD_FAIL)?
	}

	/// A batch names at least one account and none twice (`WOULD_FAIL` otherwise).
	pub fn check_batch_shape(accounts: &[T::AccountId]) -> Result<(), u8> {
		let distinct: BTreeSet<&T::AccountId> = accounts.iter().collect();
		if accounts.is_empty() || distinct.len() != accounts.len() {
			return Err(invalid::WOULD_FAIL);
		}
		Ok(())
	}

	/// What the block checks of a batch before dispatching it: its shape, and what would refuse
	/// every account in it. The engine runs (`PAUSED`), and the block's cap on liquidated value
	/// has at least the dust left (`CAPS_FULL`, which keeps the batch in the pool for the next
	/// block: a bankrupt account's waterfall would need no room, but it waits with the batch).
	pub fn check_batch_in_block(accounts: &[T::AccountId]) -> Result<(), u8> {
		Self::check_batch_shape(accounts)?;
		let params = Params::<T>::get().ok_or(invalid::PAUSED)?;
		if Paused::<T>::get() {
			return Err(invalid::PAUSED);
		}
		if !Self::block_cap_has_room(&params) {
			return Err(invalid::CAPS_FULL);
		}
		Ok(())
	}

	/// Whether the block's cap on liquidated value has at least the dust left.
	pub(crate) fn block_cap_has_room(params: &crate::EngineParams) -> bool {
		let room = params.max_value_per_block.saturating_sub(Self::block_used());
		!room.is_zero() && room >= params.dust_value
	}

	/// Liquidates `accounts` in order, each checked first and passed over when refused or when
	/// its liquidation fails (changing nothing for it); once the block's cap is full, the rest
	/// are passed over unchecked. Returns the weight to charge (see the module's docs) and how
	/// many it liquidated.
	pub(crate) fn do_liquidate_batch(accounts: Vec<T::AccountId>) -> (Weight, u32) {
		let mut weight = Self::batch_base_weight();
		let mut keys = BatchKeys::default();
		let (mut liquidated, mut skipped) = (0u32, 0u32);
		let mut caps_full = false;
		for who in accounts {
			let skip = |who: T::AccountId, code: u8, skipped: &mut u32| {
				Self::deposit_event(Event::WorkerSkipped { who, code });
				*skipped = skipped.saturating_add(1);
			};
			if caps_full {
				skip(who, invalid::CAPS_FULL, &mut skipped);
				weight = weight.saturating_add(T::DbWeight::get().reads(1));
				continue;
			}
			let (assets, debts, plain) = Self::share_profile(&who);
			let filing = T::Ledger::risk_filing(&who);
			// Read before the liquidation: in the batch benchmark's slope; charged on top of
			// any other charge.
			let reads_before = T::DbWeight::get().reads(READS_BEFORE);
			// `Err((code, ran))`: passed over; `ran` when the liquidation ran and failed (else the
			// check refused it).
			let outcome =
				Self::check_unsigned_in_block(&who).map_err(|code| (code, false)).and_then(|_| {
					Self::do_liquidate_unsigned(who.clone()).map_err(|error| {
						let code = if Self::is_cap_error(&error) {
							invalid::CAPS_FULL
						} else {
							invalid::WOULD_FAIL
						};
						(code, true)
					})
				});
			let charged = match outcome {
				Ok(outcome) => {
					liquidated = liquidated.saturating_add(1);
					let path = Self::with_unsigned_check(Self::unsigned_path_weight(&outcome))
						.saturating_add(reads_before);
					match outcome {
						UnsignedOutcome::Auctioned {
							debt_asset,
							collateral_asset,
							in_tokens,
							whole_deposit,
						} => {
							let pair = (debt_asset, collateral_asset);
							let backing: Vec<(T::AssetId, T::AssetId)> = if whole_deposit {
								debts.iter().map(|debt| (collateral_asset, *debt)).collect()
							} else {
								Vec::new()
							};
							let shared = plain && in_tokens && keys.covers(&assets, pair, &backing);
							let class = ShareClass::of(assets.len(), debts.len());
							let held = assets.len() as u64;
							// A lot not in tokens touches the asset's pool and the custody's
							// account: the pair's keys are not all read.
							keys.record(assets, in_tokens.then_some(pair), backing);
							if !shared {
								path
							} else if filing != T::Ledger::risk_filing(&who) {
								Self::batch_share_weight(class)
									.saturating_add(Self::refiling_beyond(class, held))
							} else {
								Self::batch_share_weight(class)
							}
						},
						_ => {
							keys.record(assets, None, Vec::new());
							path
						},
					}
				},
				Err((code, ran)) => {
					skip(who.clone(), code, &mut skipped);
					if code == invalid::CAPS_FULL {
						caps_full = Params::<T>::get()
							.is_none_or(|params| !Self::block_cap_has_room(&params));
					}
					// Refused by the check: the check; failed after it: its declared bound.
					let charge = if ran {
						Self::liquidate_unsigned_weight(&who)
					} else {
						Self::unsigned_check_weight().saturating_add(T::DbWeight::get().reads(1))
					};
					charge.saturating_add(reads_before)
				},
			};
			weight = weight.saturating_add(charged);
		}
		Self::deposit_event(Event::WorkerBatch { liquidated, skipped });
		(weight, liquidated)
	}

	/// What tells whether `who` may share a batch's keys (see the module's docs): the assets it
	/// holds, those it owes, and whether it is like the batch benchmarks' accounts (no
	/// derivative position, no profit owed, no auction running). Four of [`READS_BEFORE`].
	pub(crate) fn share_profile(who: &T::AccountId) -> (Vec<T::AssetId>, Vec<T::AssetId>, bool) {
		let positions = T::Ledger::positions_of(who);
		let assets = positions.iter().map(|(asset, _, _)| *asset).collect();
		let debts = positions
			.iter()
			.filter(|(_, _, owed)| !owed.is_zero())
			.map(|(asset, _, _)| *asset)
			.collect();
		let plain = !T::Derivatives::holds_positions(who)
			&& !T::Derivatives::is_owed_profit(who)
			&& OwnerAuctions::<T>::decode_len(who).unwrap_or(0) == 0;
		(assets, debts, plain)
	}

	/// What a batch of `accounts` declares: what the batch costs beyond its accounts, and each
	/// account's bound as [`Pallet::liquidate_unsigned`] declares it (one storage read for each
	/// tells its bound) with the batch's reads of it before its liquidation ([`READS_BEFORE`]).
	pub fn liquidate_unsigned_batch_weight(accounts: &[T::AccountId]) -> Weight {
		accounts.iter().fold(Self::batch_base_weight(), |weight, who| {
			weight
				.saturating_add(Self::liquidate_unsigned_weight(who))
				.saturating_add(T::DbWeight::get().reads(READS_BEFORE))
		})
	}

	/// What re-filing an account that held `held` assets may cost beyond what the re-filing
	/// of its class's benchmark accounts does (within the current slot, the slot's references
	/// shared; see [`ShareClass::benchmark_assets`]): a key written for each asset it leaves and
	/// each it joins, its entry, and the size of a slot it leaves (read too), with a reference
	/// read for each asset in that slot.
	pub fn refiling_beyond(class: ShareClass, held: u64) -> Weight {
		let measured = class.benchmark_assets(T::MaxPositions::get()).saturating_mul(2);
		let writes = held.saturating_mul(2).saturating_add(2).saturating_sub(measured);
		T::DbWeight::get()
			.reads(held.saturating_add(1))
			.saturating_add(T::DbWeight::get().writes(writes))
	}

	/// What a batch costs beyond its accounts: the benchmark's intercept (the larger of the two
	/// classes'), and the block's check before dispatch (the engine's parameters, its switch and
	/// the caps' use: three reads).
	pub fn batch_base_weight() -> Weight {
		T::WeightInfo::liquidate_unsigned_batch(0)
			.max(T::WeightInfo::liquidate_unsigned_batch_one_debt(0))
			.saturating_add(T::DbWeight::get().reads(3))
	}

	/// What one more account of `class` auctioned like those before it in a batch costs: its
	/// class's benchmark slope (never less than the smallest class's, should a measurement
	/// have the larger accounts cheaper).
	pub fn batch_share_weight(class: ShareClass) -> Weight {
		let slope = |bench: fn(u32) -> Weight| bench(1).saturating_sub(bench(0));
		let one_debt = slope(T::WeightInfo::liquidate_unsigned_batch_one_debt);
		match class {
			ShareClass::OneDebt => one_debt,
			ShareClass::MostDebts => slope(T::WeightInfo::liquidate_unsigned_batch).max(one_debt),
		}
	}

	/// The weight of the path an unsigned liquidation took.
	pub(crate) fn unsigned_path_weight(outcome: &UnsignedOutcome<T::AssetId>) -> Weight {
		match *outcome {
			UnsignedOutcome::Settled(debts) => T::WeightInfo::settle_bankrupt(debts),
			UnsignedOutcome::Auctioned { .. } => T::WeightInfo::liquidate_unsigned(),
			UnsignedOutcome::PositionClosed { close_outs, debts } => Self::with_waterfall(
				T::WeightInfo::backstop_position().saturating_mul(close_outs.into()),
				debts,
			),
		}
	}
}
