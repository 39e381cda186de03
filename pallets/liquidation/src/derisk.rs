//! Predictive de-risking: reducing an account, before it breaches, whose value at risk exceeds
//! its maintenance buffer.
//!
//! A liquidation waits for the breach, then takes a penalty and, in a fast crash, queues behind
//! every other account that breached in the same block. The prices pallet estimates each asset's
//! volatility; from it the engine computes how much an account's maintenance buffer could lose
//! over a short horizon, and lets a keeper, or the off-chain worker with the room its
//! liquidations leave, reduce the account in small slices, at a fee smaller than the penalty,
//! while it is still safe. (Not to be confused with auto-deleveraging, which takes profit from the
//! winners opposite an insolvent position.)
//!
//! The worker's slice ([`crate::Call::derisk_unsigned`]) has no keeper to pay: a spot slice's
//! collateral is sold on the DEX for at least its oracle value less the engine's slippage bound
//! and at least the debt it repays, the debt repaid from the sale and the rest (the fee, less what
//! the sale lost against the oracle) paid to insurance; a perpetual slice is taken over by the
//! vault. The owner pays the same as to a keeper.
//!
//! ## Terms and formulas
//!
//! - **Buffer** `B`: the account's maintenance collateral less its maintenance debt (USD), what
//!   it can lose before it is liquidatable.
//! - **Sensitivity** of the buffer to asset `i`'s price, per unit of relative move (USD):
//!   `s_i = D_i w_i - L_i l_i ± N_i l_s - M_i`, its deposit `D_i` and debt `L_i` at the oracle
//!   weighted by their maintenance weights, a perpetual position's notional `N_i` (plus for a
//!   long, minus for a short) weighted as its loss would be, as debt of the settlement asset
//!   (`l_s`; a profit counts less, so this errs high), and its maintenance requirement `M_i`,
//!   which grows with the price on either side.
//! - **Value at risk** over the governed horizon `h` at the governed confidence `c`:
//!   `VaR = Σ_i |s_i| x_i`, `x_i = k σ_i` the move at risk (at most 1 against a net long: a
//!   price falls at most to zero; [`move_at_risk`]), `k = z(c) √(h / T)`, where `σ_i` is the
//!   volatility the prices pallet estimates over its period `T`
//!   ([`crate::Config::VolatilityPeriodMs`]) and `z(c)` the normal quantile of `c`
//!   ([`z_score`]). The sum takes no credit for diversification between assets: correlations
//!   go to one in a crash.
//! - **Due**: an account not liquidatable whose `VaR > B`.
//! - **Slice**: one de-risking of the asset with the largest term `|s_i| σ_i`:
//!   - a *spot* slice repays `R` (USD) of a debt and pays the keeper `R (1 + f)` of a collateral
//!     (`f` the governed fee): its buffer grows by `R g`, `g = l_d - (1 + f) w_c` (positive for
//!     every listed pair: the penalty's soundness rule, and `f` is below the penalty) and its
//!     value at risk falls by at most `R (x_c (1 + f) w_c + x_d l_d)`; so
//!     `R = (VaR - B) / (g + x_c (1 + f) w_c + x_d l_d)` brings the VaR back to the buffer and
//!     no further (rounded down; a change of an exposure's sign only makes the VaR fall less). The
//!     partner asset (the debt repaid against a net long, the collateral paid from against a
//!     net short) is the largest whose own exposure is not on the same side;
//!   - a *perpetual* slice, when the account holds a position on the side of the largest term
//!     (one hedging it leaves the spot side to reduce): the keeper takes over `Δ` units at the
//!     oracle moved against the trader by a fee of `φ f / b` of the maintenance margin they
//!     release (the market's liquidation fee share `φ`, discounted as the spot fee is against
//!     the penalty `b`). The margin released per unit is at most twice the position's average
//!     maintenance fraction `m` (the requirement is convex in the size), so the buffer grows by
//!     at most `Δ P 2 m (1 - l_s φ f / b)`, and the VaR falls by at most `Δ P x l_s`:
//!     `Δ = (VaR - B) / (P (x l_s + 2 m (1 - l_s φ f / b)))`, and never so much that less than
//!     the market's minimum notional is left;
//!   - at most [`DeriskParams::max_slice`] of the position, at least the engine's dust value,
//!     within the block's caps (as every liquidation); refused if the buffer would fall, the
//!     account become liquidatable, the excess of the VaR over the buffer not fall, or the VaR
//!     end more than a cent below the buffer (the rounding of what is paid, in the owner's
//!     favour).

