//! The calls' inner functions, the per-block update and the oracle hook.

use crate::{
	math, Breaker, Config, Error, Event, OracleParams, Pallet, Pending, PriceSource, PriceState,
	ResumeCause, Smoothing, Sources, States, TwapSamples, WeightInfo,
};
use frame_support::{
	dispatch::DispatchClass,
	ensure,
	pallet_prelude::{DispatchResult, Get},
	traits::Time,
	BoundedVec,
};
use liquidation_primitives::{Moment, Price, PriceError, PriceInfo, PriceReport};
use orml_traits::{DataProviderExtended, OnNewData};
use sp_runtime::{
	traits::{Bounded, CheckedAdd, CheckedDiv, CheckedMul, One, Zero},
	FixedPointNumber, FixedU128,
};

impl<T: Config> Pallet<T> {
	/// A fixed price: at once for an asset nothing holds (or without a delay), else scheduled
	/// [`crate::SourceChangeDelay`] blocks ahead (checked now and again when due).
	pub(crate) fn do_set_or_schedule_fixed(asset: T::AssetId, price: Price) -> DispatchResult {
		let source = PriceSource::Fixed(price);
		let delay = crate::SourceChangeDelay::<T>::get();
		let in_use = <T::PriceUsers as liquidation_primitives::PriceUsers<_>>::in_use(&asset);
		// While the asset has no usable price (halted, stale) nothing is liquidated on it: a
		// fixed price is then governance's way out and takes effect at once.
		let usable = <Self as liquidation_primitives::PriceProvider<_>>::price(&asset).is_ok();
		if !in_use || delay.is_zero() || !usable {
			Self::do_set_source(asset.clone(), source)?;
			crate::ScheduledSources::<T>::remove(&asset);
			return Ok(());
		}
		// Checked now as it would be applied: a refusal is known at once.
		frame_support::storage::with_transaction(|| {
			let checked = Self::do_set_source(asset.clone(), source);
			sp_runtime::TransactionOutcome::Rollback(checked)
		})?;
		let now = frame_system::Pallet::<T>::block_number();
		let effective_at = sp_runtime::Saturating::saturating_add(now, delay);
		crate::ScheduledSources::<T>::insert(&asset, (source, effective_at));
		Self::deposit_event(Event::SourceScheduled { asset, source, effective_at });
		Ok(())
	}

	pub(crate) fn do_set_source_change_delay(
		delay: frame_system::pallet_prelude::BlockNumberFor<T>,
	) -> DispatchResult {
		ensure!(delay <= T::MaxSourceChangeDelay::get(), Error::<T>::DelayTooLong);
		crate::SourceChangeDelay::<T>::put(delay);
		Self::deposit_event(Event::SourceChangeDelaySet { delay });
		Ok(())
	}

	/// Applies the scheduled sources due by `now`. Returns the weight used.
	pub(crate) fn apply_scheduled_sources(
		now: frame_system::pallet_prelude::BlockNumberFor<T>,
	) -> frame_support::weights::Weight {
		let mut weight = T::DbWeight::get().reads(1);
		let due: alloc::vec::Vec<(T::AssetId, PriceSource)> = crate::ScheduledSources::<T>::iter()
			.filter(|(_, (_, at))| *at <= now)
			.map(|(asset, (source, _))| (asset, source))
			.collect();
		for (asset, source) in due {
			weight.saturating_accrue(T::WeightInfo::set_fixed_price());
			crate::ScheduledSources::<T>::remove(&asset);
			let applied = frame_support::storage::with_storage_layer(|| {
				Self::do_set_source(asset.clone(), source)
			});
			if let Err(error) = applied {
				Self::deposit_event(Event::ScheduledSourceDropped { asset, error });
			}
		}
		weight
	}

