//! Closing out positions for the liquidation engine ([`PositionLiquidation`]).
//!
//! A close-out of `u` units of a position of size `s` at oracle price `P` releases the
//! maintenance margin `ΔM = M(|s|) - M(|s| - u)` and charges the liquidation fee
//! `F = φ ΔM` (`φ` the market's `liquidation_fee_share`, at most one half) by moving the price
//! the units close at against the trader, from the fill `P_f` a reduction of `u` gets (the
//! skew premium, as for any trade):
//!
//! ```text
//!   close price = P_f - F / u   (a long sells lower)
//!   close price = P_f + F / u   (a short buys higher)
//! ```
//!
//! His account's weighted debt falls by `ΔM` and its collateral by the fee (weighed as a USD
//! debt or deposit would be, `l F` at most): a close-out raises his maintenance health by
//! `ΔM (1 - l φ)` (`l` the settlement asset's liability weight, 1.05 on dev: `0.475 ΔM`), less
//! what the re-weighting of the realised profit or loss costs (a profit moves from its market's
//! weight to the USD deposit's). A **keeper** takes the units over at the close price, so he
//! holds about `F` as unrealised profit (Drift's liquidator takes over the same way); without
//! one the **vault**, every trade's counterparty already, closes them at that price (the
//! backstop, as Hyperliquid's liquidator vault takes over) and keeps `F`. The open interest
//! falls by `u` for the backstop; a takeover leaves it unchanged unless the keeper held an
//! opposite position (both sides fall). A keeper must not be liquidatable, and may not take on
//! new risk in a paused market.
//!
//! **Insolvency.** The engine passes an insolvent account's shortfall (what it owes beyond all
//! it holds) as `forgive`: that much of the realised loss is not charged to the trader, so he
//! is closed at his bankruptcy price as far as his account goes and the vault, his
//! counterparty, holds the shortfall, which the engine's waterfall then covers (insurance,
//! then the vault's LPs). Spot lenders, who lent against his collateral, are never charged
//! for his positions' loss.

use crate::{
	functions::{adds_risk, notional_of, replace_position},
	math::{self, funding_owed, requirement, signed, trade, Signed},
	Config, Error, Event, Markets, Pallet, Positions,
};
use alloc::vec::Vec;
use frame_support::traits::Get;
use liquidation_primitives::{
	ledger::{Inspect as _, Settle},
	ClosedOut, PositionAtRisk, PositionLiquidation, Price, UsdValue,
};
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, Saturating, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, Permill,
};

impl<T: Config> Pallet<T> {
	/// `params` with `underlying`'s margin fractions widened by its volatility now: the
	/// minimum initial margin and the slope divided by `1 - widening` (the fraction at most
	/// 100 %), so every requirement, initial and maintenance, grows by `1 / (1 - widening)`.
	pub fn params_in_force(
		params: &crate::MarketParams,
		underlying: T::AssetId,
	) -> crate::MarketParams {
		use liquidation_primitives::MarginWidening;
		use sp_runtime::{
			traits::{CheckedDiv, One},
			PerThing,
		};
		let widening = T::Widening::widening(&underlying);
		let mut params = *params;
		if widening.is_zero() {
			return params;
		}
		let kept = sp_runtime::FixedU128::from(widening.left_from_one());
		let min = sp_runtime::FixedU128::from(params.min_initial_margin)
			.checked_div(&kept)
			.unwrap_or_else(sp_runtime::FixedU128::one);
		params.min_initial_margin = if min >= sp_runtime::FixedU128::one() {
			sp_runtime::Permill::one()
		} else {
			// Rounded up: a widened margin is never less than the widening asks.
			let per_part = sp_runtime::FixedU128::DIV / 1_000_000;
			sp_runtime::Permill::from_parts(
				min.into_inner().div_ceil(per_part).min(1_000_000) as u32
			)
		};
		params.initial_margin_slope =
			params.initial_margin_slope.checked_div(&kept).unwrap_or(params.initial_margin_slope);
		params
	}