use crate::{
	sizing::{amount_worth, Side},
	Config, DeriskParamsOf, Error, Event, Pallet, Params, WeightInfo as _,
};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	ensure,
	pallet_prelude::DispatchResult,
	traits::{fungibles::Mutate as _, tokens::Preservation, Get},
	weights::Weight,
};
use liquidation_primitives::{
	ledger::{Inspect as _, Mutate as _},
	value_in_usd, Balance, PositionLiquidation as _, PriceProvider, UsdValue,
};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{
	traits::{CheckedDiv, CheckedSub, One, Saturating, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, PerThing, Permill, RuntimeDebug,
};

/// The share of each per-block cap (the engine's and an asset's) de-riskings may use: the rest
/// is kept for liquidations, which a slice must never crowd out (it acts on an account that is
/// still safe; a breached account cannot wait).
pub const DERISK_CAP_SHARE: Permill = Permill::from_percent(50);

/// The most close-outs one perpetual slice tries (the first, sized in closed form, and its
/// rescalings when it passes the buffer); the weight of a perpetual slice counts them all.
pub const PERPETUAL_TRIALS: u32 = 3;

/// The shortest horizon governance may set: a minute.
pub const MIN_HORIZON_MS: u64 = 60_000;
/// The longest: a week.
pub const MAX_HORIZON_MS: u64 = 7 * 24 * 3_600_000;

/// The normal distribution's one-sided quantiles at the confidences governance may choose from
/// (per million, z): linear between them (the quantile is convex there, so an interpolated `z`
/// is a little above the true one: the VaR errs high).
const QUANTILES: [(u32, u32); 8] = [
	// (confidence ppm, z × 10 000)
	(800_000, 8_416),
	(850_000, 10_364),
	(900_000, 12_816),
	(950_000, 16_449),
	(975_000, 19_600),
	(990_000, 23_263),
	(995_000, 25_758),
	(999_000, 30_902),
];

/// Governance parameters of predictive de-risking; without them (the switch off) no account is
/// de-risked.
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
pub struct DeriskParams {
	/// The horizon of the value at risk, in milliseconds: how far ahead the engine looks
	/// (between [`MIN_HORIZON_MS`] and [`MAX_HORIZON_MS`]).
	pub horizon_ms: u64,
	/// The confidence of the value at risk: 80 % to 99.9 % ([`z_score`]).
	pub confidence: Permill,
	/// Most of a position one slice reduces (of a debt repaid, of a perpetual's units); above
	/// zero, at most the engine's close factor.
	pub max_slice: Permill,
	/// The keeper's fee: collateral worth the repaid debt times `1 + fee`; on a perpetual's
	/// slice, the market's liquidation fee discounted by `fee / liquidation_penalty`. Below the
	/// liquidation penalty.
	pub fee: Permill,
}

/// An account's value at risk against its buffer (the runtime API's answer).
#[derive(Clone, PartialEq, Eq, Encode, Decode, TypeInfo, RuntimeDebug)]
pub struct RiskReport<AssetId> {
	/// Value at risk over the governed horizon at the governed confidence, USD.
	pub value_at_risk: UsdValue,
	/// Maintenance collateral less maintenance debt, USD.
	pub buffer: UsdValue,
	/// Each asset's term of the value at risk, `|s_i| x_i` (USD), the largest first; `long`
	/// when the buffer falls with the asset's price.
	pub terms: Vec<RiskTerm<AssetId>>,
	/// Whether a keeper or the worker may de-risk the account now (the switch on, the VaR above
	/// the buffer, the account not liquidatable).
	pub due: bool,
}

/// One asset's term of an account's value at risk.
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, TypeInfo, RuntimeDebug)]
pub struct RiskTerm<AssetId> {
	/// The asset (or a perpetual's underlying).
	pub asset: AssetId,
	/// Its part of the value at risk, USD.
	pub value_at_risk: UsdValue,
	/// Whether the buffer falls when the price falls (a net long exposure).
	pub long: bool,
	/// The part of the exposure that is a perpetual position's, USD: what a perpetual slice
	/// may reduce.
	pub perpetual: UsdValue,
}

/// What one de-risking did.
#[derive(
	Clone, Copy, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, RuntimeDebug,
)]
pub enum DeriskAction<AssetId> {
	/// Spot debt repaid against collateral: by the keeper, paid the collateral; or by the
	/// worker, which sells the collateral on the DEX, repays from the sale and pays what the
	/// sale brought beyond the debt to insurance.
	#[codec(index = 0)]
	Spot {
		/// The debt repaid.
		debt_asset: AssetId,
		/// Repaid, in its smallest units.
		repaid: Balance,
		/// The collateral taken.
		collateral_asset: AssetId,
		/// Taken, in its smallest units (the repayment's value times `1 + fee`).
		seized: Balance,
		/// Of the debt asset, what the worker's sale brought beyond the debt, paid to
		/// insurance (zero for a keeper, who is paid the fee in collateral).
		to_insurance: Balance,
	},
	/// Units of a perpetual position taken over by the keeper, or by the vault for the worker.
	#[codec(index = 1)]
	Perpetual {
		/// The market's underlying.
		underlying: AssetId,
		/// Units taken over.
		units: FixedU128,
		/// The fee (USD) the close price cost the trader.
		fee: UsdValue,
	},
}

