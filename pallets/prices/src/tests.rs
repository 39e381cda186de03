//! Tests of the prices pallet on a runtime with the real `orml-oracle`.

use crate::{
	mock::*, Breaker, Error, Event, OracleParams, PriceSource, ResumeCause, Smoothing, Sources,
	States, TwapSamples,
};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use liquidation_primitives::{Price, PriceError, PriceProvider};
use sp_runtime::traits::{One, Zero};
use sp_runtime::{DispatchError, FixedU128, Permill};

fn price(asset: liquidation_primitives::AssetId) -> Result<Price, PriceError> {
	Prices::price(&asset).map(|info| info.price)
}

fn to_f64(x: FixedU128) -> f64 {
	x.into_inner() as f64 / 1e18
}

fn usd(x: f64) -> Price {
	Price::from_inner((x * 1e18).round() as u128)
}

fn events() -> Vec<Event<Test>> {
	liquidation_test_support::events_of::<Test, _>(|event| match event {
		RuntimeEvent::Prices(event) => Some(event),
		_ => None,
	})
}

fn halted_events() -> usize {
	events().iter().filter(|event| matches!(event, Event::Halted { .. })).count()
}

mod combining {
	use super::*;

	#[test]
	fn the_combined_price_is_the_median_of_the_operators() {
		test(|| {
			for (operator, value) in OPERATORS.into_iter().zip([100, 104, 99, 1_000, 101]) {
				feed(operator, BTC, Price::from_u32(value));
			}
			next_block();
			// Sorted: 99, 100, 101, 104, 1000: the outlier does not move the median.
			assert_eq!(price(BTC), Ok(Price::from_u32(101)));
		});
	}

	#[test]
	fn stale_feeders_are_left_out_of_the_median() {
		test(|| {
			// Operators 4 and 5 report a wild price once, then stop.
			feed(4, BTC, Price::from_u32(500));
			feed(5, BTC, Price::from_u32(500));
			advance(default_params().max_age_ms);
			// Their values are now max_age_ms old: only the three fresh ones count.
			for (operator, value) in [(1, 100), (2, 101), (3, 102)] {
				feed(operator, BTC, Price::from_u32(value));
			}
			next_block();
			// The median of the fresh 100, 101, 102 is 101; had the stale values counted, the
			// median of 100, 101, 102, 500, 500 would be 102.
			assert_eq!(price(BTC), Ok(Price::from_u32(101)));
			let combined = Oracle::get(&BTC).expect("a combined value");
			assert_eq!(combined.value, Price::from_u32(101));
		});
	}

	#[test]
	fn fewer_fresh_values_than_the_minimum_give_missing_never_an_old_value() {
		test(|| {
			// Two operators only, and three are needed: no price at all.
			feed(1, BTC, Price::from_u32(100));
			feed(2, BTC, Price::from_u32(100));
			next_block();
			assert_eq!(price(BTC), Err(PriceError::Missing));
			assert!(Oracle::get(&BTC).is_none());
		});
	}

	#[test]
	fn a_price_goes_stale_at_max_age_and_stays_stale_with_too_few_feeders() {
		test(|| {
			feed_all(BTC, Price::from_u32(100));
			next_block();
			assert_eq!(price(BTC), Ok(Price::from_u32(100)));

			// Just before max age it is live; at max age it is stale, with no block needed.
			let formed_at = Prices::price(&BTC).unwrap().updated_at;
			Timestamp::set_timestamp(formed_at + default_params().max_age_ms - 1);
			assert_eq!(price(BTC), Ok(Price::from_u32(100)));
			Timestamp::set_timestamp(formed_at + default_params().max_age_ms);
			assert_eq!(price(BTC), Err(PriceError::Stale));
			// Positions held are still valued, at the last accepted level (the valuation rule).
			assert_eq!(Prices::valuation_price(&BTC), Some(Price::from_u32(100)));

			// Two fresh values are not enough to refresh it: it stays stale, never the old value.
			next_block();
			feed(1, BTC, Price::from_u32(90));
			feed(2, BTC, Price::from_u32(90));
			next_block();
			assert_eq!(price(BTC), Err(PriceError::Stale));

			// A third makes a fresh price.
			feed(1, BTC, Price::from_u32(95));
			feed(2, BTC, Price::from_u32(95));
			feed(3, BTC, Price::from_u32(95));
			next_block();
			assert_eq!(price(BTC), Ok(Price::from_u32(95)));
		});
	}

