//! Cover across assets: the fund in one asset pays bad debt in another by selling through the
//! runtime's DEX, within a slippage bound against the oracle.
//!
//! Penalties arrive in the collateral a keeper seized (BTC, ETH, ...) while bad debt is mostly
//! in what was borrowed (USD): a fund that only paid in its own asset would sit on BTC while the
//! USD lenders wait or lose. The fund is therefore *held* per asset (each with its stakers,
//! reserve and cap, as before) and *converted when it pays*: once the fund in the bad debt's own
//! asset has paid what it can in a block, the other funds sell for it, the largest by value
//! first, each within its own per-block cap and the bad debt asset's. A sale sells enough at the
//! oracle price plus [`Config::MaxConversionSlippage`] to buy what is still owed and must bring
//! at least the oracle value less that bound, or it is not made (a thin or manipulated pool
//! cannot drain a fund); what it brings beyond the debt stays in the fund of the bought asset,
//! as its reserve. A fund whose asset has no usable price, or no pool with the bad debt's asset,
//! is left out.
//!
//! ```text
//!   sold   = min(fund's capacity this block, (owed value x (1 + slippage)) / price_sold)
//!   bought >= value(sold) x (1 - slippage) / price_owed        (else no sale)
//!   paid   = min(bought, owed); bought - paid -> reserve of the owed asset's fund
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

	/// What the funds in other assets than `asset` could pay for it in total, at the oracle
	/// less the slippage bound, in `asset`'s smallest units (their per-block caps aside).
	pub(crate) fn convertible_capacity(asset: T::AssetId) -> Balance {
		let Some((price_out, decimals_out)) = Self::priced(asset) else { return 0 };
		let keep = FixedU128::one().saturating_sub(T::MaxConversionSlippage::get().into());
		Funds::<T>::iter_keys()
			.filter(|other| *other != asset)
			.filter_map(|other| {
				let (price_in, decimals_in) = Self::priced(other)?;
				let (fund, _) = Self::vested(other);
				let held = fund.total().min(Self::custody(other));
				let value = value_in_usd(held, decimals_in, price_in)?.saturating_mul(keep);
				amount_for_value(value, decimals_out, price_out)
			})
			.fold(0, |total: Balance, part| total.saturating_add(part))
	}

	/// Pays up to `owed` of bad debt in `asset` to `beneficiary` by selling the other funds'
	/// assets (see the module docs). Returns what was paid, in `asset`.
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
		// The largest fund by value sells first.
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
			let Some(wanted) = amount_for_value(budget, decimals_in, price_in) else { continue };
			let mut fund = Self::vest(other);
			let sold = wanted
				.saturating_add(1)
				.min(fund.total())
				.min(Self::custody(other))
				.min(Self::cover_left_this_block(other));
			if sold.is_zero() {
				continue;
			}
			let Some(sold_value) = value_in_usd(sold, decimals_in, price_in) else { continue };
			let floor = sold_value.saturating_mul(FixedU128::one().saturating_sub(slippage));
			let min_out = amount_for_value(floor, decimals_out, price_out).unwrap_or(Balance::MAX);
			let sale = frame_support::storage::with_storage_layer(|| {
				let bought = T::Swap::sell(&fund_account, other, asset, sold, min_out)?;
				let pay = bought.min(left);
				T::Assets::transfer(
					asset,
					&fund_account,
					beneficiary,
					pay,
					Preservation::Expendable,
				)?;
				Ok::<_, sp_runtime::DispatchError>((bought, pay))
			});
			let Ok((bought, pay)) = sale else {
				log::debug!(target: "runtime::insurance", "no conversion of {other:?} for {asset:?}: {sale:?}");
				continue;
			};
			// The seller's stakers bear it first (income still vesting, then stake), then its
			// reserve; what the sale brought beyond the debt is the bought asset's reserve.
			fund.take_loss(sold);
			if fund.vesting.is_zero() {
				crate::IncomeVesting::<T>::remove(other);
			}
			Funds::<T>::insert(other, fund);
			let extra = bought.saturating_sub(pay);
			if !extra.is_zero() {
				Funds::<T>::mutate(asset, |fund| fund.reserve = fund.reserve.saturating_add(extra));
			}
			let now = frame_system::Pallet::<T>::block_number();
			CoveredInBlock::<T>::mutate(other, |(block, spent)| {
				if *block != now {
					*block = now;
					*spent = 0;
				}
				*spent = spent.saturating_add(sold);
			});
			Totals::<T>::mutate(other, |totals| {
				totals.sold_for_cover = totals.sold_for_cover.saturating_add(sold)
			});
			Self::deposit_event(Event::CoverConverted {
				sold_asset: other,
				sold,
				asset,
				bought,
				paid: pay,
			});
			paid = paid.saturating_add(pay);
		}
		paid
	}
}
