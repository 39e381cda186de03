//! Benchmarks of the auction pallet: every call on its costliest path, and a take both when the
//! auction goes on and when it ends (with the remainder returned).

use super::*;
use crate::Pallet as Auction;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungibles::Mutate, tokens::Preservation, EnsureOrigin};
use frame_system::RawOrigin;
use liquidation_primitives::{AssetDecimals, Balance};
use sp_runtime::{FixedPointNumber, FixedU128, Permill};

fn bench_params() -> AuctionParams {
	AuctionParams {
		start_premium: FixedU128::saturating_from_rational(11, 10),
		curve: PriceCurve::StepExponential { step_blocks: 1, cut: Permill::from_percent(1) },
		max_duration_blocks: 100,
		floor: Permill::from_percent(50),
		restart_incentive: Permill::from_rational(1u32, 1_000),
		min_lot: 1,
		reprice_band: Permill::from_percent(10),
	}
}

fn whole<T: Config>(asset: T::AssetId, n: Balance) -> Balance {
	let decimals = T::Decimals::decimals(asset).unwrap_or(12);
	n.saturating_mul(10u128.saturating_pow(decimals.into()))
}

fn must<R>(
	result: Result<R, sp_runtime::DispatchError>,
	what: &'static str,
) -> Result<R, BenchmarkError> {
	result.map_err(|_| BenchmarkError::Stop(what))
}

/// An auction of 100 whole units of collateral for 50 whole units of debt (both priced at 1 USD,
/// so the start price is 1.1), for an owner who owes that much; and a funded buyer.
/// Mints `amount` of `asset` to `who` through the pallet's own `fungibles::Mutate`; a runtime
/// that cannot mint it cannot run the benchmarks, so this fails loudly.
fn fund<T: Config>(asset: T::AssetId, who: &T::AccountId, amount: Balance) {
	use frame_support::traits::fungibles::Mutate;
	if let Err(error) = T::Assets::mint_into(asset, who, amount) {
		panic!("benchmark setup: minting {amount} of {asset:?} failed: {error:?}");
	}
}

fn running<T: Config>() -> Result<(AuctionId, T::AccountId), BenchmarkError> {
	let (collateral, debt_asset) = T::BenchmarkHelper::assets();
	must(Auction::<T>::do_set_auction_params(collateral, bench_params()), "params")?;
	let owner = T::BenchmarkHelper::indebted_owner(debt_asset, whole::<T>(debt_asset, 50));
	let engine: T::AccountId = account("engine", 0, 0);
	let lot = whole::<T>(collateral, 100);
	fund::<T>(collateral, &engine, lot.saturating_mul(2));
	must(
		T::Assets::transfer(
			collateral,
			&engine,
			&Auction::<T>::custody_account(),
			lot,
			Preservation::Expendable,
		)
		.map(|_| ()),
		"lot into custody",
	)?;
	let id = must(
		Auction::<T>::do_start(&owner, collateral, lot, debt_asset, whole::<T>(debt_asset, 50)),
		"start",
	)?;
	let buyer: T::AccountId = account("buyer", 0, 0);
	fund::<T>(debt_asset, &buyer, whole::<T>(debt_asset, 1_000));
	frame_system::Pallet::<T>::set_block_number(
		frame_system::Pallet::<T>::block_number() + 5u32.into(),
	);
	Ok((id, buyer))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn take() -> Result<(), BenchmarkError> {
		let (id, buyer) = running::<T>()?;
		let collateral =
			Auctions::<T>::get(id).map(|a| a.collateral).ok_or(BenchmarkError::Stop("auction"))?;
		#[extrinsic_call]
		_(
			RawOrigin::Signed(buyer),
			id,
			whole::<T>(collateral, 10),
			FixedU128::saturating_from_integer(2),
		);
		assert!(Auctions::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn take_and_end() -> Result<(), BenchmarkError> {
		let (id, buyer) = running::<T>()?;
		let collateral =
			Auctions::<T>::get(id).map(|a| a.collateral).ok_or(BenchmarkError::Stop("auction"))?;
		// All of the lot is offered; what it has to raise is met with part of it, the rest returns.
		#[extrinsic_call]
		take(
			RawOrigin::Signed(buyer),
			id,
			whole::<T>(collateral, 100),
			FixedU128::saturating_from_integer(2),
		);
		assert!(!Auctions::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn redo() -> Result<(), BenchmarkError> {
		let (id, _) = running::<T>()?;
		frame_system::Pallet::<T>::set_block_number(
			frame_system::Pallet::<T>::block_number() + 200u32.into(),
		);
		let caller: T::AccountId = account("caller", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);
		assert_eq!(Auctions::<T>::get(id).map(|a| a.restarts), Some(1));
		Ok(())
	}

	#[benchmark]
	fn close() -> Result<(), BenchmarkError> {
		let (id, _) = running::<T>()?;
		// The owner repays all he owes: the auction is no longer needed and its whole lot
		// returns to his margin account.
		let owner =
			Auctions::<T>::get(id).map(|a| a.owner).ok_or(BenchmarkError::Stop("auction"))?;
		T::BenchmarkHelper::repay_all(&owner);
		let caller: T::AccountId = account("caller", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);
		assert!(!Auctions::<T>::contains_key(id));
		Ok(())
	}

	#[benchmark]
	fn set_auction_params() -> Result<(), BenchmarkError> {
		let (collateral, _) = T::BenchmarkHelper::assets();
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, collateral, bench_params());
		assert_eq!(Params::<T>::get(collateral), Some(bench_params()));
		Ok(())
	}

	#[benchmark]
	fn remove_auction_params() -> Result<(), BenchmarkError> {
		let (collateral, _) = T::BenchmarkHelper::assets();
		must(Auction::<T>::do_set_auction_params(collateral, bench_params()), "params")?;
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, collateral);
		assert!(!Params::<T>::contains_key(collateral));
		Ok(())
	}

	impl_benchmark_test_suite!(Auction, crate::mock::new_test_ext(), crate::mock::Test);
}
