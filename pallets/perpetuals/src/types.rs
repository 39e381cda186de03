//! What the perpetuals pallet stores about a market, and the funding accrual that keeps it.

use crate::math::{funding_per_unit, funding_rate_after, funding_velocity, Signed};
use liquidation_primitives::{Moment, Price};
use sp_arithmetic::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, Zero},
	FixedPointNumber, FixedU128, Permill,
};

/// Governance parameters of one market.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MarketParams {
	/// The skew (long minus short open interest, in whole units of the underlying) at which the
	/// fill premium reaches 100% and the funding velocity its maximum. Above zero.
	pub skew_scale: FixedU128,
	/// The funding rate's largest drift, per day, per day (reached at a skew of one skew scale).
	pub max_funding_velocity: FixedU128,
	/// The largest funding rate, either way, per day.
	pub max_funding_rate: FixedU128,
	/// The initial margin fraction of a position of size zero.
	pub min_initial_margin: Permill,
	/// How fast the initial margin fraction rises with the position's size, per skew scale.
	pub initial_margin_slope: FixedU128,
	/// The maintenance margin fraction as a share of the initial one.
	pub maintenance_share: Permill,
}

/// The running state of one market.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct MarketState {
	/// Open interest of the longs, in whole units of the underlying.
	pub long_interest: FixedU128,
	/// Open interest of the shorts, in whole units of the underlying.
	pub short_interest: FixedU128,
	/// The funding rate per day when last accrued (`+`: longs pay shorts).
	pub funding_rate: Signed,
	/// USD one unit of long size has paid in funding since the market opened: a position of
	/// size `s` that settled at index `F_0` owes `s (F - F_0)`.
	pub funding_index: Signed,
	/// When funding was last accrued.
	pub accrued_at: Moment,
}

impl MarketState {
	/// Long minus short open interest.
	pub fn skew(&self) -> Option<Signed> {
		crate::math::signed(self.long_interest)?
			.checked_sub(&crate::math::signed(self.short_interest)?)
	}

	/// The state at `now` with funding accrued at `price` since [`Self::accrued_at`]: the rate
	/// drifted with the skew (constant since, as every trade accrues first), and the index grew by
	/// what one unit of long size paid. `None` on an overflow, or a clock that went back.
	pub fn accrued(&self, params: &MarketParams, price: Price, now: Moment) -> Option<Self> {
		let elapsed = now.checked_sub(self.accrued_at)?;
		if elapsed.is_zero() {
			return Some(*self);
		}
		let velocity = funding_velocity(
			self.skew()?,
			crate::math::signed(params.skew_scale)?,
			crate::math::signed(params.max_funding_velocity)?,
		)?;
		let max_rate = crate::math::signed(params.max_funding_rate)?;
		let rate = funding_rate_after(self.funding_rate, velocity, elapsed, max_rate)?;
		// While the rate is capped the average is not that of the two ends: accrue the capped
		// part at the cap. (Split the interval where the rate reaches the cap.)
		let per_unit =
			capped_funding_per_unit(self.funding_rate, velocity, elapsed, max_rate, price)?;
		Some(MarketState {
			funding_rate: rate,
			funding_index: self.funding_index.checked_add(&per_unit)?,
			accrued_at: now,
			..*self
		})
	}
}

/// Funding per unit over `elapsed` ms from `rate` at `velocity`, with the rate held at
/// `[-max_rate, max_rate]` once it reaches a bound.
fn capped_funding_per_unit(
	rate: Signed,
	velocity: Signed,
	elapsed: Moment,
	max_rate: Signed,
	price: Price,
) -> Option<Signed> {
	let bound = if velocity > Signed::zero() {
		max_rate
	} else if velocity < Signed::zero() {
		-max_rate
	} else {
		return funding_per_unit(rate, rate, elapsed, price);
	};
	// Milliseconds until the rate reaches the bound: (bound - rate) / velocity days.
	let to_bound_days = bound.checked_sub(&rate)?.checked_div(&velocity)?;
	let to_bound_ms: Moment = if to_bound_days <= Signed::zero() {
		0
	} else {
		let ms =
			to_bound_days.checked_mul(&Signed::saturating_from_integer(crate::math::DAY_MS))?;
		u64::try_from(ms.into_inner() / Signed::DIV).unwrap_or(Moment::MAX)
	};
	if to_bound_ms >= elapsed {
		let next = funding_rate_after(rate, velocity, elapsed, max_rate)?;
		return funding_per_unit(rate, next, elapsed, price);
	}
	let ramp = funding_per_unit(rate, bound, to_bound_ms, price)?;
	let flat = funding_per_unit(bound, bound, elapsed - to_bound_ms, price)?;
	ramp.checked_add(&flat)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::math::DAY_MS;

	fn btc() -> MarketParams {
		MarketParams {
			skew_scale: FixedU128::saturating_from_integer(10_000),
			max_funding_velocity: FixedU128::saturating_from_integer(9),
			max_funding_rate: FixedU128::saturating_from_integer(1),
			min_initial_margin: Permill::from_percent(2),
			initial_margin_slope: FixedU128::saturating_from_rational(154, 100),
			maintenance_share: Permill::from_percent(28),
		}
	}

	#[test]
	fn funding_accrues_the_drifting_rate_and_stops_drifting_at_its_bound() {
		// Longs 6 000, shorts 1 000: skew 5 000, velocity 4.5 a day per day.
		let state = MarketState {
			long_interest: FixedU128::saturating_from_integer(6_000),
			short_interest: FixedU128::saturating_from_integer(1_000),
			..Default::default()
		};
		let hour = DAY_MS / 24;
		let after = state.accrued(&btc(), Price::saturating_from_integer(60_000), hour).unwrap();
		// Rate 0.1875 a day; one long unit paid 0.09375 / 24 * 60 000 = 234.375.
		assert_eq!(after.funding_rate, Signed::saturating_from_rational(1_875, 10_000));
		assert_eq!(after.funding_index, Signed::saturating_from_rational(234_375, 1_000));
		assert_eq!(after.accrued_at, hour);
		// Nothing elapsed: nothing changes; a clock going back is refused.
		assert_eq!(
			after.accrued(&btc(), Price::saturating_from_integer(60_000), hour),
			Some(after)
		);
		assert_eq!(after.accrued(&btc(), Price::saturating_from_integer(60_000), 0), None);
		// A day from zero: the rate reaches the bound of 1 after 1 / 4.5 day = 5 h 20 min, then
		// stays: per unit = (0 + 1) / 2 * (1 / 4.5) * 60 000 + 1 * (1 - 1 / 4.5) * 60 000
		// = 6 666.67 + 46 666.67 = 53 333.33.
		let day = state.accrued(&btc(), Price::saturating_from_integer(60_000), DAY_MS).unwrap();
		assert_eq!(day.funding_rate, Signed::saturating_from_integer(1));
		let expected = Signed::saturating_from_rational(160_000_000, 3_000);
		let diff = (day.funding_index - expected).saturating_abs();
		assert!(diff < Signed::saturating_from_rational(1, 100), "{:?}", day.funding_index);
	}
}
