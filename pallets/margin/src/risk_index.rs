//! The risk index: indebted accounts bucketed by their distance to liquidation, so that finding
//! the liquidatable ones reads only what a price move could have pushed under.
//!
//! ## The bound
//!
//! Maintenance health is linear in what one index unit of each position counts for: a deposit
//! unit counts `price × deposit_index × maintenance_collateral_weight`, a debt unit
//! `price × borrow_index × maintenance_liability_weight`. An *epoch* fixes these per asset at
//! *reference* values ([`ReferencePoint`]). At the reference, an account has weighted collateral
//! `C` and weighted debt `D`, and its *distance* is
//!
//! ```text
//!   x = (C - D) / (C + D)
//! ```
//!
//! the smallest uniform relative move against it (every deposit unit down by `x`, every debt unit
//! up by `x`) that brings maintenance health to zero. If since the reference no asset's deposit
//! unit fell and no debt unit rose by more than `r` (price, interest, socialized loss and
//! governance weight changes all count), then health now is at least `(C + D) (x - r)`: only
//! accounts with `x < r` can be liquidatable. [`Pallet::accounts_at_risk`] computes `r` from
//! current prices and reads the buckets below it.
//!
//! Health rounds each position's amount by at most one smallest unit (down for deposits, up for
//! debts), at the price of the moment. Below a move of [`READ_ALL_MOVE_PERCENT`] (50%, also
//! counting a fall of a deposit index alone), one smallest unit is worth at most twice its
//! reference value against the account, so the distance is computed with each deposit lowered by
//! two smallest units and each debt raised by one: the bound then holds for health as computed,
//! to the unit. Buckets are [`BUCKET_WIDTH_BPS`] wide; an account is filed one bucket lower than
//! its distance besides, for the fixed-point rounding. Accounts the bound cannot place go to
//! bucket 0, which is always read: liquidatable at the reference, or holding an asset without a
//! reference value. From a move of [`READ_ALL_MOVE_PERCENT`] on, every bucket is read.
//!
//! ## One list per asset
//!
//! Only the assets an account holds move its health: if `r_a` is the adverse move of asset `a`
//! and the account holds the set `S`, health now is at least `(C + D) (x - max_{a in S} r_a)`.
//! So an account is filed, at its one distance bucket, in the list of *each* asset it holds,
//! and the walk reads each asset's list only up to the bucket that asset's own move reaches:
//! a liquidatable account is found in the list of its most moved asset. After a crash of one
//! asset, the accounts that do not hold it are not read at all, however close to liquidation
//! they sit and however many there are (a flood of dust accounts in other assets costs the
//! walk nothing). The lists are merged closest to liquidation first, by bucket and then by
//! account, so an account filed in several moved lists is met in a row and returned once.
//! Filing costs one index key per asset held ([`Config::MaxPositions`] at most); the walk's
//! fixed cost is each listed asset's move and one list head, per slot walked. The entry ([`RiskEntryOf`]) names the assets,
//! so that a re-filing removes exactly the keys written.
//!
//! ## Derivative positions
//!
//! A derivative position of size `s` on an underlying at reference price `P` changes
//! maintenance health by at most `|s| P (1 + MMF) ρ` when the price moves by a relative `ρ`
//! either way (its profit by `s Δp`, its requirement by `MMF |s| Δp`; profit counted at a weight
//! at most one), and by `|s| |F - F_ref|` when the market's funding index moves from its value at
//! the reference (recorded by [`liquidation_primitives::Exposure::on_new_reference`]; the funding
//! owed at filing is measured to it). Profit and loss weigh as a deposit or a debt of the
//! settlement asset (collateral weight `w`, liability weight `l ≥ 1`), so a move changes the
//! weighted loss by at most `l` times as much; and a change of those weights (at the reference:
//! a move of the settlement asset's list, where the account is filed too) changes health by at
//! most `(w G + l L) r`. So an account with positions has the *sensitivity* `l E`,
//! `E = Σ |s| P (1 + MMF)`, and its weighted profit and loss besides its spot `C + D`, and is
//! filed at
//!
//! ```text
//!   x = (C + w G - D - l L - M) / (C + D + l E + w G + l L)
//! ```
//!
//! (`G`, `L`, `M` its positions' profit (at each market's weight), loss and requirement at the
//! reference prices),
//! in the lists of its held assets, its underlyings and the settlement asset; each underlying's list is read as far as
//! the larger of its units' adverse move and its price's move either way plus funding's drift
//! `|F_now - F_ref| / P_ref`. A change of a market's parameters makes its drift unbounded until
//! the next epoch (its list is read whole). An account that cannot be placed so (an underlying
//! that is not a listed asset, more lists than an entry holds, funding not recorded for the
//! slot) goes to bucket 0, which every walk reads: in the lists of the assets it holds, or the
//! settlement asset's ([`liquidation_primitives::Exposure::settlement_asset`]) when it holds
//! none.
//!
//! ## Upkeep
//!
//! Every change of a portfolio re-files the account (a few storage writes, in the benchmarked
//! weights of the calls). Price moves change no entry: they widen `r` until `on_idle` starts a
//! new epoch at current values ([`Config::RebaseMove`]) and re-files the previous epoch's
//! accounts a batch a block ([`Config::MaxReindexPerBlock`]); both epochs' slots are read
//! meanwhile, each against its own reference.