/// The normal quantile `z` of a one-sided `confidence` (80 % to 99.9 %), or `None` outside.
pub fn z_score(confidence: Permill) -> Option<FixedU128> {
	let ppm = confidence.deconstruct();
	let scale = |z: u32| FixedU128::saturating_from_rational(z, 10_000u32);
	let first = QUANTILES.first()?;
	if ppm == first.0 {
		return Some(scale(first.1));
	}
	QUANTILES.windows(2).find_map(|pair| {
		let ((low, z_low), (high, z_high)) = (pair[0], pair[1]);
		if ppm <= low || ppm > high {
			return None;
		}
		// z_low + (z_high - z_low) (ppm - low) / (high - low), in units of 1e-4.
		let z = FixedU128::saturating_from_integer(z_low).saturating_add(
			FixedU128::saturating_from_rational(
				(z_high.saturating_sub(z_low)).saturating_mul(ppm.saturating_sub(low)),
				high.saturating_sub(low),
			),
		);
		Some(z.saturating_mul(FixedU128::saturating_from_rational(1, 10_000u32)))
	})
}

/// Whether `params` are within the governance ranges under the engine's `engine` parameters:
/// a horizon from [`MIN_HORIZON_MS`] to [`MAX_HORIZON_MS`], a confidence [`z_score`] knows, a
/// slice above zero and at most the close factor, a fee below the liquidation penalty.
pub fn in_range(params: &DeriskParams, engine: &crate::EngineParams) -> bool {
	(MIN_HORIZON_MS..=MAX_HORIZON_MS).contains(&params.horizon_ms)
		&& z_score(params.confidence).is_some()
		&& !params.max_slice.is_zero()
		&& params.max_slice <= engine.close_factor
		&& params.fee < engine.liquidation_penalty
}

/// The relative move of a price the VaR takes, `k σ`: against a long at most all of it (a price
/// falls at most to zero), against a short unbounded.
pub fn move_at_risk(k: FixedU128, volatility: FixedU128, long: bool) -> FixedU128 {
	let fraction = k.saturating_mul(volatility);
	if long {
		fraction.min(FixedU128::one())
	} else {
		fraction
	}
}

/// One asset's exposure being summed: weighted USD on each side.
#[derive(Clone, Copy, Default)]
struct Exposure {
	/// What raises the buffer with the price (deposits, a long).
	up: UsdValue,
	/// What lowers it (debts, a short).
	down: UsdValue,
	/// The perpetual's weighted notional (either side).
	perpetual: UsdValue,
	/// Its volatility.
	volatility: FixedU128,
}

impl<T: Config> Pallet<T> {
	/// What [`Pallet::derisk_unsigned`] declares: the costlier slice (a DEX sale, or the vault's
	/// takeover with [`PERPETUAL_TRIALS`] trials' close-outs and reports) twice, and an account's
	/// check: the block's `pre_dispatch` validation reads the account's report and runs the slice
	/// once and undoes it.
	pub fn derisk_unsigned_weight() -> Weight {
		T::WeightInfo::derisk_by_sale()
			.max(
				T::WeightInfo::derisk_by_vault().saturating_add(
					T::WeightInfo::backstop_position()
						.saturating_add(T::WeightInfo::check_account())
						.saturating_mul(PERPETUAL_TRIALS.saturating_sub(1).into()),
				),
			)
			.saturating_mul(2)
			.saturating_add(T::WeightInfo::check_account())
	}
}

impl<T: Config> Pallet<T> {
	/// `k = z √(h / T)`: the move at risk per unit of volatility.
	fn var_multiple(params: &DeriskParams) -> Option<FixedU128> {
		let z = z_score(params.confidence)?;
		let period = T::VolatilityPeriodMs::get().max(1);
		let ratio = FixedU128::checked_from_rational(params.horizon_ms, period)?;
		Some(z.saturating_mul(ratio.checked_sqrt()?))
	}

