//! [`PriceProvider`] for the other pallets.

use crate::{Config, Pallet};
use frame_support::traits::Time;
use liquidation_primitives::{PriceError, PriceInfo, PriceProvider};

impl<T: Config> PriceProvider<T::AssetId> for Pallet<T> {
	fn price(asset: &T::AssetId) -> Result<PriceInfo, PriceError> {
		Self::usable_price(asset, T::Time::now())
	}
}
