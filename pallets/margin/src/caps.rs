//! Caps in value: supply and borrow caps per asset and debt ceilings per collateral asset, all in
//! USD.
//!
//! A cap counted in units means nothing once the price moves: a billion units of an asset that
//! is pumped a hundredfold is a hundredfold the exposure. Caps are therefore stated in whole USD
//! and judged at the *cap price*: the higher of the asset's price and its stable price (the
//! stable price of [`liquidation_primitives::PriceInfo`]), so a pump makes a cap bind sooner and
//! never later. A stale or halted price is judged at its last accepted level (a cap only bounds
//! new exposure; it does not need a fresh price to do so); a listed asset that was never priced
//! takes no deposit and no borrow.
//!
//! **Debt ceilings.** The debt ceiling of an asset bounds the debt owed by the accounts that hold
//! a deposit of it (every asset they owe), as Aave v3's isolation mode bounds the debt backed by
//! an isolated asset. In a cross-margin account one cannot say which deposit backs which debt;
//! counting the whole debt of every account holding the asset is the conservative reading: a
//! price manipulation or a market too thin to liquidate can then put at most the ceiling of the
//! lenders' money at risk. [`crate::BackedDebt`] keeps, per collateral asset and debt asset, the
//! debt units owed by those accounts (in units of the debt's borrow index, so interest is counted
//! without a write), maintained on every portfolio write; the ceiling is judged in USD at the
//! debt assets' cap prices when a borrow or a deposit would raise it. Repaying, withdrawing and
//! liquidations are never refused by a cap or a ceiling.