use crate::weights::WeightInfo;
use crate::{
	pool::{mul_fixed, to_amount},
	Config, Event, Markets, Pallet, PortfolioOf, Portfolios, Position, References, RiskEntryOf,
	RiskEpoch, RiskIndex, SlotSize,
};
use alloc::{collections::btree_set::BTreeSet, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::Weight, storage::KeyPrefixIterator, traits::Get, Blake2_128Concat, BoundedVec,
	StorageHasher,
};
use liquidation_primitives::{
	value_in_usd, value_in_usd_rounded_up, Decimals, Exposure, Price, PriceProvider,
};
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Saturating, Zero},
	FixedPointNumber, FixedU128, Permill, Rounding, RuntimeDebug,
};

/// Width of a distance bucket: one basis point (0.01%) of relative move.
pub const BUCKET_WIDTH_BPS: u16 = 1;
/// Buckets per unit of distance.
const BUCKETS_PER_UNIT: u128 = 10_000 / BUCKET_WIDTH_BPS as u128;
/// The highest bucket: a distance of 100% (an account without debt worth counting).
pub const MAX_BUCKET: u16 = 10_000 / BUCKET_WIDTH_BPS;
/// From this move (in percent) on, every bucket is read.
pub const READ_ALL_MOVE_PERCENT: u32 = 50;

/// The two index slots: entries of the current epoch and, while they are re-filed, of the
/// previous one.
pub type Slot = u8;

/// Where a walk over the risk index stopped ([`Pallet::accounts_at_risk`]). Opaque: a caller
/// stores it and passes it back to continue; its fields are the index's own (the distance bucket,
/// the slot and the last account returned) and may change with the index.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct RiskCursor<AccountId> {
	/// Distance bucket of the last account returned.
	pub(crate) bucket: u16,
	/// Index slot of the last account returned.
	pub(crate) slot: Slot,
	/// The last account returned.
	pub(crate) account: AccountId,
}

/// What one index unit of an asset's positions counted for at an epoch's start.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct ReferencePoint {
	/// The asset's price, USD per whole unit.
	pub price: Price,
	/// The pool's deposit index.
	pub deposit_index: FixedU128,
	/// The pool's borrow index.
	pub borrow_index: FixedU128,
	/// The maintenance collateral weight.
	pub maintenance_collateral_weight: Permill,
	/// The maintenance liability weight.
	pub maintenance_liability_weight: FixedU128,
	/// The asset's decimals.
	pub decimals: Decimals,
}

impl ReferencePoint {
	/// USD a whole deposit index unit counts for under the maintenance weight.
	fn deposit_unit(&self) -> Option<FixedU128> {
		self.price
			.checked_mul(&self.deposit_index)?
			.checked_mul(&self.maintenance_collateral_weight.into())
	}

	/// USD a whole debt index unit counts for under the maintenance weight.
	fn debt_unit(&self) -> Option<FixedU128> {
		self.price.checked_mul(&self.borrow_index)?.checked_mul(&self.maintenance_liability_weight)
	}

	/// The largest relative move against an account from `self` to `now`: the fall of the
	/// deposit unit or the rise of the debt unit, zero if neither; `None` when it cannot be
	/// computed (read everything).
	fn adverse_move_to(&self, now: &ReferencePoint) -> Option<FixedU128> {
		// A deposit that counted for nothing (maintenance weight 0: a borrow-only asset) cannot
		// fall: whatever it counts for now only helps.
		let reference_deposit = self.deposit_unit()?;
		let deposit_ratio = if reference_deposit.is_zero() {
			FixedU128::one()
		} else {
			now.deposit_unit()?.checked_div(&reference_deposit)?
		};
		let debt_ratio = now.debt_unit()?.checked_div(&self.debt_unit()?)?;
		// A socialized loss alone also counts: it bounds what a smallest unit's rounding costs.
		let index_ratio = now.deposit_index.checked_div(&self.deposit_index)?;
		let fall = FixedU128::one().saturating_sub(deposit_ratio.min(index_ratio));
		let rise = debt_ratio.saturating_sub(FixedU128::one());
		Some(fall.max(rise))
	}

