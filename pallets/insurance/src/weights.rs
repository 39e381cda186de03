//! Weights for `pallet_insurance`. Regenerate with `scripts/benchmark.sh pallet_insurance`.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// The weight of each benchmarked call of `pallet_insurance`.
pub trait WeightInfo {
	fn stake() -> Weight;
	fn request_unstake() -> Weight;
	fn cancel_unstake() -> Weight;
	fn withdraw() -> Weight;
	fn set_fund_params() -> Weight;
	fn set_cooldown() -> Weight;
	fn withdraw_surplus() -> Weight;
}

/// Weights with storage priced by the runtime's `DbWeight`.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn stake() -> Weight { T::DbWeight::get().reads_writes(6, 5) }
	fn request_unstake() -> Weight { T::DbWeight::get().reads_writes(3, 1) }
	fn cancel_unstake() -> Weight { T::DbWeight::get().reads_writes(1, 1) }
	fn withdraw() -> Weight { T::DbWeight::get().reads_writes(7, 6) }
	fn set_fund_params() -> Weight { T::DbWeight::get().reads_writes(2, 2) }
	fn set_cooldown() -> Weight { T::DbWeight::get().writes(2) }
	fn withdraw_surplus() -> Weight { T::DbWeight::get().reads_writes(6, 5) }
}

impl WeightInfo for () {
	fn stake() -> Weight { RocksDbWeight::get().reads_writes(6, 5) }
	fn request_unstake() -> Weight { RocksDbWeight::get().reads_writes(3, 1) }
	fn cancel_unstake() -> Weight { RocksDbWeight::get().reads_writes(1, 1) }
	fn withdraw() -> Weight { RocksDbWeight::get().reads_writes(7, 6) }
	fn set_fund_params() -> Weight { RocksDbWeight::get().reads_writes(2, 2) }
	fn set_cooldown() -> Weight { RocksDbWeight::get().writes(2) }
	fn withdraw_surplus() -> Weight { RocksDbWeight::get().reads_writes(6, 5) }
}