	#[test]
	fn a_fixed_price_is_always_live_and_unknown_assets_are_missing() {
		test(|| {
			assert_eq!(price(USD), Ok(Price::one()));
			Timestamp::set_timestamp(now() + 30 * DAY);
			assert_eq!(price(USD), Ok(Price::one()));
			assert_eq!(Prices::price(&USD).unwrap().updated_at, now());
			let unknown = liquidation_primitives::AssetId::Asset(77);
			assert_eq!(price(unknown), Err(PriceError::Missing));
		});
	}

	#[test]
	fn values_for_unpriced_assets_are_ignored() {
		test(|| {
			let unknown = liquidation_primitives::AssetId::Asset(77);
			feed_all(unknown, Price::from_u32(5));
			next_block();
			assert!(Oracle::get(&unknown).is_none());
			assert!(States::<Test>::get(&unknown).is_none());
		});
	}

	#[test]
	fn replaying_the_single_feeder_fault_scenario_moves_nothing_and_trips_nothing() {
		// Read at run time: a test binary reused from another checkout keeps its build-time path.
		let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it for tests");
		let path =
			std::path::Path::new(&manifest_dir).join("../../scenarios/single-feeder-fault.csv");
		let scenario =
			liquidation_scenario::Scenario::from_file(&path).expect("the scenario parses");
		assert_eq!(scenario.named_feeders().len(), 5, "five operators");
		test(|| {
			assert_ok!(Prices::set_oracle_source(RuntimeOrigin::root(), USD, default_params()));
			let assets = [("ETH", ETH), ("BTC", BTC), ("USD", USD)];
			let mut blocks = 0;
			for seconds in (0..=scenario.end_seconds()).step_by((BLOCK_TIME / 1000) as usize) {
				for (operator, name) in OPERATORS.into_iter().zip(scenario.named_feeders()) {
					let values: Vec<_> = assets
						.iter()
						.filter_map(|(symbol, asset)| {
							let value = scenario.price_at(name, symbol, seconds)?;
							Some((*asset, Price::from_inner(value)))
						})
						.collect();
					assert_ok!(Oracle::feed_values(
						RuntimeOrigin::signed(operator),
						BoundedVec::truncate_from(values)
					));
				}
				next_block();
				blocks += 1;
				// The faulty operator never moves the combined price, and nothing halts.
				assert_eq!(price(ETH), Ok(Price::from_u32(4_000)), "ETH at {seconds} s");
				assert_eq!(price(BTC), Ok(Price::from_u32(100_000)), "BTC at {seconds} s");
				assert_eq!(price(USD), Ok(Price::one()), "USD at {seconds} s");
			}
			assert!(blocks > 500, "the whole hour was replayed");
			assert_eq!(halted_events(), 0);
			for asset in [ETH, BTC, USD] {
				assert_eq!(States::<Test>::get(&asset).unwrap().breaker, Breaker::Live);
				assert_eq!(States::<Test>::get(&asset).unwrap().volatility(), FixedU128::zero());
			}
		});
	}
}

mod circuit_breaker {
	use super::*;

	fn start_at(level: u32) {
		feed_all(BTC, Price::from_u32(level));
		next_block();
		assert_eq!(price(BTC), Ok(Price::from_u32(level)));
	}

