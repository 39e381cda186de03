//! The arithmetic of a Dutch auction: the price on its curve, what a slice of the lot costs and
//! how much collateral a payment buys. Pure functions, shown by hand figures in the tests.

use crate::types::{AuctionPrice, PriceCurve};
use liquidation_primitives::{Balance, Decimals, Price};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{CheckedDiv, Saturating, Zero},
	FixedPointNumber, FixedU128, PerThing, Rounding,
};

const ONE_INNER: u128 = FixedU128::DIV;

impl PriceCurve {
	/// The price `elapsed` blocks after a start at `start`, rounded up (in the owner's favour).
	pub fn price_at(&self, start: AuctionPrice, elapsed: u32) -> AuctionPrice {
		match *self {
			PriceCurve::Linear { duration_blocks } => {
				if elapsed >= duration_blocks || duration_blocks == 0 {
					return AuctionPrice::zero();
				}
				multiply_by_rational_with_rounding(
					start.into_inner(),
					u128::from(duration_blocks - elapsed),
					u128::from(duration_blocks),
					Rounding::Up,
				)
				.map(AuctionPrice::from_inner)
				.unwrap_or(start)
			},
			PriceCurve::StepExponential { step_blocks, cut } => {
				let steps = elapsed.checked_div(step_blocks).unwrap_or(0);
				let factor = FixedU128::from(cut.left_from_one()).saturating_pow(steps as usize);
				multiply_by_rational_with_rounding(
					start.into_inner(),
					factor.into_inner(),
					ONE_INNER,
					Rounding::Up,
				)
				.map(AuctionPrice::from_inner)
				.unwrap_or(start)
			},
		}
	}
}

/// The oracle's price of one whole unit of collateral in whole units of the debt asset.
pub fn oracle_price(collateral_usd: Price, debt_usd: Price) -> Option<AuctionPrice> {
	if debt_usd.is_zero() {
		return None;
	}
	collateral_usd.checked_div(&debt_usd)
}

/// What `slice` smallest units of collateral cost at `price`, in smallest units of the debt
/// asset, rounded up.
pub fn payment_for(
	slice: Balance,
	price: AuctionPrice,
	collateral_decimals: Decimals,
	debt_decimals: Decimals,
) -> Option<Balance> {
	if debt_decimals >= collateral_decimals {
		let scale = 10u128.checked_pow(u32::from(debt_decimals - collateral_decimals))?;
		multiply_by_rational_with_rounding(
			slice.checked_mul(scale)?,
			price.into_inner(),
			ONE_INNER,
			Rounding::Up,
		)
	} else {
		let scale = 10u128.checked_pow(u32::from(collateral_decimals - debt_decimals))?;
		multiply_by_rational_with_rounding(
			slice,
			price.into_inner(),
			ONE_INNER.checked_mul(scale)?,
			Rounding::Up,
		)
	}
}

/// How much collateral `payment` smallest units of the debt asset buy at `price`, in smallest
/// units, rounded down; `None` at a zero price.
pub fn collateral_for(
	payment: Balance,
	price: AuctionPrice,
	collateral_decimals: Decimals,
	debt_decimals: Decimals,
) -> Option<Balance> {
	if price.is_zero() {
		return None;
	}
	// One rounding only: scale before dividing, so no precision is lost on the way.
	if collateral_decimals >= debt_decimals {
		let scale = 10u128.checked_pow(u32::from(collateral_decimals - debt_decimals))?;
		multiply_by_rational_with_rounding(
			payment,
			ONE_INNER.checked_mul(scale)?,
			price.into_inner(),
			Rounding::Down,
		)
	} else {
		let scale = 10u128.checked_pow(u32::from(debt_decimals - collateral_decimals))?;
		match price.into_inner().checked_mul(scale) {
			Some(denominator) => {
				multiply_by_rational_with_rounding(payment, ONE_INNER, denominator, Rounding::Down)
			},
			// An enormous price: divide in two steps (both down).
			None => multiply_by_rational_with_rounding(
				payment,
				ONE_INNER,
				price.into_inner(),
				Rounding::Down,
			)
			.map(|whole| whole / scale),
		}
	}
}

/// `price * share`, rounded down: the floor under which nothing sells.
pub fn floor_of(oracle: AuctionPrice, share: sp_runtime::Permill) -> AuctionPrice {
	multiply_by_rational_with_rounding(
		oracle.into_inner(),
		u128::from(share.deconstruct()),
		u128::from(sp_runtime::Permill::ACCURACY),
		Rounding::Down,
	)
	.map(AuctionPrice::from_inner)
	.unwrap_or(oracle)
}

/// Whether `oracle` lies outside `band` (a share, either way) around `centre`.
pub fn outside_band(oracle: AuctionPrice, centre: AuctionPrice, band: sp_runtime::Permill) -> bool {
	let width = multiply_by_rational_with_rounding(
		centre.into_inner(),
		u128::from(band.deconstruct()),
		u128::from(sp_runtime::Permill::ACCURACY),
		Rounding::Down,
	)
	.unwrap_or(0);
	let low = centre.into_inner().saturating_sub(width);
	let high = centre.into_inner().saturating_add(width);
	oracle.into_inner() < low || oracle.into_inner() > high
}
