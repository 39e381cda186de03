//! Closing out derivative positions (perpetual futures) of liquidatable accounts, through
//! [`liquidation_primitives::PositionLiquidation`].
//!
//! **Which first.** An account liquidatable with positions has them closed before any of its
//! spot debt is repaid (the worker's and the fallback's rule; a keeper chooses his call): the
//! position with the largest maintenance requirement first, the next when its close-out fails
//! (at most [`POSITIONS_TRIED`]), then the spot debt. A close-out needs no buyer, no DEX and no
//! auction (the vault is the counterparty of last resort), and raises the account's
//! maintenance health as long as the fee share times the USD liability weight stays below one
//! (`ΔM (1 - l φ)`, see `pallet-perpetuals`' `close_out`; the guard below checks partial ones,
//! not a whole close-out, as for spot). What loss
//! it realises beyond the account's USD deposit becomes USD debt, which the spot paths then
//! repay from the account's collateral; once no position is left, an account with debt and no
//! collateral goes down the spot waterfall.
//!
//! **How much.** With maintenance-weighted collateral `C` and debt `D`, closing units that
//! release margin `ΔM` at the fee `φ ΔM` (`φ` the market's fee share) leaves
//! `C' = C - φ ΔM` and `D' = D - ΔM`, so the health factor reaches the target `H` at
//!
//! ```text
//!   ΔM = (H D - C) / (H - φ)
//! ```
//!
//! (`H > 1 > φ`). The units releasing `ΔM` come from the positions' pallet; at most the close
//! factor of the position goes in one liquidation (so a large position is closed in slices,
//! one a block per account, as the worker's tag allows); all of it when the health factor is
//! below the full-liquidation one or the rest would be worth less than the dust value. The
//! no-harm guard checks the shortfall did not grow (the formula is an approximation: the fee
//! weighs as a USD debt or deposit, and a realised profit moves from its market's weight to
//! the USD deposit's, a loss paid from a deposit from the debt's weight to the deposit's); a
//! partial close-out that fails it is made whole instead, for a keeper only when his `max_units`
//! covers the whole position (else he is refused: he asked for no more than his slice). The
//! slice is also cut to the room this block's caps have left (the notional closed counts as
//! value liquidated), so a large position is closed over blocks rather than refused.
//!
//! **Insolvency.** An account that owes more than all it holds (unweighted, at the oracle:
//! `shortfall = debt value - collateral value > 0`) has its positions closed whole, and the
//! shortfall (with the close-out's fee) is not charged to it: its loss is realised as far as
//! its account goes (it is closed at its bankruptcy price), and the vault, its counterparty,
//! holds the rest. Then the waterfall (see [`crate::shortfall`]): the insurance fund pays what
//! its per-block cap allows into the vault's deposit at once; the rest waits in
//! [`crate::PendingShortfalls`] for insurance in later blocks, then auto-deleveraging of the
//! opposite profitable positions at the bankruptcy price, then the vault's LPs. Spot lenders,
//! who lent against the account's collateral, are not charged for its positions' shortfall.
//!
//! **Fee.** As for spot: the fee goes to the keeper (his takeover price) or the vault (the
//! backstop), less insurance's share `s`, which the keeper pays in the settlement asset or the
//! vault pays from its deposit when its pool has the cash (else the vault keeps it). An
//! insolvent account's penalty is junior to its debt: a keeper's fee share is `φ (1 - s)`, all
//! his, none to insurance (see [`crate::sizing`]); the vault takes its units with no fee (it
//! would charge the fee to itself, and auto-deleveraging would recover it from the opposite
//! traders as part of the shortfall).

use crate::WeightInfo;
use crate::{
	types::{EngineParams, PositionCloseOut, PositionTotals},
	Config, Error, Event, Pallet, Params, PositionCloseOuts,
};
use frame_support::{ensure, pallet_prelude::Weight, traits::Get};
use liquidation_primitives::{
	ledger::{Inspect, Mutate},
	Balance, FundIncome, HealthReport, PositionAtRisk, PositionLiquidation, UsdValue,
};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{CheckedDiv, CheckedMul, CheckedSub, One, Saturating, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, PerThing, Permill, Rounding,
};

