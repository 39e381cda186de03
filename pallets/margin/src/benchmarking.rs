//! Benchmarks of the margin pallet: every call on its costliest path. Withdraw and borrow are
//! measured against the number of positions whose health must be computed.

use super::*;
use crate::Pallet as Margin;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};
use frame_system::RawOrigin;
use liquidation_primitives::Balance;
use sp_runtime::{traits::One, FixedPointNumber, FixedU128, Permill};

/// What each benchmark account deposits, in whole units (each priced at 1 USD).
const DEPOSIT: Balance = 1_000_000;

/// `n` whole units of a listed asset.
fn whole<T: Config>(asset: T::AssetId, n: Balance) -> Balance {
	let decimals = Markets::<T>::get(asset).map_or(12, |market| market.decimals);
	n.saturating_mul(10u128.saturating_pow(decimals.into()))
}

/// A set-up step that must work: the benchmark stops, loudly, if it does not.
fn must<E>(
	result: Result<E, sp_runtime::DispatchError>,
	what: &'static str,
) -> Result<E, BenchmarkError> {
	result.map_err(|_| BenchmarkError::Stop(what))
}

fn bench_params() -> AssetParams {
	AssetParams {
		initial_collateral_weight: Permill::from_percent(80),
		maintenance_collateral_weight: Permill::from_percent(90),
		initial_liability_weight: FixedU128::saturating_from_rational(12, 10),
		maintenance_liability_weight: FixedU128::saturating_from_rational(11, 10),
		supply_cap_usd: 1_000_000_000_000_000_000,
		borrow_cap_usd: 1_000_000_000_000_000_000,
		debt_ceiling_usd: None,
		interest: InterestCurve {
			base_rate: FixedU128::saturating_from_rational(2, 100),
			slope_below_kink: FixedU128::saturating_from_rational(10, 100),
			kink: Permill::from_percent(80),
			slope_above_kink: FixedU128::one(),
		},
		reserve_factor: Permill::from_percent(10),
		min_position: 1,
	}
}

/// `n` assets, listed, priced and with benchmark parameters.
fn listed<T: Config>(n: u32) -> Vec<T::AssetId> {
	let assets = T::BenchmarkHelper::assets(n);
	for asset in &assets {
		if !Markets::<T>::contains_key(asset) {
			Margin::<T>::do_list_asset(*asset, 12, bench_params())
				.expect("benchmark setup: list asset");
		}
		Margin::<T>::do_set_asset_params(*asset, bench_params())
			.expect("benchmark setup: set asset params");
	}
	// The risk index references these prices: every change of an indebted account re-files it
	// at its distance (the costlier path of the index's upkeep).
	Margin::<T>::rebase();
	assets
}

/// Mints `amount` of `asset` to `who` through the pallet's own `fungibles::Mutate`; a runtime
/// that cannot mint it cannot run the benchmarks, so this fails loudly.
fn fund<T: Config>(asset: T::AssetId, who: &T::AccountId, amount: Balance) {
	use frame_support::traits::fungibles::Mutate;
	if let Err(error) = T::Assets::mint_into(asset, who, amount) {
		panic!("benchmark setup: minting {amount} of {asset:?} failed: {error:?}");
	}
}

fn funded<T: Config>(assets: &[T::AssetId], name: &'static str) -> T::AccountId {
	let who: T::AccountId = account(name, 0, 0);
	for asset in assets {
		fund::<T>(*asset, &who, whole::<T>(*asset, DEPOSIT * 10));
	}
	// The account deposit, and the native token's minimum balance beside it.
	use frame_support::traits::fungible::{Inspect, Mutate};
	let native = T::AccountDeposit::get()
		.saturating_add(T::NativeBalance::minimum_balance())
		.saturating_mul(2);
	T::NativeBalance::mint_into(&who, native).expect("the native token can be minted");
	who
}

fn governance<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