	/// `who`'s value at risk against its buffer, under `params` (the governed ones when
	/// `None`); an error when a price it holds is not usable (no volatility to judge by) or the
	/// switch is off.
	pub fn risk_report(
		who: &T::AccountId,
		params: Option<DeriskParams>,
	) -> Result<RiskReport<T::AssetId>, DispatchError> {
		let params = params.or_else(DeriskParamsOf::<T>::get).ok_or(Error::<T>::DeriskDisabled)?;
		let k = Self::var_multiple(&params).ok_or(Error::<T>::DeriskParamsInvalid)?;
		let report = Self::effective_report(who)?;
		let buffer = report.maintenance_collateral.saturating_sub(report.maintenance_debt);
		let mut exposures: Vec<(T::AssetId, Exposure)> = Vec::new();
		fn entry<T: Config>(
			exposures: &mut Vec<(T::AssetId, Exposure)>,
			asset: T::AssetId,
		) -> Result<usize, DispatchError> {
			if let Some(index) = exposures.iter().position(|(a, _)| *a == asset) {
				return Ok(index);
			}
			let info = T::Prices::price(&asset).map_err(Error::<T>::Price)?;
			exposures.push((asset, Exposure { volatility: info.volatility, ..Default::default() }));
			Ok(exposures.len().saturating_sub(1))
		}
		for (asset, deposit, debt) in T::Ledger::positions_of(who) {
			let weights = T::Ledger::risk_weights(asset).ok_or(Error::<T>::NoCollateral)?;
			let index = entry::<T>(&mut exposures, asset)?;
			let Some((_, exposure)) = exposures.get_mut(index) else { continue };
			let price = T::Prices::price(&asset).map_err(Error::<T>::Price)?.price;
			let usd = |amount| {
				value_in_usd(amount, weights.decimals, price).ok_or(ArithmeticError::Overflow)
			};
			exposure.up.saturating_accrue(
				usd(deposit)?.saturating_mul(weights.maintenance_collateral_weight.into()),
			);
			exposure
				.down
				.saturating_accrue(usd(debt)?.saturating_mul(weights.maintenance_liability_weight));
		}
		let settlement_weight = Self::settlement_liability_weight();
		for position in T::Derivatives::positions_at_risk(who) {
			let index = entry::<T>(&mut exposures, position.underlying)?;
			let Some((_, exposure)) = exposures.get_mut(index) else { continue };
			let weighted = position.notional.saturating_mul(settlement_weight);
			exposure.perpetual.saturating_accrue(weighted);
			if position.long {
				exposure.up.saturating_accrue(weighted);
			} else {
				exposure.down.saturating_accrue(weighted);
			}
			// The requirement grows with the price, on either side: a debt in the underlying.
			exposure.down.saturating_accrue(position.maintenance_requirement);
		}
		let mut terms: Vec<RiskTerm<T::AssetId>> = exposures
			.into_iter()
			.map(|(asset, exposure)| {
				let long = exposure.up >= exposure.down;
				let net = if long {
					exposure.up.saturating_sub(exposure.down)
				} else {
					exposure.down.saturating_sub(exposure.up)
				};
				RiskTerm {
					asset,
					value_at_risk: net.saturating_mul(move_at_risk(k, exposure.volatility, long)),
					long,
					perpetual: exposure.perpetual,
				}
			})
			.collect();
		terms.sort_by(|a, b| b.value_at_risk.cmp(&a.value_at_risk));
		let value_at_risk =
			terms.iter().fold(UsdValue::zero(), |sum, term| sum.saturating_add(term.value_at_risk));
		let due = value_at_risk > buffer
			&& !report.is_liquidatable()
			&& !Self::in_auction(who)
			&& !crate::Paused::<T>::get();
		Ok(RiskReport { value_at_risk, buffer, terms, due })
	}

	/// The accounts a keeper or the worker may de-risk now among up to `limit` indebted ones after
	/// `start_after`, with how far their value at risk exceeds their buffer (USD), the largest
	/// first; and the account to continue after (`None`: the end). Empty while the switch is
	/// off.
	pub fn derisk_candidates(
		start_after: Option<T::AccountId>,
		limit: u32,
	) -> (Vec<(T::AccountId, UsdValue)>, Option<T::AccountId>) {
		use liquidation_primitives::ledger::RiskScan as _;
		let limit = limit.min(crate::stress::MAX_STRESS_PAGE);
		let batch = T::Ledger::indebted_accounts(start_after.as_ref(), limit);
		let next = if (batch.len() as u32) < limit { None } else { batch.last().cloned() };
		let Some(params) = DeriskParamsOf::<T>::get() else { return (Vec::new(), next) };
		let mut due: Vec<(T::AccountId, UsdValue)> = batch
			.into_iter()
			.filter_map(|who| {
				let report = Self::risk_report(&who, Some(params)).ok()?;
				report.due.then(|| (who, report.value_at_risk.saturating_sub(report.buffer)))
			})
			.collect();
		due.sort_by(|a, b| b.1.cmp(&a.1));
		(due, next)
	}

	/// The maintenance liability weight of the perpetuals' settlement asset (one without it).
	fn settlement_liability_weight() -> FixedU128 {
		T::Derivatives::settlement()
			.and_then(|(asset, _)| T::Ledger::risk_weights(asset))
			.map_or(FixedU128::one(), |weights| weights.maintenance_liability_weight)
	}

