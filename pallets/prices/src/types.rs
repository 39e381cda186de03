//! Stored types of the prices pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use liquidation_primitives::{Moment, Price, PriceInfo, Volatility};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{FixedU128, RuntimeDebug};

/// How the mark price smooths the combined prices.
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
	Serialize,
	Deserialize,
)]
pub enum Smoothing {
	/// Exponential moving average in time: after `half_life_ms`, half the gap between the mark
	/// and a constant price is closed.
	#[codec(index = 0)]
	Ema {
		/// Milliseconds; greater than zero.
		half_life_ms: Moment,
	},
	/// Time-weighted average of the combined price over the last `window_ms`, sampled at a
	/// resolution of `window_ms / MaxTwapSamples`.
	#[codec(index = 1)]
	Twap {
		/// Milliseconds; greater than zero and at most `MaxTwapWindowMs`.
		window_ms: Moment,
	},
}

/// Parameters of an asset priced by the oracle. Set by governance, range-checked.
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
	Serialize,
	Deserialize,
)]
pub struct OracleParams {
	/// Age (ms) past which an operator's value is left out of the median, and past which the
	/// combined price is `Stale`. Greater than zero, at most [`crate::MAX_PRICE_AGE_MS`].
	pub max_age_ms: Moment,
	/// Fewest fresh operator values that make a price. At least [`crate::MIN_FRESH_VALUES`].
	pub min_fresh_values: u32,
	/// Largest relative move of the combined price from one block's price to the next that is
	/// plausible (`0.2` = 20%). A larger move halts the asset. Within (0, 1].
	pub max_move: FixedU128,
	/// Consecutive blocks whose combined price stays within `max_move` of the level that tripped
	/// the breaker before that level is accepted and the asset resumes. At least one.
	pub confirmations: u32,
	/// How the mark price is smoothed.
	pub smoothing: Smoothing,
	/// Half-life (ms) of the EWMA of squared log returns behind the volatility. Greater than zero.
	pub volatility_half_life_ms: Moment,
	/// Most the stable price moves towards the accepted price in an hour, relative to itself
	/// (linear in the time between two accepted prices, at most an hour's worth at once).
	/// Within (0, 100%].
	pub stable_growth_per_hour: sp_runtime::Permill,
}

/// Where an asset's price comes from.
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
	Serialize,
	Deserialize,
)]
pub enum PriceSource {
	/// Combined from oracle operators' values.
	#[codec(index = 0)]
	Oracle(OracleParams),
	/// A constant price set by governance (a USD stable at 1, say): always live.
	#[codec(index = 1)]
	Fixed(Price),
}

/// Whether an oracle-priced asset's price may be used.
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
pub enum Breaker {
	/// Prices flow.
	#[codec(index = 0)]
	Live,
	/// Halted by an implausible move (or by governance). `candidate` is the newest level seen
	/// since; `confirmations` counts consecutive blocks within `max_move` of it.
	#[codec(index = 1)]
	Halted {
		/// When the asset was halted (ms).
		since: Moment,
		/// Halted by governance: only governance resumes it, confirmations do not.
		by_governance: bool,
		/// The level that must be confirmed.
		candidate: Price,
		/// Consecutive confirming blocks so far.
		confirmations: u32,
	},
}

/// The price state of an oracle-priced asset.
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
pub struct PriceState {
	/// The last accepted combined price.
	pub price: Price,
	/// When it was formed: the time of the oldest operator value in it (ms).
	pub formed_at: Moment,
	/// Smoothed price.
	pub mark: Price,
	/// The stable price: follows the accepted price at most `stable_growth_per_hour` an hour
	/// (what opening risk values at the conservative side of, see [`PriceInfo::stable`]).
	pub stable: Price,
	/// EWMA of squared log returns, scaled to `VolatilityPeriodMs`: the variance per period.
	pub variance: FixedU128,
	/// Block time (ms) of the last accepted price, from which the next update's interval runs.
	pub accepted_at: Moment,
	/// The breaker.
	pub breaker: Breaker,
	/// The last combined value processed (price, formed_at), so that a block in which the oracle
	/// formed no new value does not count as a confirmation or a sample.
	pub last_seen: (Price, Moment),
}

impl PriceState {
	/// The volatility over `VolatilityPeriodMs`: the square root of the variance.
	pub fn volatility(&self) -> Volatility {
		self.variance.sqrt()
	}

	/// The state as a consumer sees it, whether or not it is usable now.
	pub fn info(&self) -> PriceInfo {
		PriceInfo {
			price: self.price,
			mark: self.mark,
			stable: self.stable,
			volatility: self.volatility(),
			updated_at: self.formed_at,
		}
	}

	/// Whether the breaker holds the asset.
	pub fn is_halted(&self) -> bool {
		matches!(self.breaker, Breaker::Halted { .. })
	}
}