	/// Checks `source` and makes it `asset`'s price source.
	pub(crate) fn do_set_source(asset: T::AssetId, source: PriceSource) -> DispatchResult {
		match &source {
			PriceSource::Oracle(params) => Self::ensure_valid_params(params)?,
			PriceSource::Fixed(price) => ensure!(!price.is_zero(), Error::<T>::ZeroFixedPrice),
		}
		let previous = Sources::<T>::get(&asset);
		// From a constant to the oracle the asset has no price until the first feed: not while
		// positions or lots hold it (their accounts could not be judged meanwhile).
		ensure!(
			!(matches!(previous, Some(PriceSource::Fixed(_)))
				&& matches!(source, PriceSource::Oracle(_))
				&& <T::PriceUsers as liquidation_primitives::PriceUsers<_>>::in_use(&asset)),
			Error::<T>::AssetInUse
		);
		if previous.is_none() {
			ensure!(Sources::<T>::count() < T::MaxAssets::get(), Error::<T>::TooManyAssets);
		}
		match (&previous, &source) {
			// Same smoothing kind: the state and samples carry over.
			(
				Some(PriceSource::Oracle(OracleParams {
					smoothing: Smoothing::Twap { .. }, ..
				})),
				PriceSource::Oracle(OracleParams { smoothing: Smoothing::Twap { .. }, .. }),
			) => {},
			(Some(PriceSource::Oracle(_)), PriceSource::Oracle(_)) => {
				TwapSamples::<T>::remove(&asset)
			},
			// A fixed price has no oracle state.
			(_, PriceSource::Fixed(_)) => {
				States::<T>::remove(&asset);
				TwapSamples::<T>::remove(&asset);
			},
			(_, PriceSource::Oracle(_)) => {},
		}
		Sources::<T>::insert(&asset, source);
		Self::deposit_event(Event::SourceSet { asset, source });
		Ok(())
	}

	fn ensure_valid_params(params: &OracleParams) -> DispatchResult {
		ensure!(params.max_age_ms > 0, Error::<T>::ZeroMaxAge);
		ensure!(params.max_age_ms <= crate::MAX_PRICE_AGE_MS, Error::<T>::MaxAgeTooLong);
		ensure!(params.min_fresh_values >= crate::MIN_FRESH_VALUES, Error::<T>::TooFewFreshValues);
		ensure!(!params.max_move.is_zero(), Error::<T>::ZeroMoveBound);
		ensure!(params.max_move <= FixedU128::one(), Error::<T>::MoveBoundOver100Percent);
		ensure!(params.confirmations > 0, Error::<T>::ZeroConfirmations);
		ensure!(
			params.confirmations <= T::MaxConfirmations::get(),
			Error::<T>::TooManyConfirmations
		);
		match params.smoothing {
			Smoothing::Ema { half_life_ms } => {
				ensure!(half_life_ms > 0, Error::<T>::ZeroSmoothingPeriod)
			},
			Smoothing::Twap { window_ms } => {
				ensure!(window_ms > 0, Error::<T>::ZeroSmoothingPeriod);
				ensure!(window_ms <= T::MaxTwapWindowMs::get(), Error::<T>::TwapWindowTooLong);
			},
		}
		ensure!(params.volatility_half_life_ms > 0, Error::<T>::ZeroVolatilityHalfLife);
		ensure!(!params.stable_growth_per_hour.is_zero(), Error::<T>::ZeroStableGrowth);
		Ok(())
	}

	pub(crate) fn do_remove_asset(asset: T::AssetId) -> DispatchResult {
		ensure!(Sources::<T>::contains_key(&asset), Error::<T>::UnknownAsset);
		ensure!(
			!<T::PriceUsers as liquidation_primitives::PriceUsers<_>>::in_use(&asset),
			Error::<T>::AssetInUse
		);
		Sources::<T>::remove(&asset);
		States::<T>::remove(&asset);
		TwapSamples::<T>::remove(&asset);
		crate::ScheduledSources::<T>::remove(&asset);
		Self::deposit_event(Event::AssetRemoved { asset });
		Ok(())
	}

	pub(crate) fn do_halt(asset: T::AssetId) -> DispatchResult {
		Self::oracle_params(&asset)?;
		let mut state = States::<T>::get(&asset).ok_or(Error::<T>::NoPrice)?;
		ensure!(!state.is_halted(), Error::<T>::AlreadyHalted);
		state.breaker = Breaker::Halted {
			since: T::Time::now(),
			by_governance: true,
			candidate: state.price,
			confirmations: 0,
		};
		States::<T>::insert(&asset, state);
		Self::deposit_event(Event::HaltedByGovernance { asset });
		Ok(())
	}

