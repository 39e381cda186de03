//! Benchmarks of the insurance pallet: every call on its costliest path.

use super::*;
use crate::Pallet as Insurance;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use liquidation_primitives::{Balance, FundIncome};
use sp_runtime::{traits::One, Permill};

const STAKE: Balance = 1_000_000_000;

fn insured<T: Config>() -> T::AssetId {
	let asset = T::BenchmarkHelper::asset();
	let params = FundParams {
		max_cover_per_block: STAKE,
		target_size: STAKE,
		staker_income_share: Permill::from_percent(50),
	};
	Insurance::<T>::do_set_fund_params(asset, params).expect("the parameters are in range");
	Insurance::<T>::do_set_cooldown(One::one(), 10u32.into()).expect("the cooldown is in range");
	asset
}

/// Mints `amount` of `asset` to `who` through the pallet's own `fungibles::Mutate`; a runtime
/// that cannot mint it cannot run the benchmarks, so this fails loudly.
fn fund<T: Config>(asset: T::AssetId, who: &T::AccountId, amount: Balance) {
	use frame_support::traits::fungibles::Mutate;
	if let Err(error) = T::Assets::mint_into(asset, who, amount) {
		panic!("benchmark setup: minting {amount} of {asset:?} failed: {error:?}");
	}
}

fn funded<T: Config>(asset: T::AssetId, name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, 0);
	fund::<T>(asset, &who, STAKE * 10);
	who
}

fn governance<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn stake() {
		let asset = insured::<T>();
		let existing = funded::<T>(asset, "existing");
		Insurance::<T>::do_stake(existing, asset, STAKE, 0).expect("benchmark setup: stake");
		let who = funded::<T>(asset, "staker");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), asset, STAKE, 1);
		assert!(Insurance::<T>::shares_of(asset, &who) > 0);
	}

	#[benchmark]
	fn request_unstake() {
		let asset = insured::<T>();
		// A staker before, so that this one holds all the shares his stake minted.
		Insurance::<T>::do_stake(funded::<T>(asset, "existing"), asset, STAKE, 0)
			.expect("benchmark setup: stake");
		let who = funded::<T>(asset, "staker");
		Insurance::<T>::do_stake(who.clone(), asset, STAKE, 0).expect("benchmark setup: stake");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), asset, STAKE);
		assert!(UnstakeRequests::<T>::contains_key(asset, &who));
	}

	#[benchmark]
	fn cancel_unstake() {
		let asset = insured::<T>();
		Insurance::<T>::do_stake(funded::<T>(asset, "existing"), asset, STAKE, 0)
			.expect("benchmark setup: stake");
		let who = funded::<T>(asset, "staker");
		Insurance::<T>::do_stake(who.clone(), asset, STAKE, 0).expect("benchmark setup: stake");
		Insurance::<T>::do_request_unstake(who.clone(), asset, STAKE)
			.expect("benchmark setup: request unstake");
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), asset);
		assert!(!UnstakeRequests::<T>::contains_key(asset, &who));
	}

	#[benchmark]
	fn withdraw() {
		let asset = insured::<T>();
		let other = funded::<T>(asset, "other");
		Insurance::<T>::do_stake(other, asset, STAKE, 0).expect("benchmark setup: stake");
		let who = funded::<T>(asset, "staker");
		Insurance::<T>::do_stake(who.clone(), asset, STAKE, 0).expect("benchmark setup: stake");
		// A partial withdrawal keeps the stake entry: the costlier write.
		Insurance::<T>::do_request_unstake(who.clone(), asset, STAKE / 2)
			.expect("benchmark setup: request unstake");
		let ready = frame_system::Pallet::<T>::block_number() + Cooldown::<T>::get();
		frame_system::Pallet::<T>::set_block_number(ready);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), asset);
		assert!(!UnstakeRequests::<T>::contains_key(asset, &who));
	}

	#[benchmark]
	fn set_fund_params() -> Result<(), BenchmarkError> {
		let asset = T::BenchmarkHelper::asset();
		let origin = governance::<T>()?;
		let params = FundParams {
			max_cover_per_block: STAKE,
			target_size: STAKE,
			staker_income_share: Permill::from_percent(80),
		};
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, params);
		assert_eq!(Params::<T>::get(asset), Some(params));
		Ok(())
	}

	#[benchmark]
	fn set_cooldown() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		let cooldown: BlockNumberFor<T> = T::MaxCooldown::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, cooldown, cooldown);
		assert_eq!(Cooldown::<T>::get(), cooldown);
		Ok(())
	}

	#[benchmark]
	fn withdraw_surplus() -> Result<(), BenchmarkError> {
		let asset = insured::<T>();
		let payer = funded::<T>(asset, "payer");
		Insurance::<T>::deposit_income(asset, &payer, 2 * STAKE)
			.map_err(|_| BenchmarkError::Weightless)?;
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset);
		// Everything above the target size moved.
		assert_eq!(Funds::<T>::get(asset).protocol_owned, STAKE);
		Ok(())
	}

	impl_benchmark_test_suite!(Insurance, crate::mock::new_test_ext(), crate::mock::Test);
}