	/// The maintenance margin a position of `size` needs at `price` under `params` (the market's
	/// in force: [`Self::params_in_force`], read once by the caller), USD.
	pub(crate) fn maintenance_at(
		params: &crate::MarketParams,
		size: Signed,
		price: Price,
	) -> Result<FixedU128, DispatchError> {
		let needs = requirement(
			size,
			price,
			signed(params.skew_scale).ok_or(ArithmeticError::Overflow)?,
			params.min_initial_margin,
			signed(params.initial_margin_slope).ok_or(ArithmeticError::Overflow)?,
			params.maintenance_share,
		)
		.ok_or(ArithmeticError::Overflow)?;
		math::unsigned(needs.maintenance).ok_or_else(|| ArithmeticError::Overflow.into())
	}

	/// `units` of a position of `size` with its sign: the trade that reduces the position by
	/// them (`sign = -1` for a long).
	pub(crate) fn reduction(size: Signed, units: FixedU128) -> Result<Signed, DispatchError> {
		let magnitude = signed(units).ok_or(ArithmeticError::Overflow)?;
		Ok(if size.is_positive() { Signed::zero().saturating_sub(magnitude) } else { magnitude })
	}

	/// See [`PositionLiquidation::close_out`].
	pub(crate) fn do_close_out(
		who: &T::AccountId,
		underlying: T::AssetId,
		units: FixedU128,
		fee_share: Permill,
		keeper: Option<&T::AccountId>,
		forgive: UsdValue,
	) -> Result<ClosedOut<T::AccountId>, DispatchError> {
		if let Some(keeper) = keeper {
			frame_support::ensure!(keeper != who, Error::<T>::KeeperIsTrader);
			// A liquidatable keeper does not trade, not even through a takeover.
			let liquidatable = T::Ledger::health(keeper).map(|report| report.is_liquidatable());
			frame_support::ensure!(liquidatable == Ok(false), Error::<T>::AccountLiquidatable);
		}
		let mut market = Markets::<T>::get(underlying).ok_or(Error::<T>::MarketNotListed)?;
		let price = Self::usable_price(underlying)?;
		let mut state = Self::accrued(&market, price)?;
		let held = Positions::<T>::get(who, underlying).ok_or(Error::<T>::NoPosition)?;
		let magnitude =
			math::unsigned(held.size.saturating_abs()).ok_or(ArithmeticError::Overflow)?;
		let mut units = units.min(magnitude);
		frame_support::ensure!(!units.is_zero(), Error::<T>::ZeroSize);
		// The rest of a position below the market's minimum goes with it.
		let minimum = FixedU128::saturating_from_integer(market.params.min_position_usd);
		let rest = magnitude.saturating_sub(units);
		if !rest.is_zero() && notional_of(rest, price)? < minimum {
			units = magnitude;
		}
		let whole = units == magnitude;
		let delta = Self::reduction(held.size, units)?;
		let remaining = held.size.checked_add(&delta).ok_or(ArithmeticError::Overflow)?;

		// The fee: a share of the margin released, rounded down (never more than the rule).
		let params = Self::params_in_force(&market.params, underlying);
		let released = Self::maintenance_at(&params, held.size, price)?
			.saturating_sub(Self::maintenance_at(&params, remaining, price)?);
		let fee_share = fee_share.min(crate::types::MAX_LIQUIDATION_FEE_SHARE);
		let fee = FixedU128::from_inner(fee_share.mul_floor(released.into_inner()));
		let per_unit = fee.checked_div(&units).ok_or(ArithmeticError::Overflow)?;
		// The fill a reduction of that size would get (the skew premium, as any trade: else a
		// keeper could take over at the oracle and reduce at a premium), or the oracle when the
		// fill is out of range.
		let skew = state.skew().ok_or(ArithmeticError::Overflow)?;
		let scale = signed(market.params.skew_scale).ok_or(ArithmeticError::Overflow)?;
		let fill = math::fill_price(price, skew, delta, scale).unwrap_or(price);
		let close_price = if held.size.is_positive() {
			fill.saturating_sub(per_unit)
		} else {
			fill.saturating_add(per_unit)
		};

		let traded = trade(held.size, held.entry_price, delta, close_price)
			.ok_or(ArithmeticError::Overflow)?;
		let funding = funding_owed(held.size, held.funding_index, state.funding_index)
			.ok_or(ArithmeticError::Overflow)?;
		let new = replace_position(&mut state, &held, &traded)?;

		// The keeper's side: the same units, the same direction, at the close price.
		let taken = match keeper {
			Some(keeper) => {
				let had = Positions::<T>::get(keeper, underlying);
				let his = had.unwrap_or_default();
				let took = trade(
					his.size,
					his.entry_price,
					Signed::zero().saturating_sub(delta),
					close_price,
				)
				.ok_or(ArithmeticError::Overflow)?;
				if !took.size.is_zero() {
					let notional = crate::functions::notional(took.size, price)?;
					frame_support::ensure!(notional >= minimum, Error::<T>::PositionTooSmall);
				}
				let his_funding = funding_owed(his.size, his.funding_index, state.funding_index)
					.ok_or(ArithmeticError::Overflow)?;
				let adds_risk = adds_risk(his.size, took.size);
				// A paused market takes no new risk, from a keeper either (the vault backstops).
				frame_support::ensure!(
					!adds_risk || market.status == crate::types::MarketStatus::Active,
					Error::<T>::MarketPaused
				);
				let his_new = replace_position(&mut state, &his, &took)?;
				Some((keeper, had.is_some(), his_new, took.realised, his_funding, adds_risk))
			},
			None => None,
		};

		market.state = state;
		Markets::<T>::insert(underlying, market);
		Self::write_position(who, underlying, true, new.as_ref())?;
		let net = traded.realised.checked_sub(&funding).ok_or(ArithmeticError::Overflow)?;
		// What an insolvent trader cannot pay stays with the vault (the engine's waterfall).
		let owed = if net.is_negative() {
			math::unsigned(net.saturating_abs()).ok_or(ArithmeticError::Overflow)?
		} else {
			FixedU128::zero()
		};
		// When anything is forgiven, what the close price costs the trader against the oracle
		// too (the fee, less a skew premium in his favour): he cannot pay it either, and no
		// more than that brings his equity to zero.
		let forgivable = if forgive.is_zero() {
			forgive
		} else {
			let units = signed(units).ok_or(ArithmeticError::Overflow)?;
			let gap = signed(price)
				.zip(signed(close_price))
				.and_then(|(oracle, close)| oracle.checked_sub(&close))
				.ok_or(ArithmeticError::Overflow)?;
			let gap =
				if held.size.is_positive() { gap } else { Signed::zero().saturating_sub(gap) };
			let cost = gap.checked_mul(&units).ok_or(ArithmeticError::Overflow)?;
			let total = signed(forgive)
				.and_then(|forgive| forgive.checked_add(&cost))
				.ok_or(ArithmeticError::Overflow)?;
			math::unsigned(total.max(Signed::zero())).ok_or(ArithmeticError::Overflow)?
		};
		let forgiven = forgivable.min(owed);
		let net = net
			.checked_add(&signed(forgiven).ok_or(ArithmeticError::Overflow)?)
			.ok_or(ArithmeticError::Overflow)?;
		let (paid, charged) = Self::settle(who, net)?;
		T::Ledger::exposure_changed(who);
		if let Some((keeper, had, his_new, realised, his_funding, adds_risk)) = taken {
			Self::write_position(keeper, underlying, had, his_new.as_ref())?;
			let net = realised.checked_sub(&his_funding).ok_or(ArithmeticError::Overflow)?;
			Self::settle(keeper, net)?;
			T::Ledger::exposure_changed(keeper);
			if adds_risk {
				T::Ledger::ensure_initial_health(keeper)?;
			}
		}
		let notional = notional_of(units, price)?;
		Self::deposit_event(Event::PositionClosedOut {
			who: who.clone(),
			underlying,
			units,
			oracle_price: price,
			close_price,
			size: traded.size,
			realised_pnl: traded.realised,
			funding,
			fee,
			keeper: keeper.cloned(),
			forgiven,
			paid,
			charged,
		});
		Ok(ClosedOut {
			units,
			whole,
			notional,
			fee,
			taker: keeper.cloned().unwrap_or_else(Self::vault_account),
			forgiven,
		})
	}