	#[docify::export]
	#[test]
	fn a_jump_beyond_the_bound_halts_and_reads_say_halted() {
		test(|| {
			start_at(100);
			// +30% with a 20% bound.
			feed_all(BTC, Price::from_u32(130));
			next_block();
			assert_eq!(price(BTC), Err(PriceError::Halted));
			assert!(events().contains(&Event::Halted {
				asset: BTC,
				reference: Price::from_u32(100),
				observed: Price::from_u32(130),
				relative_move: FixedU128::from_rational(3, 10),
			}));
			let report = Prices::price_report(&BTC);
			assert_eq!(report.usable, Err(PriceError::Halted));
			assert_eq!(report.halted_candidate, Some(Price::from_u32(130)));
			assert_eq!(report.last.unwrap().price, Price::from_u32(100));
			// Held positions are valued at the last accepted level, not at the candidate.
			assert_eq!(Prices::valuation_price(&BTC), Some(Price::from_u32(100)));
			assert_eq!(Prices::valuation_price(&ETH), None);
		});
	}

	#[test]
	fn a_move_exactly_at_the_bound_is_accepted() {
		test(|| {
			start_at(100);
			feed_all(BTC, Price::from_u32(80));
			next_block();
			assert_eq!(price(BTC), Ok(Price::from_u32(80)));
		});
	}

	#[test]
	fn consecutive_confirmations_resume_at_the_new_level() {
		test(|| {
			start_at(100);
			feed_all(BTC, Price::from_u32(150));
			next_block();
			// First confirmation (within 20% of 150): still halted.
			feed_all(BTC, Price::from_u32(140));
			next_block();
			assert_eq!(price(BTC), Err(PriceError::Halted));
			// Second: resumes at the confirming block's price.
			feed_all(BTC, Price::from_u32(155));
			next_block();
			assert_eq!(price(BTC), Ok(Price::from_u32(155)));
			assert!(events().contains(&Event::Resumed {
				asset: BTC,
				price: Price::from_u32(155),
				cause: ResumeCause::Confirmed,
			}));
		});
	}

	#[test]
	fn a_level_that_does_not_hold_restarts_the_confirmation() {
		test(|| {
			start_at(100);
			feed_all(BTC, Price::from_u32(150));
			next_block();
			feed_all(BTC, Price::from_u32(150));
			next_block();
			// Back to 100: more than 20% from the candidate 150, which it replaces.
			feed_all(BTC, Price::from_u32(100));
			next_block();
			assert_eq!(price(BTC), Err(PriceError::Halted));
			assert_eq!(Prices::price_report(&BTC).halted_candidate, Some(Price::from_u32(100)));
			// Two confirmations of 100 resume it.
			feed_all(BTC, Price::from_u32(101));
			next_block();
			feed_all(BTC, Price::from_u32(99));
			next_block();
			assert_eq!(price(BTC), Ok(Price::from_u32(99)));
		});
	}

	#[test]
	fn a_block_without_a_new_combined_value_confirms_nothing() {
		test(|| {
			start_at(100);
			feed_all(BTC, Price::from_u32(150));
			next_block();
			// Only two operators: the oracle forms no new value, so nothing is confirmed.
			for _ in 0..5 {
				feed(1, BTC, Price::from_u32(150));
				feed(2, BTC, Price::from_u32(150));
				next_block();
			}
			assert_eq!(price(BTC), Err(PriceError::Halted));
		});
	}

	#[test]
	fn governance_resumes_at_the_candidate() {
		test(|| {
			start_at(100);
			feed_all(BTC, Price::from_u32(150));
			next_block();
			assert_ok!(Prices::resume(RuntimeOrigin::root(), BTC));
			assert_eq!(price(BTC), Ok(Price::from_u32(150)));
			assert!(events().contains(&Event::Resumed {
				asset: BTC,
				price: Price::from_u32(150),
				cause: ResumeCause::Governance,
			}));
			assert_noop!(Prices::resume(RuntimeOrigin::root(), BTC), Error::<Test>::NotHalted);
		});
	}