/// An account with deposits in every asset but the second, which it borrows (a little) from a
/// lender: `positions` positions whose health every withdrawal or borrow computes, and a
/// derivative position on each of them but the settlement asset (see
/// `BenchmarkHelper::derivative_positions`).
fn indebted<T: Config>(
	assets: &[T::AssetId],
	positions: u32,
) -> Result<T::AccountId, BenchmarkError> {
	let lender = funded::<T>(assets, "lender");
	let who = funded::<T>(assets, "borrower");
	let borrowed = *assets.get(1).ok_or(BenchmarkError::Stop("two assets are needed"))?;
	must(Margin::<T>::do_deposit(lender, borrowed, whole::<T>(borrowed, DEPOSIT)), "lend")?;
	for (i, asset) in assets.iter().enumerate().take(positions as usize) {
		if i != 1 {
			let amount = whole::<T>(*asset, DEPOSIT);
			must(Margin::<T>::do_deposit(who.clone(), *asset, amount), "deposit collateral")?;
		}
	}
	must(Margin::<T>::do_borrow(who.clone(), borrowed, whole::<T>(borrowed, 1_000)), "borrow")?;
	// And a derivative position on each asset it holds (read with its health by every call on
	// it), filed at its distance under a reference that records their markets.
	let held = assets.get(..positions as usize).unwrap_or(assets);
	if T::BenchmarkHelper::derivative_positions(&who, held) > 0 {
		Margin::<T>::rebase();
		Margin::<T>::reindex_account(&who);
	}
	Ok(who)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// The costliest deposit: into an indebted account holding the most positions (and a
	/// derivative position on each asset, when the runtime has them), whose health is read and
	/// whose risk-index entry is re-filed in every held asset's list.
	#[benchmark]
	fn deposit() -> Result<(), BenchmarkError> {
		let assets = listed::<T>(T::MaxPositions::get());
		let who = indebted::<T>(&assets, T::MaxPositions::get())?;
		let asset = assets[0];
		// Interest is due: the deposit accrues the pool first.
		frame_system::Pallet::<T>::set_block_number(10u32.into());
		let entry = RiskEntryOf::<T>::get(&who);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), asset, whole::<T>(asset, DEPOSIT));
		assert_eq!(Portfolios::<T>::get(&who).len() as u32, T::MaxPositions::get());
		assert_ne!(RiskEntryOf::<T>::get(&who), entry);
		Ok(())
	}

	#[benchmark]
	fn withdraw(p: Linear<2, { T::MaxPositions::get() }>) -> Result<(), BenchmarkError> {
		let assets = listed::<T>(T::MaxPositions::get());
		let who = indebted::<T>(&assets, p)?;
		frame_system::Pallet::<T>::set_block_number(10u32.into());
		#[extrinsic_call]
		_(
			RawOrigin::Signed(who.clone()),
			assets[0],
			Amount::Exact(whole::<T>(assets[0], DEPOSIT / 2)),
		);
		assert_eq!(Portfolios::<T>::get(&who).len() as u32, p);
		Ok(())
	}

	#[benchmark]
	fn borrow(p: Linear<2, { T::MaxPositions::get() }>) -> Result<(), BenchmarkError> {
		let assets = listed::<T>(T::MaxPositions::get());
		let who = indebted::<T>(&assets, p)?;
		frame_system::Pallet::<T>::set_block_number(10u32.into());
		let entry = RiskEntryOf::<T>::get(&who);
		// Enough to move the account to another distance bucket (its index entry is rewritten).
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), assets[1], whole::<T>(assets[1], 100_000));
		assert_eq!(Portfolios::<T>::get(&who).len() as u32, p);
		assert_ne!(RiskEntryOf::<T>::get(&who), entry);
		Ok(())
	}

	#[benchmark]
	fn repay() -> Result<(), BenchmarkError> {
		// The most positions (their health and index entries read and re-filed).
		let assets = listed::<T>(T::MaxPositions::get());
		let who = indebted::<T>(&assets, T::MaxPositions::get())?;
		frame_system::Pallet::<T>::set_block_number(10u32.into());
		let entry = RiskEntryOf::<T>::get(&who);
		// A partial repayment keeps the borrower indexed, at another distance bucket: the
		// costlier write.
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), assets[1], Amount::Exact(whole::<T>(assets[1], 500)));
		assert_ne!(RiskEntryOf::<T>::get(&who), entry);
		assert!(LiableAccounts::<T>::contains_key(&who));
		Ok(())
	}

	#[benchmark]
	fn collect_reserve() -> Result<(), BenchmarkError> {
		let assets = listed::<T>(2);
		let _ = indebted::<T>(&assets, 2)?;
		frame_system::Pallet::<T>::set_block_number(100_000u32.into());
		let caller = funded::<T>(&assets, "caller");
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), assets[1]);
		assert!(Losses::<T>::get(assets[1]).reserve_collected > 0);
		Ok(())
	}

	#[benchmark]
	fn list_asset() -> Result<(), BenchmarkError> {
		let asset = T::BenchmarkHelper::assets(1)[0];
		Markets::<T>::remove(asset);
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, asset, 12, bench_params());
		assert!(Markets::<T>::contains_key(asset));
		Ok(())
	}

	#[benchmark]
	fn set_asset_params() -> Result<(), BenchmarkError> {
		let assets = listed::<T>(2);
		let _ = indebted::<T>(&assets, 2)?;
		frame_system::Pallet::<T>::set_block_number(10u32.into());
		let origin = governance::<T>()?;
		let mut params = bench_params();
		params.reserve_factor = Permill::from_percent(20);
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, assets[1], params);
		// In force at once, or (a runtime with a risk-change delay, tightening its genesis
		// weights) scheduled.
		let in_force = Markets::<T>::get(assets[1]).map(|m| m.params) == Some(params);
		let scheduled = ScheduledParams::<T>::get(assets[1]).is_some_and(|(p, _)| p == params);
		assert!(in_force || scheduled, "the parameters are set or scheduled");
		Ok(())
	}

	#[benchmark]
	fn set_asset_status() -> Result<(), BenchmarkError> {
		let assets = listed::<T>(1);
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, assets[0], AssetStatus::ReduceOnly);
		assert_eq!(Markets::<T>::get(assets[0]).map(|m| m.status), Some(AssetStatus::ReduceOnly));
		Ok(())
	}

	#[benchmark]
	fn set_volatility_policy() -> Result<(), BenchmarkError> {
		let assets = listed::<T>(1);
		let origin = governance::<T>()?;
		let policy = crate::volatility::VolatilityPolicy {
			reference_volatility: sp_runtime::FixedU128::saturating_from_rational(5, 100),
			max_widening: Permill::from_percent(40),
			max_step_per_day: Permill::from_percent(10),
		};
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, assets[0], Some(policy));
		assert_eq!(VolatilityPolicies::<T>::get(assets[0]).map(|(p, _)| p), Some(policy));
		Ok(())
	}

	/// The hourly move of the widenings: `n` listed assets with a policy, each volatile enough
	/// that its widening moves (a write and an event each); linear in `n`, so the weight holds
	/// for more listings than an account may hold.
	#[benchmark]
	fn update_widenings(n: Linear<1, { T::MaxPositions::get() }>) -> Result<(), BenchmarkError> {
		let assets = listed::<T>(n);
		let policy = crate::volatility::VolatilityPolicy {
			reference_volatility: sp_runtime::FixedU128::saturating_from_rational(5, 100),
			max_widening: Permill::from_percent(40),
			max_step_per_day: Permill::from_percent(10),
		};
		for asset in assets.iter() {
			VolatilityPolicies::<T>::insert(
				asset,
				(policy, frame_system::pallet_prelude::BlockNumberFor::<T>::default()),
			);
			T::BenchmarkHelper::volatile(
				*asset,
				sp_runtime::FixedU128::saturating_from_rational(50, 100),
			);
		}
		let now: frame_system::pallet_prelude::BlockNumberFor<T> = 10u32.into();
		frame_system::Pallet::<T>::set_block_number(now);
		#[block]
		{
			Margin::<T>::update_widenings(now);
		}
		assert_eq!(LastWideningBlock::<T>::get(), now);
		Ok(())
	}

	#[benchmark]
	fn set_risk_change_delay() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		let delay = T::MaxRiskChangeDelay::get();
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, delay);
		assert_eq!(RiskChangeDelay::<T>::get(), delay);
		Ok(())
	}

	/// Re-filing an account of the previous epoch with `p` positions (what `on_idle` does per
	/// account after a new epoch; the margin calls do the same on every change).
	#[benchmark]
	fn reindex_account(p: Linear<2, { T::MaxPositions::get() }>) -> Result<(), BenchmarkError> {
		let assets = listed::<T>(T::MaxPositions::get());
		Margin::<T>::rebase();
		let who = indebted::<T>(&assets, p)?;
		let (slot, _) = Margin::<T>::risk_slots();
		Margin::<T>::rebase();
		frame_system::Pallet::<T>::set_block_number(10u32.into());
		#[block]
		{
			Margin::<T>::reindex_account(&who);
		}
		assert_ne!(RiskEntryOf::<T>::get(&who).map(|entry| entry.slot), Some(slot));
		Ok(())
	}

	/// Deciding whether a new epoch is due and starting it, with `a` listed assets (and the
	/// derivative markets a trader with the most positions trades, whose funding index the
	/// reference records).
	#[benchmark]
	fn rebase_index(a: Linear<1, { T::MaxPositions::get() }>) -> Result<(), BenchmarkError> {
		let assets = listed::<T>(a);
		// Derivative markets whose funding index the new reference records.
		let trader = funded::<T>(&assets, "trader");
		must(
			Margin::<T>::do_deposit(trader.clone(), assets[0], whole::<T>(assets[0], DEPOSIT)),
			"deposit",
		)?;
		T::BenchmarkHelper::derivative_positions(&trader, &assets);
		// No reference yet for the current epoch: a new one is due.
		let (current, _) = Margin::<T>::risk_slots();
		let _ = References::<T>::clear_prefix(current, u32::MAX, None);
		let epoch = RiskEpoch::<T>::get();
		#[block]
		{
			if Margin::<T>::rebase_due() {
				Margin::<T>::rebase();
			}
		}
		assert_eq!(RiskEpoch::<T>::get(), epoch + 1);
		Ok(())
	}

	impl_benchmark_test_suite!(Margin, crate::mock::new_test_ext(), crate::mock::Test);
}
