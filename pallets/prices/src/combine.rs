//! [`FreshMedian`]: the `CombineData` this pallet gives `orml-oracle`.

use crate::{Config, PriceSource, Sources};
use alloc::vec::Vec;
use core::marker::PhantomData;
use frame_support::traits::Time;
use liquidation_primitives::{Moment, Price};
use orml_oracle::TimestampedValue;
use orml_traits::CombineData;
use sp_runtime::FixedU128;

/// Combines only operator values younger than the asset's `max_age_ms`; with fewer than
/// `min_fresh_values` of them it combines nothing (it never falls back to an older value, as the
/// oracle's default does). The result is the median of the fresh values (the mean of the two
/// middle ones for an even count, rounded down), formed at the time of the oldest of them.
///
/// Assets that are not oracle-priced in this pallet are never combined.
pub struct FreshMedian<T>(PhantomData<T>);

impl<T: Config> CombineData<T::AssetId, TimestampedValue<Price, Moment>> for FreshMedian<T> {
	fn combine_data(
		key: &T::AssetId,
		values: Vec<TimestampedValue<Price, Moment>>,
		_previous: Option<TimestampedValue<Price, Moment>>,
	) -> Option<TimestampedValue<Price, Moment>> {
		let Some(PriceSource::Oracle(params)) = Sources::<T>::get(key) else { return None };
		fresh_median(values, T::Time::now(), params.max_age_ms, params.min_fresh_values)
	}
}

/// The median of the values younger than `max_age_ms` at `now`, formed at the oldest one's time;
/// `None` with fewer than `min_fresh_values` (or no) fresh values.
pub fn fresh_median(
	mut values: Vec<TimestampedValue<Price, Moment>>,
	now: Moment,
	max_age_ms: Moment,
	min_fresh_values: u32,
) -> Option<TimestampedValue<Price, Moment>> {
	// A value from the future (clock skew) counts as age zero.
	values.retain(|value| now.saturating_sub(value.timestamp) < max_age_ms);
	let count = values.len();
	if count == 0 || count < min_fresh_values as usize {
		return None;
	}
	let formed_at = values.iter().map(|value| value.timestamp).min()?;
	values.sort_unstable_by_key(|value| value.value);
	let upper = values.get(count / 2)?.value;
	let value = if count % 2 == 1 {
		upper
	} else {
		let lower = values.get(count / 2 - 1)?.value;
		mean_rounded_down(lower, upper)
	};
	Some(TimestampedValue { value, timestamp: formed_at })
}

/// `(a + b) / 2` without overflow, rounded down.
fn mean_rounded_down(a: FixedU128, b: FixedU128) -> FixedU128 {
	let (a, b) = (a.into_inner(), b.into_inner());
	FixedU128::from_inner(a / 2 + b / 2 + (a % 2 + b % 2) / 2)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn value(price: u32, timestamp: Moment) -> TimestampedValue<Price, Moment> {
		TimestampedValue { value: Price::from_u32(price), timestamp }
	}

	#[test]
	fn takes_the_median_of_fresh_values_only() {
		// At t = 1000 with max age 100: the values at 850 and 900 are stale.
		let values =
			vec![value(10, 850), value(99, 900), value(20, 950), value(30, 960), value(25, 990)];
		let combined = fresh_median(values, 1000, 100, 3).unwrap();
		assert_eq!(combined.value, Price::from_u32(25));
		// Formed at the oldest fresh value.
		assert_eq!(combined.timestamp, 950);
	}

	#[test]
	fn an_even_count_takes_the_mean_of_the_middle_two() {
		let values = vec![value(10, 1000), value(20, 1000), value(30, 1000), value(1000, 1000)];
		assert_eq!(fresh_median(values, 1000, 100, 1).unwrap().value, Price::from_u32(25));
		let odd = vec![FixedU128::from_inner(3), FixedU128::from_inner(4)];
		assert_eq!(mean_rounded_down(odd[0], odd[1]), FixedU128::from_inner(3));
		assert_eq!(
			mean_rounded_down(FixedU128::from_inner(u128::MAX), FixedU128::from_inner(u128::MAX)),
			FixedU128::from_inner(u128::MAX)
		);
	}

	#[test]
	fn too_few_fresh_values_combine_nothing() {
		let values = vec![value(10, 500), value(20, 990), value(30, 995)];
		assert_eq!(fresh_median(values.clone(), 1000, 100, 3), None);
		assert!(fresh_median(values, 1000, 100, 2).is_some());
		assert_eq!(fresh_median(vec![], 1000, 100, 0), None);
	}

	#[test]
	fn a_value_exactly_max_age_old_is_stale() {
		assert_eq!(fresh_median(vec![value(10, 900)], 1000, 100, 1), None);
		assert!(fresh_median(vec![value(10, 901)], 1000, 100, 1).is_some());
	}
}
