//! The arithmetic of perpetual futures: fill price, funding, cost basis and profit and loss.
//! Pure functions over fixed-point numbers, shown against hand figures in the tests.
//!
//! Units: a **size** is in whole units of the underlying, signed (`+` long, `-` short), as a
//! [`FixedI128`]; a **price** is USD per whole unit ([`Price`]); a signed USD amount is a
//! [`FixedI128`]. The market's **skew** is long minus short open interest, in size units, and its
//! **skew scale** the size at which the premium reaches 100%.
//!
//! **Fill price** (Synthetix v3 `calculateFillPrice`): a trade of `s` when the skew is `k` fills
//! at the oracle price times one plus the average of the premium before and after it,
//!
//! ```text
//!   fill = P (1 + (k / S + (k + s) / S) / 2) = P (1 + (2k + s) / 2S)
//! ```
//!
//! so a trade that adds to the skew pays a premium and one that reduces it gets a discount.
//!
//! **Funding** (Synthetix v3's velocity model): the funding rate (per day, `+`: longs pay shorts)
//! drifts at a velocity proportional to the skew, `v = clamp(k / S, -1, 1) * V_max`, so
//! `r(t) = r_0 + v t`. Over an interval of `t` days at price `P`, one unit of long size pays
//! `(r_0 + r(t)) / 2 * t * P` USD: the market's cumulative **funding index** grows by that, and a
//! position of size `s` that last settled at index `F_0` owes `s (F - F_0)`. No loop over
//! positions.
//!
//! **Margin** rises with the position's size, linearly (Synthetix v3's `calculateRequiredMargins`):
//! a position of `s` needs an initial margin fraction `IMF = min(1, IMF_min + |s| / S * slope)` of
//! its notional `|s| P`, and a maintenance fraction `MMF = IMF * share`. Per position rather than
//! per market open interest (dYdX's scaling): one trader's trade never changes another account's
//! requirement, so an account's health moves only with prices, funding and its own trades; and
//! continuous, with no tier edge to game (Hyperliquid's tiers need a deduction per tier to stay
//! continuous).
//!
//! **Cost basis**: increasing a position averages its entry price by size; reducing it realises
//! `closed * (fill - entry)` (signed by the side) and keeps the entry; a trade that crosses zero
//! closes the whole position and opens the rest at the fill price.

use liquidation_primitives::{Moment, Price};
use sp_arithmetic::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Saturating, Zero},
	FixedI128, FixedPointNumber, Permill,
};

/// A signed size, USD amount or rate.
pub type Signed = FixedI128;

/// Milliseconds in a day: funding rates and velocities are per day.
pub const DAY_MS: Moment = 24 * 60 * 60 * 1_000;

/// `value * elapsed_ms / DAY_MS`, rounded once (toward zero).
fn per_day(value: Signed, elapsed_ms: Moment) -> Option<Signed> {
	value
		.checked_mul(&Signed::saturating_from_integer(elapsed_ms))?
		.checked_div(&Signed::saturating_from_integer(DAY_MS))
}

/// A non-negative price as a signed number; `None` above `FixedI128`'s range.
pub fn signed(price: Price) -> Option<Signed> {
	i128::try_from(price.into_inner()).ok().map(Signed::from_inner)
}

/// A signed number as a price; `None` if it is negative.
pub fn unsigned(value: Signed) -> Option<Price> {
	u128::try_from(value.into_inner()).ok().map(Price::from_inner)
}

/// The price a trade of `size` fills at when the market's skew is `skew` and its skew scale
/// `scale`: `oracle (1 + (2 skew + size) / (2 scale))`. `None` for a scale of zero or a fill at or
/// below zero (a trade too large for the market).
pub fn fill_price(oracle: Price, skew: Signed, size: Signed, scale: Signed) -> Option<Price> {
	if scale <= Signed::zero() {
		return None;
	}
	let two = Signed::saturating_from_integer(2);
	let premium =
		skew.checked_mul(&two)?.checked_add(&size)?.checked_div(&scale.checked_mul(&two)?)?;
	let fill = signed(oracle)?.checked_mul(&Signed::one().checked_add(&premium)?)?;
	if fill <= Signed::zero() {
		return None;
	}
	unsigned(fill)
}

