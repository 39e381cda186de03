//! Profit owed: what the vault cannot pay at once, and the losses that pay it.
//!
//! The vault pays a trader's profit from its deposit, but the losers' losses it is owed stay
//! unrealised until they trade: with the skew balanced, the longs' profit is the shorts' loss,
//! and the vault's value is its deposit while its deposit may be far below what the winners
//! could take. A profit the deposit cannot pay is therefore never refused (a close, a
//! close-out or a deleveraging always settles): the rest is **owed** to the trader
//! ([`ProfitOwed`]), as Drift keeps unsettled profit against its PnL pool.
//!
//! - What is owed counts in the trader's maintenance health as his deposit of the settlement
//!   asset would, and is set against his next loss before anything is charged.
//! - It is the traders' before the LPs': the vault's value counts it as a liability, a
//!   withdrawal is paid only from the deposit beyond it, and a new profit is paid only from
//!   the deposit beyond what was owed before (no one jumps the queue).
//! - Anyone may pay it out ([`Pallet::claim_profit`]), in full, once the vault's deposit holds
//!   all it owes: until then no one is paid (no race to claim first), and each payment keeps
//!   the deposit above what is still owed.
//! - A vault whose LPs' capital is gone (it took a reduction over with none left, and the
//!   price went against it; or a shortfall beyond it) may owe more than it has and will have:
//!   what it owes then waits, paid to no one before another, and no LP can buy in below zero.
//! - It counts against liquidation, not for opening risk: a trader cannot borrow or open
//!   positions against profit the vault has not paid (were the vault's LPs wiped out by a
//!   shortfall, it might never be paid in full). Paid, it is a deposit like any other.
//! - While the vault owes more than its deposit, anyone may **realise a loser's loss**
//!   ([`Pallet::realise_loss`]), no more of it than the vault lacks: his entry price moves
//!   towards the oracle price (to it when all is realised), his funding settles, and what is
//!   realised is charged to him (his USD first, the rest lent to him in the same ledger, as any loss he
//!   settles). His health does not change but by rounding, and a realisation that would leave
//!   him liquidatable is refused (the engine closes such an account). The runtime API lists a
//!   market's positions at a loss ([`Pallet::positions_at_loss`]).