	/// The relative move of the price alone from `self` to `now`, either way: what moves a
	/// derivative position on the asset (its units' indices and weights do not).
	fn price_move_to(&self, now: &ReferencePoint) -> Option<FixedU128> {
		let ratio = now.price.checked_div(&self.price)?;
		Some(if ratio >= FixedU128::one() {
			ratio.saturating_sub(FixedU128::one())
		} else {
			FixedU128::one().saturating_sub(ratio)
		})
	}

	/// What one smallest unit of a deposit counts for at the reference, rounded up.
	fn deposit_unit_of_one(&self) -> Option<FixedU128> {
		let value = value_in_usd_rounded_up(1, self.decimals, self.price)?;
		let index = self.deposit_index.max(FixedU128::one());
		mul_fixed(
			mul_fixed(value, index, Rounding::Up)?,
			self.maintenance_collateral_weight.into(),
			Rounding::Up,
		)
	}

	/// What one smallest unit of a debt counts for at the reference, rounded up.
	fn debt_unit_of_one(&self) -> Option<FixedU128> {
		let value = value_in_usd_rounded_up(1, self.decimals, self.price)?;
		mul_fixed(value, self.maintenance_liability_weight, Rounding::Up)
	}
}

/// Where an indebted account is filed: one slot and one distance bucket, in the list of each
/// asset it holds.
#[derive(
	Clone,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct RiskEntry<Assets> {
	/// The epoch slot whose reference the distance was computed at.
	pub slot: Slot,
	/// The distance bucket.
	pub bucket: u16,
	/// The assets the account held when filed, in increasing order: it is filed in each one's
	/// list, at the same bucket.
	pub assets: Assets,
}

/// The risk entry of a margin account of runtime `T`.
pub type AccountRiskEntry<T> =
	RiskEntry<BoundedVec<<T as Config>::AssetId, <T as Config>::MaxPositions>>;

/// The storage key of a bucket: its big-endian bytes (SCALE writes integers little-endian, so
/// the bytes are swapped), so that with the `Identity` hasher a slot's entries iterate in
/// bucket order.
pub fn bucket_key(bucket: u16) -> u16 {
	bucket.swap_bytes()
}

/// The bucket of a storage key (see [`bucket_key`]).
pub fn bucket_from_key(key: u16) -> u16 {
	key.swap_bytes()
}

/// The slot of an epoch.
pub fn slot_of(epoch: u32) -> Slot {
	(epoch % 2) as Slot
}

/// The bucket of a distance `x`, one lower than `floor(x / width)` for the rounding slack.
pub fn bucket_of_distance(distance: FixedU128) -> u16 {
	let per_bucket = FixedU128::DIV / BUCKETS_PER_UNIT;
	let bucket = (distance.into_inner() / per_bucket).saturating_sub(1);
	bucket.min(MAX_BUCKET as u128) as u16
}

/// The highest bucket an adverse move `r` could have pushed under (`None`: every bucket).
pub fn last_bucket_at_risk(adverse_move: Option<FixedU128>) -> u16 {
	let Some(adverse_move) = adverse_move else { return MAX_BUCKET };
	if adverse_move >= FixedU128::from_rational(READ_ALL_MOVE_PERCENT as u128, 100) {
		return MAX_BUCKET;
	}
	// Accounts in bucket `k` are at distance at least `(k + 1) × width` less the slack: a move
	// `r` reaches the buckets `k < r / width`, plus bucket 0 always.
	let per_bucket = FixedU128::DIV / BUCKETS_PER_UNIT;
	let reached = adverse_move.into_inner().div_ceil(per_bucket);
	(reached.saturating_sub(1)).min(MAX_BUCKET as u128) as u16
}

impl<T: Config> Pallet<T> {
	/// The current epoch's slot and the other one.
	pub fn risk_slots() -> (Slot, Slot) {
		let current = slot_of(RiskEpoch::<T>::get());
		(current, 1 - current)
	}

