//! Listing, trading and settlement.

use crate::{
	math::{self, fill_price, funding_owed, signed, trade, Signed},
	types::{Market, MarketParams, MarketState, MarketStatus, ParamsError, Position},
	Config, Error, Event, Markets, Pallet, PositionCount, Positions, Vault, VaultParams,
};
use frame_support::{ensure, pallet_prelude::DispatchResult, traits::Get};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{
	ledger::{Inspect, Mutate, Settle},
	AssetDecimals, Balance, Decimals, Price, PriceProvider,
};
use sp_runtime::{
	traits::{CheckedAdd, CheckedMul, CheckedSub, One, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, Rounding,
};

impl<T: Config> Pallet<T> {
	pub(crate) fn params_error(error: ParamsError) -> Error<T> {
		match error {
			ParamsError::SkewScale => Error::<T>::SkewScaleZero,
			ParamsError::MarginFraction => Error::<T>::MarginFractionOutOfRange,
			ParamsError::Funding => Error::<T>::FundingOutOfRange,
			ParamsError::Fee => Error::<T>::FeeTooHigh,
			ParamsError::ProfitWeight => Error::<T>::ProfitWeightOutOfRange,
			ParamsError::LiquidationFee => Error::<T>::LiquidationFeeTooHigh,
		}
	}

	/// Lists a market (checked), funding starting now.
	pub(crate) fn do_list_market(underlying: T::AssetId, params: MarketParams) -> DispatchResult {
		params.check().map_err(Self::params_error)?;
		ensure!(!Markets::<T>::contains_key(underlying), Error::<T>::MarketAlreadyListed);
		ensure!(Markets::<T>::count() < T::MaxMarkets::get(), Error::<T>::TooManyMarkets);
		let state = MarketState { accrued_at: Self::now(), ..Default::default() };
		Markets::<T>::insert(underlying, Market { params, status: MarketStatus::Active, state });
		Self::deposit_event(Event::MarketListed { underlying, params });
		Ok(())
	}

	/// Sets a market's parameters (checked), funding accrued under the old ones first.
	pub(crate) fn do_set_market_params(
		underlying: T::AssetId,
		params: MarketParams,
	) -> DispatchResult {
		params.check().map_err(Self::params_error)?;
		let mut market = Markets::<T>::get(underlying).ok_or(Error::<T>::MarketNotListed)?;
		let price = Self::held_price(underlying)?;
		market.state = Self::accrued(&market, price)?;
		// A lower bound holds from now on.
		let bound = signed(params.max_funding_rate).ok_or(ArithmeticError::Overflow)?;
		market.state.funding_rate = market.state.funding_rate.max(-bound).min(bound);
		market.params = params;
		Markets::<T>::insert(underlying, market);
		// Distances filed under the old parameters no longer bound this market's positions:
		// its lists are read whole until the next reference.
		for slot in [0u8, 1] {
			crate::ReferenceFunding::<T>::remove(slot, underlying);
		}
		Self::deposit_event(Event::MarketParamsSet { underlying, params });
		Ok(())
	}

	/// Sets the vault's parameters (checked).
	pub(crate) fn do_set_vault_params(params: VaultParams<BlockNumberFor<T>>) -> DispatchResult {
		ensure!(
			params.withdrawal_delay_blocks <= T::MaxWithdrawalDelay::get()
				&& !params.max_utilisation.is_zero(),
			Error::<T>::VaultParamsOutOfRange
		);
		Vault::<T>::put(params);
		Self::deposit_event(Event::VaultParamsSet { params });
		Ok(())
	}

	/// The usable oracle price of `underlying`.
	pub(crate) fn usable_price(underlying: T::AssetId) -> Result<Price, DispatchError> {
		T::Prices::price(&underlying)
			.map(|info| info.price)
			.map_err(|error| Error::<T>::Price(error).into())
	}

	/// The price positions in `underlying` are valued at when nothing is traded (funding
	/// accrual, the vault's value): the valuation rule of the engine (the last accepted price
	/// when the current one is stale or halted).
	pub(crate) fn held_price(underlying: T::AssetId) -> Result<Price, DispatchError> {
		match T::Prices::price(&underlying) {
			Ok(info) => Ok(info.price),
			Err(error) => {
				T::Prices::valuation_price(&underlying).ok_or(Error::<T>::Price(error).into())
			},
		}
	}

	/// `market`'s state with funding accrued to now at `price`.
	pub(crate) fn accrued(market: &Market, price: Price) -> Result<MarketState, DispatchError> {
		market
			.state
			.accrued(&market.params, price, Self::now())
			.ok_or_else(|| ArithmeticError::Overflow.into())
	}

	/// The settlement asset's decimals.
	pub(crate) fn settlement_decimals() -> Result<Decimals, DispatchError> {
		T::Decimals::decimals(T::SettlementAsset::get()).ok_or(Error::<T>::MarketNotListed.into())
	}

	/// Trades `delta` of `underlying` for `who`: see [`Pallet::modify_position`].
	pub(crate) fn do_trade(
		who: &T::AccountId,
		underlying: T::AssetId,
		delta: Signed,
		limit_price: Price,
	) -> DispatchResult {
		ensure!(!delta.is_zero(), Error::<T>::ZeroSize);
		// A liquidatable account does not trade: its loss could exceed its collateral, and a
		// charge beyond it would be lent at the lenders' risk. Its positions are the
		// liquidation engine's to close (or its owner adds collateral first).
		let liquidatable = T::Ledger::health(who).map(|report| report.is_liquidatable());
		ensure!(liquidatable == Ok(false), Error::<T>::AccountLiquidatable);
		let mut market = Markets::<T>::get(underlying).ok_or(Error::<T>::MarketNotListed)?;
		let price = Self::usable_price(underlying)?;
		let params = market.params;
		let mut state = Self::accrued(&market, price)?;
		let old = Positions::<T>::get(who, underlying);
		let held = old.unwrap_or_default();
		let skew = state.skew().ok_or(ArithmeticError::Overflow)?;
		let scale = signed(params.skew_scale).ok_or(ArithmeticError::Overflow)?;
		let fill = fill_price(price, skew, delta, scale).ok_or(Error::<T>::TradeTooLarge)?;
		let within_limit =
			if delta.is_positive() { fill <= limit_price } else { fill >= limit_price };
		ensure!(within_limit, Error::<T>::PriceLimitExceeded);
		let traded =
			trade(held.size, held.entry_price, delta, fill).ok_or(ArithmeticError::Overflow)?;
		let adds_risk = adds_risk(held.size, traded.size);
		ensure!(!adds_risk || market.status == MarketStatus::Active, Error::<T>::MarketPaused);
		if !traded.size.is_zero() {
			let notional = notional(traded.size, price)?;
			ensure!(
				notional >= FixedU128::saturating_from_integer(params.min_position_usd),
				Error::<T>::PositionTooSmall
			);
		}

		// Funding owed since the position last settled, then the fee.
		let funding = funding_owed(held.size, held.funding_index, state.funding_index)
			.ok_or(ArithmeticError::Overflow)?;
		let fee = mul_up(notional(delta, fill)?, FixedU128::from(params.taker_fee))?;

		// Open interest and the market's sums: the old position out, the new one in.
		let new = replace_position(&mut state, &held, &traded)?;
		let side_grew = |before: FixedU128, after: FixedU128| after > before;
		let long_grew = side_grew(market.state.long_interest, state.long_interest);
		let short_grew = side_grew(market.state.short_interest, state.short_interest);
		let cap = FixedU128::saturating_from_integer(params.max_open_interest_usd);
		if long_grew {
			ensure!(
				notional_of(state.long_interest, price)? <= cap,
				Error::<T>::OpenInterestCapExceeded
			);
		}
		if short_grew {
			ensure!(
				notional_of(state.short_interest, price)? <= cap,
				Error::<T>::OpenInterestCapExceeded
			);
		}
		let new_skew = state.skew().ok_or(ArithmeticError::Overflow)?;
		// A reduction never needs the vault's room (a trader can always get out).
		let skew_grew = adds_risk && new_skew.saturating_abs() > skew.saturating_abs();

		// Write the market and the position, then settle and judge the account.
		market.state = state;
		Markets::<T>::insert(underlying, market);
		Self::write_position(who, underlying, old.is_some(), new.as_ref())?;
		let net = traded
			.realised
			.checked_sub(&funding)
			.and_then(|n| n.checked_sub(&signed(fee)?))
			.ok_or(ArithmeticError::Overflow)?;
		let (paid, charged) = Self::settle(who, net)?;
		if skew_grew {
			Self::ensure_utilisation()?;
		}
		T::Ledger::exposure_changed(who);
		if adds_risk {
			T::Ledger::ensure_initial_health(who)?;
		}
		Self::deposit_event(Event::PositionModified {
			who: who.clone(),
			underlying,
			size_delta: delta,
			fill_price: fill,
			oracle_price: price,
			size: traded.size,
			entry_price: traded.entry,
			realised_pnl: traded.realised,
			funding,
			fee,
			paid,
			charged,
		});
		Ok(())
	}

	/// Stores `who`'s position in `underlying` after a trade or close-out (`None`: closed), its
	/// count of positions kept (`had` says whether one was stored before).
	pub(crate) fn write_position(
		who: &T::AccountId,
		underlying: T::AssetId,
		had: bool,
		new: Option<&Position>,
	) -> DispatchResult {
		match (had, new) {
			(false, Some(position)) => {
				let count = PositionCount::<T>::get(who);
				ensure!(count < T::MaxPositionsPerAccount::get(), Error::<T>::TooManyPositions);
				PositionCount::<T>::insert(who, count.saturating_add(1));
				Positions::<T>::insert(who, underlying, position);
				crate::MarketTraders::<T>::insert(underlying, who, ());
			},
			(true, Some(position)) => Positions::<T>::insert(who, underlying, position),
			(true, None) => {
				Positions::<T>::remove(who, underlying);
				crate::MarketTraders::<T>::remove(underlying, who);
				let count = PositionCount::<T>::get(who).saturating_sub(1);
				if count.is_zero() {
					PositionCount::<T>::remove(who);
				} else {
					PositionCount::<T>::insert(who, count);
				}
			},
			(false, None) => {},
		}
		Ok(())
	}

	/// Settles `net` USD between `who` and the vault. Positive: paid to him from the vault's
	/// deposit beyond the profit it already owes others, rounded down; what that cannot pay is
	/// owed to him ([`crate::ProfitOwed`]). Negative: set against profit the vault owes him
	/// first, the rest charged to him in the vault's favour, rounded up. Returns `(paid,
	/// charged)` in the settlement asset's smallest units (`paid` counts what is owed).
	pub(crate) fn settle(
		who: &T::AccountId,
		net: Signed,
	) -> Result<(Balance, Balance), DispatchError> {
		let decimals = Self::settlement_decimals()?;
		let asset = T::SettlementAsset::get();
		let vault = Self::vault_account();
		let magnitude = math::unsigned(net.saturating_abs()).ok_or(ArithmeticError::Overflow)?;
		if net.is_positive() {
			let amount = usd_to_units(magnitude, decimals, Rounding::Down)?;
			if amount.is_zero() {
				return Ok((0, 0));
			}
			// Those owed before are paid before: a newcomer takes only the deposit beyond.
			let free = T::Ledger::deposit_of(&vault, asset)
				.saturating_sub(crate::TotalProfitOwed::<T>::get());
			let cash = amount.min(free);
			if !cash.is_zero() {
				T::Ledger::transfer_deposit(&vault, asset, cash, who)?;
			}
			let deferred = amount.saturating_sub(cash);
			if !deferred.is_zero() {
				Self::defer_profit(who, deferred)?;
			}
			Ok((amount, 0))
		} else {
			let amount = usd_to_units(magnitude, decimals, Rounding::Up)?;
			if amount.is_zero() {
				return Ok((0, 0));
			}
			let offset = amount.min(crate::ProfitOwed::<T>::get(who));
			if !offset.is_zero() {
				Self::reduce_profit_owed(who, 0, offset)?;
			}
			let rest = amount.saturating_sub(offset);
			if !rest.is_zero() {
				T::Ledger::charge(who, asset, rest, &vault)?;
			}
			Ok((0, amount))
		}
	}

	/// Checks the invariants: every position in a listed market and non-zero, counted per
	/// account; each market's open interest and sums equal to those of its positions; funding
	/// accrued no later than now and its rate within its bound; vault shares adding up.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let mut sums: BTreeMap<T::AssetId, MarketState> = BTreeMap::new();
		let mut counts: BTreeMap<T::AccountId, u32> = BTreeMap::new();
		for (who, underlying, position) in Positions::<T>::iter() {
			ensure!(Markets::<T>::contains_key(underlying), "a position in an unlisted market");
			ensure!(!position.size.is_zero(), "a position of size zero is stored");
			let sum = sums.entry(underlying).or_default();
			add_to(sum, &position).map_err(|_| "position sums overflow")?;
			ensure!(
				crate::MarketTraders::<T>::contains_key(underlying, &who),
				"a position's account is not among its market's traders"
			);
			let count = counts.entry(who).or_default();
			*count = count.saturating_add(1);
		}
		ensure!(
			crate::MarketTraders::<T>::iter_keys().count() == Positions::<T>::iter_keys().count(),
			"a market lists a trader without a position there"
		);
		for (who, count) in PositionCount::<T>::iter() {
			ensure!(counts.get(&who) == Some(&count), "position count out of step");
			ensure!(count <= T::MaxPositionsPerAccount::get(), "too many positions");
			// Else the liquidation engine would never see it.
			ensure!(T::Ledger::watches(&who), "an account with positions is not in the risk index");
		}
		ensure!(
			counts.len() == PositionCount::<T>::iter().count(),
			"an account with positions is not counted"
		);
		let now = Self::now();
		for (underlying, market) in Markets::<T>::iter() {
			let sum = sums.remove(&underlying).unwrap_or_default();
			let state = market.state;
			ensure!(
				sum.long_interest == state.long_interest
					&& sum.short_interest == state.short_interest,
				"open interest is not the sum of the positions"
			);
			ensure!(
				sum.entry_sum == state.entry_sum && sum.funding_sum == state.funding_sum,
				"a market's sums are not those of its positions"
			);
			ensure!(state.accrued_at <= now, "funding accrued in the future");
			let bound = signed(market.params.max_funding_rate).ok_or("funding bound overflow")?;
			ensure!(state.funding_rate.saturating_abs() <= bound, "funding rate beyond its bound");
		}
		let mut owed_total: Balance = 0;
		for (who, owed) in crate::ProfitOwed::<T>::iter() {
			ensure!(!owed.is_zero(), "a zero profit owed is stored");
			owed_total = owed_total.checked_add(owed).ok_or("profit owed overflows")?;
			// Else a bankrupt account owed profit could have its debt written off.
			ensure!(T::Ledger::watches(&who), "an account owed profit is not in the risk index");
		}
		ensure!(
			owed_total == crate::TotalProfitOwed::<T>::get(),
			"the total profit owed is not the sum of what each trader is owed"
		);
		Self::check_vault()
	}
}