	#[test]
	fn a_governance_halt_is_lifted_only_by_governance() {
		test(|| {
			start_at(100);
			assert_ok!(Prices::halt(RuntimeOrigin::root(), BTC));
			assert_noop!(Prices::halt(RuntimeOrigin::root(), BTC), Error::<Test>::AlreadyHalted);
			for _ in 0..5 {
				feed_all(BTC, Price::from_u32(100));
				next_block();
			}
			assert_eq!(price(BTC), Err(PriceError::Halted));
			assert_ok!(Prices::resume(RuntimeOrigin::root(), BTC));
			assert_eq!(price(BTC), Ok(Price::from_u32(100)));
		});
	}

	#[test]
	fn halting_needs_an_oracle_price() {
		test(|| {
			assert_noop!(Prices::halt(RuntimeOrigin::root(), BTC), Error::<Test>::NoPrice);
			assert_noop!(Prices::halt(RuntimeOrigin::root(), USD), Error::<Test>::NotOraclePriced);
			let unknown = liquidation_primitives::AssetId::Asset(77);
			assert_noop!(Prices::halt(RuntimeOrigin::root(), unknown), Error::<Test>::UnknownAsset);
		});
	}
}

mod smoothing_and_volatility {
	use super::*;

	/// Feeds `series` one block apart and returns the block times (ms) they were accepted at.
	fn feed_series(series: &[f64]) -> Vec<u64> {
		let mut times = Vec::new();
		for value in series {
			feed_all(BTC, usd(*value));
			times.push(now());
			next_block();
		}
		times
	}

	#[test]
	fn the_volatility_on_a_known_series_equals_an_independent_reference() {
		test(|| {
			let series = [100.0, 101.0, 99.5, 102.0, 102.0, 98.0, 98.7, 101.3];
			let times = feed_series(&series);

			// Reference, in floating point: EWMA in time of r² scaled to a day.
			let half_life = default_params().volatility_half_life_ms as f64;
			let mut variance = 0.0f64;
			for i in 1..series.len() {
				let elapsed = (times[i] - times[i - 1]) as f64;
				let r = (series[i] / series[i - 1]).ln();
				let weight = 1.0 - 2f64.powf(-elapsed / half_life);
				variance += weight * (r * r * DAY as f64 / elapsed - variance);
			}
			let reference = variance.sqrt();

			let ours = to_f64(Prices::price(&BTC).unwrap().volatility);
			assert!(reference > 0.05, "the series is volatile: {reference}");
			assert!(
				((ours - reference) / reference).abs() < 1e-9,
				"volatility {ours} vs reference {reference}"
			);
		});
	}

	#[test]
	fn the_ema_mark_follows_its_half_life() {
		test(|| {
			// Every step within the 20% bound.
			let series = [100.0, 115.0, 115.0, 95.0];
			let times = feed_series(&series);
			let half_life = 60_000.0;
			let mut mark = series[0];
			for i in 1..series.len() {
				let elapsed = (times[i] - times[i - 1]) as f64;
				mark += (1.0 - 2f64.powf(-elapsed / half_life)) * (series[i] - mark);
			}
			let ours = to_f64(Prices::price(&BTC).unwrap().mark);
			assert!((ours - mark).abs() < 1e-9, "mark {ours} vs reference {mark}");
		});
	}

	#[test]
	fn the_twap_mark_is_the_time_weighted_average_over_its_window() {
		test(|| {
			let params = OracleParams {
				smoothing: Smoothing::Twap { window_ms: 60_000 },
				..default_params()
			};
			assert_ok!(Prices::set_oracle_source(RuntimeOrigin::root(), BTC, params));
			// 100, 110, 120, 120 one block (6 s) apart.
			feed_series(&[100.0, 110.0, 120.0, 120.0]);
			// At the last sample: 100 for 6 s, 110 for 6 s, 120 for 6 s.
			assert_eq!(Prices::price(&BTC).unwrap().mark, Price::from_u32(110));

			// Ten more blocks at 120: the window (60 s) no longer holds 100 or 110.
			feed_series(&[120.0; 10]);
			assert_eq!(Prices::price(&BTC).unwrap().mark, Price::from_u32(120));
			assert!(TwapSamples::<Test>::get(&BTC).len() <= 16);
		});
	}