	/// One slice of predictive de-risking of `who` by `keeper`, or by the off-chain worker when
	/// `None` (the DEX and the vault take the keeper's place; see the [module docs](self)).
	#[frame_support::transactional]
	pub(crate) fn do_derisk(
		keeper: Option<T::AccountId>,
		who: T::AccountId,
	) -> Result<DeriskAction<T::AssetId>, DispatchError> {
		let params = DeriskParamsOf::<T>::get().ok_or(Error::<T>::DeriskDisabled)?;
		let engine = Params::<T>::get().ok_or(Error::<T>::NotConfigured)?;
		ensure!(!crate::Paused::<T>::get(), Error::<T>::EnginePaused);
		ensure!(keeper.as_ref() != Some(&who), Error::<T>::OwnAccount);
		let before = Self::risk_report(&who, Some(params))?;
		ensure!(before.due, Error::<T>::NotDue);
		let k = Self::var_multiple(&params).ok_or(Error::<T>::DeriskParamsInvalid)?;
		let excess = before.value_at_risk.saturating_sub(before.buffer);
		let largest = *before.terms.first().ok_or(Error::<T>::NotDue)?;
		ensure!(!Self::is_paused(largest.asset), Error::<T>::AssetPaused);
		// A perpetual on the side of the term is reduced; one hedging it is not (the spot side
		// carries the risk then).
		let perpetual = T::Derivatives::positions_at_risk(&who)
			.into_iter()
			.find(|position| position.underlying == largest.asset && position.long == largest.long);
		let action = match perpetual {
			Some(position) => Self::derisk_perpetual(
				keeper.as_ref(),
				&who,
				position,
				excess,
				k,
				&params,
				&engine,
			)?,
			None => Self::derisk_spot(keeper.as_ref(), &who, &before, excess, k, &params, &engine)?,
		};
		let after = Self::risk_report(&who, Some(params))?;
		// The no-harm rule of de-risking: the buffer never falls, the account never breaches,
		// the excess of the VaR over the buffer falls, and not past the buffer (but for the
		// rounding of what is paid, in the owner's favour: a cent at most).
		ensure!(after.buffer >= before.buffer, Error::<T>::WouldWorsenHealth);
		ensure!(!Self::effective_report(&who)?.is_liquidatable(), Error::<T>::WouldWorsenHealth);
		let excess_after = after.value_at_risk.saturating_sub(after.buffer);
		ensure!(excess_after < excess, Error::<T>::NothingToLiquidate);
		let cent = FixedU128::saturating_from_rational(1u32, 100u32);
		ensure!(
			after.value_at_risk.saturating_add(cent) >= after.buffer,
			Error::<T>::WouldWorsenHealth
		);
		Self::deposit_event(Event::Derisked {
			who,
			keeper,
			action,
			value_at_risk: (before.value_at_risk, after.value_at_risk),
			buffer: (before.buffer, after.buffer),
		});
		Ok(action)
	}