/// Whether a position of `before` becoming `after` adds risk: it grows, or flips side.
pub(crate) fn adds_risk(before: Signed, after: Signed) -> bool {
	after.saturating_abs() > before.saturating_abs()
		|| (!before.is_zero() && !after.is_zero() && before.is_positive() != after.is_positive())
}

/// The position `traded` leaves (`None`: closed), settled to the market's funding index, with
/// `state`'s open interest and sums moved from `held` to it.
pub(crate) fn replace_position(
	state: &mut MarketState,
	held: &Position,
	traded: &math::Traded,
) -> Result<Option<Position>, DispatchError> {
	let new = (!traded.size.is_zero()).then_some(Position {
		size: traded.size,
		entry_price: traded.entry,
		funding_index: state.funding_index,
	});
	remove_from(state, held)?;
	if let Some(position) = &new {
		add_to(state, position)?;
	}
	Ok(new)
}

/// Adds `position` to `state`'s open interest and sums.
pub(crate) fn add_to(state: &mut MarketState, position: &Position) -> Result<(), DispatchError> {
	let magnitude =
		math::unsigned(position.size.saturating_abs()).ok_or(ArithmeticError::Overflow)?;
	if position.size.is_positive() {
		state.long_interest =
			state.long_interest.checked_add(&magnitude).ok_or(ArithmeticError::Overflow)?;
	} else {
		state.short_interest =
			state.short_interest.checked_add(&magnitude).ok_or(ArithmeticError::Overflow)?;
	}
	state.entry_sum =
		state.entry_sum.checked_add(&entry_term(position)?).ok_or(ArithmeticError::Overflow)?;
	state.funding_sum =
		state.funding_sum.checked_add(&funding_term(position)?).ok_or(ArithmeticError::Overflow)?;
	Ok(())
}

