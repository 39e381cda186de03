//! How much a liquidation repays and seizes: pure arithmetic, shown against hand figures in the
//! tests.
//!
//! With maintenance-weighted collateral `C` and debt `D` (health factor `C / D`), repaying a
//! value `R` of a debt with liability weight `l` and seizing `R * (1 + b)` of a collateral with
//! weight `w` (`b` the liquidation penalty) leaves
//!
//! ```text
//!   C' = C - R (1 + b) w,    D' = D - R l.
//! ```
//!
//! The health factor reaches the target `H` at `R = (H D - C) / (H l - (1 + b) w)`. A partial
//! liquidation raises the health factor only while it is above `(1 + b) w / l`; below that, or
//! below the full-liquidation threshold, the whole debt position is repaid (as far as the
//! collateral covers it). A partial repayment is capped by the close factor, and one that would
//! leave a position worth less than the dust value is made whole.
//!
//! **Close-out of a collateral.** When the collateral is worth less than the repayment with its
//! penalty, `V < R (1 + b)`, the liquidator takes all of it for `V / (1 + b)` of debt (rounded up,
//! in the account's favour): the deepest account can always be closed out, one collateral at a
//! time. The shortfall `D - C` then falls by `R (l - (1 + b) w)`, which is positive whenever
//! `(1 + b) w < l` (the engine's no-harm rule, see the crate docs).
//!
//! **Insolvent accounts.** When the account's collateral is worth less than its debt
//! (unweighted, in the report the liquidation is sized on), the penalty is junior to the debt:
//! the liquidator keeps his reward, `b (1 - s)` (`s` the insurance share), and
//! insurance takes nothing, since it would pay it straight back as cover for the account's bad
//! debt; the collateral repays that much more. (A flash sale then has a margin of `b (1 - s)`
//! over the repayment: a pool paying more than that under the oracle fails `SaleShortOfDebt`,
//! and the keeper and auction paths remain.)

use crate::types::{EngineParams, Plan};
use liquidation_primitives::{
	value_in_usd, value_in_usd_rounded_up, Balance, Decimals, HealthReport, Price, UsdValue,
};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Saturating, Zero},
	FixedPointNumber, FixedU128, PerThing, Permill, Rounding,
};

/// One side of a liquidation: a debt or a collateral position and how it is valued.
#[derive(Clone, Copy, Debug)]
pub struct Side<AssetId> {
	/// The asset.
	pub asset: AssetId,
	/// The position, in smallest units.
	pub amount: Balance,
	/// USD per whole unit.
	pub price: Price,
	/// Decimals of the asset.
	pub decimals: Decimals,
	/// Its maintenance weight: the liability weight of a debt, the collateral weight of a
	/// collateral.
	pub weight: FixedU128,
}

/// The smallest-unit amount worth `value` USD at the side's price, rounded down.
pub fn amount_worth<A>(value: UsdValue, side: &Side<A>) -> Option<Balance> {
	if side.price.is_zero() {
		return None;
	}
	let scale = 10u128.checked_pow(u32::from(side.decimals))?;
	// value / price is in whole units; times 10^decimals in smallest units.
	let whole_inner = multiply_by_rational_with_rounding(
		value.into_inner(),
		FixedU128::DIV,
		side.price.into_inner(),
		Rounding::Down,
	)?;
	multiply_by_rational_with_rounding(whole_inner, scale, FixedU128::DIV, Rounding::Down)
}

/// The smallest-unit amount worth at least `value` USD at the side's price (rounded up).
pub fn amount_worth_rounded_up<A>(value: UsdValue, side: &Side<A>) -> Option<Balance> {
	let down = amount_worth(value, side)?;
	let back = value_in_usd(down, side.decimals, side.price)?;
	if back >= value {
		Some(down)
	} else {
		down.checked_add(1)
	}
}

