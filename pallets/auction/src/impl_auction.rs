//! Auctions as the liquidation engine starts them.

use crate::{AuctionId, Config, Pallet};
use frame_support::traits::Get;
use liquidation_primitives::{AuctionLot, Balance, CollateralAuction};
use sp_runtime::{traits::Zero, DispatchError};

/// An asset is in use while lots of it are at auction.
impl<T: Config> liquidation_primitives::PriceUsers<T::AssetId> for Pallet<T> {
	fn in_use(asset: &T::AssetId) -> bool {
		!crate::LotTotals::<T>::get(asset).is_zero()
	}
}

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

	fn lot_of(id: AuctionId) -> Option<AuctionLot<T::AssetId, Balance>> {
		crate::Auctions::<T>::get(id).map(|auction| AuctionLot {
			collateral: auction.collateral,
			lot: auction.lot,
			debt_asset: auction.debt_asset,
			to_raise: auction.to_raise,
		})
	}

	fn has_capacity() -> bool {
		crate::Auctions::<T>::count() < T::MaxAuctions::get()
	}

	fn start(
		owner: &T::AccountId,
		collateral: T::AssetId,
		lot: Balance,
		debt_asset: T::AssetId,
		to_raise: Balance,
	) -> Result<AuctionId, DispatchError> {
		Self::do_start(owner, collateral, lot, debt_asset, to_raise)
	}
}