/// How fast the funding rate moves, per day per day: `clamp(skew / scale, -1, 1) * max_velocity`.
pub fn funding_velocity(skew: Signed, scale: Signed, max_velocity: Signed) -> Option<Signed> {
	if scale <= Signed::zero() {
		return None;
	}
	let proportional = skew.checked_div(&scale)?.max(-Signed::one()).min(Signed::one());
	proportional.checked_mul(&max_velocity)
}

/// The funding rate (per day) `elapsed_ms` after it was `rate` at a `velocity`, within
/// `[-max_rate, max_rate]`.
pub fn funding_rate_after(
	rate: Signed,
	velocity: Signed,
	elapsed_ms: Moment,
	max_rate: Signed,
) -> Option<Signed> {
	let next = rate.checked_add(&per_day(velocity, elapsed_ms)?)?;
	Some(next.max(-max_rate).min(max_rate))
}

/// USD one unit of long size pays over `elapsed_ms` while the rate moved from `rate` to `next`
/// (linearly) at `price`: `(rate + next) / 2 * elapsed_ms / DAY_MS * price`; negative when longs
/// are paid.
pub fn funding_per_unit(
	rate: Signed,
	next: Signed,
	elapsed_ms: Moment,
	price: Price,
) -> Option<Signed> {
	let average = rate.checked_add(&next)?.checked_div(&Signed::saturating_from_integer(2))?;
	per_day(average.checked_mul(&signed(price)?)?, elapsed_ms)
}

/// What a position of `size` owes in funding since it settled at index `settled_index`, now that
/// the index is `index`: `size * (index - settled_index)` (negative: it is owed).
pub fn funding_owed(size: Signed, settled_index: Signed, index: Signed) -> Option<Signed> {
	size.checked_mul(&index.checked_sub(&settled_index)?)
}

/// Unrealised profit (negative: loss) of a position of `size` entered at `entry`, at `mark`.
pub fn unrealised_pnl(size: Signed, entry: Price, mark: Price) -> Option<Signed> {
	size.checked_mul(&signed(mark)?.checked_sub(&signed(entry)?)?)
}

/// The margin a position needs, in USD.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Requirement {
	/// For opening or increasing it: initial health must stay at or above zero with it.
	pub initial: Signed,
	/// For keeping it: below this, the account is liquidatable.
	pub maintenance: Signed,
}

/// The margin a position of `size` needs at `mark` in a market of skew scale `scale`: the initial
/// fraction `min(1, min_initial + |size| / scale * slope)` and the maintenance fraction
/// `initial * maintenance_share` of the notional `|size| * mark`, rounded up.
pub fn requirement(
	size: Signed,
	mark: Price,
	scale: Signed,
	min_initial: Permill,
	slope: Signed,
	maintenance_share: Permill,
) -> Option<Requirement> {
	if scale <= Signed::zero() {
		return None;
	}
	let magnitude = size.saturating_abs();
	let notional = magnitude.checked_mul(&signed(mark)?)?;
	let initial_fraction = Signed::from(min_initial)
		.checked_add(&magnitude.checked_div(&scale)?.checked_mul(&slope)?)?
		.min(Signed::one());
	let maintenance_fraction = initial_fraction.checked_mul(&Signed::from(maintenance_share))?;
	Some(Requirement {
		initial: mul_up(notional, initial_fraction)?,
		maintenance: mul_up(notional, maintenance_fraction)?,
	})
}

/// `a * b` for non-negative `a` and `b`, rounded up (through 256 bits, so the product may exceed
/// 128 before the scaling back).
fn mul_up(a: Signed, b: Signed) -> Option<Signed> {
	let a = u128::try_from(a.into_inner()).ok()?;
	let b = u128::try_from(b.into_inner()).ok()?;
	let accuracy = u128::try_from(Signed::DIV).ok()?;
	let product = sp_arithmetic::helpers_128bit::multiply_by_rational_with_rounding(
		a,
		b,
		accuracy,
		sp_arithmetic::Rounding::Up,
	)?;
	i128::try_from(product).ok().map(Signed::from_inner)
}

