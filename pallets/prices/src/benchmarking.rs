//! Benchmarks of the prices pallet: every call and the per-asset work of `on_finalize`.

use super::*;
use crate::Pallet as Prices;
use frame_benchmarking::v2::*;
use frame_support::{
	traits::{EnsureOrigin, Get, Hooks},
	BoundedVec,
};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{Moment, Price};
use sp_runtime::traits::One;
use sp_runtime::FixedU128;

/// A start time well after zero, so that every age computation has room.
const START: Moment = 1_700_000_000_000;

/// Written to storage directly, not through the call: one fresh value makes a price, so the
/// benchmarks need a single feeder (governance may not set fewer than three).
fn twap_params<T: Config>() -> OracleParams {
	OracleParams {
		max_age_ms: 600_000,
		min_fresh_values: 1,
		max_move: FixedU128::from_rational(1, 2),
		confirmations: T::MaxConfirmations::get(),
		smoothing: Smoothing::Twap { window_ms: T::MaxTwapWindowMs::get() },
		volatility_half_life_ms: 600_000,
		stable_growth_per_hour: sp_runtime::Permill::from_percent(6),
	}
}

/// What the benchmarked call sets (within the governance ranges).
fn ema_params<T: Config>() -> OracleParams {
	OracleParams {
		smoothing: Smoothing::Ema { half_life_ms: 60_000 },
		min_fresh_values: crate::MIN_FRESH_VALUES,
		..twap_params::<T>()
	}
}

fn governance<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

/// An asset priced by the oracle through a TWAP with a full sample buffer and a live price:
/// the most storage any path has to read or clear.
fn priced_twap_asset<T: Config>() -> T::AssetId {
	let asset = T::BenchmarkHelper::asset(1);
	T::BenchmarkHelper::set_time(START);
	Sources::<T>::insert(&asset, PriceSource::Oracle(twap_params::<T>()));
	T::BenchmarkHelper::feed(&asset, Price::from_u32(100));
	Prices::<T>::process_update(&asset, START);
	let spacing = T::MaxTwapWindowMs::get() / Moment::from(T::MaxTwapSamples::get());
	let samples: alloc::vec::Vec<_> = (0..T::MaxTwapSamples::get())
		.map(|i| {
			(START - spacing * Moment::from(T::MaxTwapSamples::get() - i), Price::from_u32(100))
		})
		.collect();
	TwapSamples::<T>::insert(&asset, BoundedVec::truncate_from(samples));
	asset
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn set_oracle_source() -> Result<(), BenchmarkError> {
		// Switching a TWAP asset to an EMA clears its samples.
		let asset = priced_twap_asset::<T>();
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset.clone(), ema_params::<T>());
		assert!(TwapSamples::<T>::get(&asset).is_empty());
		Ok(())
	}

	#[benchmark]
	fn set_source_change_delay() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		let delay = T::MaxSourceChangeDelay::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, delay);
		assert_eq!(SourceChangeDelay::<T>::get(), delay);
		Ok(())
	}

	#[benchmark]
	fn set_fixed_price() -> Result<(), BenchmarkError> {
		let asset = priced_twap_asset::<T>();
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset.clone(), Price::one());
		assert!(States::<T>::get(&asset).is_none());
		Ok(())
	}

	#[benchmark]
	fn remove_asset() -> Result<(), BenchmarkError> {
		let asset = priced_twap_asset::<T>();
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset.clone());
		assert!(Sources::<T>::get(&asset).is_none());
		Ok(())
	}

	#[benchmark]
	fn halt() -> Result<(), BenchmarkError> {
		let asset = priced_twap_asset::<T>();
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset.clone());
		assert!(States::<T>::get(&asset).is_some_and(|state| state.is_halted()));
		Ok(())
	}

	#[benchmark]
	fn resume() -> Result<(), BenchmarkError> {
		// Resuming accepts a price: the TWAP with a full buffer is the costliest acceptance.
		let asset = priced_twap_asset::<T>();
		Prices::<T>::do_halt(asset.clone()).map_err(|_| BenchmarkError::Weightless)?;
		T::BenchmarkHelper::set_time(START + 6_000);
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset.clone());
		assert!(States::<T>::get(&asset).is_some_and(|state| !state.is_halted()));
		Ok(())
	}

	/// The work `on_finalize` does for one asset fed in the block: read the combined value, pass
	/// the breaker, update volatility and a full TWAP.
	#[benchmark]
	fn process_update() {
		let asset = priced_twap_asset::<T>();
		let now = START + 6_000;
		T::BenchmarkHelper::set_time(now);
		T::BenchmarkHelper::feed(&asset, Price::from_u32(110));
		#[block]
		{
			Prices::<T>::process_update(&asset, now);
		}
		let state = States::<T>::get(&asset).expect("priced");
		assert_eq!(state.price, Price::from_u32(110));
	}

	/// `on_finalize` in a block in which nothing was fed.
	#[benchmark]
	fn on_finalize_idle() {
		Pending::<T>::kill();
		#[block]
		{
			Prices::<T>::on_finalize(BlockNumberFor::<T>::from(1u32));
		}
	}

	impl_benchmark_test_suite!(Prices, crate::mock::new_test_ext(), crate::mock::Test);
}