	pub(crate) fn do_resume(asset: T::AssetId) -> DispatchResult {
		let params = Self::oracle_params(&asset)?;
		let mut state = States::<T>::get(&asset).ok_or(Error::<T>::NotHalted)?;
		let Breaker::Halted { candidate, .. } = state.breaker else {
			return Err(Error::<T>::NotHalted.into());
		};
		state.breaker = Breaker::Live;
		// The candidate's formation time is that of the last combined value seen (or, for a
		// governance halt with none since, the accepted price's own).
		let formed_at =
			if state.last_seen.0 == candidate { state.last_seen.1 } else { state.formed_at };
		Self::accept(&asset, &mut state, &params, candidate, formed_at, T::Time::now());
		States::<T>::insert(&asset, state);
		Self::deposit_event(Event::Resumed {
			asset,
			price: candidate,
			cause: ResumeCause::Governance,
		});
		Ok(())
	}

	fn oracle_params(asset: &T::AssetId) -> Result<OracleParams, Error<T>> {
		match Sources::<T>::get(asset) {
			Some(PriceSource::Oracle(params)) => Ok(params),
			Some(PriceSource::Fixed(_)) => Err(Error::<T>::NotOraclePriced),
			None => Err(Error::<T>::UnknownAsset),
		}
	}

	/// Takes the oracle's combined value for `asset` at the end of a block in which it was fed:
	/// the breaker decides whether it is accepted.
	pub(crate) fn process_update(asset: &T::AssetId, now: Moment) {
		let Ok(params) = Self::oracle_params(asset) else { return };
		let Some(combined) = T::Oracle::get_no_op(asset) else { return };
		let (observed, formed_at) = (combined.value, combined.timestamp);
		// The oracle keeps its last combined value when too few fresh values remain; such a value
		// is not news. Nor is a zero price, which no market quotes.
		if now.saturating_sub(formed_at) >= params.max_age_ms || observed.is_zero() {
			return;
		}

		let Some(mut state) = States::<T>::get(asset) else {
			// The first price: nothing to compare with.
			let state = PriceState {
				price: observed,
				formed_at,
				mark: observed,
				stable: observed,
				variance: FixedU128::zero(),
				accepted_at: now,
				breaker: Breaker::Live,
				last_seen: (observed, formed_at),
			};
			if let Smoothing::Twap { .. } = params.smoothing {
				TwapSamples::<T>::insert(
					asset,
					BoundedVec::truncate_from(alloc::vec![(now, observed)]),
				);
			}
			States::<T>::insert(asset, state);
			Self::deposit_event(Event::PriceUpdated {
				asset: asset.clone(),
				price: observed,
				mark: observed,
				stable: observed,
				volatility: FixedU128::zero(),
			});
			return;
		};
		if state.last_seen == (observed, formed_at) {
			return;
		}
		state.last_seen = (observed, formed_at);

		match state.breaker {
			Breaker::Live => {
				// `state.price` is never zero, so the move exists; treat a failure as implausible.
				let relative_move =
					math::relative_move(state.price, observed).unwrap_or_else(FixedU128::max_value);
				if relative_move > params.max_move {
					state.breaker = Breaker::Halted {
						since: now,
						by_governance: false,
						candidate: observed,
						confirmations: 0,
					};
					Self::deposit_event(Event::Halted {
						asset: asset.clone(),
						reference: state.price,
						observed,
						relative_move,
					});
				} else {
					Self::accept(asset, &mut state, &params, observed, formed_at, now);
				}
			},
			Breaker::Halted { since, by_governance, candidate, confirmations } => {
				let confirms = math::relative_move(candidate, observed)
					.is_some_and(|relative_move| relative_move <= params.max_move);
				if !confirms {
					state.breaker = Breaker::Halted {
						since,
						by_governance,
						candidate: observed,
						confirmations: 0,
					};
				} else {
					let confirmations = confirmations.saturating_add(1);
					if by_governance || confirmations < params.confirmations {
						state.breaker =
							Breaker::Halted { since, by_governance, candidate, confirmations };
					} else {
						state.breaker = Breaker::Live;
						Self::accept(asset, &mut state, &params, observed, formed_at, now);
						Self::deposit_event(Event::Resumed {
							asset: asset.clone(),
							price: observed,
							cause: ResumeCause::Confirmed,
						});
					}
				}
			},
		}
		States::<T>::insert(asset, state);
	}