/// A position after a trade.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Traded {
	/// The new size.
	pub size: Signed,
	/// The new entry price (cost basis); zero for a closed position.
	pub entry: Price,
	/// Profit (negative: loss) realised by the part closed, before fees and funding.
	pub realised: Signed,
}

/// A position of `size` entered at `entry` after a trade of `delta` filled at `fill`.
pub fn trade(size: Signed, entry: Price, delta: Signed, fill: Price) -> Option<Traded> {
	let after = size.checked_add(&delta)?;
	let same_side = size.is_zero() || (size.is_positive() == delta.is_positive());
	if same_side {
		// An increase: the entry is the size-weighted average of the old entry and the fill.
		let cost =
			size.checked_mul(&signed(entry)?)?.checked_add(&delta.checked_mul(&signed(fill)?)?)?;
		let entry =
			if after.is_zero() { Price::zero() } else { unsigned(cost.checked_div(&after)?)? };
		return Some(Traded { size: after, entry, realised: Signed::zero() });
	}
	// A reduction: the part closed realises its PnL at the fill; a flip opens the rest at it.
	let closed = if delta.saturating_abs() <= size.saturating_abs() {
		delta.saturating_mul(-Signed::one())
	} else {
		size
	};
	let realised = unrealised_pnl(closed, entry, fill)?;
	let entry = if after.is_zero() {
		Price::zero()
	} else if after.is_positive() == size.is_positive() {
		entry
	} else {
		fill
	};
	Some(Traded { size: after, entry, realised })
}

#[cfg(test)]
mod tests {
	use super::*;

	fn n(x: i128) -> Signed {
		Signed::saturating_from_integer(x)
	}
	fn r(p: i128, q: i128) -> Signed {
		Signed::saturating_from_rational(p, q)
	}
	fn price(x: u128) -> Price {
		Price::saturating_from_integer(x)
	}

	#[test]
	fn a_trade_with_the_skew_pays_a_premium_and_against_it_a_discount() {
		// Skew +100 BTC, scale 10 000: a 100 BTC buy fills at 60 000 (1 + 300 / 20 000) = 60 900.
		assert_eq!(fill_price(price(60_000), n(100), n(100), n(10_000)), Some(price(60_900)));
		// A 100 BTC sell against it: 60 000 (1 + 100 / 20 000) = 60 300.
		assert_eq!(fill_price(price(60_000), n(100), n(-100), n(10_000)), Some(price(60_300)));
		// Flat market, a 10 BTC buy: 60 000 (1 + 10 / 20 000) = 60 030 (5 bps).
		assert_eq!(fill_price(price(60_000), n(0), n(10), n(10_000)), Some(price(60_030)));
		// A sell larger than twice the scale would fill at or below zero: refused.
		assert_eq!(fill_price(price(60_000), n(0), n(-20_000), n(10_000)), None);
		assert_eq!(fill_price(price(60_000), n(0), n(1), n(0)), None);
	}