/// Takes `position` (possibly the default, empty one) out of `state`'s open interest and sums.
pub(crate) fn remove_from(
	state: &mut MarketState,
	position: &Position,
) -> Result<(), DispatchError> {
	if position.size.is_zero() {
		return Ok(());
	}
	let magnitude =
		math::unsigned(position.size.saturating_abs()).ok_or(ArithmeticError::Overflow)?;
	if position.size.is_positive() {
		state.long_interest =
			state.long_interest.checked_sub(&magnitude).ok_or(ArithmeticError::Underflow)?;
	} else {
		state.short_interest =
			state.short_interest.checked_sub(&magnitude).ok_or(ArithmeticError::Underflow)?;
	}
	state.entry_sum =
		state.entry_sum.checked_sub(&entry_term(position)?).ok_or(ArithmeticError::Overflow)?;
	state.funding_sum =
		state.funding_sum.checked_sub(&funding_term(position)?).ok_or(ArithmeticError::Overflow)?;
	Ok(())
}

/// `size × entry`, the position's part of [`MarketState::entry_sum`].
fn entry_term(position: &Position) -> Result<Signed, DispatchError> {
	signed(position.entry_price)
		.and_then(|entry| position.size.checked_mul(&entry))
		.ok_or_else(|| ArithmeticError::Overflow.into())
}