use crate::{
	functions::{add_to, remove_from, units_to_usd},
	math::{self, funding_owed, signed, unrealised_pnl, Signed},
	types::Position,
	Config, Error, Event, Markets, Pallet, Positions, ProfitOwed, TotalProfitOwed,
};
use alloc::vec::Vec;
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get};
use liquidation_primitives::{
	ledger::{Inspect as _, Mutate as _, Settle as _},
	Balance,
};
use sp_runtime::{
	traits::{CheckedAdd, CheckedSub, Saturating, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, Rounding,
};

impl<T: Config> Pallet<T> {
	/// Owes `who` `amount` more of the settlement asset's smallest units.
	pub(crate) fn defer_profit(who: &T::AccountId, amount: Balance) -> DispatchResult {
		let total =
			TotalProfitOwed::<T>::get().checked_add(amount).ok_or(ArithmeticError::Overflow)?;
		let owed =
			ProfitOwed::<T>::get(who).checked_add(amount).ok_or(ArithmeticError::Overflow)?;
		TotalProfitOwed::<T>::put(total);
		ProfitOwed::<T>::insert(who, owed);
		Self::deposit_event(Event::ProfitDeferred { who: who.clone(), amount, owed });
		Ok(())
	}

	/// Takes `paid + offset` off what the vault owes `who` (the caller moved `paid`).
	pub(crate) fn reduce_profit_owed(
		who: &T::AccountId,
		paid: Balance,
		offset: Balance,
	) -> DispatchResult {
		let settled = paid.checked_add(offset).ok_or(ArithmeticError::Overflow)?;
		let owed =
			ProfitOwed::<T>::get(who).checked_sub(settled).ok_or(ArithmeticError::Underflow)?;
		let total =
			TotalProfitOwed::<T>::get().checked_sub(settled).ok_or(ArithmeticError::Underflow)?;
		TotalProfitOwed::<T>::put(total);
		if owed.is_zero() {
			ProfitOwed::<T>::remove(who);
		} else {
			ProfitOwed::<T>::insert(who, owed);
		}
		Self::deposit_event(Event::OwedProfitSettled { who: who.clone(), paid, offset, owed });
		Ok(())
	}

	/// See [`Pallet::claim_profit`].
	pub(crate) fn do_claim_profit(who: &T::AccountId) -> DispatchResult {
		let owed = ProfitOwed::<T>::get(who);
		ensure!(!owed.is_zero(), Error::<T>::NoProfitOwed);
		let asset = T::SettlementAsset::get();
		let vault = Self::vault_account();
		// Paid only once the deposit holds all the vault owes: while it does not, no one is
		// paid before another (no race to claim first), and a payment keeps it so for the rest.
		ensure!(
			T::Ledger::deposit_of(&vault, asset) >= TotalProfitOwed::<T>::get(),
			Error::<T>::VaultCannotPay
		);
		let paid = owed;
		T::Ledger::transfer_deposit(&vault, asset, paid, who)?;
		Self::reduce_profit_owed(who, paid, 0)?;
		T::Ledger::exposure_changed(who);
		Ok(())
	}

	/// See [`Pallet::realise_loss`].
	pub(crate) fn do_realise_loss(who: &T::AccountId, underlying: T::AssetId) -> DispatchResult {
		let vault = Self::vault_account();
		let needed = TotalProfitOwed::<T>::get()
			.saturating_sub(T::Ledger::deposit_of(&vault, T::SettlementAsset::get()));
		ensure!(!needed.is_zero(), Error::<T>::VaultPaysInFull);
		let mut market = Markets::<T>::get(underlying).ok_or(Error::<T>::MarketNotListed)?;
		let price = Self::usable_price(underlying)?;
		let mut state = Self::accrued(&market, price)?;
		let held = Positions::<T>::get(who, underlying).ok_or(Error::<T>::NoPosition)?;
		let pnl = Self::pnl_at(&held, price, state.funding_index)?;
		ensure!(pnl.is_negative(), Error::<T>::NotInLoss);
		let loss = math::unsigned(pnl.saturating_abs()).ok_or(ArithmeticError::Overflow)?;
		// No more than the vault lacks (and one unit, which the ledger's scaled deposit may
		// round away): the rest of the loss stays unrealised.
		let lacking = needed.saturating_add(1);
		let realised = loss.min(units_to_usd(lacking, Self::settlement_decimals()?)?);
		let entry_price = Self::entry_after_realising(&held, price, loss, realised)?;
		let marked = Position { size: held.size, entry_price, funding_index: state.funding_index };
		remove_from(&mut state, &held)?;
		add_to(&mut state, &marked)?;
		market.state = state;
		Markets::<T>::insert(underlying, market);
		Positions::<T>::insert(who, underlying, marked);
		let charge = signed(realised)
			.map(|realised| Signed::zero().saturating_sub(realised))
			.ok_or(ArithmeticError::Overflow)?;
		let (_, charged) = Self::settle(who, charge)?;
		let report = T::Ledger::health(who).map_err(|_| Error::<T>::RealiseWouldLiquidate)?;
		ensure!(!report.is_liquidatable(), Error::<T>::RealiseWouldLiquidate);
		T::Ledger::exposure_changed(who);
		Self::deposit_event(Event::LossRealised {
			who: who.clone(),
			underlying,
			price,
			entry_price,
			loss: realised,
			charged,
		});
		Ok(())
	}

	/// The entry price that leaves `position` (funding settled to now) with `loss - realised`
	/// of its `loss` at `price`: `P + (loss - realised) / s`, rounded so that what is left is
	/// never less (up for a long, down for a short). `P` itself when all is realised.
	fn entry_after_realising(
		position: &Position,
		price: liquidation_primitives::Price,
		loss: FixedU128,
		realised: FixedU128,
	) -> Result<liquidation_primitives::Price, DispatchError> {
		let left = loss.saturating_sub(realised);
		if left.is_zero() {
			return Ok(price);
		}
		let units =
			math::unsigned(position.size.saturating_abs()).ok_or(ArithmeticError::Overflow)?;
		let rounding = if position.size.is_positive() { Rounding::Up } else { Rounding::Down };
		let per_unit = sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
			left.into_inner(),
			FixedU128::DIV,
			units.into_inner(),
			rounding,
		)
		.map(FixedU128::from_inner)
		.ok_or(ArithmeticError::Overflow)?;
		let entry = if position.size.is_positive() {
			price.checked_add(&per_unit)
		} else {
			price.checked_sub(&per_unit)
		};
		// A short's entry stays above zero: its loss is at most its notional's rise.
		entry.filter(|entry| !entry.is_zero()).ok_or_else(|| ArithmeticError::Overflow.into())
	}

	/// `position`'s profit (negative: loss) at `price`, funding owed to `index` deducted, USD.
	fn pnl_at(
		position: &Position,
		price: liquidation_primitives::Price,
		index: Signed,
	) -> Result<Signed, DispatchError> {
		let funding = funding_owed(position.size, position.funding_index, index)
			.ok_or(ArithmeticError::Overflow)?;
		unrealised_pnl(position.size, position.entry_price, price)
			.and_then(|pnl| pnl.checked_sub(&funding))
			.ok_or_else(|| ArithmeticError::Overflow.into())
	}

	/// What the vault owes `who`, USD (zero without reading the settlement asset when nothing).
	pub(crate) fn profit_owed_usd(who: &T::AccountId) -> Result<FixedU128, DispatchError> {
		let owed = ProfitOwed::<T>::get(who);
		if owed.is_zero() {
			return Ok(FixedU128::zero());
		}
		units_to_usd(owed, Self::settlement_decimals()?)
	}

	/// Up to `count` positions at a loss in `underlying` (funding included) at its usable
	/// price, reading the market's traders after `start_after` in storage order: the accounts
	/// and their loss, USD, largest first; and the last account read when more may follow.
	pub fn positions_at_loss(
		underlying: T::AssetId,
		start_after: Option<T::AccountId>,
		count: u32,
	) -> (Vec<(T::AccountId, FixedU128)>, Option<T::AccountId>) {
		let (Some(market), Ok(price)) =
			(Markets::<T>::get(underlying), Self::usable_price(underlying))
		else {
			return (Vec::new(), None);
		};
		let Ok(state) = Self::accrued(&market, price) else { return (Vec::new(), None) };
		let (window, next) = Self::traders_window(underlying, start_after.as_ref(), count);
		let mut losses: Vec<(T::AccountId, FixedU128)> = window
			.into_iter()
			.filter_map(|who| {
				let position = Positions::<T>::get(&who, underlying)?;
				let pnl = Self::pnl_at(&position, price, state.funding_index).ok()?;
				pnl.is_negative()
					.then(|| math::unsigned(pnl.saturating_abs()))
					.flatten()
					.map(|loss| (who, loss))
			})
			.collect();
		losses.sort_by(|a, b| b.1.cmp(&a.1));
		(losses, next)
	}
}
