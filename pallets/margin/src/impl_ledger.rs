//! The ledger as the liquidation engine and the auctions use it: every layer of
//! [`liquidation_primitives::ledger`].

use crate::{
	pool::{to_amount, to_scaled},
	risk_index::RiskCursor,
	Amount, Config, Error, Event, LiableAccounts, Losses, Markets, Pallet, Portfolios, Position,
	RiskEntryOf,
};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	traits::{fungibles::Mutate, tokens::Preservation},
};
use liquidation_primitives::{
	ledger, AssetDecimals, Balance, Exposure, HealthError, HealthReport, LossSocializer,
	RiskWeights,
};
use sp_runtime::{traits::Zero, ArithmeticError, DispatchError, Rounding};

impl<T: Config> ledger::Inspect<T::AccountId> for Pallet<T> {
	type AssetId = T::AssetId;
	type Balance = Balance;

	fn health(who: &T::AccountId) -> Result<HealthReport, HealthError<T::AssetId>> {
		Self::health_of(who)
	}

	fn deposit_of(who: &T::AccountId, asset: T::AssetId) -> Balance {
		match (Self::position(who, asset), Self::market_now(asset)) {
			(Some(Position::Deposit(units)), Some(market)) => {
				to_amount(units, market.pool.deposit_index, Rounding::Down).unwrap_or(0)
			},
			_ => 0,
		}
	}

	fn debt_of(who: &T::AccountId, asset: T::AssetId) -> Balance {
		match (Self::position(who, asset), Self::market_now(asset)) {
			(Some(Position::Borrow(units)), Some(market)) => {
				to_amount(units, market.pool.borrow_index, Rounding::Up).unwrap_or(Balance::MAX)
			},
			_ => 0,
		}
	}

	fn positions_of(who: &T::AccountId) -> Vec<(T::AssetId, Balance, Balance)> {
		Self::positions(who)
	}

	fn risk_weights(asset: T::AssetId) -> Option<RiskWeights> {
		Markets::<T>::get(asset)
			.map(|market| Self::params_in_force(market.params, asset).risk_weights(market.decimals))
	}

	fn penalty_limit() -> Option<sp_runtime::FixedU128> {
		Self::penalty_limit_with(None)
	}

	fn cash(asset: T::AssetId) -> Balance {
		Self::cash(asset)
	}
}

impl<T: Config> ledger::RiskScan<T::AccountId> for Pallet<T> {
	type Cursor = RiskCursor<T::AccountId>;

	fn indebted_accounts(start_after: Option<&T::AccountId>, limit: u32) -> Vec<T::AccountId> {
		let limit = limit as usize;
		match start_after {
			Some(cursor) => {
				LiableAccounts::<T>::iter_from(LiableAccounts::<T>::hashed_key_for(cursor))
					.map(|(who, ())| who)
					.take(limit)
					.collect()
			},
			None => LiableAccounts::<T>::iter_keys().take(limit).collect(),
		}
	}

	fn accounts_at_risk(
		start_after: Option<&RiskCursor<T::AccountId>>,
		limit: u32,
	) -> (Vec<T::AccountId>, Option<RiskCursor<T::AccountId>>) {
		Pallet::<T>::accounts_at_risk(start_after, limit)
	}

	fn risk_filing(who: &T::AccountId) -> Option<Vec<u8>> {
		use codec::Encode as _;
		RiskEntryOf::<T>::get(who).map(|entry| entry.encode())
	}
}

impl<T: Config> ledger::Mutate<T::AccountId> for Pallet<T> {
	fn repay_debt(
		payer: &T::AccountId,
		who: &T::AccountId,
		asset: T::AssetId,
		max_amount: Balance,
	) -> Result<Balance, DispatchError> {
		Self::do_repay(payer, who, asset, Amount::Exact(max_amount))
	}

	fn credit_collateral(
		payer: &T::AccountId,
		who: &T::AccountId,
		asset: T::AssetId,
		amount: Balance,
	) -> Result<(), DispatchError> {
		Self::deposit_from(payer, who.clone(), asset, amount, false)
	}

