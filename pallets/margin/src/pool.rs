//! The arithmetic of a lending pool: index units, utilization, the interest curve, accrual and
//! socialization. Pure functions over [`Pool`], so the runtime API can show a pool as of now
//! without writing it.

use crate::types::{AnnualRate, AssetParams, Index, InterestCurve, Pool};
use liquidation_primitives::Balance;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{One, Saturating, Zero},
	FixedPointNumber, FixedU128, Rounding,
};

/// `10^18`: the inner value of one in [`FixedU128`].
const ONE_INNER: u128 = FixedU128::DIV;

/// Highest borrow rate the curve may reach, per year: 1000%.
pub const MAX_ANNUAL_RATE: u128 = 10;

/// Highest liability weight governance may set.
pub const MAX_LIABILITY_WEIGHT: u128 = 5;

/// Lowest deposit index a socialized loss may leave: one millionth. Below it, new deposits would
/// be credited absurd numbers of index units; a loss beyond it stays recorded as bad debt.
pub const MIN_DEPOSIT_INDEX: Index = FixedU128::from_inner(ONE_INNER / 1_000_000);

/// `scaled` index units in smallest units at `index`, rounded as asked.
pub fn to_amount(scaled: Balance, index: Index, rounding: Rounding) -> Option<Balance> {
	multiply_by_rational_with_rounding(scaled, index.into_inner(), ONE_INNER, rounding)
}

/// `amount` smallest units in index units at `index`, rounded as asked; `None` for a zero index.
pub fn to_scaled(amount: Balance, index: Index, rounding: Rounding) -> Option<Balance> {
	if index.is_zero() {
		return None;
	}
	multiply_by_rational_with_rounding(amount, ONE_INNER, index.into_inner(), rounding)
}

/// `a * b` in fixed point with explicit rounding.
pub fn mul_fixed(a: FixedU128, b: FixedU128, rounding: Rounding) -> Option<FixedU128> {
	multiply_by_rational_with_rounding(a.into_inner(), b.into_inner(), ONE_INNER, rounding)
		.map(FixedU128::from_inner)
}

/// Borrows over deposits, at most one; zero for an empty pool, one for debt without deposits.
pub fn utilization(borrows: Balance, deposits: Balance) -> FixedU128 {
	if borrows.is_zero() {
		return FixedU128::zero();
	}
	if borrows >= deposits {
		return FixedU128::one();
	}
	FixedU128::checked_from_rational(borrows, deposits).unwrap_or_else(FixedU128::one)
}

impl InterestCurve {
	/// The annual borrow rate at `utilization` (see [`InterestCurve`] for the formula), rounded
	/// up. A utilization above one counts as one.
	pub fn borrow_rate(&self, utilization: FixedU128) -> AnnualRate {
		let utilization = utilization.min(FixedU128::one());
		let kink = FixedU128::from(self.kink);
		let rise = if utilization <= kink {
			Self::fraction_of(self.slope_below_kink, utilization, kink)
		} else {
			let above = utilization.saturating_sub(kink);
			let span = FixedU128::one().saturating_sub(kink);
			self.slope_below_kink.saturating_add(Self::fraction_of(
				self.slope_above_kink,
				above,
				span,
			))
		};
		self.base_rate.saturating_add(rise)
	}

	/// The rate at full utilization: the highest on the curve.
	pub fn max_rate(&self) -> AnnualRate {
		self.base_rate.saturating_add(self.slope_below_kink).saturating_add(self.slope_above_kink)
	}

	/// `slope * part / whole`, rounded up; the whole slope for a zero `whole`.
	fn fraction_of(slope: FixedU128, part: FixedU128, whole: FixedU128) -> FixedU128 {
		if whole.is_zero() {
			return slope;
		}
		multiply_by_rational_with_rounding(
			slope.into_inner(),
			part.into_inner(),
			whole.into_inner(),
			Rounding::Up,
		)
		.map(FixedU128::from_inner)
		.unwrap_or(slope)
	}
}

impl<BlockNumber> Pool<BlockNumber> {
	/// A new pool: indices at one, nothing deposited or borrowed.
	pub fn new(now: BlockNumber) -> Self {
		Self {
			deposit_scaled: 0,
			borrow_scaled: 0,
			reserve_scaled: 0,
			deposit_index: Index::one(),
			borrow_index: Index::one(),
			last_accrued: now,
			bad_debt: 0,
		}
	}

	/// Lenders' claims and the reserve in smallest units, rounded down.
	pub fn total_deposits(&self) -> Balance {
		to_amount(self.deposit_scaled, self.deposit_index, Rounding::Down).unwrap_or(Balance::MAX)
	}

