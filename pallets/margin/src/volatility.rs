//! Margins that follow volatility: an asset's weights widen as its price's volatility rises,
//! within governed bounds and a governed step a day, and relax as it falls.
//!
//! A weight set at listing fits the volatility of its day. When the market turns, a fixed
//! weight lends as much against an asset whose daily moves doubled as it did in calm; Aave's
//! risk stewards answer with off-chain proposals bounded in size and frequency. Here the chain
//! does it itself from the prices pallet's volatility estimate, with the same bounds.
//!
//! ## Formulas
//!
//! With a governed [`VolatilityPolicy`] for an asset (its *reference volatility* `σ₀`, the most
//! *widening* `x_max` and the most *step a day* `Δ`), the prices pallet's volatility `σ` gives
//! the target widening
//!
//! ```text
//!   x* = min(x_max, max(0, 1 - σ₀ / σ))
//! ```
//!
//! the share by which the weights shrink so that a weighted unit's volatility, `w σ`, stays at
//! what it was at `σ₀` (up to the bound). Every hour ([`widening_period_blocks`]) the widening `x`
//! moves towards `x*` by at most `Δ` times the part of a day elapsed (at most a day's), either
//! way: a crash widens margins by the step a day at most, and calm relaxes them as slowly.
//! The weights in force are the listed ones widened:
//!
//! ```text
//!   collateral weights (initial, maintenance)  w' = w (1 - x)
//!   liability weights (initial, maintenance)   l' = min(5, l / (1 - x))
//! ```
//!
//! Both of an asset's collateral weights shrink by the same share and both liability weights
//! grow by it, so maintenance stays below initial; `(1 + b) w' < l'` holds wherever
//! `(1 + b) w < l` did (the penalty's soundness rule). Health, the risk index (a widening is a
//! move of the asset's weighted unit: its list is read further), the engine's sizing and its
//! no-harm rule all read the widened weights.
//!
//! ## With the stable price and the delays
//!
//! Three mechanisms bound how fast risk changes, each against a different threat:
//! - the **stable price** (pallet-prices) moves at most a governed fraction an hour: opening
//!   risk (borrowing, withdrawing) values collateral at `min(price, stable)` and debt at
//!   `max(price, stable)`, so a pump lends nothing before it has lasted;
//! - a **governance tightening** of maintenance weights waits [`crate::RiskChangeDelay`], so an
//!   account can act before a vote makes it liquidatable;
//! - a **volatility widening** moves at most `Δ` a day, so a rising volatility tightens margins
//!   gradually (what the delay gives governance changes, the step gives these) and a calm spell
//!   relaxes them as gradually; and a new policy widens nothing before [`crate::RiskChangeDelay`]
//!   has passed (it may relax at once), so a policy cannot stand in for an undelayed tightening.
//!
//! The derivatives' settlement asset takes no policy: its liability weight weighs every
//! position's loss, and widened past `1 / φ` (the liquidation fee share) a close-out would
//! lower its account's health.

use crate::{Config, Event, LastWideningBlock, Markets, Pallet, VolatilityPolicies, Widenings};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	ensure,
	pallet_prelude::{DispatchResult, Weight},
	traits::Get,
};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{Exposure as _, PriceProvider};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{
	traits::{CheckedDiv, Saturating, UniqueSaturatedInto, Zero},
	FixedPointNumber, FixedU128, PerThing, Permill, RuntimeDebug,
};

/// How often the widenings are moved: every hour ([`crate::Config::BlocksPerYear`] / 8 760
/// blocks, at least one).
pub fn widening_period_blocks(blocks_per_year: u32) -> u32 {
	(blocks_per_year / 8_760).max(1)
}

/// The most governance may let weights widen: by half.
pub const MAX_WIDENING: Permill = Permill::from_percent(50);

/// The smallest step a day: an hour's share of a smaller one would round to nothing.
pub const MIN_STEP_PER_DAY: Permill = Permill::from_parts(100);

/// How an asset's weights follow its volatility ([`crate::volatility`]).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
	Serialize,
	Deserialize,
)]
pub struct VolatilityPolicy {
	/// The volatility (over the prices pallet's period, a day in our runtime) the listed
	/// weights fit; above it they widen. Above zero.
	pub reference_volatility: FixedU128,
	/// The most the weights may widen (collateral weights times at least `1 - max_widening`);
	/// at most [`MAX_WIDENING`].
	pub max_widening: Permill,
	/// The most the widening moves in a day, either way; above zero, at most `max_widening`.
	pub max_step_per_day: Permill,
}

impl VolatilityPolicy {
	/// Whether governance may set it.
	pub fn in_range(&self) -> bool {
		!self.reference_volatility.is_zero()
			&& self.max_widening <= MAX_WIDENING
			&& self.max_step_per_day >= MIN_STEP_PER_DAY
			&& self.max_step_per_day <= self.max_widening
	}

	/// The widening `volatility` calls for: `min(x_max, max(0, 1 - σ₀ / σ))`.
	pub fn target(&self, volatility: FixedU128) -> Permill {
		if volatility <= self.reference_volatility {
			return Permill::zero();
		}
		let kept =
			Permill::from_rational(self.reference_volatility.into_inner(), volatility.into_inner());
		kept.left_from_one().min(self.max_widening)
	}
}