	/// A spot slice for the largest term: its asset as the collateral (a net long) against the
	/// account's largest debt, or as the debt (a net short) against its largest collateral.
	/// The keeper repays and is paid the collateral; without one (the worker) the collateral is
	/// sold on the DEX within the engine's slippage bound, the debt repaid from the sale and
	/// what it brought beyond the debt paid to insurance (refused when it brings less).
	fn derisk_spot(
		keeper: Option<&T::AccountId>,
		who: &T::AccountId,
		report: &RiskReport<T::AssetId>,
		excess: UsdValue,
		k: FixedU128,
		params: &DeriskParams,
		engine: &crate::EngineParams,
	) -> Result<DeriskAction<T::AssetId>, DispatchError> {
		let largest = *report.terms.first().ok_or(Error::<T>::NotDue)?;
		let other = Self::largest_other(who, report, largest.asset, largest.long)
			.ok_or(Error::<T>::NothingToLiquidate)?;
		let (debt_asset, collateral_asset) =
			if largest.long { (other, largest.asset) } else { (largest.asset, other) };
		ensure!(!Self::is_paused(other), Error::<T>::AssetPaused);
		let debt = Self::side(who, debt_asset, true)?;
		let collateral = Self::side(who, collateral_asset, false)?;
		let volatility =
			|asset| T::Prices::price(&asset).map(|info| info.volatility).map_err(Error::<T>::Price);
		let one_plus_fee = FixedU128::one().saturating_add(params.fee.into());
		let seized_weight = one_plus_fee.saturating_mul(collateral.weight);
		// g: what a dollar repaid adds to the buffer; h: what it takes from the VaR at most.
		let gain = debt.weight.checked_sub(&seized_weight).ok_or(Error::<T>::PenaltyUnsound)?;
		let var_fall = move_at_risk(k, volatility(collateral_asset)?, true)
			.saturating_mul(seized_weight)
			.saturating_add(
				move_at_risk(k, volatility(debt_asset)?, false).saturating_mul(debt.weight),
			);
		let wanted = excess
			.checked_div(&gain.saturating_add(var_fall))
			.ok_or(ArithmeticError::DivisionByZero)?;
		let debt_value = value_in_usd(debt.amount, debt.decimals, debt.price)
			.ok_or(ArithmeticError::Overflow)?;
		let collateral_value =
			value_in_usd(collateral.amount, collateral.decimals, collateral.price)
				.ok_or(ArithmeticError::Overflow)?;
		let repay_value = wanted
			.min(FixedU128::from(params.max_slice).saturating_mul(debt_value))
			.min(collateral_value.checked_div(&one_plus_fee).unwrap_or_default());
		let repay = amount_worth(repay_value, &debt).ok_or(ArithmeticError::Overflow)?;
		// A slice worth less than the dust value is not worth a keeper's fee, nor the call.
		ensure!(
			!repay.is_zero() && repay_value >= engine.dust_value,
			Error::<T>::NothingToLiquidate
		);
		let repay_value =
			value_in_usd(repay, debt.decimals, debt.price).ok_or(ArithmeticError::Overflow)?;
		let seize = amount_worth(
			repay_value.saturating_mul(one_plus_fee),
			&Side { weight: FixedU128::one(), ..collateral },
		)
		.ok_or(ArithmeticError::Overflow)?
		.min(collateral.amount);
		// Within the block's caps, as every liquidation: a burst of volatility cannot sell more
		// collateral in a block than a crash could.
		Self::consume_derisk_caps(engine, debt_asset, repay_value)?;
		let Some(keeper) = keeper else {
			let (repaid, to_insurance) =
				Self::derisk_by_sale(who, &debt, repay, collateral_asset, seize, engine, params)?;
			return Ok(DeriskAction::Spot {
				debt_asset,
				repaid,
				collateral_asset,
				seized: seize,
				to_insurance,
			});
		};
		let repaid = T::Ledger::repay_debt(keeper, who, debt_asset, repay)?;
		if seize > T::Ledger::cash(collateral_asset) {
			T::Ledger::transfer_deposit(who, collateral_asset, seize, keeper)?;
		} else {
			let account = Self::engine_account();
			T::Ledger::seize_collateral(who, collateral_asset, seize, &account)?;
			T::Assets::transfer(
				collateral_asset,
				&account,
				keeper,
				seize,
				Preservation::Expendable,
			)?;
		}
		Ok(DeriskAction::Spot {
			debt_asset,
			repaid,
			collateral_asset,
			seized: seize,
			to_insurance: 0,
		})
	}

	/// The worker's spot slice: `seize` of the collateral sold on the DEX for at least its
	/// oracle value less the engine's slippage bound, and at least `repay` plus half the fee;
	/// `repay` of the debt repaid from the sale, the rest paid to insurance. Returns what was
	/// repaid and what insurance got.
	///
	/// The owner pays the fee at the oracle whatever the sale brings (`seize` is fixed before
	/// it); what the sale brings beyond the debt is insurance's, more than the fee when the pool
	/// pays above the oracle. The floor of half the fee bounds what a block author can take by
	/// sandwiching the sale (the unsigned transaction is valid in any block that includes it):
	/// half the fee at most, the rest stays insurance's; a pool that has run ahead of the
	/// oracle in a crash refuses the sale, and the slice is a keeper's.
	fn derisk_by_sale(
		who: &T::AccountId,
		debt: &Side<T::AssetId>,
		repay: Balance,
		collateral_asset: T::AssetId,
		seize: Balance,
		engine: &crate::EngineParams,
		params: &DeriskParams,
	) -> Result<(Balance, Balance), DispatchError> {
		use liquidation_primitives::{CollateralSwap as _, FundIncome as _};
		// A sale needs tokens in the pool: an illiquid collateral is a keeper's.
		ensure!(seize <= T::Ledger::cash(collateral_asset), Error::<T>::CollateralIlliquid);
		let account = Self::engine_account();
		T::Ledger::seize_collateral(who, collateral_asset, seize, &account)?;
		let collateral_price =
			T::Prices::price(&collateral_asset).map_err(Error::<T>::Price)?.price;
		let decimals =
			T::Ledger::risk_weights(collateral_asset).ok_or(Error::<T>::NoCollateral)?.decimals;
		let seized_value =
			value_in_usd(seize, decimals, collateral_price).ok_or(ArithmeticError::Overflow)?;
		let oracle_out = amount_worth(seized_value, debt).ok_or(ArithmeticError::Overflow)?;
		let debt_asset = debt.asset;
		let half_fee = Permill::from_parts(params.fee.deconstruct() / 2).mul_ceil(repay);
		let min_out = engine
			.max_slippage
			.left_from_one()
			.mul_ceil(oracle_out)
			.max(repay.saturating_add(half_fee));
		let out = T::Swap::sell(&account, collateral_asset, debt_asset, seize, min_out)
			.map_err(|_| Error::<T>::SaleFailed)?;
		let repaid = T::Ledger::repay_debt(&account, who, debt_asset, repay)?;
		let to_insurance = out.saturating_sub(repaid);
		T::Income::deposit_income(debt_asset, &account, to_insurance)?;
		Ok((repaid, to_insurance))
	}

