//! Weights for `pallet_liquidation`: the `WeightInfo` interface. `scripts/benchmark.sh
//! pallet_liquidation` regenerates this file with the measured `SubstrateWeight`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// The weight of each benchmarked call and hook of `pallet_liquidation`.
pub trait WeightInfo {
	fn liquidate() -> Weight;
	fn flash_liquidate() -> Weight;
	fn liquidate_unsigned() -> Weight;
	fn settle_bankrupt(p: u32, ) -> Weight;
	fn set_params() -> Weight;
	fn set_asset_limits() -> Weight;
	fn set_paused() -> Weight;
}

impl WeightInfo for () {
	fn liquidate() -> Weight { Weight::zero() }
	fn flash_liquidate() -> Weight { Weight::zero() }
	fn liquidate_unsigned() -> Weight { Weight::zero() }
	fn settle_bankrupt(_p: u32, ) -> Weight { Weight::zero() }
	fn set_params() -> Weight { Weight::zero() }
	fn set_asset_limits() -> Weight { Weight::zero() }
	fn set_paused() -> Weight { Weight::zero() }
}

/// Replaced by `scripts/benchmark.sh pallet_liquidation` with the measured weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn liquidate() -> Weight { <() as WeightInfo>::liquidate() }
	fn flash_liquidate() -> Weight { <() as WeightInfo>::flash_liquidate() }
	fn liquidate_unsigned() -> Weight { <() as WeightInfo>::liquidate_unsigned() }
	fn settle_bankrupt(p: u32, ) -> Weight { <() as WeightInfo>::settle_bankrupt(p) }
	fn set_params() -> Weight { <() as WeightInfo>::set_params() }
	fn set_asset_limits() -> Weight { <() as WeightInfo>::set_asset_limits() }
	fn set_paused() -> Weight { <() as WeightInfo>::set_paused() }
}
