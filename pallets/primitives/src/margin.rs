//! Margin accounts as the liquidation engine and the auctions see them.

use crate::{Decimals, PriceError, UsdValue};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::pallet_prelude::DispatchError;
use scale_info::TypeInfo;
use sp_arithmetic::{
	traits::{CheckedDiv, Saturating, Zero},
	FixedU128, Permill,
};
use sp_runtime::RuntimeDebug;

/// An account's margin at current prices, in USD.
///
/// Collateral is valued rounded down and debt rounded up, so rounding never makes an account look
/// healthier than it is. *Weighted* collateral is each deposit's value times its collateral weight
/// (at most 1); *weighted* debt is each borrow's value times its liability weight (at least 1).
/// The *initial* weights gate new borrows and withdrawals; the *maintenance* weights, less
/// demanding, are the liquidation threshold.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct HealthReport {
	/// Value of all deposits, unweighted.
	pub collateral_value: UsdValue,
	/// Value of all debt, unweighted.
	pub debt_value: UsdValue,
	/// Collateral under the initial collateral weights.
	pub initial_collateral: UsdValue,
	/// Debt under the initial liability weights.
	pub initial_debt: UsdValue,
	/// Collateral under the maintenance collateral weights.
	pub maintenance_collateral: UsdValue,
	/// Debt under the maintenance liability weights.
	pub maintenance_debt: UsdValue,
	/// The derivative positions' part, already counted above: their profit among the
	/// collateral, their loss and margin requirements among the debt.
	pub derivatives: crate::DerivativeHealth,
}

impl HealthReport {
	/// This report with `derivatives` counted in: unweighted profit to the collateral value and
	/// loss to the debt value; weighted profit to the weighted collateral, times the settlement
	/// asset's collateral weight (`settlement`, none: one); the loss times the settlement
	/// asset's liability weight plus the requirement to the weighted debt. Profit and loss are
	/// claims in the settlement asset, weighted as a deposit or a debt of it would be, so that
	/// realising a loss as debt of it (a close, a close-out) changes no health; paying a loss
	/// from a deposit of it, or realising a profit into one, changes health by the difference
	/// of the weights (the deposit's against the debt's, or the deposit's against the market's
	/// profit weight). `None` on an overflow.
	pub fn with_derivatives(
		mut self,
		derivatives: crate::DerivativeHealth,
		settlement: Option<&RiskWeights>,
	) -> Option<Self> {
		use sp_arithmetic::{
			traits::{CheckedAdd, One},
			FixedPointNumber,
		};
		let add = |a: UsdValue, b: UsdValue| a.checked_add(&b);
		let times_up = |value: UsdValue, weight: FixedU128| -> Option<UsdValue> {
			sp_arithmetic::helpers_128bit::multiply_by_rational_with_rounding(
				value.into_inner(),
				weight.into_inner(),
				FixedU128::DIV,
				sp_arithmetic::Rounding::Up,
			)
			.map(FixedU128::from_inner)
		};
		let (initial_collateral, maintenance_collateral, initial_liability, maintenance_liability) =
			match settlement {
				Some(weights) => (
					weights.initial_collateral_weight,
					weights.maintenance_collateral_weight,
					weights.initial_liability_weight,
					weights.maintenance_liability_weight,
				),
				None => (Permill::one(), Permill::one(), FixedU128::one(), FixedU128::one()),
			};
		let times_down = |value: UsdValue, weight: Permill| {
			FixedU128::from_inner(weight.mul_floor(value.into_inner()))
		};
		self.collateral_value = add(self.collateral_value, derivatives.gain)?;
		self.debt_value = add(self.debt_value, derivatives.loss)?;
		self.initial_collateral =
			add(self.initial_collateral, times_down(derivatives.initial_gain, initial_collateral))?;
		self.maintenance_collateral = add(
			self.maintenance_collateral,
			times_down(derivatives.maintenance_gain, maintenance_collateral),
		)?;
		self.initial_debt = add(
			add(self.initial_debt, times_up(derivatives.loss, initial_liability)?)?,
			derivatives.initial_requirement,
		)?;
		self.maintenance_debt = add(
			add(self.maintenance_debt, times_up(derivatives.loss, maintenance_liability)?)?,
			derivatives.maintenance_requirement,
		)?;
		self.derivatives = derivatives;
		Some(self)
	}

	/// Whether the account may take more risk: initial health (weighted collateral minus weighted
	/// debt) is at least zero.
	pub fn initial_health_ok(&self) -> bool {
		self.initial_collateral >= self.initial_debt
	}

	/// Whether the account may be liquidated: maintenance health is below zero.
	pub fn is_liquidatable(&self) -> bool {
		self.maintenance_debt > self.maintenance_collateral
	}

	/// How far maintenance health is below zero (zero for a healthy account).
	pub fn maintenance_shortfall(&self) -> UsdValue {
		self.maintenance_debt.saturating_sub(self.maintenance_collateral)
	}

	/// Maintenance health when positive: weighted collateral minus weighted debt, else zero.
	pub fn maintenance_surplus(&self) -> UsdValue {
		self.maintenance_collateral.saturating_sub(self.maintenance_debt)
	}

	/// Initial health when positive (what still may be borrowed, in weighted USD), else zero.
	pub fn initial_surplus(&self) -> UsdValue {
		self.initial_collateral.saturating_sub(self.initial_debt)
	}

	/// Maintenance-weighted collateral over maintenance-weighted debt; below one means
	/// liquidatable. `None` for an account without debt (infinitely healthy).
	pub fn health_factor(&self) -> Option<FixedU128> {
		if self.maintenance_debt.is_zero() {
			return None;
		}
		self.maintenance_collateral.checked_div(&self.maintenance_debt)
	}
}

/// Why an account's health cannot be computed.
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
pub enum HealthError<AssetId> {
	/// The price of an asset the account holds or owes is not usable.
	#[codec(index = 0)]
	Price(AssetId, PriceError),
	/// A value does not fit in the fixed-point range (an absurd position or price).
	#[codec(index = 1)]
	Overflow,
}

/// The risk weights of a listed asset and its decimals: what a liquidation needs to size itself.
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
pub struct RiskWeights {
	/// Share of a deposit's value that counts as collateral for new risk.
	pub initial_collateral_weight: Permill,
	/// Share of a deposit's value that counts as collateral against liquidation.
	pub maintenance_collateral_weight: Permill,
	/// Multiple of a debt's value that counts against new risk.
	pub initial_liability_weight: FixedU128,
	/// Multiple of a debt's value that counts towards liquidation.
	pub maintenance_liability_weight: FixedU128,
	/// Decimal places of the asset.
	pub decimals: Decimals,
}

/// Spreads a loss over the lenders of an asset.
pub trait LossSocializer<AssetId, Balance> {
	/// Lowers every lender's claim in `asset`, pro rata, so that together they lose at least
	/// `amount` (rounding is against the lenders, never against the pool), and returns what was
	/// socialized: at most the asset's recorded bad debt, and never so much that the lenders'
	/// claims vanish entirely (what remains stays recorded as bad debt).
	fn socialize(asset: AssetId, amount: Balance) -> Result<Balance, DispatchError>;
}
