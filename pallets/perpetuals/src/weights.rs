//! Weights for `pallet_perpetuals`: replaced by `scripts/benchmark.sh` output.

#![allow(missing_docs)]

use core::marker::PhantomData;
use frame_support::weights::Weight;

/// Measured weights.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T> WeightInfo for SubstrateWeight<T> {
	fn list_market() -> Weight {
		Weight::zero()
	}
	fn set_market_params() -> Weight {
		Weight::zero()
	}
	fn set_market_status() -> Weight {
		Weight::zero()
	}
	fn set_vault_params() -> Weight {
		Weight::zero()
	}
	fn modify_position() -> Weight {
		Weight::zero()
	}
	fn deposit_to_vault() -> Weight {
		Weight::zero()
	}
	fn request_withdrawal() -> Weight {
		Weight::zero()
	}
	fn withdraw_from_vault() -> Weight {
		Weight::zero()
	}
}

/// The weight of each benchmarked call of `pallet_perpetuals`.
pub trait WeightInfo {
	fn list_market() -> Weight;
	fn set_market_params() -> Weight;
	fn set_market_status() -> Weight;
	fn set_vault_params() -> Weight;
	fn modify_position() -> Weight;
	fn deposit_to_vault() -> Weight;
	fn request_withdrawal() -> Weight;
	fn withdraw_from_vault() -> Weight;
}

impl WeightInfo for () {
	fn list_market() -> Weight {
		Weight::zero()
	}
	fn set_market_params() -> Weight {
		Weight::zero()
	}
	fn set_market_status() -> Weight {
		Weight::zero()
	}
	fn set_vault_params() -> Weight {
		Weight::zero()
	}
	fn modify_position() -> Weight {
		Weight::zero()
	}
	fn deposit_to_vault() -> Weight {
		Weight::zero()
	}
	fn request_withdrawal() -> Weight {
		Weight::zero()
	}
	fn withdraw_from_vault() -> Weight {
		Weight::zero()
	}
}
