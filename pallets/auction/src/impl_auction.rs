//! Auctions as the liquidation engine starts them.

use crate::{AuctionId, Config, Pallet};
use frame_support::traits::Get;
use liquidation_primitives::{Balance, CollateralAuction};
use sp_runtime::DispatchError;

impl<T: Config> CollateralAuction<T::AccountId> for Pallet<T> {
	type AssetId = T::AssetId;
	type Balance = Balance;
	type AuctionId = AuctionId;

	fn custody_account() -> T::AccountId {
		Pallet::<T>::custody_account()
	}

	fn is_running(id: AuctionId) -> bool {
		crate::Auctions::<T>::contains_key(id)
	}

	fn has_capacity() -> bool {
		crate::Auctions::<T>::count() < T::MaxAuctions::get()
	}

	fn start(
		owner: &T::AccountId,
		collateral: T::AssetId,
		lot: Balance,
		debt_asset: T::AssetId,
		target: Balance,
	) -> Result<AuctionId, DispatchError> {
		Self::do_start(owner, collateral, lot, debt_asset, target)
	}
}