	/// All debt in smallest units, rounded up.
	pub fn total_borrows(&self) -> Balance {
		to_amount(self.borrow_scaled, self.borrow_index, Rounding::Up).unwrap_or(Balance::MAX)
	}

	/// The reserve in smallest units, rounded down.
	pub fn reserve(&self) -> Balance {
		to_amount(self.reserve_scaled, self.deposit_index, Rounding::Down).unwrap_or(0)
	}

	/// Current utilization.
	pub fn utilization(&self) -> FixedU128 {
		utilization(self.total_borrows(), self.total_deposits())
	}

	/// Applies the interest of `elapsed_blocks` blocks at the borrow rate of the current
	/// utilization (simple interest over the span). The borrow index rises, rounded up; of the
	/// interest that makes, the reserve factor's share (rounded down) is added to the reserve and
	/// the rest raises the deposit index (rounded down), so lenders and reserve together never
	/// gain more than borrowers owe. Returns the interest in smallest units, or `None` on
	/// overflow (the pool is then left as it was by the caller).
	pub fn accrue(
		&mut self,
		params: &AssetParams,
		elapsed_blocks: u64,
		blocks_per_year: u32,
	) -> Option<Balance> {
		if elapsed_blocks == 0 || self.borrow_scaled.is_zero() || blocks_per_year == 0 {
			return Some(0);
		}
		let debt_before = to_amount(self.borrow_scaled, self.borrow_index, Rounding::Up)?;
		let deposits = to_amount(self.deposit_scaled, self.deposit_index, Rounding::Down)?;
		let rate = params.interest.borrow_rate(utilization(debt_before, deposits));
		// Growth of the borrow index over the span: rate * blocks / blocks_per_year.
		let growth = multiply_by_rational_with_rounding(
			rate.into_inner(),
			u128::from(elapsed_blocks),
			u128::from(blocks_per_year),
			Rounding::Up,
		)?;
		let index_rise = multiply_by_rational_with_rounding(
			self.borrow_index.into_inner(),
			growth,
			ONE_INNER,
			Rounding::Up,
		)?;
		let borrow_index =
			Index::from_inner(self.borrow_index.into_inner().checked_add(index_rise)?);
		let debt_after = to_amount(self.borrow_scaled, borrow_index, Rounding::Up)?;
		let interest = debt_after.checked_sub(debt_before)?;

		let reserve_share = params.reserve_factor.mul_floor(interest);
		let lender_share = interest.checked_sub(reserve_share)?;
		let mut deposit_index = self.deposit_index;
		let mut to_reserve = reserve_share;
		if self.deposit_scaled.is_zero() {
			// No lenders to pay (only after a loss wiped them out): all of it is the reserve's.
			to_reserve = interest;
		} else {
			let deposit_rise = multiply_by_rational_with_rounding(
				lender_share,
				ONE_INNER,
				self.deposit_scaled,
				Rounding::Down,
			)?;
			deposit_index =
				Index::from_inner(deposit_index.into_inner().checked_add(deposit_rise)?);
		}
		let reserve_units = to_scaled(to_reserve, deposit_index, Rounding::Down)?;

		self.borrow_index = borrow_index;
		self.deposit_index = deposit_index;
		self.reserve_scaled = self.reserve_scaled.checked_add(reserve_units)?;
		self.deposit_scaled = self.deposit_scaled.checked_add(reserve_units)?;
		Some(interest)
	}

	/// Lowers the deposit index so that lenders (and the reserve) together lose at least `amount`,
	/// pro rata; the loss is capped by the bad debt and by [`MIN_DEPOSIT_INDEX`]. Takes what was
	/// socialized off the bad debt and returns it with the index before and after.
	pub fn socialize(&mut self, amount: Balance) -> Option<(Balance, Index, Index)> {
		let before = self.deposit_index;
		if self.deposit_scaled.is_zero() {
			return Some((0, before, before));
		}
		let room = before.into_inner().saturating_sub(MIN_DEPOSIT_INDEX.into_inner());
		let most = multiply_by_rational_with_rounding(
			self.deposit_scaled,
			room,
			ONE_INNER,
			Rounding::Down,
		)?;
		let amount = amount.min(self.bad_debt).min(most);
		// Rounded up: every lender loses at least its share.
		let drop = multiply_by_rational_with_rounding(
			amount,
			ONE_INNER,
			self.deposit_scaled,
			Rounding::Up,
		)?
		.min(room);
		let after = Index::from_inner(before.into_inner().checked_sub(drop)?);
		self.deposit_index = after;
		self.bad_debt = self.bad_debt.checked_sub(amount)?;
		Some((amount, before, after))
	}
}