	/// What one index unit of `asset` counts for now (interest accrued, current price and
	/// weights), at the price health values held positions at (the valuation rule: a stale or
	/// halted price at its last level); `None` for an unlisted asset or one never priced.
	pub(crate) fn point_now(asset: T::AssetId) -> Option<ReferencePoint> {
		let market = Self::market_now(asset)?;
		let price = T::Prices::valuation_price(&asset)?;
		// The weights in force: a widening is a move of the weighted unit (its list is read
		// further until the next epoch).
		let params = Self::params_in_force(market.params, asset);
		Some(ReferencePoint {
			price,
			deposit_index: market.pool.deposit_index,
			borrow_index: market.pool.borrow_index,
			maintenance_collateral_weight: params.maintenance_collateral_weight,
			maintenance_liability_weight: params.maintenance_liability_weight,
			decimals: market.decimals,
		})
	}

	/// The largest adverse move of any asset since `slot`'s reference (`None`: unbounded).
	/// Assets never priced are left out: health values a deposit of one at nothing and no debt
	/// of one can exist, so no move of theirs changes an account's health.
	pub fn adverse_move_since_reference(slot: Slot) -> Option<FixedU128> {
		let mut largest = FixedU128::zero();
		for (asset, reference) in References::<T>::iter_prefix(slot) {
			let Some(now) = Self::point_now(asset) else { continue };
			largest = largest.max(Self::move_against(slot, asset, &reference, &now)?);
		}
		Some(largest)
	}

	/// The largest relative move against an account holding or trading `asset` since `slot`'s
	/// reference: its units' adverse move (spot positions), or its price's move either way
	/// plus funding's drift (derivative positions, see "Derivative positions" in the module
	/// docs); `None`: unbounded.
	fn move_against(
		slot: Slot,
		asset: T::AssetId,
		reference: &ReferencePoint,
		now: &ReferencePoint,
	) -> Option<FixedU128> {
		let spot = reference.adverse_move_to(now)?;
		let drift = T::Derivatives::drift_since_reference(slot, &asset, reference.price)?;
		if !T::Derivatives::is_traded(&asset) && drift.is_zero() {
			// No position on it: only spot positions are filed under it.
			return Some(spot);
		}
		let derivative = reference.price_move_to(now)?.checked_add(&drift)?;
		Some(spot.max(derivative))
	}

	/// The last bucket of `asset`'s list in `slot` that its adverse move since the slot's
	/// reference reaches. An asset without a reference value has only bucket 0 filled (its
	/// holders cannot be placed), and an asset never priced moves no account's health.
	pub fn reach_of_asset(slot: Slot, asset: T::AssetId) -> u16 {
		let Some(reference) = References::<T>::get(slot, asset) else { return 0 };
		let Some(now) = Self::point_now(asset) else { return 0 };
		last_bucket_at_risk(Self::move_against(slot, asset, &reference, &now))
	}

	/// Every listed asset in increasing order, with the last bucket of its list in `slot` that
	/// its move reaches: what a walk of `slot` reads.
	pub fn reaches(slot: Slot) -> Vec<(T::AssetId, u16)> {
		let mut reaches: Vec<(T::AssetId, u16)> = Markets::<T>::iter_keys()
			.map(|asset| (asset, Self::reach_of_asset(slot, asset)))
			.collect();
		reaches.sort_by(|a, b| a.0.cmp(&b.0));
		reaches
	}

	/// The last bucket the moves of the assets in `entry` reach: an account filed above it is
	/// not liquidatable (invariant 6).
	pub fn reach_of_entry(entry: &AccountRiskEntry<T>) -> u16 {
		entry.assets.iter().map(|asset| Self::reach_of_asset(entry.slot, *asset)).max().unwrap_or(0)
	}

	/// The bucket of `portfolio` at `slot`'s reference; bucket 0 when the bound cannot place it.
	pub(crate) fn bucket_at_reference(portfolio: &PortfolioOf<T>, slot: Slot) -> u16 {
		Self::distance_at_reference(portfolio, slot).map(bucket_of_distance).unwrap_or(0)
	}

	/// `(C - D) / (C + D)` at `slot`'s reference, valued with the rounding health uses and the
	/// rounding allowance of the module docs; `None` when the account cannot be placed (no
	/// reference for one of its assets, or not above zero).
	fn distance_at_reference(portfolio: &PortfolioOf<T>, slot: Slot) -> Option<FixedU128> {
		let (collateral, debt) = Self::weighted_at_reference(portfolio, slot)?;
		let margin = collateral.checked_sub(&debt)?;
		margin.checked_div(&collateral.checked_add(&debt)?)
	}