	/// [`Pallet::consume_caps`] for a de-risking slice, refused (`BlockCapReached`,
	/// `AssetCapReached`) past [`DERISK_CAP_SHARE`] of each cap.
	fn consume_derisk_caps(
		engine: &crate::EngineParams,
		asset: T::AssetId,
		value: UsdValue,
	) -> DispatchResult {
		let share = FixedU128::from(DERISK_CAP_SHARE);
		let used = Self::block_used().saturating_add(value);
		ensure!(
			used <= engine.max_value_per_block.saturating_mul(share),
			Error::<T>::BlockCapReached
		);
		if let Some(limits) = crate::AssetLimitsOf::<T>::get(asset) {
			let asset_used = Self::asset_used(asset).saturating_add(value);
			ensure!(
				asset_used <= limits.max_value_per_block.saturating_mul(share),
				Error::<T>::AssetCapReached
			);
		}
		Self::consume_caps(engine, asset, value)
	}

	/// The account's largest debt (for a net long: what to repay) or largest collateral (for a
	/// net short) by value, other than `asset`, among the assets whose net exposure is not on
	/// the same side (a partner that adds to its own term would not lower the VaR).
	fn largest_other(
		who: &T::AccountId,
		report: &RiskReport<T::AssetId>,
		asset: T::AssetId,
		long: bool,
	) -> Option<T::AssetId> {
		let mut best: Option<(T::AssetId, UsdValue)> = None;
		for (other, deposit, debt) in T::Ledger::positions_of(who) {
			let amount = if long { debt } else { deposit };
			let same_side = report.terms.iter().any(|term| {
				term.asset == other && term.long == long && !term.value_at_risk.is_zero()
			});
			if other == asset || amount.is_zero() || Self::is_paused(other) || same_side {
				continue;
			}
			let Ok(info) = T::Prices::price(&other) else { continue };
			let Some(weights) = T::Ledger::risk_weights(other) else { continue };
			let value = value_in_usd(amount, weights.decimals, info.price).unwrap_or_default();
			if best.is_none_or(|(_, most)| value > most) {
				best = Some((other, value));
			}
		}
		best.map(|(asset, _)| asset)
	}

