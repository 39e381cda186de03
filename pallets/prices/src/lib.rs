//! # Prices pallet
//!
//! Oracle aggregation over `orml-oracle` that never serves a stale or manipulated price.
//!
//! ## Goals
//!
//! - **No stale price is ever served**: a price is fresh or it is an error, never an old value
//!   presented as current.
//! - **No single operator moves the price**: the median of fresh values, with a minimum count.
//! - **No implausible jump is acted on**: a move beyond the bound halts the asset until the new
//!   level is confirmed; held positions are judged at the last accepted level meanwhile.
//! - **A slow price where speed can be abused**: the stable price, for borrowing and caps.
//!
//! Terms are those of the [glossary](liquidation_primitives#glossary).
//!
//! ## Overview
//!
//! Operators feed `orml-oracle`. This pallet gives the oracle its [`FreshMedian`] combiner and
//! listens to its `OnNewData`; once per block, for each asset fed in it, it takes the combined
//! value, runs it past the circuit breaker and, if accepted, updates the price, a smoothed mark
//! price and a volatility estimate. Other pallets read prices only through
//! [`liquidation_primitives::PriceProvider`], which answers with a usable price or says why there
//! is none: `Missing`, `Stale` or `Halted`.
//!
//! ## Terminology
//!
//! - **Fresh value**: an operator's value younger than the asset's `max_age_ms`.
//! - **Combined price**: the median of the fresh values of at least `min_fresh_values` operators
//!   (the mean of the two middle values for an even count). Its *formation time* is the time of
//!   the oldest value in it, so its age bounds the age of every value it was made from.
//! - **Stale**: the formation time of the last accepted price is `max_age_ms` or more ago. Judged
//!   when the price is read, so no block needs to run for a price to go stale.
//! - **Mark price**: the combined price smoothed in time, by an EMA with a half-life or a TWAP
//!   over a window ([`Smoothing`]).
//! - **Stable price**: follows the accepted price, but moves at most `stable_growth_per_hour`
//!   of itself an hour (linearly in the time between accepted prices, at most an hour's worth
//!   at once): `stable ← clamp(price, stable (1 ± g min(Δt, 1 h) / 1 h))`. Opening risk
//!   (borrowing, withdrawing) values collateral at `min(price, stable)` and debt at
//!   `max(price, stable)`, so a price pumped within minutes lends almost nothing more (the
//!   Mango Markets attack of October 2022); liquidation uses the price itself.
//! - **Volatility**: the square root of an EWMA (in time, with a half-life) of squared log
//!   returns, each scaled from its interval to [`Config::VolatilityPeriodMs`]:
//!   `variance ← variance + w · (ln(p₁/p₀)² · period / Δt − variance)`, `w = 1 − 2^(−Δt/half-life)`.
//! - **Circuit breaker**: a combined price more than `max_move` away (relatively) from the last
//!   accepted one *halts* the asset. The new level becomes the *candidate*; each later block whose
//!   combined price is within `max_move` of the candidate *confirms* it, any other replaces it.
//!   After `confirmations` consecutive confirming blocks the candidate is accepted and the asset
//!   resumes. Governance may resume (at the candidate) or halt an asset at any time; an asset
//!   halted by governance resumes only by governance.
//! - **Fixed price**: an asset may be priced by a constant instead (a USD stable at 1). It is
//!   always live.
//!
//! ## Interface
//!
//! Governance ([`Config::GovernanceOrigin`]):
//! - [`Pallet::set_oracle_source`]: price an asset from the oracle, with its parameters.
//! - [`Pallet::set_fixed_price`]: price an asset at a constant.
//! - [`Pallet::remove_asset`]: stop pricing an asset.
//! - [`Pallet::halt`] / [`Pallet::resume`]: override the circuit breaker.
//!
//! For other pallets: [`liquidation_primitives::PriceProvider`] (implemented by [`Pallet`]).
//! For `orml-oracle`: [`FreshMedian`] as its `CombineData`, [`Pallet`] as its `OnNewData`.
//! For clients: the `PricesApi` runtime API (`pallet-prices-runtime-api`).
//!
//! ## Usage
//!
//! A 30% jump against a 20% bound halts the asset: reads say `Halted`, positions are valued at
//! the last accepted price (from the pallet's tests):
//!
#![doc = docify::embed!("src/tests.rs", a_jump_beyond_the_bound_halts_and_reads_say_halted)]
//!
//! ## Implementor's guide
//!
//! - Wire `orml-oracle` to this pallet: [`FreshMedian`] as its `CombineData` and [`Pallet`] as
//!   its `OnNewData`; **Oracle** and **Time** are that oracle and `pallet-timestamp`.
//! - **PriceUsers** ([`liquidation_primitives::PriceUsers`]): the pallets whose held assets must
//!   keep a price (a tuple, e.g. `(Margin, Auction)`); removing such an asset's source is
//!   refused, and a fixed price for it waits **MaxSourceChangeDelay** at most as governance sets.
//! - **VolatilityPeriodMs** states the period volatility is given per (a day in our runtime);
//!   **MaxTwapSamples**, **MaxTwapWindowMs** and **MaxConfirmations** bound the smoothing and the
//!   breaker.
//! - **WeightInfo** from your runtime's benchmarks, with `BenchmarkHelper` (with the `runtime-benchmarks` feature).
//!
//! ## Invariants (checked by `try_state`)
//!
//! 1. At most `MaxAssets` assets are priced.
//! 2. Only oracle-priced assets have a price state, and only TWAP-smoothed ones have samples.
//! 3. No accepted price, mark, stable price or halted candidate is zero.
//! 4. TWAP samples are in strictly increasing time order.
//! 5. A breaker's confirmations are below the asset's required count.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod combine;
mod functions;
mod impl_price_provider;
pub mod math;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use combine::FreshMedian;
pub use types::*;
pub use weights::WeightInfo;