	/// `(C, D)`: `portfolio`'s weighted collateral and debt at `slot`'s reference, less and
	/// plus the rounding allowance; `None` when an asset has no reference.
	fn weighted_at_reference(
		portfolio: &PortfolioOf<T>,
		slot: Slot,
	) -> Option<(FixedU128, FixedU128)> {
		let mut collateral = FixedU128::zero();
		let mut debt = FixedU128::zero();
		let mut allowance_collateral = FixedU128::zero();
		let mut allowance_debt = FixedU128::zero();
		for (asset, position) in portfolio.iter() {
			let reference = References::<T>::get(slot, asset)?;
			match position {
				Position::Deposit(scaled) => {
					let amount = to_amount(*scaled, reference.deposit_index, Rounding::Down)?;
					let value = value_in_usd(amount, reference.decimals, reference.price)?;
					let weighted = mul_fixed(
						value,
						reference.maintenance_collateral_weight.into(),
						Rounding::Down,
					)?;
					collateral = collateral.checked_add(&weighted)?;
					let unit = reference.deposit_unit_of_one()?;
					allowance_collateral =
						allowance_collateral.checked_add(&unit.checked_add(&unit)?)?;
				},
				Position::Borrow(scaled) => {
					let amount = to_amount(*scaled, reference.borrow_index, Rounding::Up)?;
					let value =
						value_in_usd_rounded_up(amount, reference.decimals, reference.price)?;
					let weighted =
						mul_fixed(value, reference.maintenance_liability_weight, Rounding::Up)?;
					debt = debt.checked_add(&weighted)?;
					allowance_debt = allowance_debt.checked_add(&reference.debt_unit_of_one()?)?;
				},
			}
		}
		let collateral = collateral.saturating_sub(allowance_collateral);
		let debt = debt.checked_add(&allowance_debt)?;
		Some((collateral, debt))
	}

	/// Where an account with derivative positions is placed at `slot`'s reference: its distance
	/// `(C + w G - D - l L - M) / (C + D + l Σ E + w G + l L)` with `G`, `L`, `M` its positions' weighted profit,
	/// loss and requirement at the reference prices, `w` and `l` the settlement asset's weights
	/// at the reference and `E` each underlying's sensitivity, and the lists of its held assets,
	/// underlyings and settlement asset. `None` when it cannot be placed (an underlying or the
	/// settlement asset without a reference, more lists than an entry holds, or not above zero).
	pub(crate) fn placement_with_derivatives(
		who: &T::AccountId,
		portfolio: &PortfolioOf<T>,
		slot: Slot,
	) -> Option<(u16, BoundedVec<T::AssetId, T::MaxPositions>)> {
		let price_of = |asset: &T::AssetId| References::<T>::get(slot, asset).map(|r| r.price);
		let exposure = T::Derivatives::reference_exposure(who, slot, &price_of)?;
		let (collateral, debt) = Self::weighted_at_reference(portfolio, slot)?;
		// Profit and loss weigh as a deposit or a debt of the settlement asset (see
		// `health_of_account`), at its weights at the reference: a move's effect on the loss
		// is scaled by its liability weight (at least one), so the sensitivity is too; and a
		// change of those weights is a move of the settlement asset's list, where the account
		// is filed, against its weighted profit and loss (in the scale too).
		let settlement = T::Derivatives::settlement_asset();
		let (liability, collateral_weight) = match settlement {
			Some(asset) => {
				let reference = References::<T>::get(slot, asset)?;
				(reference.maintenance_liability_weight, reference.maintenance_collateral_weight)
			},
			None => (FixedU128::one(), Permill::one()),
		};
		let mut sensitivity = FixedU128::zero();
		let mut lists: Vec<T::AssetId> = portfolio.iter().map(|(asset, _)| *asset).collect();
		lists.extend(settlement);
		for (underlying, part) in exposure.sensitivities.iter() {
			sensitivity = sensitivity.checked_add(part)?;
			lists.push(*underlying);
		}
		let sensitivity = mul_up(sensitivity, liability.max(FixedU128::one()))?;
		lists.sort();
		lists.dedup();
		let lists = BoundedVec::try_from(lists).ok()?;
		let gain = FixedU128::from_inner(
			collateral_weight.mul_floor(exposure.maintenance_gain.into_inner()),
		);
		let loss = mul_up(exposure.loss, liability)?;
		let margin = collateral
			.checked_add(&gain)?
			.checked_sub(&debt)?
			.checked_sub(&loss)?
			.checked_sub(&exposure.maintenance_requirement)?;
		let scale = collateral
			.checked_add(&debt)?
			.checked_add(&sensitivity)?
			.checked_add(&gain)?
			.checked_add(&loss)?;
		let distance = margin.checked_div(&scale)?;
		Some((bucket_of_distance(distance), lists))
	}

