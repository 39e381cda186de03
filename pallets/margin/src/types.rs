//! Stored and reported types of the margin pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use liquidation_primitives::{Balance, Decimals, HealthReport, RiskWeights};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{FixedU128, Permill, RuntimeDebug};

/// An annual interest rate as a fraction (`0.05` is 5% a year).
pub type AnnualRate = FixedU128;

/// A pool index: what one index unit of a position is worth in the asset's smallest units.
pub type Index = FixedU128;

/// The borrow rate as a function of utilization (borrows over deposits): a straight line from
/// `base_rate` at zero utilization rising by `slope_below_kink` up to the kink, then more steeply,
/// by `slope_above_kink`, from the kink to full utilization.
///
/// ```text
///   rate(u) = base_rate + slope_below_kink * u / kink                       for u <= kink
///   rate(u) = base_rate + slope_below_kink + slope_above_kink * (u - kink) / (1 - kink)  above
/// ```
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
	Serialize,
	Deserialize,
)]
pub struct InterestCurve {
	/// Borrow rate at zero utilization, per year.
	pub base_rate: AnnualRate,
	/// Rise of the borrow rate from zero utilization to the kink, per year.
	pub slope_below_kink: AnnualRate,
	/// Utilization where the steep part of the curve starts; strictly between 0 and 1.
	pub kink: Permill,
	/// Rise of the borrow rate from the kink to full utilization, per year.
	pub slope_above_kink: AnnualRate,
}

/// Governance parameters of a listed asset.
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
	Serialize,
	Deserialize,
)]
pub struct AssetParams {
	/// Share of a deposit's value counted as collateral for borrows and withdrawals; in [0, 1]
	/// (zero: no new risk against it).
	pub initial_collateral_weight: Permill,
	/// Share of a deposit's value counted as collateral against liquidation; greater than the
	/// initial weight (less demanding), at most 1; or zero with it (a borrow-only asset).
	pub maintenance_collateral_weight: Permill,
	/// Multiple of a debt's value counted against borrows and withdrawals; at least 1.
	pub initial_liability_weight: FixedU128,
	/// Multiple of a debt's value counted towards liquidation; at least 1 and less than the
	/// initial weight.
	pub maintenance_liability_weight: FixedU128,
	/// Most that may be deposited in total (lenders' claims and reserve), in whole USD: a
	/// deposit is refused if the pool's deposits would then be worth more, at the higher of the
	/// price and the stable price (a pump makes the cap bind sooner, never later).
	pub supply_cap_usd: Balance,
	/// Most that may be borrowed in total, in whole USD, valued as the supply cap.
	pub borrow_cap_usd: Balance,
	/// The debt ceiling of this asset as collateral: the most that accounts holding a deposit
	/// of it may owe in total, in whole USD (every asset they owe, at the higher of the price
	/// and the stable price). A borrow, or a deposit by an indebted account, that would take
	/// the total above it is refused; repaying and withdrawing never are. `None`: no ceiling.
	/// Isolates a risky listing, as Aave v3's isolation mode: a price manipulated or a market
	/// too thin to liquidate can put at most this much of the lenders' money at risk.
	pub debt_ceiling_usd: Option<Balance>,
	/// Borrow rate by utilization.
	pub interest: InterestCurve,
	/// Share of borrowers' interest kept as the protocol's reserve instead of paid to lenders.
	pub reserve_factor: Permill,
	/// Smallest non-zero deposit or debt an account may hold after a deposit, withdrawal or
	/// borrow, in smallest units (repaying may leave less: repaying always works).
	pub min_position: Balance,
}

impl AssetParams {
	/// The weights as the liquidation engine sees them.
	pub fn risk_weights(&self, decimals: Decimals) -> RiskWeights {
		RiskWeights {
			initial_collateral_weight: self.initial_collateral_weight,
			maintenance_collateral_weight: self.maintenance_collateral_weight,
			initial_liability_weight: self.initial_liability_weight,
			maintenance_liability_weight: self.maintenance_liability_weight,
			decimals,
		}
	}
}

/// What users may do with a listed asset. Liquidations work in every status.
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
	Serialize,
	Deserialize,
)]
pub enum AssetStatus {
	/// Everything: deposit, withdraw, borrow, repay.
	#[default]
	#[codec(index = 0)]
	Active,
	/// Only what reduces exposure: withdraw and repay; no new deposit or borrow.
	#[codec(index = 1)]
	ReduceOnly,
	/// Only repay.
	#[codec(index = 2)]
	Frozen,
}

