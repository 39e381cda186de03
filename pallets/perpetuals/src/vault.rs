//! The liquidity vault: its value, utilisation, deposits and withdrawals.

use crate::{
	functions::{notional_of, units_to_usd, usd_to_units},
	math::{self, signed, Signed},
	Config, Error, Event, Markets, Pallet, Shares, TotalShares, Vault, Withdrawal, Withdrawals,
};
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get};
use liquidation_primitives::{
	ledger::{Inspect, Mutate},
	Balance,
};
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, Saturating, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, Rounding,
};

/// The vault's value and exposure.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VaultValue {
	/// Its USD in the ledger (deposit less any debt), less the profit it owes traders
	/// ([`crate::TotalProfitOwed`]), USD.
	pub cash: Signed,
	/// What the traders owe it unrealised: minus their unrealised profit, plus the funding they
	/// owe, over every market, USD.
	pub unrealised: Signed,
	/// What flattening every market's skew would cost it beyond the oracle price,
	/// `Σ P k² / 2S`, USD.
	pub skew_cost: Signed,
	/// Its net exposure, `Σ |skew| × price`, USD.
	pub exposure: FixedU128,
	/// What it is owed for traders' shortfalls the liquidation engine's waterfall has yet to
	/// settle ([`crate::Config::ShortfallReceivable`]), USD.
	pub receivable: Signed,
}

impl VaultValue {
	/// Net asset value: `cash + unrealised + receivable - skew_cost`: what a deposit buys
	/// shares of (a depositor pays for what will be recovered).
	pub fn nav(&self) -> Option<Signed> {
		self.nav_without_receivable()?.checked_add(&self.receivable)
	}

	/// `cash + unrealised - skew_cost`: what a withdrawal redeems and the utilisation bound
	/// weighs the exposure against. An LP who leaves while a shortfall waits leaves his part of
	/// its recovery behind (as a staker leaving the insurance fund leaves his part of the bad
	/// debt waiting), so no one can leave at a value a write-off is about to lower.
	pub fn nav_without_receivable(&self) -> Option<Signed> {
		self.cash.checked_add(&self.unrealised)?.checked_sub(&self.skew_cost)
	}
}

impl<T: Config> Pallet<T> {
	/// The vault's value now: its USD, and over every market the traders' unrealised profit
	/// (`skew × P - entry_sum`) against it and the funding they owe (`skew × F - funding_sum`),
	/// with funding accrued to now at the held price. Reads every market.
	pub fn vault_value() -> Result<VaultValue, DispatchError> {
		Self::vault_value_at(false)
	}

	/// [`Self::vault_value`]; with `usable_only`, refused unless every market with positions
	/// has a usable price (what LPs deposit and withdraw at: never a stale or halted value).
	pub(crate) fn vault_value_at(usable_only: bool) -> Result<VaultValue, DispatchError> {
		let asset = T::SettlementAsset::get();
		let vault = Self::vault_account();
		let decimals = Self::settlement_decimals()?;
		let deposit = signed(units_to_usd(T::Ledger::deposit_of(&vault, asset), decimals)?)
			.ok_or(ArithmeticError::Overflow)?;
		let debt = signed(units_to_usd(T::Ledger::debt_of(&vault, asset), decimals)?)
			.ok_or(ArithmeticError::Overflow)?;
		let owed = signed(units_to_usd(crate::TotalProfitOwed::<T>::get(), decimals)?)
			.ok_or(ArithmeticError::Overflow)?;
		let cash = deposit
			.checked_sub(&debt)
			.and_then(|cash| cash.checked_sub(&owed))
			.ok_or(ArithmeticError::Overflow)?;
		let mut unrealised = Signed::zero();
		let mut skew_cost = Signed::zero();
		let mut exposure = FixedU128::zero();
		for (underlying, market) in Markets::<T>::iter() {
			let skew = market.state.skew().ok_or(ArithmeticError::Overflow)?;
			if skew.is_zero()
				&& market.state.entry_sum.is_zero()
				&& market.state.funding_sum.is_zero()
			{
				continue;
			}
			let price = if usable_only {
				Self::usable_price(underlying)?
			} else {
				Self::held_price(underlying)?
			};
			let state = Self::accrued(&market, price)?;
			let traders_profit = skew
				.checked_mul(&signed(price).ok_or(ArithmeticError::Overflow)?)
				.and_then(|value| value.checked_sub(&state.entry_sum))
				.ok_or(ArithmeticError::Overflow)?;
			let traders_funding = skew
				.checked_mul(&state.funding_index)
				.and_then(|value| value.checked_sub(&state.funding_sum))
				.ok_or(ArithmeticError::Overflow)?;
			unrealised = unrealised
				.checked_sub(&traders_profit)
				.and_then(|value| value.checked_add(&traders_funding))
				.ok_or(ArithmeticError::Overflow)?;
			// What flattening the skew would cost the vault beyond the oracle price: the skew
			// closed fills at `P (1 + k / 2S)`, so the traders would take `P k² / 2S` more.
			// Counted, the value moves with no trade but by its fee: a trade's premium raises
			// the marked value exactly as much as it raises this cost.
			let scale = signed(market.params.skew_scale).ok_or(ArithmeticError::Overflow)?;
			let impact = skew
				.checked_mul(&skew)
				.and_then(|squared| squared.checked_mul(&signed(price)?))
				.and_then(|value| value.checked_div(&scale.checked_add(&scale)?))
				.ok_or(ArithmeticError::Overflow)?;
			skew_cost = skew_cost.checked_add(&impact).ok_or(ArithmeticError::Overflow)?;
			let magnitude =
				math::unsigned(skew.saturating_abs()).ok_or(ArithmeticError::Overflow)?;
			exposure = exposure
				.checked_add(&notional_of(magnitude, price)?)
				.ok_or(ArithmeticError::Overflow)?;
		}
		let receivable = signed(T::ShortfallReceivable::get()).ok_or(ArithmeticError::Overflow)?;
		Ok(VaultValue { cash, unrealised, skew_cost, exposure, receivable })
	}