	fn seize_collateral(
		who: &T::AccountId,
		asset: T::AssetId,
		amount: Balance,
		to: &T::AccountId,
	) -> Result<(), DispatchError> {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::load_market(asset)?;
		let mut portfolio = Portfolios::<T>::get(who);
		let Some(Position::Deposit(units)) = Self::position_in(&portfolio, asset) else {
			return Err(Error::<T>::NoDeposit.into());
		};
		let (amount, burnt) =
			Self::withdrawal(units, market.pool.deposit_index, Amount::Exact(amount))?;
		ensure!(amount <= Self::cash(asset), Error::<T>::InsufficientLiquidity);
		market.pool.deposit_scaled =
			market.pool.deposit_scaled.checked_sub(burnt).ok_or(ArithmeticError::Underflow)?;
		Self::set_position(
			&mut portfolio,
			asset,
			Some(Position::Deposit(units.saturating_sub(burnt))),
		)?;
		T::Assets::transfer(asset, &Self::custody_account(), to, amount, Preservation::Preserve)?;
		Markets::<T>::insert(asset, market);
		Self::store_portfolio(who, portfolio);
		Self::deposit_event(Event::CollateralSeized {
			who: who.clone(),
			asset,
			amount,
			to: to.clone(),
		});
		Ok(())
	}

	fn transfer_deposit(
		who: &T::AccountId,
		asset: T::AssetId,
		amount: Balance,
		to: &T::AccountId,
	) -> Result<(), DispatchError> {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		ensure!(who != to, Error::<T>::NoDeposit);
		let mut market = Self::load_market(asset)?;
		let mut from_portfolio = Portfolios::<T>::get(who);
		let Some(Position::Deposit(units)) = Self::position_in(&from_portfolio, asset) else {
			return Err(Error::<T>::NoDeposit.into());
		};
		let index = market.pool.deposit_index;
		let (amount, burnt) = Self::withdrawal(units, index, Amount::Exact(amount))?;
		Self::set_position(
			&mut from_portfolio,
			asset,
			Some(Position::Deposit(units.saturating_sub(burnt))),
		)?;
		market.pool.deposit_scaled =
			market.pool.deposit_scaled.checked_sub(burnt).ok_or(ArithmeticError::Underflow)?;
		let mut to_portfolio = Portfolios::<T>::get(to);
		let repaid = Self::land_claim(&mut market, &mut to_portfolio, asset, amount)?;
		Markets::<T>::insert(asset, market);
		Self::store_portfolio(who, from_portfolio);
		Self::store_portfolio(to, to_portfolio);
		if !repaid.is_zero() {
			Self::deposit_event(Event::Repaid {
				payer: who.clone(),
				who: to.clone(),
				asset,
				amount: repaid,
			});
		}
		Self::deposit_event(Event::DepositTransferred {
			from: who.clone(),
			to: to.clone(),
			asset,
			amount,
		});
		Ok(())
	}

	fn forfeit_collateral(who: &T::AccountId, asset: T::AssetId) -> Result<Balance, DispatchError> {
		let mut market = Self::load_market(asset)?;
		let mut portfolio = Portfolios::<T>::get(who);
		let Some(Position::Deposit(units)) = Self::position_in(&portfolio, asset) else {
			return Err(Error::<T>::NoDeposit.into());
		};
		let amount = to_amount(units, market.pool.deposit_index, Rounding::Down)
			.ok_or(ArithmeticError::Overflow)?;
		market.pool.deposit_scaled =
			market.pool.deposit_scaled.checked_sub(units).ok_or(ArithmeticError::Underflow)?;
		Self::set_position(&mut portfolio, asset, None)?;
		Markets::<T>::insert(asset, market);
		Self::store_portfolio(who, portfolio);
		Self::deposit_event(Event::CollateralForfeited { who: who.clone(), asset, amount });
		Ok(amount)
	}
}

impl<T: Config> ledger::BadDebt<T::AccountId> for Pallet<T> {
	fn write_off(who: &T::AccountId, asset: T::AssetId) -> Result<Balance, DispatchError> {
		let mut market = Self::load_market(asset)?;
		let mut portfolio = Portfolios::<T>::get(who);
		ensure!(
			!portfolio.iter().any(|(_, position)| matches!(position, Position::Deposit(_))),
			Error::<T>::NotBankrupt
		);
		// Derivative positions still stand: their profit may pay the debt.
		ensure!(!T::Derivatives::has_exposure(who), Error::<T>::NotBankrupt);
		let Some(Position::Borrow(units)) = Self::position_in(&portfolio, asset) else {
			return Err(Error::<T>::NoDebt.into());
		};
		let debt = to_amount(units, market.pool.borrow_index, Rounding::Up)
			.ok_or(ArithmeticError::Overflow)?;
		market.pool.borrow_scaled =
			market.pool.borrow_scaled.checked_sub(units).ok_or(ArithmeticError::Underflow)?;
		market.pool.bad_debt =
			market.pool.bad_debt.checked_add(debt).ok_or(ArithmeticError::Overflow)?;
		Self::set_position(&mut portfolio, asset, None)?;
		Markets::<T>::insert(asset, market);
		Self::store_portfolio(who, portfolio);
		Losses::<T>::mutate(asset, |totals| {
			totals.written_off = totals.written_off.saturating_add(debt)
		});
		Self::deposit_event(Event::DebtWrittenOff { who: who.clone(), asset, amount: debt });
		Ok(debt)
	}