/// Most positions of an account the worker (or the fallback) tries in one liquidation, the
/// largest requirement first, passing over one whose close-out fails.
pub const POSITIONS_TRIED: u32 = 2;

/// The maintenance margin a close-out at the fee share `fee_share` must release to bring an
/// account with `report` to the target health factor, `(H D - C) / (H - φ)`; `None` when the
/// whole position goes (the health factor below the full-liquidation one). The engine asks the
/// positions' pallet for the units that release it.
pub fn release_wanted(
	report: &HealthReport,
	params: &EngineParams,
	fee_share: Permill,
) -> Option<UsdValue> {
	let factor = report.health_factor()?;
	if factor < params.full_liquidation_health_factor {
		return None;
	}
	let target = params.target_health_factor;
	let numerator =
		target.checked_mul(&report.maintenance_debt)?.saturating_sub(report.maintenance_collateral);
	let denominator = target.checked_sub(&fee_share.into())?;
	if denominator.is_zero() {
		return None;
	}
	numerator.checked_div(&denominator)
}

/// The units to close of `position`: `wanted` (all when `None`), capped by the close factor
/// unless whole, and all of it when the rest would be worth less than `dust_value` or below the
/// position's minimum. Returns `(units, whole)`.
pub fn units_to_close<A>(
	position: &PositionAtRisk<A>,
	wanted: Option<FixedU128>,
	params: &EngineParams,
) -> (FixedU128, bool) {
	let all = position.units;
	let Some(wanted) = wanted else { return (all, true) };
	let cap = FixedU128::from_inner(params.close_factor.mul_ceil(all.into_inner()));
	let units = wanted.min(cap).min(all);
	let rest = all.saturating_sub(units);
	let rest_value = if all.is_zero() {
		UsdValue::zero()
	} else {
		multiply_by_rational_with_rounding(
			position.notional.into_inner(),
			rest.into_inner(),
			all.into_inner(),
			Rounding::Down,
		)
		.map(FixedU128::from_inner)
		.unwrap_or_default()
	};
	if units.is_zero() || rest_value < params.dust_value.max(position.min_notional) {
		return (all, true);
	}
	(units, units == all)
}

impl<T: Config> Pallet<T> {
	/// The most an unsigned close-out of positions costs: [`POSITIONS_TRIED`] positions, each a
	/// partial close-out undone and made whole (the no-harm guard's fallback).
	pub(crate) fn close_out_weight() -> Weight {
		T::WeightInfo::backstop_position()
			.saturating_mul(2u64.saturating_mul(POSITIONS_TRIED.into()))
	}

	/// The most an unsigned (or fallback) liquidation costs, its costliest path: an auction, a
	/// bankruptcy's waterfall, or close-outs of positions and the waterfall after them.
	pub(crate) fn unsigned_weight() -> Weight {
		Self::spot_unsigned_weight().max(Self::positions_unsigned_weight())
	}

	/// The most an unsigned liquidation of `who` costs: an account without derivative positions
	/// takes a spot path only (one storage read tells).
	pub(crate) fn unsigned_weight_for(who: &T::AccountId) -> Weight {
		let read = T::DbWeight::get().reads(1);
		let bound = if T::Derivatives::holds_positions(who) {
			Self::unsigned_weight()
		} else {
			Self::spot_unsigned_weight()
		};
		bound.saturating_add(read)
	}

	/// An auction, or a bankruptcy's waterfall.
	fn spot_unsigned_weight() -> Weight {
		T::WeightInfo::liquidate_unsigned()
			.max(T::WeightInfo::settle_bankrupt(T::MaxPositions::get()))
	}

	/// Close-outs of positions and the waterfall after them.
	fn positions_unsigned_weight() -> Weight {
		Self::close_out_weight()
			.saturating_add(T::WeightInfo::settle_bankrupt(T::MaxPositions::get()))
	}