	/// Makes `price` the accepted price: updates the volatility and the mark.
	fn accept(
		asset: &T::AssetId,
		state: &mut PriceState,
		params: &OracleParams,
		price: Price,
		formed_at: Moment,
		now: Moment,
	) {
		let elapsed = now.saturating_sub(state.accepted_at);
		if elapsed > 0 {
			let ratio = price.checked_div(&state.price);
			if let Some(log_return) = ratio.and_then(math::abs_ln) {
				// One observation of the variance per period: r² scaled from `elapsed` to the period.
				let per_period =
					FixedU128::checked_from_rational(T::VolatilityPeriodMs::get(), elapsed)
						.and_then(|scale| log_return.checked_mul(&log_return)?.checked_mul(&scale))
						.unwrap_or_else(FixedU128::max_value);
				let weight = math::ewma_weight(elapsed, params.volatility_half_life_ms);
				state.variance = math::move_towards(state.variance, per_period, weight);
			}
		}
		state.mark = match params.smoothing {
			Smoothing::Ema { half_life_ms } => {
				math::move_towards(state.mark, price, math::ewma_weight(elapsed, half_life_ms))
			},
			Smoothing::Twap { window_ms } => Self::update_twap(asset, price, now, window_ms),
		};
		state.stable =
			math::stable_step(state.stable, price, params.stable_growth_per_hour, elapsed);
		state.price = price;
		state.formed_at = formed_at;
		state.accepted_at = now;
		Self::deposit_event(Event::PriceUpdated {
			asset: asset.clone(),
			price,
			mark: state.mark,
			stable: state.stable,
			volatility: state.volatility(),
		});
	}

	/// Records `price` at `now` (at most one sample per `window / MaxTwapSamples`), drops what
	/// fell out of the window, and returns the time-weighted average over the window.
	fn update_twap(asset: &T::AssetId, price: Price, now: Moment, window: Moment) -> Price {
		TwapSamples::<T>::mutate(asset, |samples| {
			let spacing = (window / Moment::from(T::MaxTwapSamples::get())).max(1);
			let due = samples.last().is_none_or(|(time, _)| now.saturating_sub(*time) >= spacing);
			if due {
				// Appends, dropping the oldest sample when full (fails only for a zero bound).
				let _ = samples.force_insert_keep_right(samples.len(), (now, price));
			}
			// Drop samples that end before the window starts: each lasts until the next one.
			let start = now.saturating_sub(window);
			let expired = samples
				.iter()
				.zip(samples.iter().skip(1))
				.take_while(|(_, next)| next.0 <= start)
				.count();
			if expired > 0 {
				let kept: alloc::vec::Vec<_> = samples.iter().skip(expired).copied().collect();
				*samples = BoundedVec::truncate_from(kept);
			}
			time_weighted_average(samples.as_slice(), start, now).unwrap_or(price)
		})
	}

	/// Marks `asset` for processing at the end of the block and accounts for that work.
	pub(crate) fn mark_pending(asset: &T::AssetId) {
		let mut weight = T::DbWeight::get().reads(1);
		if let Some(PriceSource::Oracle(_)) = Sources::<T>::get(asset) {
			weight.saturating_accrue(T::DbWeight::get().reads_writes(1, 1));
			let newly = Pending::<T>::mutate(|pending| pending.try_insert(asset.clone()));
			if newly == Ok(true) {
				weight.saturating_accrue(T::WeightInfo::process_update());
			}
		}
		frame_system::Pallet::<T>::register_extra_weight_unchecked(
			weight,
			DispatchClass::Mandatory,
		);
	}