	fn settle_bad_debt(
		asset: T::AssetId,
		payer: &T::AccountId,
		max_amount: Balance,
	) -> Result<Balance, DispatchError> {
		let mut market = Self::load_market(asset)?;
		let amount = max_amount.min(market.pool.bad_debt);
		if amount.is_zero() {
			return Ok(0);
		}
		T::Assets::transfer(
			asset,
			payer,
			&Self::custody_account(),
			amount,
			Preservation::Expendable,
		)?;
		market.pool.bad_debt = market.pool.bad_debt.saturating_sub(amount);
		Markets::<T>::insert(asset, market);
		Losses::<T>::mutate(asset, |totals| totals.settled = totals.settled.saturating_add(amount));
		Self::deposit_event(Event::BadDebtSettled { asset, payer: payer.clone(), amount });
		Ok(amount)
	}

	fn bad_debt(asset: T::AssetId) -> Balance {
		Markets::<T>::get(asset).map_or(0, |market| market.pool.bad_debt)
	}
}

/// An asset is in use while accounts deposit or owe it (the reserve needs no price) or bad debt
/// in it awaits settlement.
impl<T: Config> liquidation_primitives::PriceUsers<T::AssetId> for Pallet<T> {
	fn in_use(asset: &T::AssetId) -> bool {
		Markets::<T>::get(asset).is_some_and(|market| {
			let pool = market.pool;
			pool.deposit_scaled > pool.reserve_scaled
				|| !pool.borrow_scaled.is_zero()
				|| !pool.bad_debt.is_zero()
		})
	}
}

impl<T: Config> AssetDecimals<T::AssetId> for Pallet<T> {
	fn decimals(asset: T::AssetId) -> Option<liquidation_primitives::Decimals> {
		Markets::<T>::get(asset).map(|market| market.decimals)
	}
}

impl<T: Config> LossSocializer<T::AssetId, Balance> for Pallet<T> {
	fn socialize(asset: T::AssetId, amount: Balance) -> Result<Balance, DispatchError> {
		let mut market = Self::load_market(asset)?;
		let (socialized, before, after) =
			market.pool.socialize(amount).ok_or(ArithmeticError::Overflow)?;
		Markets::<T>::insert(asset, market);
		if socialized.is_zero() {
			return Ok(0);
		}
		Losses::<T>::mutate(asset, |totals| {
			totals.socialized = totals.socialized.saturating_add(socialized)
		});
		Self::deposit_event(Event::LossSocialized {
			asset,
			amount: socialized,
			deposit_index_before: before,
			deposit_index_after: after,
		});
		Ok(socialized)
	}
}