	/// Closes out (part of) `who`'s position in `underlying` (the one with the largest
	/// maintenance requirement when `None`): taken over by `keeper`, or by the vault. At most
	/// `max_units`. Returns how many positions the spot waterfall then settled (an account left
	/// with no position, no collateral and debt).
	#[frame_support::transactional]
	pub(crate) fn do_close_position(
		who: &T::AccountId,
		underlying: Option<T::AssetId>,
		keeper: Option<&T::AccountId>,
		max_units: FixedU128,
	) -> Result<(PositionCloseOut<T::AssetId>, u32), DispatchError> {
		ensure!(!crate::Paused::<T>::get(), Error::<T>::EnginePaused);
		let params = Params::<T>::get().ok_or(Error::<T>::NotConfigured)?;
		let report = Self::effective_report(who)?;
		ensure!(report.is_liquidatable(), Error::<T>::NotLiquidatable);
		let position = T::Derivatives::positions_at_risk(who)
			.into_iter()
			.find(|position| underlying.is_none_or(|wanted| wanted == position.underlying))
			.ok_or(Error::<T>::NoPosition)?;
		ensure!(!Self::is_paused(position.underlying), Error::<T>::AssetPaused);
		let (fee_share, insurance_share) =
			Self::fee_shares(&report, &params, position.underlying, keeper.is_some())?;

		let wanted = match release_wanted(&report, &params, fee_share) {
			Some(margin) => Some(
				T::Derivatives::units_releasing(who, position.underlying, margin)
					.ok_or(Error::<T>::NoPosition)?,
			),
			None => None,
		};
		// An insolvent account (what it owes beyond all it holds, at the oracle) has its
		// positions closed whole, its shortfall left with the vault.
		let shortfall = report.debt_value.saturating_sub(report.collateral_value);
		let (units, whole) = if shortfall.is_zero() {
			units_to_close(&position, wanted, &params)
		} else {
			(position.units, true)
		};
		let units = units.min(max_units);
		ensure!(!units.is_zero(), Error::<T>::NothingToLiquidate);
		// No more than the block's caps leave room for: a large position goes in slices over
		// blocks rather than not at all.
		let units = Self::within_caps(&params, &position, units)?;
		let whole = whole && units == position.units;

		// A partial close-out that would raise the shortfall is made whole (see the module docs);
		// a keeper who asked for less than the whole position is refused instead.
		let partial = frame_support::storage::with_storage_layer(|| {
			let shares = (fee_share, insurance_share);
			let done = Self::close(who, &position, units, shares, keeper, &params, shortfall)?;
			let after = Self::effective_report(who)?;
			ensure!(
				whole || after.maintenance_shortfall() <= report.maintenance_shortfall(),
				Error::<T>::WouldWorsenHealth
			);
			Ok::<_, DispatchError>(done)
		});
		let done = match partial {
			Ok(done) => done,
			Err(error)
				if error == Error::<T>::WouldWorsenHealth.into()
					&& (keeper.is_none() || max_units >= position.units) =>
			{
				let shares = (fee_share, insurance_share);
				let done = Self::close(
					who,
					&position,
					position.units,
					shares,
					keeper,
					&params,
					shortfall,
				)?;
				PositionCloseOut { runs: 2, ..done }
			},
			Err(error) => return Err(error),
		};
		let done =
			if shortfall.is_zero() { Self::absorb_deficit(who, &position, done)? } else { done };
		if T::Derivatives::holds_positions(who) {
			return Ok((done, 0));
		}
		Ok((done, Self::waterfall_if_bankrupt(who)?))
	}

