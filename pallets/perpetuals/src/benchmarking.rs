//! Benchmarks of the perpetuals pallet: every call on its costliest path (every market listed
//! and skewed, so the vault's value reads them all; the trader holding the most positions, so
//! his health reads them all; a trade that adds risk and lends its fee).

use super::*;
use crate::{math::Signed, Pallet as Perpetuals};
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};
use frame_system::RawOrigin;
use liquidation_primitives::Price;
use sp_runtime::{traits::One, FixedPointNumber, FixedU128, Permill};

/// Parameters under which every trade of the benchmarks is allowed: a wide skew scale and caps.
fn params() -> MarketParams {
	MarketParams {
		skew_scale: FixedU128::saturating_from_integer(1_000_000),
		max_funding_velocity: FixedU128::saturating_from_integer(9),
		max_funding_rate: FixedU128::saturating_from_rational(10, 100),
		min_initial_margin: Permill::from_percent(2),
		initial_margin_slope: FixedU128::saturating_from_rational(154, 100),
		maintenance_share: Permill::from_percent(50),
		taker_fee: Permill::from_parts(500),
		max_open_interest_usd: 1_000_000_000_000,
		min_position_usd: 10,
		initial_profit_weight: Permill::from_percent(50),
		maintenance_profit_weight: Permill::from_percent(100),
		liquidation_fee_share: Permill::from_percent(50),
	}
}

fn governance<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

fn ok<R, E: core::fmt::Debug>(result: Result<R, E>, step: &str) -> R {
	result.unwrap_or_else(|error| panic!("benchmark setup: {step}: {error:?}"))
}

/// One settlement-asset dollar in smallest units.
fn dollar<T: Config>() -> u128 {
	10u128.pow(u32::from(ok(Perpetuals::<T>::settlement_decimals(), "settlement decimals")))
}

/// Markets listed up to `MaxMarkets` (the last one returned apart, unlisted when `list_last`
/// is false), 100 M USD more in the vault, and each new market skewed by a long of one unit
/// (1 000 USD) from filler accounts.
fn markets<T: Config>(list_last: bool) -> (alloc::vec::Vec<T::AssetId>, T::AssetId) {
	// Markets listed already (at genesis) count towards the maximum.
	let free = T::MaxMarkets::get().saturating_sub(Markets::<T>::count());
	let mut all = T::BenchmarkHelper::underlyings(free);
	let last = all.pop().expect("MaxMarkets is at least one");
	for underlying in all.iter().chain(list_last.then_some(&last)) {
		ok(Perpetuals::<T>::do_list_market(*underlying, params()), "list market");
	}
	ok(
		Perpetuals::<T>::do_set_vault_params(VaultParams {
			withdrawal_delay_blocks: 0u32.into(),
			max_utilisation: Permill::from_percent(80),
		}),
		"set vault params",
	);
	let lp: T::AccountId = account("lp", 0, 0);
	T::BenchmarkHelper::fund_tokens(&lp, 100_000_000);
	ok(Perpetuals::<T>::do_deposit_to_vault(&lp, 100_000_000 * dollar::<T>()), "seed vault");
	let mut fillers = 0u32;
	let mut filler: T::AccountId = account("filler", fillers, 0);
	T::BenchmarkHelper::fund_margin(&filler, 10_000_000);
	for underlying in all.iter().chain(list_last.then_some(&last)) {
		// A filler holds at most `MaxPositionsPerAccount` positions; the next one takes over.
		if PositionCount::<T>::get(&filler) >= T::MaxPositionsPerAccount::get() {
			fillers += 1;
			filler = account("filler", fillers, 0);
			T::BenchmarkHelper::fund_margin(&filler, 10_000_000);
		}
		ok(
			Perpetuals::<T>::do_trade(
				&filler,
				*underlying,
				Signed::one(),
				Price::from_u32(u32::MAX),
			),
			"skew a market",
		);
	}
	(all, last)
}