	/// Refuses a state where the vault's net exposure is beyond its utilisation bound of its
	/// value (or its value is zero or less while it has exposure).
	pub(crate) fn ensure_utilisation() -> DispatchResult {
		let params = Vault::<T>::get().ok_or(Error::<T>::VaultNotConfigured)?;
		let value = Self::vault_value()?;
		if value.exposure.is_zero() {
			return Ok(());
		}
		// Not counting what is owed to it: the bound is on what it holds.
		let nav = value.nav_without_receivable().ok_or(ArithmeticError::Overflow)?;
		let nav = math::unsigned(nav).ok_or(Error::<T>::VaultUtilisationExceeded)?;
		let allowed = nav.saturating_mul(FixedU128::from(params.max_utilisation));
		ensure!(value.exposure <= allowed, Error::<T>::VaultUtilisationExceeded);
		Ok(())
	}

	/// The vault's value in the settlement asset's smallest units, rounded as `rounding`, with
	/// what it is owed for waiting shortfalls (for a deposit) or without it (for a withdrawal);
	/// refused when it is zero or less.
	fn nav_units(rounding: Rounding, with_receivable: bool) -> Result<Balance, DispatchError> {
		let value = Self::vault_value_at(true)?;
		let nav = if with_receivable { value.nav() } else { value.nav_without_receivable() };
		let nav = nav.ok_or(ArithmeticError::Overflow)?;
		let nav =
			math::unsigned(nav).filter(|nav| !nav.is_zero()).ok_or(Error::<T>::VaultInsolvent)?;
		let units = usd_to_units(nav, Self::settlement_decimals()?, rounding)?;
		ensure!(!units.is_zero(), Error::<T>::VaultInsolvent);
		Ok(units)
	}