/// Fewest fresh operator values governance may require for a price: a median of three
/// tolerates one faulty or malicious operator; of one or two it tolerates none.
pub const MIN_FRESH_VALUES: u32 = 3;

/// Longest `max_age_ms` governance may set, in ms: an hour, the longest heartbeat Chainlink uses
/// for volatile assets (ETH/USD on Ethereum); a price older than that must not judge a
/// liquidation.
pub const MAX_PRICE_AGE_MS: liquidation_primitives::Moment = 3_600_000;

/// Sets up what the benchmarks need from the runtime: asset ids, oracle values and time.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId> {
	/// A distinct asset id for each `index`.
	fn asset(index: u32) -> AssetId;
	/// Makes the oracle hold a combined `price` for `asset` formed now, from a single value
	/// (the benchmarks configure `min_fresh_values = 1`).
	fn feed(asset: &AssetId, price: liquidation_primitives::Price);
	/// Sets the current time (ms).
	fn set_time(now: liquidation_primitives::Moment);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{pallet_prelude::*, traits::Time};
	use frame_system::pallet_prelude::*;
	use liquidation_primitives::{Moment, Price};
	use orml_oracle::TimestampedValue;
	use orml_traits::DataProviderExtended;
	use sp_runtime::FixedU128;

	/// The storage layout's version: 0, the layout since genesis. A change of what is stored
	/// bumps it and comes with a migration in a `migrations` module (as `pallet-insurance`'s
	/// `v1`), listed in the runtime's `Executive`.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Identifies an asset.
		type AssetId: Parameter + Member + MaxEncodedLen + Ord + MaybeSerializeDeserialize;

		/// The oracle's combined values with their formation time (`orml-oracle`).
		type Oracle: DataProviderExtended<Self::AssetId, TimestampedValue<Price, Moment>>;

		/// The current time, in ms since the Unix epoch.
		type Time: Time<Moment = Moment>;

		/// Who sets parameters and overrides the breaker.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// Most assets that may be priced.
		#[pallet::constant]
		type MaxAssets: Get<u32>;

		/// Samples kept per TWAP-smoothed asset: the TWAP's resolution is `window / MaxTwapSamples`.
		#[pallet::constant]
		type MaxTwapSamples: Get<u32>;

		/// Longest TWAP window governance may set (ms).
		#[pallet::constant]
		type MaxTwapWindowMs: Get<Moment>;

		/// Most confirming blocks governance may require to resume a halted asset.
		#[pallet::constant]
		type MaxConfirmations: Get<u32>;

		/// The period volatility is stated over (ms): one day is `86_400_000`.
		#[pallet::constant]
		type VolatilityPeriodMs: Get<Moment>;

		/// Whatever still holds, owes or auctions an asset (margin positions, auction lots):
		/// an asset they use cannot be removed. `()` when nothing depends on this pallet.
		type PriceUsers: liquidation_primitives::PriceUsers<Self::AssetId>;

		/// The longest governance may make a fixed price wait ([`SourceChangeDelay`]).
		#[pallet::constant]
		type MaxSourceChangeDelay: Get<BlockNumberFor<Self>>;

		/// Weights of calls and hooks, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;

		/// Benchmark set-up.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AssetId>;
	}

	/// Where each priced asset's price comes from.
	#[pallet::storage]
	pub type Sources<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AssetId, PriceSource>;

	/// The price state of each oracle-priced asset that has had a price.
	#[pallet::storage]
	pub type States<T: Config> = StorageMap<_, Blake2_128Concat, T::AssetId, PriceState>;

	/// TWAP samples `(time ms, price)` of TWAP-smoothed assets, oldest first.
	#[pallet::storage]
	pub type TwapSamples<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AssetId,
		BoundedVec<(Moment, Price), T::MaxTwapSamples>,
		ValueQuery,
	>;

	/// Assets fed in the current block, processed in `on_finalize`. Always empty between blocks.
	#[pallet::storage]
	pub type Pending<T: Config> =
		StorageValue<_, BoundedBTreeSet<T::AssetId, T::MaxAssets>, ValueQuery>;

	/// Blocks a fixed price set for an asset in use ([`Config::PriceUsers`]) waits before it
	/// takes effect: a constant set by one call could otherwise make accounts liquidatable at
	/// once. Oracle parameters change at once (the median of the feeds does not jump).
	#[pallet::storage]
	pub type SourceChangeDelay<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Fixed prices waiting for [`SourceChangeDelay`]: the source and the block it takes effect
	/// in (at its start). A later source change of the asset replaces a scheduled one.
	#[pallet::storage]
	pub type ScheduledSources<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, (PriceSource, BlockNumberFor<T>)>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Priced assets and their sources.
		pub sources: alloc::vec::Vec<(T::AssetId, PriceSource)>,
		/// Blocks a fixed price for an asset in use waits ([`SourceChangeDelay`]).
		pub source_change_delay: BlockNumberFor<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			for (asset, source) in &self.sources {
				// Genesis is checked like a governance call: a bad preset must not build.
				if let Err(error) = Pallet::<T>::do_set_source(asset.clone(), *source) {
					panic!("invalid price source in genesis for {asset:?}: {error:?}");
				}
			}
			if let Err(error) = Pallet::<T>::do_set_source_change_delay(self.source_change_delay) {
				panic!("invalid source change delay in genesis: {error:?}");
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An asset's price source was set (at once, or a scheduled change took effect).
		SourceSet {
			/// The asset.
			asset: T::AssetId,
			/// The source.
			source: PriceSource,
		},
		/// A fixed price for an asset in use was scheduled: it takes effect at the start of
		/// block `effective_at`.
		SourceScheduled {
			/// The asset.
			asset: T::AssetId,
			/// The source.
			source: PriceSource,
			/// The block at whose start the change takes effect.
			effective_at: BlockNumberFor<T>,
		},
		/// A scheduled source change no longer passed the checks when due and was dropped.
		ScheduledSourceDropped {
			/// The asset.
			asset: T::AssetId,
			/// Why the change no longer passed.
			error: DispatchError,
		},
		/// Governance set how long a fixed price for an asset in use waits.
		SourceChangeDelaySet {
			/// In blocks.
			delay: BlockNumberFor<T>,
		},
		/// An asset is no longer priced.
		AssetRemoved {
			/// The asset.
			asset: T::AssetId,
		},
		/// A combined price was accepted.
		PriceUpdated {
			/// The asset.
			asset: T::AssetId,
			/// The accepted price, USD per whole unit.
			price: Price,
			/// The smoothed (mark) price.
			mark: Price,
			/// The stable price.
			stable: Price,
			/// The volatility estimate.
			volatility: FixedU128,
		},
		/// The breaker halted an asset: the combined price moved from `reference` to `observed`,
		/// a relative move of `relative_move`, beyond the asset's bound.
		Halted {
			/// The asset.
			asset: T::AssetId,
			/// The last accepted price.
			reference: Price,
			/// The combined price that tripped the breaker.
			observed: Price,
			/// `|observed - reference| / reference`.
			relative_move: FixedU128,
		},
		/// Governance halted an asset.
		HaltedByGovernance {
			/// The asset.
			asset: T::AssetId,
		},
		/// A halted asset resumed at `price`.
		Resumed {
			/// The asset.
			asset: T::AssetId,
			/// The price it resumed at.
			price: Price,
			/// Why it resumed.
			cause: ResumeCause,
		},
	}

	/// Why a halted asset resumed.
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
	pub enum ResumeCause {
		/// The new level was confirmed by consecutive in-bound blocks.
		#[codec(index = 0)]
		Confirmed,
		/// Governance resumed it.
		#[codec(index = 1)]
		Governance,
	}

	#[pallet::error]
	pub enum Error<T> {
		/// `max_age_ms` is zero: no value would ever be fresh.
		ZeroMaxAge,
		/// `min_fresh_values` is below [`crate::MIN_FRESH_VALUES`]: one or two operators alone
		/// could set the price.
		TooFewFreshValues,
		/// `max_age_ms` is above [`crate::MAX_PRICE_AGE_MS`]: a price that old must not judge a
		/// liquidation.
		MaxAgeTooLong,
		/// `max_move` is zero: every move would halt.
		ZeroMoveBound,
		/// `max_move` is over 100%: a fall to zero would not halt.
		MoveBoundOver100Percent,
		/// `confirmations` is zero.
		ZeroConfirmations,
		/// `confirmations` is over `MaxConfirmations`.
		TooManyConfirmations,
		/// The EMA half-life or the TWAP window is zero.
		ZeroSmoothingPeriod,
		/// The TWAP window is over `MaxTwapWindowMs`.
		TwapWindowTooLong,
		/// `volatility_half_life_ms` is zero.
		ZeroVolatilityHalfLife,
		/// `stable_growth_per_hour` is zero: the stable price would never follow the price.
		ZeroStableGrowth,
		/// A fixed price of zero.
		ZeroFixedPrice,
		/// `MaxAssets` assets are priced already.
		TooManyAssets,
		/// The asset is not priced.
		UnknownAsset,
		/// The asset is priced by a constant, not the oracle.
		NotOraclePriced,
		/// The asset has no price yet, so there is nothing to halt.
		NoPrice,
		/// The asset is not halted.
		NotHalted,
		/// The asset is halted already.
		AlreadyHalted,
		/// Positions or auction lots still hold the asset: removing its price (or switching it
		/// from a constant to the oracle, which has no price until fed) would leave their
		/// accounts unjudgeable.
		AssetInUse,
		/// The delay is above [`Config::MaxSourceChangeDelay`].
		DelayTooLong,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			// The per-asset work of `on_finalize` is registered as each asset is fed; what is left
			// is taking the (then usually empty) pending set. Scheduled sources due take effect.
			T::WeightInfo::on_finalize_idle().saturating_add(Self::apply_scheduled_sources(now))
		}

		fn on_finalize(_n: BlockNumberFor<T>) {
			let pending = Pending::<T>::take();
			if pending.is_empty() {
				return;
			}
			let now = T::Time::now();
			for asset in pending {
				Self::process_update(&asset, now);
			}
		}

		fn integrity_test() {
			assert!(T::MaxAssets::get() > 0, "MaxAssets must be positive");
			assert!(T::MaxTwapSamples::get() > 1, "a TWAP needs at least two samples");
			assert!(T::MaxTwapWindowMs::get() > 0, "MaxTwapWindowMs must be positive");
			assert!(T::MaxConfirmations::get() > 0, "MaxConfirmations must be positive");
			assert!(T::VolatilityPeriodMs::get() > 0, "VolatilityPeriodMs must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Price `asset` from the oracle with `params` (governance).
		///
		/// Every parameter is range-checked (see [`OracleParams`]). An asset already priced by the
		/// oracle keeps its price state; switching to a TWAP starts its samples afresh.
		///
		/// Emits `SourceSet`.
		#[pallet::call_index(0)]
		pub fn set_oracle_source(
			origin: OriginFor<T>,
			asset: T::AssetId,
			params: OracleParams,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_source(asset.clone(), PriceSource::Oracle(params))?;
			ScheduledSources::<T>::remove(&asset);
			Ok(())
		}

		/// Price `asset` at the constant `price` (governance). Drops any oracle price state.
		///
		/// While positions or lots hold the asset ([`Config::PriceUsers`]) the price is
		/// scheduled [`SourceChangeDelay`] blocks ahead (`SourceScheduled`) and checked again
		/// when due, so that one call cannot make accounts liquidatable at once.
		///
		/// Emits `SourceSet` or `SourceScheduled`.
		#[pallet::call_index(1)]
		pub fn set_fixed_price(
			origin: OriginFor<T>,
			asset: T::AssetId,
			price: Price,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_or_schedule_fixed(asset, price)
		}

		/// Sets how many blocks a fixed price for an asset in use waits; at most
		/// [`Config::MaxSourceChangeDelay`]. Changes already scheduled keep their block.
		///
		/// Emits `SourceChangeDelaySet`.
		#[pallet::call_index(5)]
		pub fn set_source_change_delay(
			origin: OriginFor<T>,
			delay: BlockNumberFor<T>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_source_change_delay(delay)
		}

		/// Stop pricing `asset` (governance): its price becomes `Missing`. Refused with
		/// `AssetInUse` while positions or auction lots hold it ([`Config::PriceUsers`]).
		///
		/// Emits `AssetRemoved`.
		#[pallet::call_index(2)]
		pub fn remove_asset(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_remove_asset(asset)
		}

		/// Halt an oracle-priced asset now (governance). Only [`Pallet::resume`] lifts it.
		///
		/// Emits `HaltedByGovernance`.
		#[pallet::call_index(3)]
		pub fn halt(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_halt(asset)
		}

		/// Resume a halted asset at its candidate level (governance).
		///
		/// The candidate is the newest combined price seen while halted (for a governance halt
		/// with no later price, the price at the halt). Its age still decides whether it is
		/// fresh.
		///
		/// Emits `Resumed`.
		#[pallet::call_index(4)]
		pub fn resume(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_resume(asset)
		}
	}
}
