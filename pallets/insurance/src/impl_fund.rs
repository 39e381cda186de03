//! The fund as the other pallets use it.

use crate::{Config, Pallet};
use frame_support::pallet_prelude::DispatchResult;
use liquidation_primitives::{Balance, DeficitHandler, FundIncome};

impl<T: Config> DeficitHandler<T::AccountId, T::AssetId, Balance> for Pallet<T> {
	fn cover(asset: T::AssetId, amount: Balance, beneficiary: &T::AccountId) -> Balance {
		Self::do_cover(asset, amount, beneficiary)
	}

	fn capacity(asset: T::AssetId) -> Balance {
		if !crate::Params::<T>::contains_key(asset) {
			return 0;
		}
		let own = Self::vested(asset).0.total().min(Self::custody(asset));
		own.saturating_add(Self::convertible_capacity(asset))
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
