//! Auto-deleveraging: reducing profitable positions opposite a bankrupt one, for the
//! liquidation engine's waterfall.
//!
//! A bankrupt long of size `s` closed at the oracle `P` leaves a shortfall `S` with the vault:
//! its bankruptcy price is `P_b = P + S / |s|` (a short's `P - S / |s|`). A profitable short
//! (entry `e > P`) reduced by `u` at `c = min(P_b, e)` rather than at `P` gives up
//! `u (c - P)` of its profit, which the vault keeps: never more than its profit on those units
//! (`c ≤ e`). The engine reduces the candidates, highest score first, each by just the units
//! whose haircut covers what is left of the shortfall, so the haircuts add up to it (to
//! rounding, in the candidates' favour), never more.

use crate::{
	functions::{notional_of, replace_position},
	math::{self, funding_owed, trade},
	Config, Error, Event, MarketTraders, Markets, Pallet, Positions,
};
use alloc::vec::Vec;
use liquidation_primitives::{
	ledger::{Inspect as _, Settle as _},
	DeleverageCandidate, DeleverageScan, Price, UsdValue,
};
use sp_runtime::{
	traits::{Bounded, CheckedDiv, CheckedSub, Saturating, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128,
};

impl<T: Config> Pallet<T> {
	/// See [`liquidation_primitives::PositionLiquidation::deleverage_candidates`].
	pub(crate) fn do_deleverage_candidates(
		underlying: T::AssetId,
		long: bool,
		after: Option<&T::AccountId>,
		scan: u32,
	) -> Result<DeleverageScan<T::AccountId>, DispatchError> {
		// A market no one trades ranks nothing, whatever its price.
		if after.is_none() && MarketTraders::<T>::iter_key_prefix(underlying).next().is_none() {
			return Ok(DeleverageScan { candidates: Vec::new(), read: 0, next: None });
		}
		let price = Self::usable_price(underlying)?;
		// Read the window first: deleveraging may remove traders from the map.
		let (window, next) = Self::traders_window(underlying, after, scan);
		let read = window.len() as u32;
		let mut candidates: Vec<DeleverageCandidate<T::AccountId>> = window
			.into_iter()
			.filter_map(|who| Self::candidate(who, underlying, long, price))
			.collect();
		candidates.sort_by(|a, b| b.score.cmp(&a.score));
		Ok(DeleverageScan { candidates, read, next })
	}

	/// Up to `count` of `underlying`'s traders after `after` (from the first when `None`), in
	/// storage order, and the last one read when more may follow (`None`: the window reached
	/// the end).
	pub(crate) fn traders_window(
		underlying: T::AssetId,
		after: Option<&T::AccountId>,
		count: u32,
	) -> (Vec<T::AccountId>, Option<T::AccountId>) {
		let traders = match after {
			Some(last) => MarketTraders::<T>::iter_key_prefix_from(
				underlying,
				MarketTraders::<T>::hashed_key_for(underlying, last),
			),
			None => MarketTraders::<T>::iter_key_prefix(underlying),
		};
		let window: Vec<T::AccountId> = traders.take(count as usize).collect();
		let next = if window.len() < count as usize { None } else { window.last().cloned() };
		(window, next)
	}

	/// `who`'s position in `underlying` as a candidate for auto-deleveraging on the `long` side
	/// (or short) at `price`: `None` when on the other side, not in profit, or held by an
	/// account whose equity (all it holds less all it owes, at the oracle) is not positive.
	fn candidate(
		who: T::AccountId,
		underlying: T::AssetId,
		long: bool,
		price: Price,
	) -> Option<DeleverageCandidate<T::AccountId>> {
		let position = Positions::<T>::get(&who, underlying)?;
		if position.size.is_positive() != long || position.size.is_zero() {
			return None;
		}
		let pnl = math::unrealised_pnl(position.size, position.entry_price, price)?;
		if !pnl.is_positive() {
			return None;
		}
		let profit = math::unsigned(pnl)?;
		let report = T::Ledger::health(&who).ok()?;
		let equity = report.collateral_value.checked_sub(&report.debt_value)?;
		if equity.is_zero() {
			return None;
		}
		let units = math::unsigned(position.size.saturating_abs())?;
		// Saturating: a leverage or score too large to hold ranks first, not out.
		let leverage =
			notional_of(units, price).ok()?.checked_div(&equity).unwrap_or(FixedU128::max_value());
		let score = profit.saturating_mul(leverage);
		Some(DeleverageCandidate { who, score, profit })
	}

	/// See [`liquidation_primitives::PositionLiquidation::deleverage_candidate`].
	pub(crate) fn do_deleverage_candidate(
		who: &T::AccountId,
		underlying: T::AssetId,
		long: bool,
	) -> Option<DeleverageCandidate<T::AccountId>> {
		let price = Self::usable_price(underlying).ok()?;
		Self::candidate(who.clone(), underlying, long, price)
	}

	/// See [`liquidation_primitives::PositionLiquidation::deleverage`]: all of it or nothing.
	pub(crate) fn do_deleverage(
		who: &T::AccountId,
		underlying: T::AssetId,
		long: bool,
		gap: Price,
		max_haircut: UsdValue,
	) -> Result<(UsdValue, FixedU128), DispatchError> {
		frame_support::storage::with_storage_layer(|| {
			Self::deleverage_in_layer(who, underlying, long, gap, max_haircut)
		})
	}

	fn deleverage_in_layer(
		who: &T::AccountId,
		underlying: T::AssetId,
		long: bool,
		gap: Price,
		max_haircut: UsdValue,
	) -> Result<(UsdValue, FixedU128), DispatchError> {
		let mut market = Markets::<T>::get(underlying).ok_or(Error::<T>::MarketNotListed)?;
		let price = Self::usable_price(underlying)?;
		let mut state = Self::accrued(&market, price)?;
		let held = Positions::<T>::get(who, underlying).ok_or(Error::<T>::NoPosition)?;
		frame_support::ensure!(
			!held.size.is_zero() && held.size.is_positive() == long,
			Error::<T>::NotDeleverageable
		);
		// The close price: the opposite bankrupt units' bankruptcy price (the oracle moved by
		// `gap` against them), or the entry if nearer the oracle.
		let (close_price, per_unit) = if long {
			let close = price.saturating_sub(gap).max(held.entry_price);
			(close, price.checked_sub(&close).unwrap_or_default())
		} else {
			let close = price.saturating_add(gap).min(held.entry_price);
			(close, close.checked_sub(&price).unwrap_or_default())
		};
		frame_support::ensure!(!per_unit.is_zero(), Error::<T>::NotDeleverageable);
		let magnitude =
			math::unsigned(held.size.saturating_abs()).ok_or(ArithmeticError::Overflow)?;
		// The units whose haircut reaches what is asked, rounded down: never more than it.
		let wanted = max_haircut.checked_div(&per_unit).ok_or(ArithmeticError::Overflow)?;
		let units = wanted.min(magnitude);
		frame_support::ensure!(!units.is_zero(), Error::<T>::ZeroSize);
		let haircut = units.saturating_mul(per_unit).min(max_haircut);
		let delta = Self::reduction(held.size, units)?;
		let traded = trade(held.size, held.entry_price, delta, close_price)
			.ok_or(ArithmeticError::Overflow)?;
		let funding = funding_owed(held.size, held.funding_index, state.funding_index)
			.ok_or(ArithmeticError::Overflow)?;
		let new = replace_position(&mut state, &held, &traded)?;
		market.state = state;
		Markets::<T>::insert(underlying, market);
		Self::write_position(who, underlying, true, new.as_ref())?;
		let net = traded.realised.checked_sub(&funding).ok_or(ArithmeticError::Overflow)?;
		Self::settle(who, net)?;
		// Deleveraging takes profit, never an account's solvency: one it would leave
		// liquidatable is passed over (the next candidate pays instead).
		let report = T::Ledger::health(who).map_err(|_| Error::<T>::DeleverageWouldLiquidate)?;
		frame_support::ensure!(!report.is_liquidatable(), Error::<T>::DeleverageWouldLiquidate);
		T::Ledger::exposure_changed(who);
		Self::deposit_event(Event::Deleveraged {
			who: who.clone(),
			underlying,
			units,
			price: close_price,
			oracle_price: price,
			haircut,
			size: traded.size,
		});
		Ok((haircut, units))
	}
}