use crate::{
	pool::to_amount, BackedDebt, Config, Error, Market, Markets, Pallet, PortfolioOf, Position,
};
use alloc::vec::Vec;
use frame_support::ensure;
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{value_in_usd, Balance, HealthError, Price, PriceProvider};
use sp_runtime::{
	traits::{CheckedAdd, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, Rounding,
};

/// A change of one collateral asset's backed debt in one debt asset, from one portfolio write:
/// `(collateral asset, debt asset, units before, units after)`.
pub(crate) type BackingChange<AssetId> = (AssetId, AssetId, Balance, Balance);

impl<T: Config> Pallet<T> {
	/// The price caps and ceilings value `asset` at: the higher of the usable price and the
	/// stable price, else the last accepted price.
	pub fn cap_price(asset: T::AssetId) -> Result<Price, DispatchError> {
		match T::Prices::price(&asset) {
			Ok(info) => Ok(info.for_debt()),
			Err(error) => T::Prices::valuation_price(&asset)
				.ok_or_else(|| Self::health_error(HealthError::Price(asset, error))),
		}
	}

	/// What `amount` smallest units of a market's asset are worth at its cap price.
	fn cap_value(
		asset: T::AssetId,
		market: &Market<BlockNumberFor<T>>,
		amount: Balance,
	) -> Result<FixedU128, DispatchError> {
		let price = Self::cap_price(asset)?;
		Ok(value_in_usd(amount, market.decimals, price).ok_or(ArithmeticError::Overflow)?)
	}

	/// Refuses a pool whose deposits are worth more than its supply cap.
	pub(crate) fn ensure_supply_cap(
		asset: T::AssetId,
		market: &Market<BlockNumberFor<T>>,
	) -> Result<(), DispatchError> {
		let total = market.pool.total_deposits();
		Self::ensure_cap(
			asset,
			market,
			total,
			market.params.supply_cap_usd,
			Error::<T>::SupplyCapExceeded,
		)
	}

	/// Refuses a pool whose debts are worth more than its borrow cap.
	pub(crate) fn ensure_borrow_cap(
		asset: T::AssetId,
		market: &Market<BlockNumberFor<T>>,
	) -> Result<(), DispatchError> {
		let total = market.pool.total_borrows();
		Self::ensure_cap(
			asset,
			market,
			total,
			market.params.borrow_cap_usd,
			Error::<T>::BorrowCapExceeded,
		)
	}

	/// Refuses `total` of a market's asset worth more than `cap_usd` whole USD.
	fn ensure_cap(
		asset: T::AssetId,
		market: &Market<BlockNumberFor<T>>,
		total: Balance,
		cap_usd: Balance,
		error: Error<T>,
	) -> Result<(), DispatchError> {
		let value = Self::cap_value(asset, market, total)?;
		ensure!(value <= FixedU128::saturating_from_integer(cap_usd), error);
		Ok(())
	}

	/// Refuses, in an account with debt, a position in `asset` worth less than
	/// [`Config::MinPositionValue`] at the cap price: the flooding bound (a million indebted
	/// accounts cost a million times that in positions, on top of their deposits). An account
	/// without debt, and a position a repayment or a liquidation shrinks, are not judged.
	pub(crate) fn ensure_position_value(
		asset: T::AssetId,
		market: &Market<BlockNumberFor<T>>,
		portfolio: &PortfolioOf<T>,
	) -> Result<(), DispatchError> {
		if !portfolio.iter().any(|(_, position)| matches!(position, Position::Borrow(_))) {
			return Ok(());
		}
		let amount = match Self::position_in(portfolio, asset) {
			Some(Position::Deposit(units)) => {
				to_amount(units, market.pool.deposit_index, Rounding::Down)
			},
			Some(Position::Borrow(units)) => {
				to_amount(units, market.pool.borrow_index, Rounding::Up)
			},
			None => return Ok(()),
		}
		.ok_or(ArithmeticError::Overflow)?;
		let least = FixedU128::saturating_from_integer(
			<T::MinPositionValue as frame_support::traits::Get<Balance>>::get(),
		);
		ensure!(Self::cap_value(asset, market, amount)? >= least, Error::<T>::PositionTooSmall);
		Ok(())
	}

	/// How writing `new` over `old` changes [`BackedDebt`]: for every collateral asset held as a
	/// deposit in either and every debt asset owed in either, the units counted before and after
	/// (only the pairs that change).
	pub(crate) fn backing_changes(
		old: &PortfolioOf<T>,
		new: &PortfolioOf<T>,
	) -> Vec<BackingChange<T::AssetId>> {
		let deposits = |portfolio: &PortfolioOf<T>| -> Vec<T::AssetId> {
			portfolio
				.iter()
				.filter(|(_, position)| matches!(position, Position::Deposit(_)))
				.map(|(asset, _)| *asset)
				.collect()
		};
		let debt = |portfolio: &PortfolioOf<T>, asset: T::AssetId| -> Balance {
			match Self::position_in(portfolio, asset) {
				Some(Position::Borrow(units)) => units,
				_ => 0,
			}
		};
		let (old_deposits, new_deposits) = (deposits(old), deposits(new));
		let mut collaterals = old_deposits.clone();
		collaterals.extend(new_deposits.iter().filter(|asset| !old_deposits.contains(asset)));
		let mut debts: Vec<T::AssetId> = Vec::new();
		for (asset, position) in old.iter().chain(new.iter()) {
			if matches!(position, Position::Borrow(_)) && !debts.contains(asset) {
				debts.push(*asset);
			}
		}
		let mut changes = Vec::new();
		for collateral in &collaterals {
			for owed in &debts {
				let before = if old_deposits.contains(collateral) { debt(old, *owed) } else { 0 };
				let after = if new_deposits.contains(collateral) { debt(new, *owed) } else { 0 };
				if before != after {
					changes.push((*collateral, *owed, before, after));
				}
			}
		}
		changes
	}

	/// Writes the changes of [`Pallet::backing_changes`] into [`BackedDebt`].
	pub(crate) fn apply_backing(changes: &[BackingChange<T::AssetId>]) {
		for (collateral, owed, before, after) in changes {
			BackedDebt::<T>::mutate_exists(collateral, owed, |units| {
				let total = units.unwrap_or_default();
				if total < *before {
					frame_support::defensive!("backed debt below an account's share of it");
				}
				let total = total.saturating_sub(*before).saturating_add(*after);
				*units = (!total.is_zero()).then_some(total);
			});
		}
	}

	/// Refuses changes that raise the debt backed by a collateral asset above its ceiling.
	/// Only the collateral assets whose backed debt rises are judged: a change that lowers it
	/// (a repayment, a withdrawal) is never refused, even above a ceiling lowered since.
	pub(crate) fn ensure_debt_ceilings(
		changes: &[BackingChange<T::AssetId>],
	) -> Result<(), DispatchError> {
		let mut judged: Vec<T::AssetId> = Vec::new();
		for (collateral, _, before, after) in changes {
			if after <= before || judged.contains(collateral) {
				continue;
			}
			judged.push(*collateral);
			let Some(market) = Markets::<T>::get(collateral) else { continue };
			let Some(ceiling) = market.params.debt_ceiling_usd else { continue };
			let backed = Self::backed_debt_value(*collateral, changes)?;
			ensure!(
				backed <= FixedU128::saturating_from_integer(ceiling),
				Error::<T>::DebtCeilingExceeded
			);
		}
		Ok(())
	}

	/// The USD value (at cap prices) of the debt owed by accounts holding a deposit of
	/// `collateral`, with `pending` changes applied.
	pub(crate) fn backed_debt_value(
		collateral: T::AssetId,
		pending: &[BackingChange<T::AssetId>],
	) -> Result<FixedU128, DispatchError> {
		let mut units: Vec<(T::AssetId, Balance)> =
			BackedDebt::<T>::iter_prefix(collateral).collect();
		for (changed, owed, before, after) in pending {
			if *changed != collateral {
				continue;
			}
			match units.iter_mut().find(|(asset, _)| asset == owed) {
				Some((_, total)) => *total = total.saturating_sub(*before).saturating_add(*after),
				None => units.push((*owed, *after)),
			}
		}
		let mut total = FixedU128::zero();
		for (owed, scaled) in units {
			if scaled.is_zero() {
				continue;
			}
			let market = Self::market_now(owed).ok_or(Error::<T>::AssetNotListed)?;
			let amount = to_amount(scaled, market.pool.borrow_index, Rounding::Up)
				.ok_or(ArithmeticError::Overflow)?;
			let value = Self::cap_value(owed, &market, amount)?;
			total = total.checked_add(&value).ok_or(ArithmeticError::Overflow)?;
		}
		Ok(total)
	}

	/// The debt owed by accounts holding a deposit of `collateral`, in USD at cap prices (what
	/// its debt ceiling is judged against); `None` if a debt asset cannot be valued.
	pub fn debt_backed_by(collateral: T::AssetId) -> Option<FixedU128> {
		Self::backed_debt_value(collateral, &[]).ok()
	}
}