	/// The assets `portfolio` holds a position in, in increasing order: the lists it is filed in.
	pub(crate) fn held_assets(
		portfolio: &PortfolioOf<T>,
	) -> BoundedVec<T::AssetId, T::MaxPositions> {
		let mut held: Vec<T::AssetId> = portfolio.iter().map(|(asset, _)| *asset).collect();
		held.sort();
		held.dedup();
		// A portfolio holds at most `MaxPositions` assets: the truncation never cuts.
		BoundedVec::truncate_from(held)
	}

	/// Where `who`, holding `portfolio`, is filed in `slot`: `None` when it cannot become
	/// liquidatable. An account with derivative positions is placed by its distance with them
	/// ([`Self::placement_with_derivatives`]), or else goes to bucket 0, read by every walk (see
	/// "Derivative positions" in the module docs), in the lists of the assets it holds, or of
	/// the settlement asset when it holds none.
	pub(crate) fn risk_entry_for(
		who: &T::AccountId,
		portfolio: &PortfolioOf<T>,
		slot: Slot,
	) -> Option<AccountRiskEntry<T>> {
		if T::Derivatives::has_exposure(who) {
			if let Some((bucket, assets)) = Self::placement_with_derivatives(who, portfolio, slot) {
				return Some(RiskEntry { slot, bucket, assets });
			}
			let mut assets = Self::held_assets(portfolio);
			if assets.is_empty() {
				// A bound of one or more: the push cannot fail (and the account would be in no
				// list without a settlement asset, which `try_state` reports).
				let _ = T::Derivatives::settlement_asset().map(|asset| assets.try_push(asset));
			}
			return Some(RiskEntry { slot, bucket: 0, assets });
		}
		let indebted = portfolio.iter().any(|(_, p)| matches!(p, Position::Borrow(_)));
		indebted.then(|| RiskEntry {
			slot,
			bucket: Self::bucket_at_reference(portfolio, slot),
			assets: Self::held_assets(portfolio),
		})
	}

	/// Files `who` under its portfolio's distance in the current epoch, in the list of every
	/// asset it holds (or removes it when it cannot become liquidatable). Writes only when the
	/// entry changes.
	pub(crate) fn reindex(who: &T::AccountId, portfolio: &PortfolioOf<T>) {
		let old = RiskEntryOf::<T>::get(who);
		let new = Self::risk_entry_for(who, portfolio, Self::risk_slots().0);
		if old == new {
			return;
		}
		if let Some(old) = &old {
			for asset in old.assets.iter() {
				RiskIndex::<T>::remove((old.slot, asset, bucket_key(old.bucket), who));
			}
			SlotSize::<T>::mutate(old.slot, |size| *size = size.saturating_sub(1));
		}
		match new {
			Some(new) => {
				for asset in new.assets.iter() {
					RiskIndex::<T>::insert((new.slot, asset, bucket_key(new.bucket), who), ());
				}
				SlotSize::<T>::mutate(new.slot, |size| *size = size.saturating_add(1));
				RiskEntryOf::<T>::insert(who, new);
			},
			None => RiskEntryOf::<T>::remove(who),
		}
	}

	/// Re-files `who` from its stored portfolio (what a margin call does on every change).
	/// Public for tools that write portfolios directly (benchmark set-ups).
	pub fn reindex_account(who: &T::AccountId) {
		Self::reindex(who, &Portfolios::<T>::get(who));
	}

