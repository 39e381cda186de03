//! Weights for `pallet_prices`. Regenerate with `scripts/benchmark.sh pallet_prices`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// The weight of each benchmarked call and hook of `pallet_prices`.
pub trait WeightInfo {
	fn set_oracle_source() -> Weight;
	fn set_fixed_price() -> Weight;
	fn remove_asset() -> Weight;
	fn halt() -> Weight;
	fn resume() -> Weight;
	fn process_update() -> Weight;
	fn on_finalize_idle() -> Weight;
}

/// Weights with storage priced by the runtime's `DbWeight`.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn set_oracle_source() -> Weight { T::DbWeight::get().reads_writes(3, 3) }
	fn set_fixed_price() -> Weight { T::DbWeight::get().reads_writes(3, 4) }
	fn remove_asset() -> Weight { T::DbWeight::get().reads_writes(1, 4) }
	fn halt() -> Weight { T::DbWeight::get().reads_writes(2, 1) }
	fn resume() -> Weight { T::DbWeight::get().reads_writes(3, 2) }
	fn process_update() -> Weight { T::DbWeight::get().reads_writes(4, 2) }
	fn on_finalize_idle() -> Weight { T::DbWeight::get().reads_writes(1, 1) }
}

impl WeightInfo for () {
	fn set_oracle_source() -> Weight { RocksDbWeight::get().reads_writes(3, 3) }
	fn set_fixed_price() -> Weight { RocksDbWeight::get().reads_writes(3, 4) }
	fn remove_asset() -> Weight { RocksDbWeight::get().reads_writes(1, 4) }
	fn halt() -> Weight { RocksDbWeight::get().reads_writes(2, 1) }
	fn resume() -> Weight { RocksDbWeight::get().reads_writes(3, 2) }
	fn process_update() -> Weight { RocksDbWeight::get().reads_writes(4, 2) }
	fn on_finalize_idle() -> Weight { RocksDbWeight::get().reads_writes(1, 1) }
}