/// `size × funding index`, the position's part of [`MarketState::funding_sum`].
fn funding_term(position: &Position) -> Result<Signed, DispatchError> {
	position
		.size
		.checked_mul(&position.funding_index)
		.ok_or_else(|| ArithmeticError::Overflow.into())
}

/// `|size| × price`, USD.
pub(crate) fn notional(size: Signed, price: Price) -> Result<FixedU128, DispatchError> {
	let magnitude = math::unsigned(size.saturating_abs()).ok_or(ArithmeticError::Overflow)?;
	notional_of(magnitude, price)
}

/// `units × price`, USD.
pub(crate) fn notional_of(units: FixedU128, price: Price) -> Result<FixedU128, DispatchError> {
	units.checked_mul(&price).ok_or_else(|| ArithmeticError::Overflow.into())
}

/// `a × b`, rounded up.
pub(crate) fn mul_up(a: FixedU128, b: FixedU128) -> Result<FixedU128, DispatchError> {
	sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
		a.into_inner(),
		b.into_inner(),
		FixedU128::DIV,
		Rounding::Up,
	)
	.map(FixedU128::from_inner)
	.ok_or_else(|| ArithmeticError::Overflow.into())
}

/// A USD value in smallest units of an asset of `decimals` worth one USD a whole unit.
pub(crate) fn usd_to_units(
	value: FixedU128,
	decimals: Decimals,
	rounding: Rounding,
) -> Result<Balance, DispatchError> {
	let unit = 10u128.checked_pow(u32::from(decimals)).ok_or(ArithmeticError::Overflow)?;
	sp_runtime::helpers_128bit::multiply_by_rational_with_rounding(
		value.into_inner(),
		unit,
		FixedU128::DIV,
		rounding,
	)
	.ok_or_else(|| ArithmeticError::Overflow.into())
}

/// Smallest units of an asset of `decimals` worth one USD a whole unit, in USD.
pub(crate) fn units_to_usd(
	amount: Balance,
	decimals: Decimals,
) -> Result<FixedU128, DispatchError> {
	liquidation_primitives::value_in_usd(amount, decimals, FixedU128::one())
		.ok_or_else(|| ArithmeticError::Overflow.into())
}