/// The liquidation of `debt` against `collateral` for an account with `report`, repaying at
/// most `max_repay`. `None` when the account has no debt or nothing can be repaid or seized.
pub fn plan<A: Copy>(
	report: &HealthReport,
	debt: Side<A>,
	collateral: Side<A>,
	params: &EngineParams,
	max_repay: Balance,
) -> Option<Plan<A>> {
	let debt_value = value_in_usd_rounded_up(debt.amount, debt.decimals, debt.price)?;
	let collateral_value = value_in_usd(collateral.amount, collateral.decimals, collateral.price)?;
	let health_factor = report.health_factor()?;
	// The penalty is junior to the debt: an insolvent account (its collateral worth less than
	// its debt) pays the liquidator's reward only, `b (1 - s)`; insurance's share
	// would come straight back out of the fund as cover for its bad debt.
	let insolvent = report.collateral_value < report.debt_value;
	let (penalty_rate, insurance_share) = if insolvent {
		(params.liquidation_penalty * params.insurance_share.left_from_one(), Permill::zero())
	} else {
		(params.liquidation_penalty, params.insurance_share)
	};
	let one_plus_penalty = FixedU128::one().checked_add(&penalty_rate.into())?;
	let seized_weight = one_plus_penalty.checked_mul(&collateral.weight)?;

	// Whether a partial liquidation can restore health, and how much it needs.
	let mut full = health_factor < params.full_liquidation_health_factor
		|| health_factor.saturating_mul(debt.weight) <= seized_weight;
	let mut repay_value = debt_value;
	if !full {
		let target = params.target_health_factor;
		let numerator = target
			.checked_mul(&report.maintenance_debt)?
			.saturating_sub(report.maintenance_collateral);
		let denominator = target.checked_mul(&debt.weight)?.checked_sub(&seized_weight);
		match denominator {
			Some(denominator) if !denominator.is_zero() => {
				let wanted = numerator.checked_div(&denominator)?;
				let cap = FixedU128::from(params.close_factor).checked_mul(&debt_value)?;
				repay_value = wanted.min(cap).min(debt_value);
				if debt_value.saturating_sub(repay_value) < params.dust_value {
					full = true;
					repay_value = debt_value;
				}
			},
			_ => full = true,
		}
	}

	// No more than the collateral covers with its penalty: then all of it, for what it covers.
	let coverable = collateral_value.checked_div(&one_plus_penalty)?;
	let mut takes_all_collateral = false;
	if repay_value > coverable {
		repay_value = coverable;
		takes_all_collateral = true;
	}
	let mut repay = if repay_value >= debt_value {
		takes_all_collateral = false;
		debt.amount
	} else if takes_all_collateral {
		amount_worth_rounded_up(repay_value, &debt)?.min(debt.amount)
	} else {
		amount_worth(repay_value, &debt)?.min(debt.amount)
	};
	if repay > max_repay {
		// The liquidator asked for less: an ordinary slice at the penalty.
		repay = max_repay;
		takes_all_collateral = false;
	}
	full = full && repay == debt.amount;
	if repay.is_zero() {
		return None;
	}

	let repaid_value = value_in_usd(repay, debt.decimals, debt.price)?;
	let equivalent = amount_worth(repaid_value, &collateral)?.min(collateral.amount);
	let seize = if takes_all_collateral {
		collateral.amount
	} else {
		amount_worth(repaid_value.checked_mul(&one_plus_penalty)?, &collateral)?
			.min(collateral.amount)
	};
	if seize.is_zero() {
		return None;
	}
	let takes_all_collateral = seize == collateral.amount;
	let penalty = seize.saturating_sub(equivalent);
	let to_insurance = insurance_share.mul_floor(penalty);
	Some(Plan {
		debt_asset: debt.asset,
		collateral_asset: collateral.asset,
		repay,
		seize,
		to_insurance,
		reward: penalty.saturating_sub(to_insurance),
		full,
		takes_all_collateral,
		repay_value: repaid_value,
		penalty_rate,
		insurance_share,
	})
}