	#[test]
	fn twap_samples_stay_bounded_and_ordered() {
		test(|| {
			let params = OracleParams {
				smoothing: Smoothing::Twap { window_ms: 3_600_000 },
				..default_params()
			};
			assert_ok!(Prices::set_oracle_source(RuntimeOrigin::root(), BTC, params));
			for block in 0..700u32 {
				feed_all(BTC, Price::from_u32(100 + block % 7));
				next_block();
			}
			let samples = TwapSamples::<Test>::get(&BTC);
			assert_eq!(samples.len(), 16);
			// One sample per window / 16 = 225 s at most.
			for (earlier, later) in samples.iter().zip(samples.iter().skip(1)) {
				assert!(later.0 - earlier.0 >= 225_000);
			}
		});
	}
}

mod stable_price {
	use super::*;

	/// A pump of 3.2% a block for 100 blocks (6 s each, under the 20% breaker) multiplies the
	/// price by 23; the stable price, at 6% an hour, moves 0.01% a block: 1.0001^100 = 1.01.
	/// Then the price falls back, and the stable price follows it down at the same pace.
	#[test]
	fn the_stable_price_follows_a_pump_at_its_hourly_pace_either_way() {
		test(|| {
			feed_all(BTC, Price::from_u32(100));
			next_block();
			let mut price = 100.0f64;
			for _ in 0..100 {
				price *= 1.032;
				feed_all(BTC, usd(price));
				next_block();
			}
			let info = Prices::price(&BTC).unwrap();
			assert!(info.price > Price::from_u32(2_300), "{:?}", info.price);
			let stable = info.stable.into_inner() as f64 / 1e18;
			assert!((stable - 100.0 * 1.0001f64.powi(100)).abs() < 0.01, "{stable}");
			assert_eq!(info.for_collateral(), info.stable);
			assert_eq!(info.for_debt(), info.price);

			// A crash (15% a block) to below the stable price, which comes down 0.01% a block.
			let before = info.stable;
			for _ in 0..25 {
				price *= 0.85;
				feed_all(BTC, usd(price));
				next_block();
			}
			let info = Prices::price(&BTC).unwrap();
			assert!(info.price < info.stable && info.price < before);
			// Up while the price was still above it, then down: never more than 0.01% a block.
			let (before, stable) =
				(before.into_inner() as f64 / 1e18, info.stable.into_inner() as f64 / 1e18);
			assert!(stable >= before * 0.9999f64.powi(25) - 1e-9, "{stable}");
			assert!(stable <= before * 1.0001f64.powi(25) + 1e-9, "{stable}");
			assert_eq!(info.for_collateral(), info.price);
			assert_eq!(info.for_debt(), info.stable);
		});
	}

	/// A fixed price is its own stable price; the first oracle price starts the stable price.
	#[test]
	fn a_fixed_price_and_a_first_price_are_their_own_stable_price() {
		test(|| {
			let usd = Prices::price(&USD).unwrap();
			assert_eq!(usd.stable, usd.price);
			feed_all(BTC, Price::from_u32(100));
			next_block();
			assert_eq!(Prices::price(&BTC).unwrap().stable, Price::from_u32(100));
		});
	}
}

mod governance {
	use super::*;

	#[test]
	fn every_governance_call_fails_for_a_signed_origin() {
		test(|| {
			let stranger = RuntimeOrigin::signed(STRANGER);
			assert_noop!(
				Prices::set_oracle_source(stranger.clone(), BTC, default_params()),
				DispatchError::BadOrigin
			);
			assert_noop!(
				Prices::set_fixed_price(stranger.clone(), BTC, Price::one()),
				DispatchError::BadOrigin
			);
			assert_noop!(Prices::remove_asset(stranger.clone(), BTC), DispatchError::BadOrigin);
			assert_noop!(Prices::halt(stranger.clone(), BTC), DispatchError::BadOrigin);
			assert_noop!(Prices::resume(stranger, BTC), DispatchError::BadOrigin);
		});
	}