	/// Indebted accounts the index cannot rule out as liquidatable now, from up to `limit`
	/// index entries read after `start_after`; and the cursor to continue from (`None` once the
	/// walk is complete). The current epoch's slot is walked first, then the previous one's. In
	/// a slot, the lists of all listed assets are merged closest to liquidation first (by
	/// bucket, then account), each read only up to the last bucket that asset's own move
	/// reaches: the walk costs the entries it reads and one list head per asset, not the empty
	/// buckets nor the holders of assets that did not move. An account's entries in the lists
	/// of several moved assets are met one after the other and it is returned once; every entry
	/// read counts towards `limit`. See the module docs for the bound.
	///
	/// A walk that completes in one state returns every liquidatable account. Paged over
	/// blocks, each page judges the buckets not yet passed at that block's moves: an account
	/// that a later move of an asset put at risk in a bucket already passed, or that a new
	/// epoch re-filed into the current slot while the walk was in the previous one, is returned
	/// by the next walk.
	pub fn accounts_at_risk(
		start_after: Option<&RiskCursor<T::AccountId>>,
		limit: u32,
	) -> (Vec<T::AccountId>, Option<RiskCursor<T::AccountId>>) {
		let mut found = Vec::new();
		if limit == 0 {
			return (found, None);
		}
		let (current, previous) = Self::risk_slots();
		let slots = match start_after {
			Some(cursor) if cursor.slot == previous => &[previous][..],
			_ => &[current, previous][..],
		};
		let mut read = 0u32;
		for slot in slots.iter().copied() {
			if SlotSize::<T>::get(slot) == 0 {
				continue;
			}
			let resume = start_after.filter(|cursor| cursor.slot == slot);
			let mut lists: Vec<ListWalk<T>> = Self::reaches(slot)
				.into_iter()
				.map(|(asset, last)| ListWalk::start(slot, asset, last, resume))
				.collect();
			// The last entry taken: an account's entries in several lists are taken in a row.
			let mut last_taken: Option<(u16, Vec<u8>)> = None;
			loop {
				// The list whose next entry is nearest to liquidation, then first by account.
				let Some(at) = lists
					.iter_mut()
					.enumerate()
					.filter_map(|(at, list)| list.head().map(|head| (at, head)))
					.min_by(|(_, a), (_, b)| a.cmp(b))
					.map(|(at, _)| at)
				else {
					break;
				};
				let Some((bucket, key, who)) = lists.get_mut(at).and_then(ListWalk::take) else {
					break;
				};
				read = read.saturating_add(1);
				let again = last_taken.as_ref().is_some_and(|(b, k)| *b == bucket && *k == key);
				if !again {
					found.push(who.clone());
					last_taken = Some((bucket, key));
				}
				if read >= limit {
					return (found, Some(RiskCursor { bucket, slot, account: who }));
				}
			}
		}
		(found, None)
	}

	/// Whether `on_idle` should start a new epoch: the index is empty of the previous epoch,
	/// and either the current reference has drifted by [`Config::RebaseMove`] or a listed asset
	/// without a reference value has a usable price now.
	pub(crate) fn rebase_due() -> bool {
		let (current, previous) = Self::risk_slots();
		if SlotSize::<T>::get(previous) > 0 {
			return false;
		}
		let threshold: FixedU128 = T::RebaseMove::get().into();
		for asset in Markets::<T>::iter_keys() {
			let Some(now) = Self::point_now(asset) else { continue };
			match References::<T>::get(current, asset) {
				None => return true,
				Some(reference) => match Self::move_against(current, asset, &reference, &now) {
					Some(adverse_move) if adverse_move < threshold => {},
					_ => return true,
				},
			}
		}
		false
	}

	/// Starts a new epoch: reference values from now for every listed asset with a usable price.
	/// Every account filed so far is now in the previous slot, to be re-filed by `on_idle`.
	pub(crate) fn rebase() -> u32 {
		let epoch = RiskEpoch::<T>::get().wrapping_add(1);
		let slot = slot_of(epoch);
		let _ = References::<T>::clear_prefix(slot, T::MaxAssets::get(), None);
		let mut referenced = 0u32;
		for asset in Markets::<T>::iter_keys() {
			if let Some(point) = Self::point_now(asset) {
				References::<T>::insert(slot, asset, point);
				referenced = referenced.saturating_add(1);
			}
		}
		T::Derivatives::on_new_reference(slot);
		RiskEpoch::<T>::put(epoch);
		Self::deposit_event(Event::RiskIndexRebased { epoch, assets_referenced: referenced });
		referenced
	}