	/// See [`PositionLiquidation::units_releasing`]: the least `u` with
	/// `M(|s|) - M(|s| - u) ≥ requirement`, by bisection over the fixed-point units (`M` is
	/// increasing in the size, so the released margin is increasing in `u`).
	pub(crate) fn do_units_releasing(
		who: &T::AccountId,
		underlying: T::AssetId,
		wanted: UsdValue,
	) -> Option<FixedU128> {
		let market = Markets::<T>::get(underlying)?;
		let price = Self::usable_price(underlying).ok()?;
		let held = Positions::<T>::get(who, underlying)?;
		let magnitude = math::unsigned(held.size.saturating_abs())?;
		// The widening is read once, not at each of the bisection's steps.
		let params = Self::params_in_force(&market.params, underlying);
		let before = Self::maintenance_at(&params, held.size, price).ok()?;
		let releases = |units: u128| -> Option<bool> {
			let delta = Self::reduction(held.size, FixedU128::from_inner(units)).ok()?;
			let after =
				Self::maintenance_at(&params, held.size.checked_add(&delta)?, price).ok()?;
			Some(before.saturating_sub(after) >= wanted)
		};
		if !releases(magnitude.into_inner())? {
			return Some(magnitude);
		}
		// Invariant: `high` releases enough, `low` does not (or is zero).
		let (mut low, mut high) = (0u128, magnitude.into_inner());
		while high.saturating_sub(low) > 1 {
			let middle = low.saturating_add(high.saturating_sub(low) / 2);
			if releases(middle)? {
				high = middle;
			} else {
				low = middle;
			}
		}
		Some(FixedU128::from_inner(if releases(low)? { low } else { high }))
	}
}