	/// Deposits `amount` of `who`'s settlement tokens into the vault for shares.
	pub(crate) fn do_deposit_to_vault(who: &T::AccountId, amount: Balance) -> DispatchResult {
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		ensure!(Vault::<T>::exists(), Error::<T>::VaultNotConfigured);
		let total = TotalShares::<T>::get();
		let minimum = T::MinimumShares::get();
		// Shares at the value before the deposit, rounded down against the depositor (the
		// value rounded up); the first deposit mints one share per unit and locks `minimum`.
		let (minted, locked) = if total.is_zero() {
			ensure!(amount > minimum, Error::<T>::DepositTooSmall);
			(amount.saturating_sub(minimum), minimum)
		} else {
			let nav = Self::nav_units(Rounding::Up, true)?;
			let minted = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
				amount,
				total,
				nav,
				Rounding::Down,
			)
			.ok_or(ArithmeticError::Overflow)?;
			(minted, 0)
		};
		ensure!(!minted.is_zero(), Error::<T>::DepositTooSmall);
		T::Ledger::credit_collateral(
			who,
			&Self::vault_account(),
			T::SettlementAsset::get(),
			amount,
		)?;
		let new_total = total
			.checked_add(minted)
			.and_then(|t| t.checked_add(locked))
			.ok_or(ArithmeticError::Overflow)?;
		TotalShares::<T>::put(new_total);
		Shares::<T>::mutate(who, |shares| *shares = shares.saturating_add(minted));
		Self::deposit_event(Event::VaultDeposited { who: who.clone(), amount, shares: minted });
		Ok(())
	}

	/// Moves `shares` of `who`'s into a pending withdrawal, restarting its delay.
	pub(crate) fn do_request_withdrawal(who: &T::AccountId, shares: Balance) -> DispatchResult {
		ensure!(!shares.is_zero(), Error::<T>::ZeroAmount);
		let params = Vault::<T>::get().ok_or(Error::<T>::VaultNotConfigured)?;
		let held = Shares::<T>::get(who);
		ensure!(shares <= held, Error::<T>::InsufficientShares);
		let pending = Withdrawals::<T>::get(who).map_or(0, |w| w.shares);
		let unlocks_at = frame_system::Pallet::<T>::block_number()
			.saturating_add(params.withdrawal_delay_blocks);
		let all = pending.checked_add(shares).ok_or(ArithmeticError::Overflow)?;
		// What the shares are worth now: the withdrawal pays at most this (a request is no
		// option on a later rise).
		let nav = Self::nav_units(Rounding::Down, false)?;
		let value_at_request = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
			all,
			nav,
			TotalShares::<T>::get(),
			Rounding::Down,
		)
		.ok_or(ArithmeticError::Overflow)?;
		let left = held.saturating_sub(shares);
		if left.is_zero() {
			Shares::<T>::remove(who);
		} else {
			Shares::<T>::insert(who, left);
		}
		Withdrawals::<T>::insert(who, Withdrawal { shares: all, unlocks_at, value_at_request });
		Self::deposit_event(Event::WithdrawalRequested {
			who: who.clone(),
			shares: all,
			unlocks_at,
		});
		Ok(())
	}

	/// Redeems `who`'s pending withdrawal at the vault's value now.
	pub(crate) fn do_withdraw_from_vault(who: &T::AccountId) -> DispatchResult {
		let withdrawal = Withdrawals::<T>::get(who).ok_or(Error::<T>::NoWithdrawal)?;
		ensure!(
			frame_system::Pallet::<T>::block_number() >= withdrawal.unlocks_at,
			Error::<T>::WithdrawalLocked
		);
		let total = TotalShares::<T>::get();
		let nav = Self::nav_units(Rounding::Down, false)?;
		let amount = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
			withdrawal.shares,
			nav,
			total,
			Rounding::Down,
		)
		.ok_or(ArithmeticError::Overflow)?
		// The lower of the value at the request and now: losses meanwhile are borne, gains
		// stay with the vault.
		.min(withdrawal.value_at_request);
		Withdrawals::<T>::remove(who);
		TotalShares::<T>::put(
			total.checked_sub(withdrawal.shares).ok_or(ArithmeticError::Underflow)?,
		);
		if !amount.is_zero() {
			let asset = T::SettlementAsset::get();
			// The profit owed to traders is paid before any LP.
			let free = T::Ledger::deposit_of(&Self::vault_account(), asset)
				.saturating_sub(crate::TotalProfitOwed::<T>::get());
			ensure!(free >= amount, Error::<T>::VaultCannotPay);
			T::Ledger::transfer_deposit(&Self::vault_account(), asset, amount, who)?;
		}
		Self::ensure_utilisation()?;
		Self::deposit_event(Event::VaultWithdrawn {
			who: who.clone(),
			shares: withdrawal.shares,
			amount,
		});
		Ok(())
	}

	/// The vault's shares add up, and none are outstanding below the locked minimum.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub(crate) fn check_vault() -> Result<(), sp_runtime::TryRuntimeError> {
		let held = Shares::<T>::iter_values().fold(0u128, |sum, shares| sum.saturating_add(shares));
		let pending =
			Withdrawals::<T>::iter_values().fold(0u128, |sum, w| sum.saturating_add(w.shares));
		let total = TotalShares::<T>::get();
		let counted = held.checked_add(pending).ok_or("vault shares overflow")?;
		// The first deposit locked the minimum, which no one can redeem.
		let locked = if total.is_zero() { 0 } else { T::MinimumShares::get() };
		ensure!(
			counted.checked_add(locked) == Some(total),
			"vault shares held, pending and locked do not add up to the total"
		);
		Ok(())
	}
}