	#[test]
	fn funding_drifts_with_the_skew_and_accrues_its_average() {
		// Skew of half the scale, a maximum velocity of 9 a day per day: 4.5.
		let velocity = funding_velocity(n(5_000), n(10_000), n(9)).unwrap();
		assert_eq!(velocity, r(45, 10));
		// Beyond the scale the velocity stops growing.
		assert_eq!(funding_velocity(n(-30_000), n(10_000), n(9)), Some(n(-9)));
		// From 0 over an hour (1/24 day): 4.5 / 24 = 0.1875 a day.
		let hour = DAY_MS / 24;
		let next = funding_rate_after(n(0), velocity, hour, n(1)).unwrap();
		assert_eq!(next, r(1875, 10_000));
		// Bounded by the maximum rate.
		assert_eq!(funding_rate_after(n(0), velocity, 10 * DAY_MS, n(1)), Some(n(1)));
		// One long BTC at 60 000 pays the average rate over the hour: 0.09375 / 24 * 60 000 = 234.375.
		let per_unit = funding_per_unit(n(0), next, hour, price(60_000)).unwrap();
		assert_eq!(per_unit, r(234_375, 1_000));
		// A 2 BTC long owes twice the index's growth; a 2 BTC short is owed as much.
		assert_eq!(funding_owed(n(2), n(100), n(100) + per_unit), Some(r(468_750, 1_000)));
		assert_eq!(funding_owed(n(-2), n(100), n(100) + per_unit), Some(r(-468_750, 1_000)));
	}

	#[test]
	fn margin_rises_with_the_size_up_to_the_whole_notional() {
		let (scale, min, slope, share) =
			(n(10_000), Permill::from_percent(2), r(154, 100), Permill::from_percent(28));
		// 100 BTC at 60 000: IMF = 0.02 + 100 / 10 000 * 1.54 = 0.0354 of 6 000 000 = 212 400;
		// MMF = 0.0354 * 0.28 = 0.009912, 59 472.
		let big = requirement(n(100), price(60_000), scale, min, slope, share).unwrap();
		assert_eq!(big, Requirement { initial: n(212_400), maintenance: n(59_472) });
		// A short of the same size needs the same.
		assert_eq!(requirement(n(-100), price(60_000), scale, min, slope, share), Some(big));
		// 1 BTC: IMF = 0.020154, 1 209.24; MMF 0.00564312, 338.5872.
		let small = requirement(n(1), price(60_000), scale, min, slope, share).unwrap();
		assert_eq!(
			small,
			Requirement { initial: r(120_924, 100), maintenance: r(3_385_872, 10_000) }
		);
		// From (1 - 0.02) / 1.54 of the scale on, the whole notional: 10 000 BTC needs 600 000 000.
		let whole = requirement(n(10_000), price(60_000), scale, min, slope, share).unwrap();
		assert_eq!(whole.initial, n(600_000_000));
		assert_eq!(requirement(n(1), price(60_000), n(0), min, slope, share), None);
	}

	#[test]
	fn increases_average_the_entry_reductions_realise_flips_reopen() {
		// 1 BTC at 60 000, then 1 more at 62 000: 2 BTC at 61 000.
		let t = trade(n(1), price(60_000), n(1), price(62_000)).unwrap();
		assert_eq!(t, Traded { size: n(2), entry: price(61_000), realised: n(0) });
		// Sell 0.5 at 63 000: 0.5 * 2 000 = 1 000 realised, entry unchanged.
		let t = trade(n(2), price(61_000), r(-1, 2), price(63_000)).unwrap();
		assert_eq!(t, Traded { size: r(3, 2), entry: price(61_000), realised: n(1_000) });
		// Sell 3 at 59 000: the 1.5 long closes (1.5 * -2 000 = -3 000), 1.5 short opens at 59 000.
		let t = trade(r(3, 2), price(61_000), n(-3), price(59_000)).unwrap();
		assert_eq!(t, Traded { size: r(-3, 2), entry: price(59_000), realised: n(-3_000) });
		// A short closed in full at a lower price profits: 1.5 * 1 000.
		let t = trade(r(-3, 2), price(59_000), r(3, 2), price(58_000)).unwrap();
		assert_eq!(t, Traded { size: n(0), entry: Price::zero(), realised: n(1_500) });
		// Opening from nothing fills at the fill price.
		let t = trade(n(0), Price::zero(), n(-2), price(3_000)).unwrap();
		assert_eq!(t, Traded { size: n(-2), entry: price(3_000), realised: n(0) });
		// Unrealised PnL: 2 short from 3 000, mark 2 500: +1 000.
		assert_eq!(unrealised_pnl(n(-2), price(3_000), price(2_500)), Some(n(1_000)));
	}
}
