//! Fixed-point functions the smoothing and volatility estimates need, in 18-decimal
//! [`FixedU128`]: `|ln x|` and `2^-y`. `sp-arithmetic` has no logarithm or exponential, so these
//! are series evaluated to full precision; every step is checked, and `None` means out of range.

use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, One, Saturating, Zero},
	FixedPointNumber, FixedU128,
};

/// ln 2 to 18 decimals.
const LN_2: FixedU128 = FixedU128::from_inner(693_147_180_559_945_309);

/// Series terms after which the remainder is below one ulp for the ranges used below.
const SERIES_TERMS: u32 = 40;

/// `|ln x|` for `x > 0`. `None` for `x = 0`.
///
/// Reduces `x >= 1` to `x = m * 2^k` with `m` in `[1, 2)`, then
/// `ln m = 2 * atanh(z) = 2 * (z + z^3/3 + z^5/5 + ...)` with `z = (m - 1) / (m + 1) < 1/3`.
/// For `x < 1`, `|ln x| = ln(1/x)`.
pub fn abs_ln(x: FixedU128) -> Option<FixedU128> {
	if x.is_zero() {
		return None;
	}
	let one = FixedU128::one();
	let mut m = if x < one { one.checked_div(&x)? } else { x };
	let mut k: u32 = 0;
	let two = FixedU128::from_u32(2);
	while m >= two {
		m = m.checked_div(&two)?;
		k = k.checked_add(1)?;
	}
	let z = (m - one).checked_div(&(m + one))?;
	let z_squared = z.checked_mul(&z)?;
	let mut power = z;
	let mut sum = FixedU128::zero();
	for n in 0..SERIES_TERMS {
		let term = power.checked_div(&FixedU128::from_u32(2 * n + 1))?;
		if term.is_zero() {
			break;
		}
		sum = sum.checked_add(&term)?;
		power = power.checked_mul(&z_squared)?;
	}
	LN_2.checked_mul(&FixedU128::from_u32(k))?.checked_add(&sum.checked_mul(&two)?)
}

/// `2^-y` for `y >= 0`.
///
/// `2^-y = 2^-n * e^-(f ln 2)` with `n = floor(y)` and `f` its fraction; `e^u` for `u < ln 2` is
/// its Taylor series.
pub fn exp2_neg(y: FixedU128) -> FixedU128 {
	let whole = y.into_inner() / FixedU128::accuracy();
	// 2^-60 is below one ulp of an 18-decimal number.
	if whole >= 60 {
		return FixedU128::zero();
	}
	let fraction = FixedU128::from_inner(y.into_inner() % FixedU128::accuracy());
	// u < ln 2, so every product below stays small.
	let u = fraction.saturating_mul(LN_2);
	let mut term = FixedU128::one();
	let mut e_u = FixedU128::one();
	for n in 1..SERIES_TERMS {
		term = term.saturating_mul(u) / FixedU128::from_u32(n);
		if term.is_zero() {
			break;
		}
		e_u = e_u.saturating_add(term);
	}
	// e^-u = 1 / e^u (e^u >= 1, so this cannot fail), then 2^-n by shifting the inner value.
	let e_neg_u = FixedU128::one().checked_div(&e_u).unwrap_or_else(FixedU128::zero);
	FixedU128::from_inner(e_neg_u.into_inner() >> whole)
}

/// The weight of a new observation in a time-based EWMA after `elapsed` ms with the given
/// half-life: `1 - 2^(-elapsed / half_life)`. Zero when no time passed, one after a long time.
pub fn ewma_weight(elapsed: u64, half_life: u64) -> FixedU128 {
	if half_life == 0 {
		return FixedU128::one();
	}
	let periods = FixedU128::checked_from_rational(elapsed, half_life)
		.unwrap_or_else(|| FixedU128::from_u32(60));
	FixedU128::one().saturating_sub(exp2_neg(periods))
}

/// `current + weight * (target - current)`, for `weight` in `[0, 1]`.
pub fn move_towards(current: FixedU128, target: FixedU128, weight: FixedU128) -> FixedU128 {
	if target >= current {
		current.saturating_add(weight.saturating_mul(target.saturating_sub(current)))
	} else {
		current.saturating_sub(weight.saturating_mul(current.saturating_sub(target)))
	}
}

/// One hour in milliseconds.
pub const HOUR_MS: u64 = 60 * 60 * 1_000;