	/// A close-out of an account solvent at the oracle can cost it more than its equity (the
	/// fill against the skew, the fee): it is then left owing more than it holds. That deficit
	/// is its position's loss, not its lenders': the vault, its counterparty, repays as much of
	/// its settlement-asset debt from its deposit and holds it as a shortfall of the market
	/// (insurance, auto-deleveraging, the LPs), as for an account insolvent before its
	/// close-out. Returns the close-out with the shortfall booked.
	fn absorb_deficit(
		who: &T::AccountId,
		position: &PositionAtRisk<T::AssetId>,
		mut done: PositionCloseOut<T::AssetId>,
	) -> Result<PositionCloseOut<T::AssetId>, DispatchError> {
		let after = Self::effective_report(who)?;
		let deficit = after.debt_value.saturating_sub(after.collateral_value);
		if deficit.is_zero() {
			return Ok(done);
		}
		let (asset, vault) = T::Derivatives::settlement().ok_or(Error::<T>::NoPosition)?;
		let decimals = T::Ledger::risk_weights(asset).map(|weights| weights.decimals).unwrap_or(0);
		// Rounded up (one unit) so that no debt of it is left, within his debt and the vault's
		// deposit.
		let units = usd_units(deficit, decimals)?
			.saturating_add(1)
			.min(T::Ledger::debt_of(who, asset))
			.min(T::Ledger::deposit_of(&vault, asset));
		if units.is_zero() {
			return Ok(done);
		}
		T::Ledger::transfer_deposit(&vault, asset, units, who)?;
		let value = liquidation_primitives::value_in_usd(units, decimals, FixedU128::one())
			.ok_or(ArithmeticError::Overflow)?;
		let (covered, queued, to_lps) = Self::take_shortfall(
			who,
			position.underlying,
			value,
			(asset, &vault),
			(position.long, done.units),
		)?;
		done.shortfall = done.shortfall.saturating_add(value);
		done.covered = done.covered.saturating_add(covered);
		done.queued = done.queued.saturating_add(queued);
		done.to_lps = done.to_lps.saturating_add(to_lps);
		Ok(done)
	}