	#[test]
	fn parameters_are_range_checked() {
		test(|| {
			let root = || RuntimeOrigin::root();
			let set = |params: OracleParams| Prices::set_oracle_source(root(), BTC, params);
			let base = default_params();
			assert_noop!(set(OracleParams { max_age_ms: 0, ..base }), Error::<Test>::ZeroMaxAge);
			assert_noop!(
				set(OracleParams { max_age_ms: crate::MAX_PRICE_AGE_MS + 1, ..base }),
				Error::<Test>::MaxAgeTooLong
			);
			for too_few in [0, 1, 2] {
				assert_noop!(
					set(OracleParams { min_fresh_values: too_few, ..base }),
					Error::<Test>::TooFewFreshValues
				);
			}
			assert_noop!(
				set(OracleParams { max_move: FixedU128::zero(), ..base }),
				Error::<Test>::ZeroMoveBound
			);
			assert_noop!(
				set(OracleParams { max_move: FixedU128::from_rational(101, 100), ..base }),
				Error::<Test>::MoveBoundOver100Percent
			);
			assert_noop!(
				set(OracleParams { confirmations: 0, ..base }),
				Error::<Test>::ZeroConfirmations
			);
			assert_noop!(
				set(OracleParams { confirmations: 11, ..base }),
				Error::<Test>::TooManyConfirmations
			);
			assert_noop!(
				set(OracleParams { smoothing: Smoothing::Ema { half_life_ms: 0 }, ..base }),
				Error::<Test>::ZeroSmoothingPeriod
			);
			assert_noop!(
				set(OracleParams { smoothing: Smoothing::Twap { window_ms: 0 }, ..base }),
				Error::<Test>::ZeroSmoothingPeriod
			);
			assert_noop!(
				set(OracleParams { smoothing: Smoothing::Twap { window_ms: 3_600_001 }, ..base }),
				Error::<Test>::TwapWindowTooLong
			);
			assert_noop!(
				set(OracleParams { volatility_half_life_ms: 0, ..base }),
				Error::<Test>::ZeroVolatilityHalfLife
			);
			assert_noop!(
				set(OracleParams { stable_growth_per_hour: Permill::zero(), ..base }),
				Error::<Test>::ZeroStableGrowth
			);
			assert_noop!(
				Prices::set_fixed_price(root(), BTC, Price::zero()),
				Error::<Test>::ZeroFixedPrice
			);
			// The bounds themselves are accepted.
			assert_ok!(set(OracleParams {
				max_move: FixedU128::one(),
				confirmations: 10,
				min_fresh_values: 3,
				max_age_ms: crate::MAX_PRICE_AGE_MS,
				..base
			}));
		});
	}

	#[test]
	fn the_number_of_priced_assets_is_bounded() {
		test(|| {
			// Three are priced at genesis; MaxAssets is 8.
			for id in 10..15 {
				let asset = liquidation_primitives::AssetId::Asset(id);
				assert_ok!(Prices::set_fixed_price(RuntimeOrigin::root(), asset, Price::one()));
			}
			let one_too_many = liquidation_primitives::AssetId::Asset(99);
			assert_noop!(
				Prices::set_fixed_price(RuntimeOrigin::root(), one_too_many, Price::one()),
				Error::<Test>::TooManyAssets
			);
			// Updating an existing one is still possible.
			assert_ok!(Prices::set_fixed_price(RuntimeOrigin::root(), USD, Price::one()));
		});
	}