/// The stable price after `elapsed_ms` towards `price`: it moves by at most
/// `stable * growth_per_hour * min(elapsed, 1 h) / 1 h`, and never past `price`.
pub fn stable_step(
	stable: FixedU128,
	price: FixedU128,
	growth_per_hour: sp_runtime::Permill,
	elapsed_ms: u64,
) -> FixedU128 {
	if stable.is_zero() {
		return price;
	}
	let hours = FixedU128::checked_from_rational(elapsed_ms.min(HOUR_MS), HOUR_MS)
		.unwrap_or_else(FixedU128::one);
	let step = stable.saturating_mul(FixedU128::from(growth_per_hour)).saturating_mul(hours);
	if price >= stable {
		price.min(stable.saturating_add(step))
	} else {
		price.max(stable.saturating_sub(step))
	}
}

/// `|new / reference - 1|`, or `None` for a zero reference.
pub fn relative_move(reference: FixedU128, new: FixedU128) -> Option<FixedU128> {
	let ratio = new.checked_div(&reference)?;
	let one = FixedU128::one();
	Some(if ratio >= one { ratio - one } else { one - ratio })
}

#[cfg(test)]
mod tests {
	use super::*;

	fn to_f64(x: FixedU128) -> f64 {
		x.into_inner() as f64 / 1e18
	}

	fn fixed(x: f64) -> FixedU128 {
		FixedU128::from_inner((x * 1e18) as u128)
	}

	#[test]
	fn abs_ln_matches_the_float_logarithm() {
		for x in [1.0, 1.000001, 0.999999, 1.05, 0.95, 1.5, 0.5, 2.0, 3.7, 0.01, 100.0, 12345.678] {
			let ours = to_f64(abs_ln(fixed(x)).unwrap());
			let reference = x.ln().abs();
			assert!((ours - reference).abs() < 1e-12, "ln {x}: {ours} vs {reference}");
		}
		assert_eq!(abs_ln(FixedU128::zero()), None);
		assert_eq!(abs_ln(FixedU128::one()), Some(FixedU128::zero()));
	}

	#[test]
	fn exp2_neg_matches_the_float_power() {
		for y in [0.0, 0.001, 0.25, 0.5, 0.999, 1.0, 1.5, 2.75, 10.0, 33.3] {
			let ours = to_f64(exp2_neg(fixed(y)));
			let reference = 2f64.powf(-y);
			assert!((ours - reference).abs() < 1e-15, "2^-{y}: {ours} vs {reference}");
		}
		assert_eq!(exp2_neg(FixedU128::from_u32(80)), FixedU128::zero());
	}

	#[test]
	fn ewma_weight_is_half_after_one_half_life() {
		assert_eq!(ewma_weight(0, 1000), FixedU128::zero());
		let half = to_f64(ewma_weight(1000, 1000));
		assert!((half - 0.5).abs() < 1e-15);
		assert!(to_f64(ewma_weight(u64::MAX, 1)) > 0.999_999_999);
	}

	#[test]
	fn the_stable_price_moves_at_most_its_hourly_growth_and_never_past_the_price() {
		let growth = sp_runtime::Permill::from_percent(6);
		let hundred = FixedU128::from_u32(100);
		// Half an hour towards a far price: 3%.
		let up = stable_step(hundred, FixedU128::from_u32(1_000), growth, HOUR_MS / 2);
		assert_eq!(up, FixedU128::from_u32(103));
		let down = stable_step(hundred, FixedU128::from_u32(10), growth, HOUR_MS / 2);
		assert_eq!(down, FixedU128::from_u32(97));
		// A day counts as an hour: 6%.
		assert_eq!(
			stable_step(hundred, FixedU128::from_u32(1_000), growth, 24 * HOUR_MS),
			FixedU128::from_u32(106)
		);
		// Never past the price; a zero stable price (none yet) takes the price.
		assert_eq!(
			stable_step(hundred, FixedU128::from_u32(101), growth, HOUR_MS),
			FixedU128::from_u32(101)
		);
		assert_eq!(stable_step(FixedU128::zero(), hundred, growth, 0), hundred);
		assert_eq!(stable_step(hundred, FixedU128::from_u32(200), growth, 0), hundred);
	}

	#[test]
	fn relative_move_is_symmetric_in_sign() {
		let up = relative_move(FixedU128::from_u32(100), FixedU128::from_u32(130)).unwrap();
		let down = relative_move(FixedU128::from_u32(100), FixedU128::from_u32(70)).unwrap();
		assert_eq!(up, down);
		assert_eq!(up, FixedU128::saturating_from_rational(3, 10));
		assert_eq!(relative_move(FixedU128::zero(), FixedU128::one()), None);
	}
}