/// A trader with 1 M USD of collateral in another asset than USD (his fees are lent to him)
/// and `MaxPositionsPerAccount - 1` positions.
fn trader<T: Config>(markets: &[T::AssetId]) -> T::AccountId {
	let who: T::AccountId = account("trader", 0, 0);
	T::BenchmarkHelper::fund_collateral(&who, 1_000_000);
	let held = T::MaxPositionsPerAccount::get().saturating_sub(1) as usize;
	for underlying in markets.iter().take(held) {
		ok(
			Perpetuals::<T>::do_trade(&who, *underlying, Signed::one(), Price::from_u32(u32::MAX)),
			"open a position",
		);
	}
	who
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn list_market() -> Result<(), BenchmarkError> {
		let (_, last) = markets::<T>(false);
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, last, params());
		assert!(Markets::<T>::contains_key(last));
		Ok(())
	}

	#[benchmark]
	fn set_market_params() -> Result<(), BenchmarkError> {
		let (_, last) = markets::<T>(true);
		let origin = governance::<T>()?;
		let new = MarketParams { taker_fee: Permill::from_parts(600), ..params() };
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, last, new);
		assert_eq!(Markets::<T>::get(last).map(|m| m.params), Some(new));
		Ok(())
	}

	#[benchmark]
	fn set_market_status() -> Result<(), BenchmarkError> {
		let (_, last) = markets::<T>(true);
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, last, MarketStatus::Paused);
		assert_eq!(Markets::<T>::get(last).map(|m| m.status), Some(MarketStatus::Paused));
		Ok(())
	}

	#[benchmark]
	fn set_vault_params() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		let params = VaultParams {
			withdrawal_delay_blocks: 10u32.into(),
			max_utilisation: Permill::from_percent(50),
		};
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);
		assert_eq!(Vault::<T>::get(), Some(params));
		Ok(())
	}

	/// Opening the trader's last position: his health reads every position, the vault's
	/// value every market, the fee is lent to him.
	#[benchmark]
	fn modify_position() {
		let (all, last) = markets::<T>(true);
		let who = trader::<T>(&all);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), last, Signed::one(), Price::from_u32(u32::MAX));
		assert_eq!(PositionCount::<T>::get(&who), T::MaxPositionsPerAccount::get());
		let usd = T::SettlementAsset::get();
		assert!(<T::Ledger as liquidation_primitives::ledger::Inspect<_>>::debt_of(&who, usd) > 0);
	}

	#[benchmark]
	fn deposit_to_vault() {
		markets::<T>(true);
		let who: T::AccountId = account("depositor", 0, 0);
		T::BenchmarkHelper::fund_tokens(&who, 1_000_000);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), 1_000_000 * dollar::<T>());
		assert!(Shares::<T>::get(&who) > 0);
	}

	#[benchmark]
	fn request_withdrawal() {
		markets::<T>(true);
		let lp: T::AccountId = account("lp", 0, 0);
		let shares = Shares::<T>::get(&lp) / 10;
		#[extrinsic_call]
		_(RawOrigin::Signed(lp.clone()), shares);
		assert!(Withdrawals::<T>::contains_key(&lp));
	}

	#[benchmark]
	fn withdraw_from_vault() {
		markets::<T>(true);
		let lp: T::AccountId = account("lp", 0, 0);
		let shares = Shares::<T>::get(&lp) / 10;
		ok(Perpetuals::<T>::do_request_withdrawal(&lp, shares), "request withdrawal");
		#[extrinsic_call]
		_(RawOrigin::Signed(lp.clone()));
		assert!(!Withdrawals::<T>::contains_key(&lp));
	}

	/// Paying a trader with every position open and his fees lent to him: the payment repays
	/// his debt, and his risk entry is filed again (reading every position).
	#[benchmark]
	fn claim_profit() {
		let (all, last) = markets::<T>(true);
		let who = trader::<T>(&all);
		ok(
			Perpetuals::<T>::do_trade(&who, last, Signed::one(), Price::from_u32(u32::MAX)),
			"open the last position",
		);
		ok(Perpetuals::<T>::defer_profit(&who, 1_000 * dollar::<T>()), "owe profit");
		<T::Ledger as liquidation_primitives::ledger::Settle<_>>::exposure_changed(&who);
		let caller: T::AccountId = account("keeper", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), who.clone());
		assert!(!ProfitOwed::<T>::contains_key(&who));
	}

	/// Realising the loss of a trader's last position (filled above the oracle), every
	/// position open: his health is judged after it and his risk entry filed again.
	#[benchmark]
	fn realise_loss() {
		let (all, last) = markets::<T>(true);
		let who = trader::<T>(&all);
		ok(
			Perpetuals::<T>::do_trade(&who, last, Signed::one(), Price::from_u32(u32::MAX)),
			"open the last position",
		);
		// Owed more than the vault holds.
		let owed: T::AccountId = account("owed", 0, 0);
		ok(Perpetuals::<T>::defer_profit(&owed, 200_000_000 * dollar::<T>()), "owe profit");
		<T::Ledger as liquidation_primitives::ledger::Settle<_>>::exposure_changed(&owed);
		let caller: T::AccountId = account("keeper", 0, 0);
		let before = Positions::<T>::get(&who, last).map(|p| p.entry_price);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), who.clone(), last);
		assert_ne!(Positions::<T>::get(&who, last).map(|p| p.entry_price), before);
	}

	impl_benchmark_test_suite!(Perpetuals, crate::mock::new_test_ext(), crate::mock::Test);
}