/// `params`'s weights widened by `widening` (see the [module docs](self)).
pub fn widened(mut params: crate::AssetParams, widening: Permill) -> crate::AssetParams {
	if widening.is_zero() {
		return params;
	}
	let kept = widening.left_from_one();
	params.initial_collateral_weight = params.initial_collateral_weight.saturating_mul(kept);
	params.maintenance_collateral_weight =
		params.maintenance_collateral_weight.saturating_mul(kept);
	let most = FixedU128::saturating_from_integer(crate::pool::MAX_LIABILITY_WEIGHT);
	let grow =
		|weight: FixedU128| weight.checked_div(&FixedU128::from(kept)).unwrap_or(most).min(most);
	params.initial_liability_weight = grow(params.initial_liability_weight);
	params.maintenance_liability_weight = grow(params.maintenance_liability_weight);
	params
}

impl<T: Config> liquidation_primitives::MarginWidening<T::AssetId> for Pallet<T> {
	fn widening(asset: &T::AssetId) -> Permill {
		Widenings::<T>::get(asset)
	}
}

impl<T: Config> Pallet<T> {
	/// `asset`'s parameters with its weights as in force now (widened by its volatility).
	pub fn params_in_force(params: crate::AssetParams, asset: T::AssetId) -> crate::AssetParams {
		widened(params, Widenings::<T>::get(asset))
	}

	/// Moves every widening towards its target, once an hour ([`widening_period_blocks`], from
	/// `on_initialize`). Returns the weight used.
	pub(crate) fn update_widenings(now: BlockNumberFor<T>) -> Weight {
		let db = T::DbWeight::get();
		let last = LastWideningBlock::<T>::get();
		let period = widening_period_blocks(T::BlocksPerYear::get());
		let elapsed: u32 = now.saturating_sub(last).unique_saturated_into();
		if elapsed < period && !last.is_zero() {
			return db.reads(1);
		}
		LastWideningBlock::<T>::put(now);
		let blocks_per_day = (T::BlocksPerYear::get() / 365).max(1);
		// A first run counts one period; at most a day's step at once in any case.
		let elapsed = if last.is_zero() { period } else { elapsed }.min(blocks_per_day);
		let mut updated = 0u32;
		for (asset, (policy, widens_from)) in VolatilityPolicies::<T>::iter() {
			updated = updated.saturating_add(1);
			// No usable price: the widening stays where it is.
			let Ok(info) = T::Prices::price(&asset) else { continue };
			let current = Widenings::<T>::get(asset);
			// Before its delay has passed a new policy may relax the weights, not widen them.
			let target = if now < widens_from {
				policy.target(info.volatility).min(current)
			} else {
				policy.target(info.volatility)
			};
			let step = Permill::from_rational(elapsed, blocks_per_day) * policy.max_step_per_day;
			let next = if target > current {
				current.saturating_add(step).min(target)
			} else {
				current.saturating_sub(step).max(target)
			};
			if next != current {
				Widenings::<T>::insert(asset, next);
				// A derivative market on it widens its margin fractions too; its requirements
				// then grow with no price move, which the risk index must see (a relaxation
				// harms no account: nothing to tell).
				if next > current {
					T::Derivatives::on_margins_widened(&asset);
				}
				Self::deposit_event(Event::WeightsWidened {
					asset,
					widening: next,
					target,
					volatility: info.volatility,
				});
			}
		}
		<T::WeightInfo as crate::WeightInfo>::update_widenings(updated)
	}

	pub(crate) fn do_set_volatility_policy(
		asset: T::AssetId,
		policy: Option<VolatilityPolicy>,
	) -> DispatchResult {
		ensure!(Markets::<T>::contains_key(asset), crate::Error::<T>::AssetNotListed);
		let now = frame_system::Pallet::<T>::block_number();
		let widens_from = now.saturating_add(crate::RiskChangeDelay::<T>::get());
		match policy {
			Some(policy) => {
				ensure!(policy.in_range(), crate::Error::<T>::PolicyOutOfRange);
				// The settlement asset's liability weight weighs every position's loss: widened,
				// a close-out could lower health (`1 - l φ` below zero).
				ensure!(
					T::Derivatives::settlement_asset() != Some(asset),
					crate::Error::<T>::PolicyOutOfRange
				);
				VolatilityPolicies::<T>::insert(asset, (policy, widens_from));
			},
			None => {
				// Without a policy the listed weights hold again (relaxing harms no account).
				VolatilityPolicies::<T>::remove(asset);
				let was = Widenings::<T>::take(asset);
				if !was.is_zero() {
					let volatility =
						T::Prices::price(&asset).map(|info| info.volatility).unwrap_or_default();
					Self::deposit_event(Event::WeightsWidened {
						asset,
						widening: Permill::zero(),
						target: Permill::zero(),
						volatility,
					});
				}
			},
		}
		Self::deposit_event(Event::VolatilityPolicySet { asset, policy, widens_from });
		Ok(())
	}
}
