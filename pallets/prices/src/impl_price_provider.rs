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

/// For stress tests only: their changes are always undone (see
/// [`liquidation_primitives::PriceShock`]).
impl<T: Config> liquidation_primitives::PriceShock<T::AssetId> for Pallet<T> {
	fn shock(asset: &T::AssetId, factor: sp_runtime::FixedU128) -> bool {
		use sp_runtime::traits::Saturating;
		// Only inside a storage transaction (which the stress test rolls back).
		if !frame_support::storage::transactional::is_transactional() {
			return false;
		}
		match Sources::<T>::get(asset) {
			None => false,
			Some(PriceSource::Fixed(price)) => {
				Sources::<T>::insert(asset, PriceSource::Fixed(price.saturating_mul(factor)));
				true
			},
			Some(PriceSource::Oracle(_)) => States::<T>::mutate(asset, |state| match state {
				Some(state) => {
					state.price = state.price.saturating_mul(factor);
					state.mark = state.mark.saturating_mul(factor);
					state.stable = state.stable.saturating_mul(factor);
					true
				},
				None => false,
			}),
		}
	}

	fn oracle_assets() -> alloc::vec::Vec<T::AssetId> {
		Sources::<T>::iter()
			.filter(|(asset, source)| {
				matches!(source, PriceSource::Oracle(_)) && States::<T>::contains_key(asset)
			})
			.map(|(asset, _)| asset)
			.collect()
	}
}
