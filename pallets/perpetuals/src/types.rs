//! What the perpetuals pallet stores about markets, positions and the vault, and the funding
//! accrual that keeps a market.

use crate::math::{funding_per_unit, funding_rate_after, funding_velocity, Signed};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use liquidation_primitives::{Balance, Moment, Price};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_arithmetic::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, Zero},
	FixedPointNumber, FixedU128, Permill,
};
use sp_runtime::RuntimeDebug;

/// Governance parameters of one market. Ranges: [`MarketParams::check`].
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
	/// The fee on every trade, a fraction of its notional at the fill price; paid to the vault.
	pub taker_fee: Permill,
	/// The largest open interest of each side, in whole USD at the oracle price.
	pub max_open_interest_usd: Balance,
	/// The smallest notional a position may be opened or left at, in whole USD at the oracle
	/// price (a position is closed whole below it): a dust position still costs the risk index
	/// an entry per list (and one read per walk in bucket 0 when its account cannot be placed).
	pub min_position_usd: Balance,
	/// The share of a position's unrealised profit that counts as collateral for opening risk.
	pub initial_profit_weight: Permill,
	/// The share of a position's unrealised profit that counts against liquidation.
	pub maintenance_profit_weight: Permill,
	/// The liquidation fee, as a share of the maintenance margin a close-out releases: the
	/// close-out price sits that far from the oracle against the liquidated trader. At most
	/// [`MAX_LIQUIDATION_FEE_SHARE`], so a close-out always leaves at least as much of the
	/// margin it releases to its account as it pays out.
	pub liquidation_fee_share: Permill,
}

/// Why market parameters are refused.
#[derive(Clone, Copy, PartialEq, Eq, RuntimeDebug)]
pub enum ParamsError {
	/// The skew scale is zero.
	SkewScale,
	/// A margin fraction is zero or the maintenance share is 100%: a position would need no
	/// margin, or none between opening and liquidation.
	MarginFraction,
	/// A funding bound above [`MAX_FUNDING_RATE_PER_DAY`] percent a day or a velocity above
	/// [`MAX_FUNDING_VELOCITY_PER_DAY`] a day per day.
	Funding,
	/// A taker fee above [`MAX_TAKER_FEE`].
	Fee,
	/// Profit counted more for opening risk than against liquidation.
	ProfitWeight,
	/// A liquidation fee share above [`MAX_LIQUIDATION_FEE_SHARE`].
	LiquidationFee,
}

/// The largest funding rate governance may set: 10% a day (Synthetix v3 markets run at most a
/// few percent a day; a bound keeps a typo from draining one side in hours).
pub const MAX_FUNDING_RATE_PER_DAY: u128 = 10;
/// The largest funding velocity governance may set: 10 (1 000%) a day per day, reached only at
/// a skew of a whole skew scale (Synthetix v3 runs its BTC market at 9 with a skew scale far
/// above the usual skew).
pub const MAX_FUNDING_VELOCITY_PER_DAY: u128 = 10;
/// The largest liquidation fee share: half the maintenance margin a close-out releases (dYdX v4
/// charges at most 1.5% of notional against a 3% maintenance fraction on BTC; the rest of the
/// released margin raises the account's health).
pub const MAX_LIQUIDATION_FEE_SHARE: Permill = Permill::from_percent(50);
/// The largest taker fee: 1% (dYdX's and Hyperliquid's highest taker tiers are 0.05%).
pub const MAX_TAKER_FEE: Permill = Permill::from_percent(1);

impl MarketParams {
	/// Checks the ranges: a skew scale above zero; a minimum initial margin fraction above zero;
	/// a maintenance share above zero and below 100%; a funding rate bound of at most
	/// [`MAX_FUNDING_RATE_PER_DAY`] percent a day and a velocity of at most
	/// [`MAX_FUNDING_VELOCITY_PER_DAY`] a day per day; a fee of at most [`MAX_TAKER_FEE`]; and
	/// profit counted for opening risk at most what counts against liquidation; a liquidation fee
	/// share of at most [`MAX_LIQUIDATION_FEE_SHARE`].
	pub fn check(&self) -> Result<(), ParamsError> {
		if self.skew_scale.is_zero() {
			return Err(ParamsError::SkewScale);
		}
		if self.min_initial_margin.is_zero()
			|| self.maintenance_share.is_zero()
			|| self.maintenance_share == Permill::one()
		{
			return Err(ParamsError::MarginFraction);
		}
		if self.max_funding_rate
			> FixedU128::saturating_from_rational(MAX_FUNDING_RATE_PER_DAY, 100)
			|| self.max_funding_velocity
				> FixedU128::saturating_from_integer(MAX_FUNDING_VELOCITY_PER_DAY)
		{
			return Err(ParamsError::Funding);
		}
		if self.taker_fee > MAX_TAKER_FEE {
			return Err(ParamsError::Fee);
		}
		if self.initial_profit_weight > self.maintenance_profit_weight {
			return Err(ParamsError::ProfitWeight);
		}
		if self.liquidation_fee_share > MAX_LIQUIDATION_FEE_SHARE {
			return Err(ParamsError::LiquidationFee);
		}
		Ok(())
	}
}