	/// With a delay of 5 blocks, a fixed price for an asset positions hold waits (so that one
	/// call cannot make accounts liquidatable at once), is checked when set, and a later oracle
	/// source replaces it; an asset nothing holds, or one without a usable price, takes a fixed
	/// price at once.
	#[test]
	fn a_fixed_price_for_an_asset_in_use_waits_for_the_delay() {
		test(|| {
			assert_noop!(
				Prices::set_source_change_delay(RuntimeOrigin::root(), 101),
				Error::<Test>::DelayTooLong
			);
			assert_ok!(Prices::set_source_change_delay(RuntimeOrigin::root(), 5));
			feed_all(BTC, Price::from_u32(100));
			next_block();
			set_in_use(BTC, true);
			let start = System::block_number();
			assert_noop!(
				Prices::set_fixed_price(RuntimeOrigin::root(), BTC, Price::zero()),
				Error::<Test>::ZeroFixedPrice
			);
			assert_ok!(Prices::set_fixed_price(RuntimeOrigin::root(), BTC, Price::from_u32(7)));
			let fixed = PriceSource::Fixed(Price::from_u32(7));
			assert!(System::events().iter().any(|record| record.event
				== Event::SourceScheduled { asset: BTC, source: fixed, effective_at: start + 5 }
					.into()));
			for _ in 1..5 {
				feed_all(BTC, Price::from_u32(100));
				next_block();
				assert_eq!(price(BTC), Ok(Price::from_u32(100)));
			}
			next_block();
			assert_eq!(System::block_number(), start + 5);
			assert_eq!(price(BTC), Ok(Price::from_u32(7)));
			assert_eq!(Sources::<Test>::get(&BTC), Some(fixed));
			assert!(crate::ScheduledSources::<Test>::get(&BTC).is_none());
			// A scheduled fixed price is replaced by a later oracle source (ETH, in use).
			feed_all(ETH, Price::from_u32(3_000));
			next_block();
			set_in_use(ETH, true);
			assert_ok!(Prices::set_fixed_price(RuntimeOrigin::root(), ETH, Price::from_u32(9)));
			assert!(crate::ScheduledSources::<Test>::get(&ETH).is_some());
			assert_ok!(Prices::set_oracle_source(RuntimeOrigin::root(), ETH, default_params()));
			assert!(crate::ScheduledSources::<Test>::get(&ETH).is_none());
			// Halted, ETH has no usable price (nothing is liquidated on it): a fixed price is
			// governance's way out and takes effect at once.
			assert_ok!(Prices::halt(RuntimeOrigin::root(), ETH));
			assert_ok!(Prices::set_fixed_price(RuntimeOrigin::root(), ETH, Price::from_u32(9)));
			assert_eq!(price(ETH), Ok(Price::from_u32(9)));
			// Nothing holds USD: its fixed price changes at once.
			assert_ok!(Prices::set_fixed_price(RuntimeOrigin::root(), USD, Price::from_u32(2)));
			assert_eq!(price(USD), Ok(Price::from_u32(2)));
		});
	}

	#[test]
	fn switching_to_a_fixed_price_and_removing_clear_the_oracle_state() {
		test(|| {
			feed_all(BTC, Price::from_u32(100));
			next_block();
			assert!(States::<Test>::contains_key(&BTC));
			assert_ok!(Prices::set_fixed_price(RuntimeOrigin::root(), BTC, Price::from_u32(7)));
			assert!(!States::<Test>::contains_key(&BTC));
			assert_eq!(price(BTC), Ok(Price::from_u32(7)));
			assert_eq!(Sources::<Test>::get(&BTC), Some(PriceSource::Fixed(Price::from_u32(7))));

			// Not while positions hold it: their accounts could no longer be judged.
			set_in_use(BTC, true);
			assert_noop!(
				Prices::remove_asset(RuntimeOrigin::root(), BTC),
				Error::<Test>::AssetInUse
			);
			// Nor switched from its constant to the oracle, which has no price yet.
			assert_noop!(
				Prices::set_oracle_source(RuntimeOrigin::root(), BTC, default_params()),
				Error::<Test>::AssetInUse
			);
			set_in_use(BTC, false);
			assert_ok!(Prices::remove_asset(RuntimeOrigin::root(), BTC));
			assert_eq!(price(BTC), Err(PriceError::Missing));
			assert_noop!(
				Prices::remove_asset(RuntimeOrigin::root(), BTC),
				Error::<Test>::UnknownAsset
			);
		});
	}
}