impl<T: Config> ledger::Settle<T::AccountId> for Pallet<T> {
	fn charge(
		who: &T::AccountId,
		asset: T::AssetId,
		amount: Balance,
		to: &T::AccountId,
	) -> Result<(), DispatchError> {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		ensure!(who != to, Error::<T>::NoDeposit);
		let mut market = Self::load_market(asset)?;
		let mut portfolio = Portfolios::<T>::get(who);
		// From the deposit first: all of it when it does not cover the charge.
		let (taken, burnt, owed) = match Self::position_in(&portfolio, asset) {
			Some(Position::Deposit(units)) => {
				let claim = to_amount(units, market.pool.deposit_index, Rounding::Down)
					.ok_or(ArithmeticError::Overflow)?;
				if amount < claim {
					let (taken, burnt) =
						Self::withdrawal(units, market.pool.deposit_index, Amount::Exact(amount))?;
					(taken, burnt, 0)
				} else {
					(claim, units, 0)
				}
			},
			Some(Position::Borrow(owed)) => (0, 0, owed),
			None => (0, 0, 0),
		};
		market.pool.deposit_scaled =
			market.pool.deposit_scaled.checked_sub(burnt).ok_or(ArithmeticError::Underflow)?;
		let held = match Self::position_in(&portfolio, asset) {
			Some(Position::Deposit(units)) => units.saturating_sub(burnt),
			_ => 0,
		};
		// The rest is lent: his debt units rounded up, as a borrow's.
		let lent = amount.saturating_sub(taken);
		let position = if lent.is_zero() {
			Some(Position::Deposit(held))
		} else {
			let units = to_scaled(lent, market.pool.borrow_index, Rounding::Up)
				.ok_or(ArithmeticError::Overflow)?;
			market.pool.borrow_scaled =
				market.pool.borrow_scaled.checked_add(units).ok_or(ArithmeticError::Overflow)?;
			Some(Position::Borrow(owed.checked_add(units).ok_or(ArithmeticError::Overflow)?))
		};
		Self::set_position(&mut portfolio, asset, position)?;
		let mut to_portfolio = Portfolios::<T>::get(to);
		Self::land_claim(&mut market, &mut to_portfolio, asset, amount)?;
		Markets::<T>::insert(asset, market);
		Self::store_portfolio(who, portfolio);
		Self::store_portfolio(to, to_portfolio);
		Self::deposit_event(Event::Charged {
			who: who.clone(),
			asset,
			amount,
			lent,
			to: to.clone(),
		});
		Ok(())
	}

	fn ensure_initial_health(who: &T::AccountId) -> Result<(), DispatchError> {
		Self::ensure_initial_health(who, &Portfolios::<T>::get(who))
	}

	fn exposure_changed(who: &T::AccountId) {
		Self::rejudge(who, &Portfolios::<T>::get(who));
	}

	fn watches(who: &T::AccountId) -> bool {
		LiableAccounts::<T>::contains_key(who) && crate::RiskEntryOf::<T>::contains_key(who)
	}
}

impl<T: Config> Pallet<T> {
	/// Lands a claim of `amount` on `asset`'s pool in `portfolio` (not stored): repaying its
	/// debt in `asset` first, as a deposit would, the rest a deposit. Returns what was repaid.
	fn land_claim(
		market: &mut crate::Market<frame_system::pallet_prelude::BlockNumberFor<T>>,
		portfolio: &mut crate::PortfolioOf<T>,
		asset: T::AssetId,
		amount: Balance,
	) -> Result<Balance, DispatchError> {
		let mut left = amount;
		let mut repaid = 0;
		if let Some(Position::Borrow(owed)) = Self::position_in(portfolio, asset) {
			let (paid, burnt) = Self::repayment(owed, market.pool.borrow_index, amount)?;
			market.pool.borrow_scaled =
				market.pool.borrow_scaled.checked_sub(burnt).ok_or(ArithmeticError::Underflow)?;
			let owed_left = owed.saturating_sub(burnt);
			Self::set_position(portfolio, asset, Some(Position::Borrow(owed_left)))?;
			repaid = paid;
			left = if owed_left.is_zero() { amount.saturating_sub(paid) } else { 0 };
		}
		let credited = to_scaled(left, market.pool.deposit_index, Rounding::Down)
			.ok_or(ArithmeticError::Overflow)?;
		if !credited.is_zero() {
			let held = match Self::position_in(portfolio, asset) {
				Some(Position::Deposit(held)) => held,
				_ => 0,
			};
			let units = held.checked_add(credited).ok_or(ArithmeticError::Overflow)?;
			Self::set_position(portfolio, asset, Some(Position::Deposit(units)))?;
			market.pool.deposit_scaled = market
				.pool
				.deposit_scaled
				.checked_add(credited)
				.ok_or(ArithmeticError::Overflow)?;
		}
		Ok(repaid)
	}

	/// Every non-zero position of `who` in smallest units: `(asset, deposit, debt)`.
	pub fn positions(who: &T::AccountId) -> Vec<(T::AssetId, Balance, Balance)> {
		Portfolios::<T>::get(who)
			.iter()
			.filter_map(|(asset, position)| {
				let market = Self::market_now(*asset)?;
				Some(match position {
					Position::Deposit(units) => {
						(*asset, to_amount(*units, market.pool.deposit_index, Rounding::Down)?, 0)
					},
					Position::Borrow(units) => {
						(*asset, 0, to_amount(*units, market.pool.borrow_index, Rounding::Up)?)
					},
				})
			})
			.collect()
	}
}
