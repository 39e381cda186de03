//! The fund as the other pallets use it.

use crate::{Config, Pallet};
use frame_support::pallet_prelude::DispatchResult;
use liquidation_primitives::{Balance, DeficitHandler, FundIncome};

impl<T: Config> DeficitHandler<T::AccountId, T::AssetId, Balance> for Pallet<T> {
	fn cover(asset: T::AssetId, amount: Balance, beneficiary: &T::AccountId) -> Balance {
		Self::do_cover(asset, amount, beneficiary)
	}

	fn cover_by_sales(asset: T::AssetId, amount: Balance, beneficiary: &T::AccountId) -> Balance {
		Self::do_cover_by_sales(asset, amount, beneficiary)
	}

	fn capacity(asset: T::AssetId, blocks: u32) -> Balance {
		let Some(params) = crate::Params::<T>::get(asset) else { return 0 };
		let own = Self::vested(asset).0.total().min(Self::custody(asset));
		let held = own.saturating_add(Self::convertible_capacity(asset));
		let by_cap = Self::cover_left_this_block(asset)
			.saturating_add(params.max_cover_per_block.saturating_mul(blocks.into()));
		held.min(by_cap)
	}

	fn own_capacity(asset: T::AssetId, blocks: u32) -> Balance {
		let Some(params) = crate::Params::<T>::get(asset) else { return 0 };
		let own = Self::vested(asset).0.total().min(Self::custody(asset));
		let by_cap = Self::cover_left_this_block(asset)
			.saturating_add(params.max_cover_per_block.saturating_mul(blocks.into()));
		own.min(by_cap)
	}

	fn coverable_now(asset: T::AssetId) -> Balance {
		Self::coverage_of(asset, Balance::MAX)
	}
}

impl<T: Config> FundIncome<T::AccountId, T::AssetId, Balance> for Pallet<T> {
	fn deposit_income(asset: T::AssetId, payer: &T::AccountId, amount: Balance) -> DispatchResult {
		Self::do_deposit_income(asset, payer, amount)
	}
}