/// The lending pool of one asset.
///
/// Positions are kept in *index units*: a deposit of `scaled` units is worth
/// `scaled * deposit_index` smallest units, a debt of `scaled` units `scaled * borrow_index`.
/// Interest raises the borrow index; the lenders' share of it raises the deposit index and the
/// reserve's share is added to `reserve_scaled`; a socialized loss lowers the deposit index.
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
pub struct Pool<BlockNumber> {
	/// Sum of all deposit positions and the reserve, in index units.
	pub deposit_scaled: Balance,
	/// Sum of all debt positions, in index units.
	pub borrow_scaled: Balance,
	/// The protocol reserve's share of `deposit_scaled`.
	pub reserve_scaled: Balance,
	/// Smallest units per deposit index unit.
	pub deposit_index: Index,
	/// Smallest units per debt index unit.
	pub borrow_index: Index,
	/// The block interest was last accrued in.
	pub last_accrued: BlockNumber,
	/// Debt written off bankrupt accounts and not yet settled by insurance or socialized, in
	/// smallest units.
	pub bad_debt: Balance,
}

/// A listed asset: its parameters, status and lending pool.
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
pub struct Market<BlockNumber> {
	/// Decimal places: one whole unit is `10^decimals` smallest units.
	pub decimals: Decimals,
	/// Governance parameters.
	pub params: AssetParams,
	/// What users may do.
	pub status: AssetStatus,
	/// The lending pool.
	pub pool: Pool<BlockNumber>,
}

/// An account's position in one asset, in index units: a deposit or a debt, never both.
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
pub enum Position {
	/// A deposit of this many deposit index units.
	#[codec(index = 0)]
	Deposit(Balance),
	/// A debt of this many borrow index units.
	#[codec(index = 1)]
	Borrow(Balance),
}

/// An amount a user names: an exact amount, or all of the position.
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
pub enum Amount {
	/// This many smallest units.
	#[codec(index = 0)]
	Exact(Balance),
	/// The whole position (all of the deposit, all of the debt).
	#[codec(index = 1)]
	All,
}

/// A pool as clients see it, with interest accrued to the current block.
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
pub struct PoolReport {
	/// Status of the asset.
	pub status: AssetStatus,
	/// Total of lenders' claims and the reserve, in smallest units.
	pub total_deposits: Balance,
	/// Total debt, in smallest units.
	pub total_borrows: Balance,
	/// The protocol reserve, in smallest units.
	pub reserve: Balance,
	/// What the pool's custody holds of the asset.
	pub cash: Balance,
	/// Borrows over deposits, at most 1.
	pub utilization: FixedU128,
	/// Borrow rate per year at this utilization.
	pub borrow_rate: AnnualRate,
	/// Rate lenders earn per year: borrow rate times utilization times one minus the reserve
	/// factor.
	pub supply_rate: AnnualRate,
	/// Current deposit index.
	pub deposit_index: Index,
	/// Current borrow index.
	pub borrow_index: Index,
	/// Outstanding bad debt.
	pub bad_debt: Balance,
	/// What accounts holding a deposit of the asset owe in total, in USD at cap prices: what
	/// its debt ceiling is judged against (`None` if a debt asset cannot be valued).
	pub debt_backed_usd: Option<FixedU128>,
}

/// An account's margin as clients see it.
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
pub struct AccountHealth {
	/// Values and weighted values.
	pub report: HealthReport,
	/// Initial health: weighted collateral minus weighted debt, when positive.
	pub initial_margin: FixedU128,
	/// Maintenance health when positive.
	pub maintenance_margin: FixedU128,
	/// How far maintenance health is below zero.
	pub maintenance_shortfall: FixedU128,
	/// Maintenance collateral over maintenance debt (`None` without debt).
	pub health_factor: Option<FixedU128>,
}

/// Running totals of one asset's losses, for transparency.
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
pub struct LossTotals {
	/// Debt written off bankrupt accounts.
	pub written_off: Balance,
	/// Bad debt paid by insurance.
	pub settled: Balance,
	/// Bad debt spread over the lenders.
	pub socialized: Balance,
	/// Reserve moved to the insurance fund.
	pub reserve_collected: Balance,
}
