//! [`PriceProvider`] for the other pallets.

use crate::{Config, Pallet, PriceSource, Sources, States};
use frame_support::traits::Time;
use liquidation_primitives::{Price, PriceError, PriceInfo, PriceProvider};

impl<T: Config> PriceProvider<T::AssetId> for Pallet<T> {
	fn price(asset: &T::AssetId) -> Result<PriceInfo, PriceError> {
		Self::usable_price(asset, T::Time::now())
	}

	/// The usable price, else the last accepted one (stale, or halted while a jump awaits
	/// confirmation); `None` for an asset never priced or no longer priced.
	fn valuation_price(asset: &T::AssetId) -> Option<Price> {
		match Sources::<T>::get(asset)? {
			PriceSource::Fixed(price) => Some(price),
			PriceSource::Oracle(_) => States::<T>::get(asset).map(|state| state.price),
		}
	}
}