/// Whether a market takes new risk.
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
pub enum MarketStatus {
	/// Every trade.
	Active,
	/// Only trades that reduce a position (closing, reducing): traders can always get out.
	/// Funding keeps accruing.
	Paused,
}

/// One market: its parameters, status and running state.
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
pub struct Market {
	/// Governance parameters.
	pub params: MarketParams,
	/// Whether it takes new risk.
	pub status: MarketStatus,
	/// Open interest, funding and the sums the vault's value needs.
	pub state: MarketState,
}

/// The running state of one market.
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
)]
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
	/// `Σ size × entry` over the market's positions: with the skew, the traders' unrealised
	/// profit at a price `P` is `skew × P - entry_sum` (no loop over positions).
	pub entry_sum: Signed,
	/// `Σ size × settled funding index` over the market's positions: the funding the traders
	/// owe at index `F` is `skew × F - funding_sum`.
	pub funding_sum: Signed,
}

/// An open position.
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
)]
pub struct Position {
	/// Signed size in whole units of the underlying (`+` long, `-` short); never zero stored.
	pub size: Signed,
	/// The entry price (cost basis), USD per unit.
	pub entry_price: Price,
	/// The market's funding index when the position last settled funding.
	pub funding_index: Signed,
}

/// Governance parameters of the vault.
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
pub struct VaultParams<BlockNumber> {
	/// Blocks between a withdrawal request and the withdrawal: an LP cannot leave ahead of a
	/// loss he sees coming (the shares keep bearing the vault's losses meanwhile, not its
	/// gains: the withdrawal pays the lower of their value at the request and when made).
	pub withdrawal_delay_blocks: BlockNumber,
	/// The largest share of the vault's value its net exposure may reach: `Σ |skew| × price`
	/// over the markets, against the vault's net asset value. A trade that adds to a market's
	/// skew beyond it, and a withdrawal that would leave the vault beyond it, are refused.
	pub max_utilisation: Permill,
}

/// A pending withdrawal from the vault.
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
pub struct Withdrawal<BlockNumber> {
	/// Shares to redeem (no longer the LP's to transfer, still bearing profit and loss).
	pub shares: Balance,
	/// The first block it can be made in.
	pub unlocks_at: BlockNumber,
	/// What the shares were worth at the request (the latest one), in the settlement asset's
	/// smallest units: the withdrawal pays the lower of this and their value when made.
	pub value_at_request: Balance,
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
	// Whether the rate reaches the bound within the interval: compared as rates, so that a
	// tiny velocity (a skew of dust) cannot overflow a time to the bound of ages.
	let drift =
		funding_rate_after(Signed::zero(), velocity, elapsed, Signed::from_inner(i128::MAX))?;
	let room = bound.checked_sub(&rate)?;
	let reaches = if velocity > Signed::zero() { drift >= room } else { drift <= room };
	if !reaches {
		let next = funding_rate_after(rate, velocity, elapsed, max_rate)?;
		return funding_per_unit(rate, next, elapsed, price);
	}
	// Milliseconds until the rate reaches the bound, `(bound - rate) / velocity` days: at most
	// `elapsed`, so it fits.
	let to_bound_days = room.checked_div(&velocity)?.max(Signed::zero());
	let to_bound_ms: Moment = {
		let ms =
			to_bound_days.checked_mul(&Signed::saturating_from_integer(crate::math::DAY_MS))?;
		u64::try_from(ms.into_inner() / Signed::DIV).unwrap_or(elapsed).min(elapsed)
	};
	let ramp = funding_per_unit(rate, bound, to_bound_ms, price)?;
	let flat = funding_per_unit(bound, bound, elapsed.saturating_sub(to_bound_ms), price)?;
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
			taker_fee: Permill::from_parts(500),
			max_open_interest_usd: 1_000_000_000,
			min_position_usd: 10,
			initial_profit_weight: Permill::from_percent(50),
			maintenance_profit_weight: Permill::from_percent(100),
			liquidation_fee_share: Permill::from_percent(50),
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

	/// A skew of dust (the smallest fixed-point unit) makes a velocity so small that the time
	/// to the bound is beyond any range: accrual still works (the review's freeze).
	#[test]
	fn a_dust_skew_accrues_without_overflow() {
		for skew in [1i128, -1, 7] {
			let state = MarketState {
				long_interest: if skew > 0 {
					FixedU128::from_inner(skew as u128)
				} else {
					Zero::zero()
				},
				short_interest: if skew < 0 { FixedU128::from_inner(1) } else { Zero::zero() },
				..Default::default()
			};
			let after = state
				.accrued(&btc(), Price::saturating_from_integer(60_000), 365 * DAY_MS)
				.expect("accrues");
			assert!(
				after.funding_rate.saturating_abs()
					< Signed::saturating_from_rational(1, 1_000_000)
			);
		}
	}
}