	/// What a consumer gets for `asset` at `now`.
	pub(crate) fn usable_price(asset: &T::AssetId, now: Moment) -> Result<PriceInfo, PriceError> {
		match Sources::<T>::get(asset) {
			None => Err(PriceError::Missing),
			Some(PriceSource::Fixed(price)) => Ok(PriceInfo {
				price,
				mark: price,
				stable: price,
				volatility: FixedU128::zero(),
				updated_at: now,
			}),
			Some(PriceSource::Oracle(params)) => {
				let state = States::<T>::get(asset).ok_or(PriceError::Missing)?;
				if state.is_halted() {
					return Err(PriceError::Halted);
				}
				if now.saturating_sub(state.formed_at) >= params.max_age_ms {
					return Err(PriceError::Stale);
				}
				Ok(state.info())
			},
		}
	}

	/// Everything known of `asset`'s price, for the runtime API.
	pub fn price_report(asset: &T::AssetId) -> PriceReport {
		let now = T::Time::now();
		let state = States::<T>::get(asset);
		PriceReport {
			usable: Self::usable_price(asset, now),
			last: state.map(|state| state.info()),
			halted_candidate: state.and_then(|state| match state.breaker {
				Breaker::Halted { candidate, .. } => Some(candidate),
				Breaker::Live => None,
			}),
			fixed: matches!(Sources::<T>::get(asset), Some(PriceSource::Fixed(_))),
		}
	}

	/// The report of every priced asset.
	pub fn all_price_reports() -> alloc::vec::Vec<(T::AssetId, PriceReport)> {
		Sources::<T>::iter_keys()
			.map(|asset| {
				let report = Self::price_report(&asset);
				(asset, report)
			})
			.collect()
	}

	/// Checks the invariants listed in the crate docs.
	/// Available natively (`std`) so that integration tests and replays can check it after
	/// every block, and in `try-runtime` builds.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		ensure!(Sources::<T>::count() <= T::MaxAssets::get(), "1: more assets than MaxAssets");
		for (asset, state) in States::<T>::iter() {
			let Some(PriceSource::Oracle(params)) = Sources::<T>::get(&asset) else {
				return Err("2: a price state without an oracle source".into());
			};
			ensure!(
				!state.price.is_zero() && !state.mark.is_zero() && !state.stable.is_zero(),
				"3: a zero price, mark or stable price"
			);
			if let Breaker::Halted { candidate, confirmations, by_governance, .. } = state.breaker {
				ensure!(!candidate.is_zero(), "3: a zero candidate");
				ensure!(
					by_governance || confirmations < params.confirmations,
					"5: a breaker holding enough confirmations"
				);
			}
		}
		for (asset, samples) in TwapSamples::<T>::iter() {
			let twap = matches!(
				Sources::<T>::get(&asset),
				Some(PriceSource::Oracle(OracleParams { smoothing: Smoothing::Twap { .. }, .. }))
			);
			ensure!(twap, "2: TWAP samples of an asset that is not TWAP-smoothed");
			let increasing = samples
				.iter()
				.zip(samples.iter().skip(1))
				.all(|(earlier, later)| earlier.0 < later.0);
			ensure!(increasing, "4: TWAP samples out of time order");
		}
		Ok(())
	}
}

/// The time-weighted average over `[start, now]` of the step function through `samples` (each
/// price holds until the next sample; the last until `now`). `None` if no time is covered.
pub(crate) fn time_weighted_average(
	samples: &[(Moment, Price)],
	start: Moment,
	now: Moment,
) -> Option<Price> {
	let ends = samples.iter().skip(1).map(|(time, _)| *time).chain(core::iter::once(now));
	let mut weighted = FixedU128::zero();
	let mut covered: Moment = 0;
	for ((time, price), end) in samples.iter().zip(ends) {
		let from = (*time).max(start);
		let duration = end.saturating_sub(from);
		if duration == 0 {
			continue;
		}
		weighted = weighted
			.checked_add(&price.checked_mul(&FixedU128::saturating_from_integer(duration))?)?;
		covered = covered.saturating_add(duration);
	}
	if covered == 0 {
		return None;
	}
	weighted.checked_div(&FixedU128::saturating_from_integer(covered))
}

impl<T: Config> OnNewData<T::AccountId, T::AssetId, Price> for Pallet<T> {
	fn on_new_data(_operator: &T::AccountId, asset: &T::AssetId, _value: &Price) {
		Self::mark_pending(asset);
	}
}