	/// `on_idle`'s upkeep of the index within `remaining` weight: re-file up to
	/// [`Config::MaxReindexPerBlock`] accounts of the previous epoch, or else start a new epoch
	/// when one is due. Returns the weight used.
	pub(crate) fn maintain_index(remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let check = db.reads(2);
		if remaining.any_lt(check) {
			return Weight::zero();
		}
		let mut used = check;
		let (_, previous) = Self::risk_slots();
		if SlotSize::<T>::get(previous) > 0 {
			// An account is met once per asset it holds: the keys read are charged besides its
			// re-filing.
			let per_account = T::WeightInfo::reindex_account(T::MaxPositions::get())
				.saturating_add(db.reads(T::MaxPositions::get().into()));
			let affordable = remaining
				.saturating_sub(used)
				.checked_div_per_component(&per_account)
				.unwrap_or(0)
				.min(T::MaxReindexPerBlock::get() as u64) as usize;
			let mut seen = BTreeSet::new();
			let mut batch: Vec<T::AccountId> = Vec::new();
			for (_, _, who) in RiskIndex::<T>::iter_key_prefix((previous,)) {
				if batch.len() >= affordable {
					break;
				}
				if seen.insert(who.clone()) {
					batch.push(who);
				}
			}
			for who in batch.iter() {
				Self::reindex_account(who);
			}
			return used.saturating_add(per_account.saturating_mul(batch.len() as u64));
		}
		// Deciding reads what a new epoch writes: one weight covers both.
		let rebase = T::WeightInfo::rebase_index(Markets::<T>::count());
		if remaining.any_lt(used.saturating_add(rebase)) {
			return used;
		}
		used = used.saturating_add(rebase);
		if Self::rebase_due() {
			Self::rebase();
		}
		used
	}
}

/// One asset's list in a walk of the risk index: its entries from where the walk resumes, up
/// to the last bucket the asset's move reaches.
struct ListWalk<T: Config> {
	last: u16,
	entries: KeyPrefixIterator<(u16, T::AccountId)>,
	/// The next entry: its bucket, its account's key (the order within a bucket) and account.
	head: Option<(u16, Vec<u8>, T::AccountId)>,
}

impl<T: Config> ListWalk<T> {
	/// `asset`'s list in `slot`, after the cursor's bucket and account when resuming (the walk
	/// took every entry up to them, in every list).
	fn start(
		slot: Slot,
		asset: T::AssetId,
		last: u16,
		resume: Option<&RiskCursor<T::AccountId>>,
	) -> Self {
		let entries = match resume {
			None => RiskIndex::<T>::iter_key_prefix((slot, asset)),
			Some(cursor) => {
				let from = RiskIndex::<T>::hashed_key_for((
					slot,
					asset,
					bucket_key(cursor.bucket),
					&cursor.account,
				));
				RiskIndex::<T>::iter_key_prefix_from((slot, asset), from)
			},
		};
		let mut list = Self { last, entries, head: None };
		list.advance();
		list
	}

	/// Reads the next entry within reach into `head` (none past the last bucket reached).
	fn advance(&mut self) {
		self.head = self.entries.next().and_then(|(key, who)| {
			let bucket = bucket_from_key(key);
			// The order of accounts within a bucket is their storage key's.
			(bucket <= self.last).then(|| (bucket, Blake2_128Concat::hash(&who.encode()), who))
		});
	}

	/// The next entry's place in the walk's order: bucket, then account key.
	fn head(&self) -> Option<(u16, &[u8])> {
		self.head.as_ref().map(|(bucket, key, _)| (*bucket, key.as_slice()))
	}

	/// Takes the next entry and reads the one after.
	fn take(&mut self) -> Option<(u16, Vec<u8>, T::AccountId)> {
		let head = self.head.take();
		if head.is_some() {
			self.advance();
		}
		head
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn point(price: u32, weight: u32) -> ReferencePoint {
		ReferencePoint {
			price: Price::from_u32(price),
			deposit_index: FixedU128::one(),
			borrow_index: FixedU128::one(),
			maintenance_collateral_weight: Permill::from_percent(weight),
			maintenance_liability_weight: FixedU128::from_rational(11, 10),
			decimals: 0,
		}
	}

	/// A borrow-only asset (maintenance weight 0) is a bounded move like any other: its deposit
	/// side cannot fall, its debt side rises with its price. (Before, the zero deposit unit made
	/// the move unknown, and every walk read every account.)
	#[test]
	fn a_zero_weight_deposit_cannot_fall() {
		let reference = point(100, 0);
		assert_eq!(reference.adverse_move_to(&point(50, 0)), Some(FixedU128::zero()));
		assert_eq!(
			reference.adverse_move_to(&point(110, 0)),
			Some(FixedU128::from_rational(1, 10))
		);
		// Weighted, a 50% fall is a 50% move.
		assert_eq!(
			point(100, 90).adverse_move_to(&point(50, 90)),
			Some(FixedU128::from_rational(1, 2))
		);
	}
}

/// `value × weight`, rounded up.
fn mul_up(value: FixedU128, weight: FixedU128) -> Option<FixedU128> {
	sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
		value.into_inner(),
		weight.into_inner(),
		FixedU128::DIV,
		sp_runtime::Rounding::Up,
	)
	.map(FixedU128::from_inner)
}
