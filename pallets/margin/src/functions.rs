//! The calls' inner functions and the ledger's bookkeeping.

use crate::{
	pool::{to_amount, to_scaled, MAX_ANNUAL_RATE, MAX_LIABILITY_WEIGHT},
	Amount, AssetParams, AssetStatus, Config, Error, Event, LiableAccounts, Losses, Market,
	Markets, Pallet, Pool, PoolReport, PortfolioOf, Portfolios, Position,
};
use frame_support::{
	defensive, ensure,
	pallet_prelude::{DispatchResult, Get},
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::{Fortitude, Preservation},
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{Balance, Decimals, Exposure, FundIncome, PriceProvider};
use sp_runtime::{
	traits::{AccountIdConversion, One, Saturating, UniqueSaturatedInto, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, PerThing, Permill, Rounding,
};

impl<T: Config> Pallet<T> {
	/// The account that holds every pool's tokens.
	pub fn custody_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// What the custody account holds of `asset`.
	pub fn custody(asset: T::AssetId) -> Balance {
		T::Assets::balance(asset, &Self::custody_account())
	}

	/// What the custody account can pay out of `asset` now (it keeps the minimum balance).
	pub fn cash(asset: T::AssetId) -> Balance {
		T::Assets::reducible_balance(
			asset,
			&Self::custody_account(),
			Preservation::Preserve,
			Fortitude::Polite,
		)
	}

	/// Applies the interest due since the market's last accrual (at most once per block).
	pub(crate) fn accrue_market(market: &mut Market<BlockNumberFor<T>>) {
		let now = frame_system::Pallet::<T>::block_number();
		if market.pool.last_accrued >= now {
			return;
		}
		let elapsed: u64 = now.saturating_sub(market.pool.last_accrued).unique_saturated_into();
		let mut pool = market.pool;
		match pool.accrue(&market.params, elapsed, T::BlocksPerYear::get()) {
			Some(_) => market.pool = pool,
			None => {
				defensive!("interest accrual overflowed; the span's interest is skipped");
			},
		}
		market.pool.last_accrued = now;
	}

	/// A listed market with interest accrued to this block.
	pub(crate) fn load_market(
		asset: T::AssetId,
	) -> Result<Market<BlockNumberFor<T>>, DispatchError> {
		Self::market_now(asset).ok_or_else(|| Error::<T>::AssetNotListed.into())
	}

	/// `who`'s position in `asset`.
	pub fn position(who: &T::AccountId, asset: T::AssetId) -> Option<Position> {
		Self::position_in(&Portfolios::<T>::get(who), asset)
	}

	pub(crate) fn position_in(portfolio: &PortfolioOf<T>, asset: T::AssetId) -> Option<Position> {
		portfolio.iter().find(|(held, _)| *held == asset).map(|(_, position)| *position)
	}

	/// Sets (or with `None` removes) the position in `asset`.
	pub(crate) fn set_position(
		portfolio: &mut PortfolioOf<T>,
		asset: T::AssetId,
		position: Option<Position>,
	) -> DispatchResult {
		let position = position.filter(|p| match p {
			Position::Deposit(units) | Position::Borrow(units) => !units.is_zero(),
		});
		let slot = portfolio.iter().position(|(held, _)| *held == asset);
		match (slot, position) {
			(Some(slot), Some(position)) => {
				if let Some(entry) = portfolio.get_mut(slot) {
					entry.1 = position;
				}
			},
			(Some(slot), None) => {
				portfolio.remove(slot);
			},
			(None, Some(position)) => {
				portfolio.try_push((asset, position)).map_err(|_| Error::<T>::TooManyPositions)?
			},
			(None, None) => {},
		}
		Ok(())
	}

	/// Writes a portfolio back and keeps the set of indebted accounts, the risk index and the
	/// backed debt of every collateral asset ([`crate::BackedDebt`]) in step with it.
	pub(crate) fn store_portfolio(who: &T::AccountId, portfolio: PortfolioOf<T>) {
		let old = Portfolios::<T>::get(who);
		let changes = Self::backing_changes(&old, &portfolio);
		Self::apply_backing(&changes);
		if portfolio.is_empty() && !old.is_empty() {
			Self::release_account_deposit(who);
		}
		Self::rejudge(who, &portfolio);
		if portfolio.is_empty() {
			Portfolios::<T>::remove(who);
		} else {
			Portfolios::<T>::insert(who, portfolio);
		}
	}

	/// Whether `who`, holding `portfolio`, can become liquidatable: it owes something or holds
	/// derivative positions.
	pub(crate) fn is_liable(who: &T::AccountId, portfolio: &PortfolioOf<T>) -> bool {
		portfolio.iter().any(|(_, p)| matches!(p, Position::Borrow(_)))
			|| T::Derivatives::has_exposure(who)
	}

	/// Keeps the set of liable accounts and the risk index in step with `who` holding
	/// `portfolio` (and its derivative positions).
	pub(crate) fn rejudge(who: &T::AccountId, portfolio: &PortfolioOf<T>) {
		match (Self::is_liable(who, portfolio), LiableAccounts::<T>::contains_key(who)) {
			(true, false) => LiableAccounts::<T>::insert(who, ()),
			(false, true) => LiableAccounts::<T>::remove(who),
			_ => {},
		}
		Self::reindex(who, portfolio);
	}

	/// Holds the account deposit from `who` (opening its margin account).
	fn hold_account_deposit(who: &T::AccountId) -> DispatchResult {
		use frame_support::traits::fungible::MutateHold;
		let amount = T::AccountDeposit::get();
		if amount.is_zero() {
			return Ok(());
		}
		T::NativeBalance::hold(&crate::HoldReason::AccountDeposit.into(), who, amount)
			.map_err(|_| Error::<T>::AccountDepositUnpaid)?;
		Self::deposit_event(Event::AccountDepositHeld { who: who.clone(), amount });
		Ok(())
	}

	/// Releases what is held from `who` for its margin account (closed).
	fn release_account_deposit(who: &T::AccountId) {
		use frame_support::traits::{fungible::MutateHold, tokens::Precision};
		let reason = crate::HoldReason::AccountDeposit.into();
		match T::NativeBalance::release_all(&reason, who, Precision::BestEffort) {
			Ok(amount) if !amount.is_zero() => {
				Self::deposit_event(Event::AccountDepositReleased { who: who.clone(), amount })
			},
			Ok(_) => {},
			Err(error) => {
				log::warn!(target: "runtime::margin", "account deposit release: {error:?}")
			},
		}
	}

	/// Of a debt of `units` index units, what paying at most `max` repays: `(paid, units
	/// burnt)`. All of it when `max` covers the debt (rounded up); otherwise the whole index
	/// units `max` buys, and only what they cost is charged.
	pub(crate) fn repayment(
		units: Balance,
		borrow_index: FixedU128,
		max: Balance,
	) -> Result<(Balance, Balance), DispatchError> {
		let debt = to_amount(units, borrow_index, Rounding::Up).ok_or(ArithmeticError::Overflow)?;
		if max >= debt {
			return Ok((debt, units));
		}
		let burnt =
			to_scaled(max, borrow_index, Rounding::Down).ok_or(ArithmeticError::Overflow)?;
		let paid = to_amount(burnt, borrow_index, Rounding::Up).ok_or(ArithmeticError::Overflow)?;
		Ok((paid.min(max), burnt))
	}

	/// Of a deposit of `units` index units, what taking `amount` out burns: all of it for
	/// [`Amount::All`] or an amount equal to the whole claim, else the units rounded up.
	/// Returns `(amount, units burnt)`.
	pub(crate) fn withdrawal(
		units: Balance,
		deposit_index: FixedU128,
		amount: Amount,
	) -> Result<(Balance, Balance), DispatchError> {
		let claim =
			to_amount(units, deposit_index, Rounding::Down).ok_or(ArithmeticError::Overflow)?;
		match amount {
			Amount::All => Ok((claim, units)),
			Amount::Exact(amount) if amount == claim => Ok((claim, units)),
			Amount::Exact(amount) => {
				let burnt = to_scaled(amount, deposit_index, Rounding::Up)
					.ok_or(ArithmeticError::Overflow)?;
				ensure!(burnt <= units, Error::<T>::InsufficientDeposit);
				Ok((amount, burnt))
			},
		}
	}

	/// Refuses to leave a non-zero position below the asset's minimum.
	fn ensure_not_dust(
		units: Balance,
		index: FixedU128,
		rounding: Rounding,
		min_position: Balance,
	) -> DispatchResult {
		let left = to_amount(units, index, rounding).ok_or(ArithmeticError::Overflow)?;
		ensure!(units.is_zero() || left >= min_position, Error::<T>::BelowMinimumPosition);
		Ok(())
	}

	pub(crate) fn do_deposit(
		who: T::AccountId,
		asset: T::AssetId,
		amount: Balance,
	) -> DispatchResult {
		Self::deposit_from(&who.clone(), who, asset, amount, true)
	}

	/// `payer` pays `amount` of `asset` into `who`'s account: repaying `who`'s debt in it first,
	/// then as a deposit. A `restricted` deposit (a user's) needs the asset Active and respects
	/// the supply cap and the minimum position.
	pub(crate) fn deposit_from(
		payer: &T::AccountId,
		who: T::AccountId,
		asset: T::AssetId,
		amount: Balance,
		restricted: bool,
	) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::load_market(asset)?;
		let mut portfolio = Portfolios::<T>::get(&who);
		let mut to_deposit = amount;
		let mut repaid = 0;
		if let Some(Position::Borrow(units)) = Self::position_in(&portfolio, asset) {
			let (paid, burnt) = Self::repayment(units, market.pool.borrow_index, amount)?;
			let left = units.saturating_sub(burnt);
			market.pool.borrow_scaled =
				market.pool.borrow_scaled.checked_sub(burnt).ok_or(ArithmeticError::Underflow)?;
			Self::set_position(&mut portfolio, asset, Some(Position::Borrow(left)))?;
			repaid = paid;
			// Only a debt repaid in full turns the rest into a deposit.
			to_deposit = if left.is_zero() { amount.saturating_sub(paid) } else { 0 };
			ensure!(!repaid.is_zero() || !to_deposit.is_zero(), Error::<T>::ZeroAmount);
		}
		if !to_deposit.is_zero() {
			ensure!(
				!restricted || market.status == AssetStatus::Active,
				Error::<T>::AssetNotActive
			);
			let held = match Self::position_in(&portfolio, asset) {
				Some(Position::Deposit(units)) => units,
				_ => 0,
			};
			let index = market.pool.deposit_index;
			let credited =
				to_scaled(to_deposit, index, Rounding::Down).ok_or(ArithmeticError::Overflow)?;
			ensure!(!credited.is_zero(), Error::<T>::ZeroAmount);
			let units = held.checked_add(credited).ok_or(ArithmeticError::Overflow)?;
			if restricted {
				Self::ensure_not_dust(units, index, Rounding::Down, market.params.min_position)?;
				// An account with debt takes no collateral that cannot be valued now: a position
				// without a usable price would otherwise be judged at a level no one can check.
				if portfolio.iter().any(|(_, position)| matches!(position, Position::Borrow(_))) {
					T::Prices::price(&asset).map_err(|error| {
						Self::health_error(liquidation_primitives::HealthError::Price(asset, error))
					})?;
				}
			}
			market.pool.deposit_scaled = market
				.pool
				.deposit_scaled
				.checked_add(credited)
				.ok_or(ArithmeticError::Overflow)?;
			if restricted {
				Self::ensure_supply_cap(asset, &market)?;
			}
			Self::set_position(&mut portfolio, asset, Some(Position::Deposit(units)))?;
			if restricted {
				Self::ensure_position_value(asset, &market, &portfolio)?;
				// A new deposit of a ceiling asset adds the account's debt to what it backs.
				Self::ensure_debt_ceilings(&Self::backing_changes(
					&Portfolios::<T>::get(&who),
					&portfolio,
				))?;
			}
		}
		if restricted && !Portfolios::<T>::contains_key(&who) && !portfolio.is_empty() {
			Self::hold_account_deposit(&who)?;
		}
		let paid_in = repaid.saturating_add(to_deposit);
		T::Assets::transfer(
			asset,
			payer,
			&Self::custody_account(),
			paid_in,
			Preservation::Expendable,
		)?;
		Markets::<T>::insert(asset, market);
		Self::store_portfolio(&who, portfolio);
		if !repaid.is_zero() {
			Self::deposit_event(Event::Repaid {
				payer: payer.clone(),
				who: who.clone(),
				asset,
				amount: repaid,
			});
		}
		if !to_deposit.is_zero() {
			Self::deposit_event(Event::Deposited { who, asset, amount: to_deposit });
		}
		Ok(())
	}

	/// Returns the number of positions the health check went over.
	#[frame_support::transactional]
	pub(crate) fn do_withdraw(
		who: T::AccountId,
		asset: T::AssetId,
		amount: Amount,
	) -> Result<u32, DispatchError> {
		ensure!(amount != Amount::Exact(0), Error::<T>::ZeroAmount);
		let mut market = Self::load_market(asset)?;
		ensure!(market.status != AssetStatus::Frozen, Error::<T>::AssetFrozen);
		let mut portfolio = Portfolios::<T>::get(&who);
		let Some(Position::Deposit(units)) = Self::position_in(&portfolio, asset) else {
			return Err(Error::<T>::NoDeposit.into());
		};
		let index = market.pool.deposit_index;
		let (amount, burnt) = Self::withdrawal(units, index, amount)?;
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let left = units.saturating_sub(burnt);
		Self::ensure_not_dust(left, index, Rounding::Down, market.params.min_position)?;
		ensure!(amount <= Self::cash(asset), Error::<T>::InsufficientLiquidity);
		market.pool.deposit_scaled =
			market.pool.deposit_scaled.checked_sub(burnt).ok_or(ArithmeticError::Underflow)?;
		Self::set_position(&mut portfolio, asset, Some(Position::Deposit(left)))?;
		Self::ensure_position_value(asset, &market, &portfolio)?;
		// Health is computed on the market as it will be stored.
		Markets::<T>::insert(asset, market);
		Self::ensure_initial_health(&who, &portfolio)?;
		let positions = portfolio.len() as u32;
		T::Assets::transfer(asset, &Self::custody_account(), &who, amount, Preservation::Preserve)?;
		Self::store_portfolio(&who, portfolio);
		Self::deposit_event(Event::Withdrawn { who, asset, amount });
		Ok(positions)
	}

	/// Returns the number of positions the health check went over.
	#[frame_support::transactional]
	pub(crate) fn do_borrow(
		who: T::AccountId,
		asset: T::AssetId,
		amount: Balance,
	) -> Result<u32, DispatchError> {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::load_market(asset)?;
		ensure!(market.status == AssetStatus::Active, Error::<T>::AssetNotActive);
		ensure!(amount <= Self::cash(asset), Error::<T>::InsufficientLiquidity);
		let mut portfolio = Portfolios::<T>::get(&who);
		let mut to_borrow = amount;
		let mut withdrawn = 0;
		if let Some(Position::Deposit(units)) = Self::position_in(&portfolio, asset) {
			let index = market.pool.deposit_index;
			let claim = to_amount(units, index, Rounding::Down).ok_or(ArithmeticError::Overflow)?;
			let (taken, burnt) = Self::withdrawal(units, index, Amount::Exact(amount.min(claim)))?;
			let left = units.saturating_sub(burnt);
			Self::ensure_not_dust(left, index, Rounding::Down, market.params.min_position)?;
			market.pool.deposit_scaled =
				market.pool.deposit_scaled.checked_sub(burnt).ok_or(ArithmeticError::Underflow)?;
			Self::set_position(&mut portfolio, asset, Some(Position::Deposit(left)))?;
			withdrawn = taken;
			to_borrow = if left.is_zero() { amount.saturating_sub(taken) } else { 0 };
		}
		if !to_borrow.is_zero() {
			let index = market.pool.borrow_index;
			let units =
				to_scaled(to_borrow, index, Rounding::Up).ok_or(ArithmeticError::Overflow)?;
			let owed = match Self::position_in(&portfolio, asset) {
				Some(Position::Borrow(owed)) => owed,
				_ => 0,
			};
			let owed = owed.checked_add(units).ok_or(ArithmeticError::Overflow)?;
			Self::ensure_not_dust(owed, index, Rounding::Up, market.params.min_position)?;
			market.pool.borrow_scaled =
				market.pool.borrow_scaled.checked_add(units).ok_or(ArithmeticError::Overflow)?;
			Self::ensure_borrow_cap(asset, &market)?;
			Self::set_position(&mut portfolio, asset, Some(Position::Borrow(owed)))?;
			Self::ensure_debt_ceilings(&Self::backing_changes(
				&Portfolios::<T>::get(&who),
				&portfolio,
			))?;
		}
		Self::ensure_position_value(asset, &market, &portfolio)?;
		// An account taking its first debt: every position it holds is judged.
		let was_indebted = Portfolios::<T>::get(&who)
			.iter()
			.any(|(_, position)| matches!(position, Position::Borrow(_)));
		if !was_indebted {
			for (held, _) in portfolio.iter().filter(|(held, _)| *held != asset) {
				let held_market = Self::load_market(*held)?;
				Self::ensure_position_value(*held, &held_market, &portfolio)?;
			}
		}
		Markets::<T>::insert(asset, market);
		Self::ensure_initial_health(&who, &portfolio)?;
		let positions = portfolio.len() as u32;
		let paid_out = withdrawn.saturating_add(to_borrow);
		T::Assets::transfer(
			asset,
			&Self::custody_account(),
			&who,
			paid_out,
			Preservation::Preserve,
		)?;
		Self::store_portfolio(&who, portfolio);
		if !withdrawn.is_zero() {
			Self::deposit_event(Event::Withdrawn { who: who.clone(), asset, amount: withdrawn });
		}
		if !to_borrow.is_zero() {
			Self::deposit_event(Event::Borrowed { who, asset, amount: to_borrow });
		}
		Ok(positions)
	}

	/// `payer` repays up to `amount` of `who`'s debt in `asset`; returns what was repaid.
	pub(crate) fn do_repay(
		payer: &T::AccountId,
		who: &T::AccountId,
		asset: T::AssetId,
		amount: Amount,
	) -> Result<Balance, DispatchError> {
		let max = match amount {
			Amount::All => Balance::MAX,
			Amount::Exact(amount) => amount,
		};
		ensure!(!max.is_zero(), Error::<T>::ZeroAmount);
		let mut market = Self::load_market(asset)?;
		let mut portfolio = Portfolios::<T>::get(who);
		let Some(Position::Borrow(units)) = Self::position_in(&portfolio, asset) else {
			return Err(Error::<T>::NoDebt.into());
		};
		let (paid, burnt) = Self::repayment(units, market.pool.borrow_index, max)?;
		ensure!(!paid.is_zero() && !burnt.is_zero(), Error::<T>::ZeroAmount);
		market.pool.borrow_scaled =
			market.pool.borrow_scaled.checked_sub(burnt).ok_or(ArithmeticError::Underflow)?;
		Self::set_position(
			&mut portfolio,
			asset,
			Some(Position::Borrow(units.saturating_sub(burnt))),
		)?;
		T::Assets::transfer(
			asset,
			payer,
			&Self::custody_account(),
			paid,
			Preservation::Expendable,
		)?;
		Markets::<T>::insert(asset, market);
		Self::store_portfolio(who, portfolio);
		Self::deposit_event(Event::Repaid {
			payer: payer.clone(),
			who: who.clone(),
			asset,
			amount: paid,
		});
		Ok(paid)
	}

	pub(crate) fn do_collect_reserve(asset: T::AssetId) -> DispatchResult {
		let mut market = Self::load_market(asset)?;
		let index = market.pool.deposit_index;
		let reserve = market.pool.reserve();
		let amount = reserve.min(Self::cash(asset));
		ensure!(!amount.is_zero(), Error::<T>::NothingToCollect);
		let burnt = if amount == reserve {
			market.pool.reserve_scaled
		} else {
			to_scaled(amount, index, Rounding::Up)
				.ok_or(ArithmeticError::Overflow)?
				.min(market.pool.reserve_scaled)
		};
		market.pool.reserve_scaled = market.pool.reserve_scaled.saturating_sub(burnt);
		market.pool.deposit_scaled =
			market.pool.deposit_scaled.checked_sub(burnt).ok_or(ArithmeticError::Underflow)?;
		Markets::<T>::insert(asset, market);
		T::ReserveIncome::deposit_income(asset, &Self::custody_account(), amount)?;
		Losses::<T>::mutate(asset, |totals| {
			totals.reserve_collected = totals.reserve_collected.saturating_add(amount)
		});
		Self::deposit_event(Event::ReserveCollected { asset, amount });
		Ok(())
	}

	pub(crate) fn do_list_asset(
		asset: T::AssetId,
		decimals: Decimals,
		params: AssetParams,
	) -> DispatchResult {
		ensure!(!Markets::<T>::contains_key(asset), Error::<T>::AlreadyListed);
		ensure!(T::Assets::asset_exists(asset), Error::<T>::UnknownAsset);
		ensure!(decimals <= 18, Error::<T>::TooManyDecimals);
		ensure!(Markets::<T>::count() < T::MaxAssets::get(), Error::<T>::TooManyAssets);
		Self::ensure_valid(asset, &params)?;
		// The custody account keeps the minimum balance forever (outgoing transfers preserve it),
		// so it is never reaped and never loses dust that pools account for.
		let minimum = T::Assets::minimum_balance(asset);
		let held = Self::custody(asset);
		if held < minimum {
			let endowment = minimum.saturating_sub(held);
			T::Assets::mint_into(asset, &Self::custody_account(), endowment)?;
			Self::deposit_event(Event::CustodyEndowed { asset, amount: endowment });
		}
		let now = frame_system::Pallet::<T>::block_number();
		let market = Market { decimals, params, status: AssetStatus::Active, pool: Pool::new(now) };
		Markets::<T>::insert(asset, market);
		Self::deposit_event(Event::AssetListed { asset, decimals, params });
		Ok(())
	}

	pub(crate) fn do_set_asset_params(asset: T::AssetId, params: AssetParams) -> DispatchResult {
		Self::ensure_valid(asset, &params)?;
		// Interest up to now accrues under the old curve.
		let mut market = Self::load_market(asset)?;
		let old = market.params;
		let tightens = params.maintenance_collateral_weight < old.maintenance_collateral_weight
			|| params.maintenance_liability_weight > old.maintenance_liability_weight;
		let delay = crate::RiskChangeDelay::<T>::get();
		if tightens && !delay.is_zero() {
			let now = frame_system::Pallet::<T>::block_number();
			let effective_at = now.saturating_add(delay);
			crate::ScheduledParams::<T>::insert(asset, (params, effective_at));
			Self::deposit_event(Event::AssetParamsScheduled { asset, params, effective_at });
			return Ok(());
		}
		if crate::ScheduledParams::<T>::take(asset).is_some() {
			Self::deposit_event(Event::ScheduledParamsReplaced { asset });
		}
		market.params = params;
		Markets::<T>::insert(asset, market);
		Self::deposit_event(Event::AssetParamsUpdated { asset, params });
		Ok(())
	}

	pub(crate) fn do_set_risk_change_delay(delay: BlockNumberFor<T>) -> DispatchResult {
		ensure!(delay <= T::MaxRiskChangeDelay::get(), Error::<T>::DelayTooLong);
		crate::RiskChangeDelay::<T>::put(delay);
		Self::deposit_event(Event::RiskChangeDelaySet { delay });
		Ok(())
	}

	/// Applies the scheduled parameter changes due by `now` (checked again: a penalty or a
	/// listing may have changed since). Returns the weight used.
	pub(crate) fn apply_scheduled_params(now: BlockNumberFor<T>) -> frame_support::weights::Weight {
		let mut weight = T::DbWeight::get().reads(1);
		let due: alloc::vec::Vec<(T::AssetId, AssetParams)> = crate::ScheduledParams::<T>::iter()
			.filter(|(_, (_, at))| *at <= now)
			.map(|(asset, (params, _))| (asset, params))
			.collect();
		for (asset, params) in due {
			weight.saturating_accrue(<T::WeightInfo as crate::WeightInfo>::set_asset_params());
			crate::ScheduledParams::<T>::remove(asset);
			let applied = Self::ensure_valid(asset, &params).and_then(|()| {
				let mut market = Self::load_market(asset)?;
				market.params = params;
				Markets::<T>::insert(asset, market);
				Ok(())
			});
			match applied {
				Ok(()) => Self::deposit_event(Event::AssetParamsUpdated { asset, params }),
				Err(error) => Self::deposit_event(Event::ScheduledParamsDropped { asset, error }),
			}
		}
		weight
	}

	pub(crate) fn do_set_asset_status(asset: T::AssetId, status: AssetStatus) -> DispatchResult {
		let mut market = Self::load_market(asset)?;
		market.status = status;
		Markets::<T>::insert(asset, market);
		Self::deposit_event(Event::AssetStatusChanged { asset, status });
		Ok(())
	}

	/// `min l / max c - 1` over the maintenance weights of the listed assets, with `asset`'s
	/// parameters replaced by `change` (see
	/// [`liquidation_primitives::ledger::Inspect::penalty_limit`]).
	pub(crate) fn penalty_limit_with(
		change: Option<(T::AssetId, &AssetParams)>,
	) -> Option<FixedU128> {
		let mut most_collateral = Permill::zero();
		let mut least_liability: Option<FixedU128> = None;
		let mut count = |params: &AssetParams| {
			most_collateral = most_collateral.max(params.maintenance_collateral_weight);
			let liability = params.maintenance_liability_weight;
			least_liability = Some(least_liability.map_or(liability, |l| l.min(liability)));
		};
		for (listed, market) in Markets::<T>::iter() {
			match change {
				Some((changed, _)) if changed == listed => {},
				_ => count(&market.params),
			}
		}
		if let Some((_, params)) = change {
			count(params);
		}
		if most_collateral.is_zero() {
			return None;
		}
		let ratio = sp_runtime::traits::CheckedDiv::checked_div(
			&least_liability?,
			&FixedU128::from(most_collateral),
		)?;
		Some(ratio.saturating_sub(FixedU128::one()))
	}

	/// The range checks of `asset`'s parameters, and the cross-check with the liquidation
	/// penalty over every listed pair.
	pub fn ensure_valid(asset: T::AssetId, params: &AssetParams) -> DispatchResult {
		let initial = params.initial_collateral_weight;
		let maintenance = params.maintenance_collateral_weight;
		// Zero weights are allowed: both zero lists a borrow-only asset (a deposit of it backs
		// nothing), an initial weight of zero alone stops new risk against it while the
		// positions already held still count (a listing being wound down).
		let borrow_only = initial.is_zero() && maintenance.is_zero();
		ensure!(borrow_only || initial < maintenance, Error::<T>::MaintenanceNotBelowInitial);
		let one = FixedU128::one();
		let max_liability = FixedU128::saturating_from_integer(MAX_LIABILITY_WEIGHT);
		let initial = params.initial_liability_weight;
		let maintenance = params.maintenance_liability_weight;
		ensure!(
			maintenance >= one && initial <= max_liability,
			Error::<T>::LiabilityWeightOutOfRange
		);
		ensure!(maintenance < initial, Error::<T>::MaintenanceNotBelowInitial);
		let kink = params.interest.kink;
		ensure!(!kink.is_zero() && !kink.is_one(), Error::<T>::KinkOutOfRange);
		ensure!(
			params.interest.max_rate() <= FixedU128::saturating_from_integer(MAX_ANNUAL_RATE),
			Error::<T>::RateTooHigh
		);
		ensure!(
			!params.supply_cap_usd.is_zero() && !params.borrow_cap_usd.is_zero(),
			Error::<T>::InvalidCaps
		);
		// Every pair must gain health from a liquidation: (1 + penalty) c < l.
		let penalty = FixedU128::from(T::LiquidationPenalty::get());
		if let Some(limit) = Self::penalty_limit_with(Some((asset, params))) {
			ensure!(penalty < limit, Error::<T>::PenaltyUnsound);
		}
		Ok(())
	}

	/// A pool as of this block.
	pub fn pool_report(asset: T::AssetId) -> Option<PoolReport> {
		let market = Self::market_now(asset)?;
		let pool = market.pool;
		let utilization = pool.utilization();
		let borrow_rate = market.params.interest.borrow_rate(utilization);
		let supply_rate = borrow_rate
			.saturating_mul(utilization)
			.saturating_mul(FixedU128::from(market.params.reserve_factor.left_from_one()));
		Some(PoolReport {
			status: market.status,
			total_deposits: pool.total_deposits(),
			total_borrows: pool.total_borrows(),
			reserve: pool.reserve(),
			cash: Self::cash(asset),
			utilization,
			borrow_rate,
			supply_rate,
			deposit_index: pool.deposit_index,
			borrow_index: pool.borrow_index,
			bad_debt: pool.bad_debt,
			debt_backed_usd: Self::debt_backed_by(asset),
		})
	}

	/// Every listed asset's pool as of this block.
	pub fn pool_reports() -> alloc::vec::Vec<(T::AssetId, PoolReport)> {
		Markets::<T>::iter_keys()
			.filter_map(|asset| Some((asset, Self::pool_report(asset)?)))
			.collect()
	}

	/// Invariants 5 and 6 for one account.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	/// Returns the account's slot and the number of index keys its entry names.
	fn check_risk_entry(
		who: &T::AccountId,
		portfolio: &PortfolioOf<T>,
		liable: bool,
	) -> Result<Option<(crate::Slot, u32)>, sp_runtime::TryRuntimeError> {
		let entry = crate::RiskEntryOf::<T>::get(who);
		let Some(entry) = entry else {
			ensure!(!liable, "a liable account is not in the risk index (5)");
			return Ok(None);
		};
		ensure!(entry.slot < 2, "risk entry slot out of range (5)");
		ensure!(liable, "an account that cannot become liquidatable is in the risk index (5)");
		if T::Derivatives::has_exposure(who) {
			// Its distance may be stale once a market's parameters changed (that market's list
			// is then read whole): it must still be in the list of every asset it holds, and
			// within reach when liquidatable (below).
			let held = Self::held_assets(portfolio);
			ensure!(
				held.iter().all(|asset| entry.assets.contains(asset)),
				"account with positions missing from a held asset's list (5)"
			);
			match Self::placement_with_derivatives(who, portfolio, entry.slot) {
				Some((bucket, assets)) => ensure!(
					entry.bucket == bucket && entry.assets == assets,
					"account with positions filed at the wrong distance (5)"
				),
				// Not placeable now: filed in bucket 0, or placed before one of its lists lost
				// its bound (a market's parameters changed: that list is read whole).
				None => ensure!(
					entry.bucket == 0
						|| entry.assets.iter().any(|asset| {
							crate::References::<T>::get(entry.slot, asset).is_none_or(|r| {
								T::Derivatives::drift_since_reference(entry.slot, asset, r.price)
									.is_none()
							})
						}),
					"account with positions placed with no list read whole (5)"
				),
			}
		} else {
			ensure!(
				Self::risk_entry_for(who, portfolio, entry.slot).as_ref() == Some(&entry),
				"account filed in other lists or at the wrong distance (5)"
			);
		}
		ensure!(
			entry.assets.iter().any(|asset| Markets::<T>::contains_key(asset)),
			"account filed in no listed asset's list: no walk reads it (5)"
		);
		for asset in entry.assets.iter() {
			ensure!(
				crate::RiskIndex::<T>::contains_key((
					entry.slot,
					asset,
					crate::risk_index::bucket_key(entry.bucket),
					who
				)),
				"risk entry without its index key (5)"
			);
		}
		let liquidatable = Self::health_of_account(who, portfolio, crate::health::Pricing::Held)
			.map(|r| r.is_liquidatable())
			.unwrap_or(false);
		if liquidatable {
			ensure!(
				entry.bucket == 0 || entry.bucket <= Self::reach_of_entry(&entry),
				"a liquidatable account is beyond the risk index's reach (6)"
			);
		}
		Ok(Some((entry.slot, entry.assets.len() as u32)))
	}

	/// Checks the invariants listed in the crate docs.
	/// Available natively (`std`) so that integration tests and replays can check it after
	/// every block, and in `try-runtime` builds.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let mut deposit_units: BTreeMap<T::AssetId, Balance> = BTreeMap::new();
		let mut borrow_units: BTreeMap<T::AssetId, Balance> = BTreeMap::new();
		let mut liable_count = 0u32;
		// Accounts filed per slot, and the index keys their entries name.
		let mut filed = [0u32; 2];
		let mut entry_keys = 0u32;
		let mut backed: BTreeMap<(T::AssetId, T::AssetId), Balance> = BTreeMap::new();
		for (who, portfolio) in Portfolios::<T>::iter() {
			ensure!(!portfolio.is_empty(), "an empty portfolio is stored");
			for (collateral, owed, _, units) in
				Self::backing_changes(&Default::default(), &portfolio)
			{
				let total = backed.entry((collateral, owed)).or_default();
				*total = total.checked_add(units).ok_or("backed debt overflow (7)")?;
			}
			let mut owes = false;
			for (asset, position) in portfolio.iter() {
				ensure!(Markets::<T>::contains_key(asset), "a portfolio holds an unlisted asset");
				let (totals, units) = match position {
					Position::Deposit(units) => (&mut deposit_units, *units),
					Position::Borrow(units) => {
						owes = true;
						(&mut borrow_units, *units)
					},
				};
				ensure!(!units.is_zero(), "an empty position is stored");
				let total = totals.entry(*asset).or_default();
				*total = total.checked_add(units).ok_or("position units overflow")?;
			}
			let liable = owes || T::Derivatives::has_exposure(&who);
			ensure!(
				liable == LiableAccounts::<T>::contains_key(&who),
				"liable account set out of step (3)"
			);
			liable_count = liable_count.saturating_add(u32::from(liable));
			if let Some((slot, keys)) = Self::check_risk_entry(&who, &portfolio, liable)? {
				if let Some(count) = filed.get_mut(usize::from(slot)) {
					*count = count.saturating_add(1);
				}
				entry_keys = entry_keys.saturating_add(keys);
			}
		}
		// Accounts with derivative positions and no spot position at all.
		for who in LiableAccounts::<T>::iter_keys() {
			if Portfolios::<T>::contains_key(&who) {
				continue;
			}
			ensure!(
				T::Derivatives::has_exposure(&who),
				"an account without positions is liable (3)"
			);
			liable_count = liable_count.saturating_add(1);
			if let Some((slot, keys)) = Self::check_risk_entry(&who, &Default::default(), true)? {
				if let Some(count) = filed.get_mut(usize::from(slot)) {
					*count = count.saturating_add(1);
				}
				entry_keys = entry_keys.saturating_add(keys);
			}
		}
		// Every key is one of a liable account's entry's (each checked above) when the index
		// holds as many keys as the entries name: no key files an account that is not liable.
		let keys = crate::RiskIndex::<T>::iter_keys().count() as u32;
		ensure!(keys == entry_keys, "risk index keys out of step with the entries (5)");
		for slot in [0u8, 1] {
			ensure!(
				filed.get(usize::from(slot)).copied() == Some(crate::SlotSize::<T>::get(slot)),
				"risk index slot size out of step (5)"
			);
		}
		ensure!(
			filed[0].saturating_add(filed[1]) == LiableAccounts::<T>::count(),
			"risk index and borrower set differ (5)"
		);
		ensure!(
			liable_count == LiableAccounts::<T>::count(),
			"liable account set holds accounts that cannot become liquidatable (3)"
		);
		let stored: BTreeMap<(T::AssetId, T::AssetId), Balance> = crate::BackedDebt::<T>::iter()
			.map(|(collateral, owed, units)| ((collateral, owed), units))
			.collect();
		ensure!(stored == backed, "backed debt out of step with the portfolios (7)");
		for (asset, market) in Markets::<T>::iter() {
			let pool = market.pool;
			ensure!(
				!pool.deposit_index.is_zero() && !pool.borrow_index.is_zero(),
				"an index is zero (4)"
			);
			let accounts = deposit_units.get(&asset).copied().unwrap_or(0);
			ensure!(
				accounts.checked_add(pool.reserve_scaled) == Some(pool.deposit_scaled),
				"deposit units do not add up (2)"
			);
			ensure!(
				borrow_units.get(&asset).copied().unwrap_or(0) == pool.borrow_scaled,
				"borrow units do not add up (2)"
			);
			let assets = Self::custody(asset)
				.saturating_add(pool.total_borrows())
				.saturating_add(pool.bad_debt);
			ensure!(assets >= pool.total_deposits(), "pool is insolvent (1)");
		}
		Ok(())
	}
}
