//! The fund as the other pallets use it.

use crate::{Config, Pallet};
use frame_support::pallet_prelude::DispatchResult;
use liquidation_primitives::{Balance, DeficitHandler, FundIncome};

impl<T: Config> DeficitHandler<T::AccountId, T::AssetId, Balance> for Pallet<T> {
	fn cover(asset: T::AssetId, amount: Balance, beneficiary: &T::AccountId) -> Balance {
		Self::do_cover(asset, amount, beneficiary)
	}
}

impl<T: Config> FundIncome<T::AccountId, T::AssetId, Balance> for Pallet<T> {
	fn deposit_income(asset: T::AssetId, payer: &T::AccountId, amount: Balance) -> DispatchResult {
		Self::do_deposit_income(asset, payer, amount)
	}
}