impl<T: Config> PositionLiquidation<T::AccountId, T::AssetId> for Pallet<T> {
	fn positions_at_risk(who: &T::AccountId) -> Vec<PositionAtRisk<T::AssetId>> {
		let mut found: Vec<PositionAtRisk<T::AssetId>> = Positions::<T>::iter_prefix(who)
			.filter_map(|(underlying, position)| {
				let market = Markets::<T>::get(underlying)?;
				let price = Self::usable_price(underlying).ok()?;
				let units = math::unsigned(position.size.saturating_abs())?;
				Some(PositionAtRisk {
					underlying,
					units,
					long: position.size.is_positive(),
					notional: notional_of(units, price).ok()?,
					maintenance_requirement: Self::maintenance_at(
						&Self::params_in_force(&market.params, underlying),
						position.size,
						price,
					)
					.ok()?,
					min_notional: FixedU128::saturating_from_integer(
						market.params.min_position_usd,
					),
				})
			})
			.collect();
		found.sort_by(|a, b| b.maintenance_requirement.cmp(&a.maintenance_requirement));
		found
	}

	fn holds_positions(who: &T::AccountId) -> bool {
		crate::PositionCount::<T>::contains_key(who)
	}

	fn is_owed_profit(who: &T::AccountId) -> bool {
		crate::ProfitOwed::<T>::contains_key(who)
	}

	fn settlement() -> Option<(T::AssetId, T::AccountId)> {
		Some((T::SettlementAsset::get(), Self::vault_account()))
	}

	fn units_releasing(
		who: &T::AccountId,
		underlying: T::AssetId,
		requirement: UsdValue,
	) -> Option<FixedU128> {
		Self::do_units_releasing(who, underlying, requirement)
	}

	fn deleverage_candidates(
		underlying: T::AssetId,
		long: bool,
		after: Option<&T::AccountId>,
		scan: u32,
	) -> Result<liquidation_primitives::DeleverageScan<T::AccountId>, DispatchError> {
		Self::do_deleverage_candidates(underlying, long, after, scan)
	}

	fn deleverage_candidate(
		who: &T::AccountId,
		underlying: T::AssetId,
		long: bool,
	) -> Option<liquidation_primitives::DeleverageCandidate<T::AccountId>> {
		Self::do_deleverage_candidate(who, underlying, long)
	}

	fn deleverage(
		who: &T::AccountId,
		underlying: T::AssetId,
		long: bool,
		gap: Price,
		max_haircut: UsdValue,
	) -> Result<(UsdValue, FixedU128), DispatchError> {
		Self::do_deleverage(who, underlying, long, gap, max_haircut)
	}

	fn fee_share(underlying: T::AssetId) -> Option<Permill> {
		Markets::<T>::get(underlying).map(|market| market.params.liquidation_fee_share)
	}

	fn close_out(
		who: &T::AccountId,
		underlying: T::AssetId,
		units: FixedU128,
		fee_share: Permill,
		keeper: Option<&T::AccountId>,
		forgive: UsdValue,
	) -> Result<ClosedOut<T::AccountId>, DispatchError> {
		Self::do_close_out(who, underlying, units, fee_share, keeper, forgive)
	}
}
