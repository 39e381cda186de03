//! Cover across assets: the fund in one asset pays bad debt in another by selling through the
//! runtime's DEX, within a slippage bound against the oracle.
//!
//! Penalties arrive in the collateral a keeper seized (BTC, ETH, ...) while bad debt is mostly
//! in what was borrowed (USD): a fund that only paid in its own asset would sit on BTC while the
//! USD lenders wait or lose. The fund is therefore *held* per asset (each with its stakers,
//! protocol-owned value and cap, as before) and *converted when it pays*: once the fund in the bad debt's own
//! asset has paid what it can in a block, the other funds buy it, the largest by value first,
//! each within its own per-block cap and the bad debt asset's
//! ([`liquidation_primitives::DeficitHandler::cover_by_sales`]). A purchase buys exactly what is
//! still owed and pays at most its oracle value plus [`Config::MaxConversionSlippage`] in the
//! seller's asset, or it is not made: a thin or manipulated pool cannot drain a fund, and a fair
//! one takes only its price. A fund whose asset has no usable price, or no pool with the bad
//! debt's asset, is left out. The engine buys only at the start of a block (its bad-debt queue
//! in `on_initialize`), never inside a transaction, so no one can move the pool, trigger a
//! purchase and move it back in one batch.
//!
//! ```text
//!   bought = owed (exactly),  paid in the sold asset <= value(owed) x (1 + slippage) / price_sold
//! ```

use crate::{Config, CoveredInBlock, Event, Funds, Pallet, Totals};
use alloc::vec::Vec;
use frame_support::traits::{fungibles::Mutate, tokens::Preservation, Get};
use liquidation_primitives::{
	value_in_usd, AssetDecimals, Balance, CollateralSwap, Decimals, Price, PriceProvider,
};
use sp_runtime::{
	traits::{CheckedDiv, One, Saturating, Zero},
	FixedU128,
};

/// `value` USD of an asset with `decimals` decimal places at `price`, in smallest units, rounded
/// down; `None` if it does not fit.
pub fn amount_for_value(value: FixedU128, decimals: Decimals, price: Price) -> Option<Balance> {
	if u32::from(decimals) > 18 || price.is_zero() {
		return None;
	}
	let whole = value.checked_div(&price)?;
	let scale = 10u128.checked_pow(18 - u32::from(decimals))?;
	Some(whole.into_inner() / scale)
}

impl<T: Config> Pallet<T> {
	/// The usable price and decimals of `asset`, if both are known.
	fn priced(asset: T::AssetId) -> Option<(Price, Decimals)> {
		let price = T::Prices::price(&asset).ok()?.price;
		Some((price, T::Decimals::decimals(asset)?))
	}

	/// The price a fund is valued at for capacity (the usable price, else the last accepted
	/// one: a halt in a crash does not make a fund worthless), and decimals.
	fn valued(asset: T::AssetId) -> Option<(Price, Decimals)> {
		let price = T::Prices::valuation_price(&asset)?;
		Some((price, T::Decimals::decimals(asset)?))
	}

	/// What the funds in other assets than `asset` could pay for it in total, at the oracle
	/// less the slippage bound, in `asset`'s smallest units (their per-block caps aside; the
	/// same funds are counted for every asset that asks).
	pub(crate) fn convertible_capacity(asset: T::AssetId) -> Balance {
		let Some((price_out, decimals_out)) = Self::valued(asset) else { return 0 };
		let keep = FixedU128::one().saturating_sub(T::MaxConversionSlippage::get().into());
		Funds::<T>::iter_keys()
			.filter(|other| *other != asset)
			.filter_map(|other| {
				let (price_in, decimals_in) = Self::valued(other)?;
				let held = Self::vested(other).0.total().min(Self::custody(other));
				let value = value_in_usd(held, decimals_in, price_in)?.saturating_mul(keep);
				amount_for_value(value, decimals_out, price_out)
			})
			.fold(0, |total: Balance, part| total.saturating_add(part))
	}

	/// Pays up to `owed` of bad debt in `asset` to `beneficiary` with what the other funds buy
	/// of it (see the module docs). Returns what was paid, in `asset`.
	pub(crate) fn cover_by_conversion(
		asset: T::AssetId,
		owed: Balance,
		beneficiary: &T::AccountId,
	) -> Balance {
		let Some((price_out, decimals_out)) = Self::priced(asset) else { return 0 };
		let slippage = FixedU128::from(T::MaxConversionSlippage::get());
		let mut others: Vec<(T::AssetId, FixedU128)> = Funds::<T>::iter_keys()
			.filter(|other| *other != asset)
			.filter_map(|other| {
				let (price, decimals) = Self::priced(other)?;
				let held = Self::vested(other).0.total().min(Self::custody(other));
				Some((other, value_in_usd(held, decimals, price)?))
			})
			.filter(|(_, value)| !value.is_zero())
			.collect();
		// The largest fund by value buys first.
		others.sort_by(|a, b| b.1.cmp(&a.1));
		let fund_account = Self::fund_account();
		let mut paid: Balance = 0;
		for (other, _) in others {
			let left = owed.saturating_sub(paid);
			if left.is_zero() {
				break;
			}
			let Some((price_in, decimals_in)) = Self::priced(other) else { continue };
			let Some(owed_value) = value_in_usd(left, decimals_out, price_out) else { continue };
			let budget = owed_value.saturating_mul(FixedU128::one().saturating_add(slippage));
			let Some(most) = amount_for_value(budget, decimals_in, price_in) else { continue };
			// Sized on the fund as it stands (nothing written unless the purchase is made).
			let max_in = most
				.min(Self::vested(other).0.total())
				.min(Self::custody(other))
				.min(Self::cover_left_this_block(other));
			if max_in.is_zero() {
				continue;
			}
			// Exactly what is owed, or as much of it as the budget buys at the oracle price.
			let affordable = value_in_usd(max_in, decimals_in, price_in)
				.and_then(|value| {
					let fair = value.checked_div(&FixedU128::one().saturating_add(slippage))?;
					amount_for_value(fair, decimals_out, price_out)
				})
				.unwrap_or(0);
			let buy = left.min(affordable);
			if buy.is_zero() {
				continue;
			}
			let purchase = frame_support::storage::with_storage_layer(|| {
				let spent = T::Swap::buy(&fund_account, other, asset, buy, max_in)?;
				T::Assets::transfer(
					asset,
					&fund_account,
					beneficiary,
					buy,
					Preservation::Expendable,
				)?;
				Ok::<_, sp_runtime::DispatchError>(spent)
			});
			let Ok(spent) = purchase else {
				log::debug!(target: "runtime::insurance", "no purchase of {asset:?} with {other:?}: {purchase:?}");
				continue;
			};
			// The buyer's stakers bear it first (income still vesting, then stake), then its
			// protocol-owned value.
			let mut fund = Self::vest(other);
			fund.take_loss(spent);
			if fund.vesting.is_zero() {
				crate::IncomeVesting::<T>::remove(other);
			}
			Funds::<T>::insert(other, fund);
			let now = frame_system::Pallet::<T>::block_number();
			CoveredInBlock::<T>::mutate(other, |(block, used)| {
				if *block != now {
					*block = now;
					*used = 0;
				}
				*used = used.saturating_add(spent);
			});
			Totals::<T>::mutate(other, |totals| {
				totals.sold_for_cover = totals.sold_for_cover.saturating_add(spent)
			});
			Self::deposit_event(Event::CoverConverted {
				sold_asset: other,
				sold: spent,
				asset,
				paid: buy,
			});
			paid = paid.saturating_add(buy);
		}
		paid
	}
}