	/// A perpetual slice of `position` (on the side of the largest term), taken over by the
	/// keeper, or by the vault for the worker.
	fn derisk_perpetual(
		keeper: Option<&T::AccountId>,
		who: &T::AccountId,
		position: liquidation_primitives::PositionAtRisk<T::AssetId>,
		excess: UsdValue,
		k: FixedU128,
		params: &DeriskParams,
		engine: &crate::EngineParams,
	) -> Result<DeriskAction<T::AssetId>, DispatchError> {
		ensure!(!Self::is_paused(position.underlying), Error::<T>::AssetPaused);
		let info = T::Prices::price(&position.underlying).map_err(Error::<T>::Price)?;
		let settlement = Self::settlement_liability_weight();
		let notional = position.notional;
		ensure!(!notional.is_zero() && !position.units.is_zero(), Error::<T>::NoPosition);
		// m: the position's average maintenance fraction. The margin released per unit closed
		// grows with the size (the requirement is convex in it), up to twice the average: the
		// sizing counts `2 m`, so that the slice never passes the buffer.
		let fraction = position
			.maintenance_requirement
			.checked_div(&notional)
			.ok_or(ArithmeticError::DivisionByZero)?;
		// The fee as a share of the margin released: the market's liquidation fee share
		// discounted as the spot fee is against the penalty, `φ f / b`.
		let market_share = T::Derivatives::fee_share(position.underlying).unwrap_or_default();
		let fee_share = Permill::from_rational(
			u64::from(market_share.deconstruct())
				.saturating_mul(u64::from(params.fee.deconstruct())),
			u64::from(engine.liquidation_penalty.deconstruct()).max(1).saturating_mul(1_000_000),
		);
		// Per USD of notional closed: the buffer's gain and the VaR's fall, each at most.
		let kept = FixedU128::one()
			.checked_sub(&settlement.saturating_mul(fee_share.into()))
			.ok_or(Error::<T>::WouldWorsenHealth)?;
		let gain =
			fraction.saturating_mul(FixedU128::saturating_from_integer(2u32)).saturating_mul(kept);
		let var_fall = move_at_risk(k, info.volatility, position.long).saturating_mul(settlement);
		let wanted_notional = excess
			.checked_div(&gain.saturating_add(var_fall))
			.ok_or(ArithmeticError::DivisionByZero)?;
		// Never a slice that would leave less than the market's minimum (the position would be
		// closed whole): at most what leaves the minimum.
		let closable = notional.saturating_sub(position.min_notional);
		let slice_notional = wanted_notional
			.min(FixedU128::from(params.max_slice).saturating_mul(notional))
			.min(closable);
		ensure!(slice_notional >= engine.dust_value, Error::<T>::NothingToLiquidate);
		let units = slice_notional
			.checked_div(&info.price)
			.ok_or(ArithmeticError::DivisionByZero)?
			.min(position.units);
		ensure!(!units.is_zero(), Error::<T>::NothingToLiquidate);
		let close = |units| {
			T::Derivatives::close_out(
				who,
				position.underlying,
				units,
				fee_share,
				keeper,
				UsdValue::zero(),
			)
		};
		// The sizing bounds the margin a slice releases, not all that closing does (a loss
		// weighed as debt paid from collateral weighed at one, a profit weighed less becoming
		// collateral, funding, the release's concavity: a smaller slice releases more a unit). A
		// slice that passes the buffer is undone and made again, scaled by how far it went,
		// aiming half a cent short; at most `PERPETUAL_TRIALS` times, the last one kept (the
		// post-checks refuse it if it still passes).
		let cent = FixedU128::saturating_from_rational(1u32, 100u32);
		let target = excess.saturating_sub(cent / FixedU128::saturating_from_integer(2u32));
		let mut units = units;
		let mut trials = 0u32;
		let closed = loop {
			trials = trials.saturating_add(1);
			if trials >= PERPETUAL_TRIALS {
				break close(units)?;
			}
			let trial = frame_support::storage::with_transaction(|| {
				use frame_support::storage::TransactionOutcome::{Commit, Rollback};
				let closed = match close(units) {
					Ok(closed) => closed,
					Err(error) => return Rollback(Err(error)),
				};
				match Self::risk_report(who, Some(*params)) {
					Ok(after) if after.value_at_risk.saturating_add(cent) >= after.buffer => {
						Commit(Ok(Ok(closed)))
					},
					// Past the buffer: the excess fell by all of it and what it went past.
					Ok(after) => Rollback(Ok(Err(
						excess.saturating_add(after.buffer.saturating_sub(after.value_at_risk))
					))),
					Err(error) => Rollback(Err(error)),
				}
			})?;
			match trial {
				Ok(closed) => break closed,
				Err(fall) => {
					// `fall > excess` here: the ratio is below one.
					let ratio = target.checked_div(&fall).ok_or(ArithmeticError::DivisionByZero)?;
					units = units.saturating_mul(ratio);
					ensure!(
						!units.is_zero() && units.saturating_mul(info.price) >= engine.dust_value,
						Error::<T>::NothingToLiquidate
					);
				},
			}
		};
		// The caps count what was closed.
		Self::consume_derisk_caps(engine, position.underlying, closed.notional)?;
		Ok(DeriskAction::Perpetual {
			underlying: position.underlying,
			units: closed.units,
			fee: closed.fee,
		})
	}

	/// How far `who`'s value at risk exceeds its buffer (USD) when the worker may de-risk it
	/// now, or why not (an `InvalidTransaction::Custom` code, see [`crate::invalid`]): what
	/// `ValidateUnsigned` checks for [`crate::Call::derisk_unsigned`], public so that tools can
	/// model the worker. Beyond the report it runs the slice and undoes it, so no de-risking that
	/// would fail (the DEX short of the slippage bound, an illiquid pool, a cap) enters a block.
	pub fn check_derisk_unsigned(who: &T::AccountId) -> Result<UsdValue, u8> {
		if !Self::engine_running() {
			return Err(crate::invalid::PAUSED);
		}
		let report = Self::risk_report(who, None).map_err(|_| crate::invalid::NOT_DUE)?;
		if !report.due {
			return Err(crate::invalid::NOT_DUE);
		}
		Self::dry_run(|| Self::do_derisk(None, who.clone()).map(|_| ()))?;
		Ok(report.value_at_risk.saturating_sub(report.buffer))
	}

	/// Checks and stores the de-risking parameters (`None`: the switch off).
	pub(crate) fn do_set_derisk_params(params: Option<DeriskParams>) -> DispatchResult {
		if let Some(params) = params {
			let engine = Params::<T>::get().ok_or(Error::<T>::NotConfigured)?;
			ensure!(in_range(&params, &engine), Error::<T>::DeriskParamsInvalid);
			DeriskParamsOf::<T>::put(params);
		} else {
			DeriskParamsOf::<T>::kill();
		}
		Self::deposit_event(Event::DeriskParamsSet { params });
		Ok(())
	}
}