	/// What closing out `who`'s position in `underlying` (the worker's choice when `None`)
	/// against the vault would do now, or why it would be refused: the close-out run and undone.
	pub fn preview_position(
		who: &T::AccountId,
		underlying: Option<T::AssetId>,
	) -> Result<PositionCloseOut<T::AssetId>, DispatchError> {
		frame_support::storage::with_transaction(|| {
			let all = FixedU128::from_inner(u128::MAX);
			let outcome = Self::do_close_position(who, underlying, None, all).map(|(done, _)| done);
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(outcome))
		})?
	}

	/// `units` of `position`, fewer if their notional is beyond what this block's caps (over
	/// all assets, and the underlying's) have left; refused when they have none left.
	fn within_caps(
		params: &EngineParams,
		position: &PositionAtRisk<T::AssetId>,
		units: FixedU128,
	) -> Result<FixedU128, DispatchError> {
		let (room, cap_error) = Self::cap_room(params, position.underlying);
		ensure!(!room.is_zero(), cap_error);
		let value = notional_of_units(position, units)?;
		if value <= room {
			return Ok(units);
		}
		// Rounded down, so the slice's notional (rounded up) stays within the room.
		let fewer = multiply_by_rational_with_rounding(
			units.into_inner(),
			room.into_inner(),
			value.into_inner(),
			Rounding::Down,
		)
		.map(FixedU128::from_inner)
		.ok_or(ArithmeticError::Overflow)?
		.saturating_sub(FixedU128::from_inner(1));
		ensure!(!fewer.is_zero(), cap_error);
		Ok(fewer)
	}

	/// The fee share of a close-out in `underlying`'s market for an account with `report`, and
	/// insurance's share of the fee: the market's share and the engine's insurance share; for an
	/// insolvent account (the penalty junior to its debt) a keeper's part only, `φ (1 - s)`, and
	/// none to insurance, and none at all when the vault takes the units (it would charge the
	/// fee to itself: it holds what the account cannot pay, and auto-deleveraging would recover
	/// it from the opposite traders).
	fn fee_shares(
		report: &HealthReport,
		params: &EngineParams,
		underlying: T::AssetId,
		keeper: bool,
	) -> Result<(Permill, Permill), DispatchError> {
		let share = T::Derivatives::fee_share(underlying).ok_or(Error::<T>::NoPosition)?;
		Ok(match (report.collateral_value < report.debt_value, keeper) {
			(false, _) => (share, params.insurance_share),
			(true, true) => (share * params.insurance_share.left_from_one(), Permill::zero()),
			(true, false) => (Permill::zero(), Permill::zero()),
		})
	}

	/// One close-out: the block's caps, the positions' pallet's close-out, insurance's share of
	/// the fee, the totals and the event.
	fn close(
		who: &T::AccountId,
		position: &PositionAtRisk<T::AssetId>,
		units: FixedU128,
		(fee_share, insurance_share): (Permill, Permill),
		keeper: Option<&T::AccountId>,
		params: &EngineParams,
		shortfall: UsdValue,
	) -> Result<PositionCloseOut<T::AssetId>, DispatchError> {
		let value = notional_of_units(position, units)?;
		Self::consume_caps(params, position.underlying, value)?;
		let closed = T::Derivatives::close_out(
			who,
			position.underlying,
			units,
			fee_share,
			keeper,
			shortfall,
		)?;
		let (asset, vault) = T::Derivatives::settlement().ok_or(Error::<T>::NoPosition)?;
		let share = FixedU128::from_inner(insurance_share.mul_floor(closed.fee.into_inner()));
		let decimals = T::Ledger::risk_weights(asset).map(|weights| weights.decimals).unwrap_or(0);
		let mut to_insurance = usd_units(share, decimals)?;
		if !to_insurance.is_zero() {
			match keeper {
				Some(keeper) => T::Income::deposit_income(asset, keeper, to_insurance)?,
				// The vault pays from its deposit what its pool can pay out now; otherwise it
				// keeps the share (its LPs carry the backstop's risk).
				None if T::Ledger::cash(asset) >= to_insurance
					&& T::Ledger::deposit_of(&vault, asset) >= to_insurance =>
				{
					let engine = Self::engine_account();
					T::Ledger::seize_collateral(&vault, asset, to_insurance, &engine)?;
					T::Income::deposit_income(asset, &engine, to_insurance)?;
				},
				None => to_insurance = 0,
			}
		}
		PositionCloseOuts::<T>::mutate(position.underlying, |totals: &mut PositionTotals| {
			totals.close_outs = totals.close_outs.saturating_add(1);
			if keeper.is_some() {
				totals.taken_over = totals.taken_over.saturating_add(1);
			}
			totals.notional = totals.notional.saturating_add(closed.notional);
			totals.fees = totals.fees.saturating_add(closed.fee);
			totals.fee_to_insurance = totals.fee_to_insurance.saturating_add(to_insurance);
		});
		crate::Totals::<T>::mutate(asset, |totals| {
			totals.penalty_to_insurance = totals.penalty_to_insurance.saturating_add(to_insurance)
		});
		Self::deposit_event(Event::PositionLiquidated {
			who: who.clone(),
			underlying: position.underlying,
			units: closed.units,
			whole: closed.whole,
			notional: closed.notional,
			fee: closed.fee,
			to_insurance,
			taker: closed.taker,
			keeper: keeper.is_some(),
		});
		let mut done = PositionCloseOut {
			underlying: position.underlying,
			units: closed.units,
			whole: closed.whole,
			notional: closed.notional,
			fee: closed.fee,
			to_insurance,
			shortfall: closed.forgiven,
			covered: 0,
			queued: UsdValue::zero(),
			to_lps: UsdValue::zero(),
			runs: 1,
		};
		if !closed.forgiven.is_zero() {
			// The closed units wait with their shortfall: their bankruptcy price is the oracle
			// moved by what is left of it a unit.
			let (covered, queued, to_lps) = Self::take_shortfall(
				who,
				position.underlying,
				closed.forgiven,
				(asset, &vault),
				(position.long, closed.units),
			)?;
			done.covered = covered;
			done.queued = queued;
			done.to_lps = to_lps;
		}
		Ok(done)
	}
}

/// The notional of `units` of `position` at the oracle, rounded up.
fn notional_of_units<A>(
	position: &PositionAtRisk<A>,
	units: FixedU128,
) -> Result<UsdValue, DispatchError> {
	multiply_by_rational_with_rounding(
		position.notional.into_inner(),
		units.min(position.units).into_inner(),
		position.units.into_inner().max(1),
		Rounding::Up,
	)
	.map(FixedU128::from_inner)
	.ok_or_else(|| ArithmeticError::Overflow.into())
}

/// `value` USD in smallest units of the settlement asset (one USD a whole unit), rounded down.
pub(crate) fn usd_units(value: UsdValue, decimals: u8) -> Result<Balance, DispatchError> {
	let unit = 10u128.checked_pow(u32::from(decimals)).ok_or(ArithmeticError::Overflow)?;
	multiply_by_rational_with_rounding(value.into_inner(), unit, FixedU128::DIV, Rounding::Down)
		.ok_or_else(|| ArithmeticError::Overflow.into())
}
