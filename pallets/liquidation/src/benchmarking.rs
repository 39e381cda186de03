//! Benchmarks of the liquidation engine: each path on its costliest branch, and the waterfall
//! against the number of debts it settles.

use super::*;
use crate::shortfall::MAX_FINALISTS;
use crate::Pallet as Liquidation;
use frame_benchmarking::v2::*;
use frame_support::traits::{EnsureOrigin, Get};
use frame_system::RawOrigin;
use liquidation_primitives::{Balance, PositionLiquidation};
use sp_runtime::traits::{Bounded as _, Zero as _};

/// Whole units a keeper holds of the debt asset, times the decimals the helper uses.
const KEEPER_FUNDS: Balance = 1_000_000_000_000_000_000_000_000;

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
	fund::<T>(asset, &who, KEEPER_FUNDS);
	who
}

fn governance<T: Config>() -> Result<T::RuntimeOrigin, BenchmarkError> {
	T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)
}

/// A week at 99 %, the largest slice the close factor allows, a 1 % fee.
fn derisk_params<T: Config>() -> Result<crate::DeriskParams, BenchmarkError> {
	let engine = Params::<T>::get().ok_or(BenchmarkError::Weightless)?;
	let params = crate::DeriskParams {
		horizon_ms: crate::derisk::MAX_HORIZON_MS,
		confidence: sp_runtime::Permill::from_percent(99),
		max_slice: engine.close_factor,
		fee: sp_runtime::Permill::from_percent(1),
	};
	Liquidation::<T>::do_set_derisk_params(Some(params)).map_err(|_| BenchmarkError::Weightless)?;
	Ok(params)
}

/// The de-risking report of `who` under the governed parameters.
fn risk_report<T: Config>(
	who: &T::AccountId,
) -> Result<crate::RiskReport<T::AssetId>, BenchmarkError> {
	Liquidation::<T>::risk_report(who, None).map_err(|_| BenchmarkError::Stop("report"))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A keeper repays spot debt of an account with the most debts that also holds the most
	/// derivative positions (its health reads them all).
	#[benchmark]
	fn liquidate() {
		let (collateral, debt) = T::BenchmarkHelper::assets();
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		let who = T::BenchmarkHelper::liquidatable_account_with_positions(debts);
		let keeper = funded::<T>(debt, "keeper");
		#[extrinsic_call]
		_(RawOrigin::Signed(keeper), who, debt, collateral, Balance::MAX);
		assert_eq!(Totals::<T>::get(debt).liquidations, 1);
	}

	/// As `liquidate`, through the DEX.
	#[benchmark]
	fn flash_liquidate() {
		let (collateral, debt) = T::BenchmarkHelper::assets();
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		let who = T::BenchmarkHelper::liquidatable_account_with_positions(debts);
		let caller: T::AccountId = account("caller", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), who, debt, collateral, Balance::MAX);
		assert_eq!(Totals::<T>::get(debt).liquidations, 1);
	}

	/// The worker's auction path (the bankrupt path is `settle_bankrupt`), on an account with
	/// the most debts: its health, bankruptcy and largest positions read them all.
	#[benchmark]
	fn liquidate_unsigned() -> Result<(), BenchmarkError> {
		let (collateral, _) = T::BenchmarkHelper::assets();
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		// The costlier auction: the lot the whole deposit, the account re-filed (see
		// `liquidatable_accounts`); a runtime without it measures the partial lot.
		let who = match T::BenchmarkHelper::liquidatable_accounts(1, debts) {
			Some(accounts) => {
				accounts.into_iter().next().ok_or(BenchmarkError::Stop("no account"))?
			},
			None => T::BenchmarkHelper::liquidatable_account(debts, false),
		};
		let _ = collateral;
		#[extrinsic_call]
		_(RawOrigin::None, who.clone(), frame_system::Pallet::<T>::block_number());
		assert!(Liquidation::<T>::in_auction(&who));
		Ok(())
	}

	/// The worker's batch of `n` accounts alike (the most debts each, against the same
	/// collateral), each auctioned on the costliest branch: its lot its whole deposit (the
	/// backed debt re-counted, the account re-filed in the risk index). The slope is one more
	/// account once the keys they share are read, the intercept what the batch costs beyond its
	/// accounts.
	#[benchmark]
	fn liquidate_unsigned_batch(
		n: Linear<1, { T::MaxUnsignedBatch::get() }>,
	) -> Result<(), BenchmarkError> {
		let (collateral, _) = T::BenchmarkHelper::assets();
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		let accounts =
			T::BenchmarkHelper::liquidatable_accounts(n, debts).ok_or(BenchmarkError::Skip)?;
		let accounts: frame_support::BoundedVec<T::AccountId, T::MaxUnsignedBatch> =
			accounts.try_into().map_err(|_| BenchmarkError::Stop("more accounts than a batch"))?;
		// As many assets as `batch::ShareClass::benchmark_assets` counts on.
		let held = |who: &T::AccountId| {
			<T::Ledger as liquidation_primitives::ledger::Inspect<T::AccountId>>::positions_of(who)
				.len() as u32
		};
		assert!(
			accounts.iter().all(|who| held(who) == T::MaxPositions::get().max(2)),
			"a deposit and the most debts each"
		);
		#[extrinsic_call]
		_(RawOrigin::None, accounts.clone(), frame_system::Pallet::<T>::block_number());
		assert!(accounts.iter().all(|who| Liquidation::<T>::in_auction(who)));
		let deposit = |who: &T::AccountId| {
			<T::Ledger as liquidation_primitives::ledger::Inspect<T::AccountId>>::deposit_of(
				who, collateral,
			)
		};
		assert!(accounts.iter().all(|who| deposit(who) == 0), "every lot the whole deposit");
		Ok(())
	}

	/// The worker's batch of `n` accounts of the commonest shape: one deposit and one debt, the
	/// same two assets each, auctioned on that shape's costliest branch (the lot the whole
	/// deposit, the backed debt re-counted, the account re-filed in the debt's list alone).
	/// Its slope is what such an account costs in a batch once the keys they share are read
	/// (see `batch`: an account holding at most two assets, one of them a debt, is charged it).
	#[benchmark]
	fn liquidate_unsigned_batch_one_debt(
		n: Linear<1, { T::MaxUnsignedBatch::get() }>,
	) -> Result<(), BenchmarkError> {
		let (collateral, _) = T::BenchmarkHelper::assets();
		let accounts =
			T::BenchmarkHelper::liquidatable_accounts(n, 1).ok_or(BenchmarkError::Skip)?;
		let accounts: frame_support::BoundedVec<T::AccountId, T::MaxUnsignedBatch> =
			accounts.try_into().map_err(|_| BenchmarkError::Stop("more accounts than a batch"))?;
		let held = |who: &T::AccountId| {
			<T::Ledger as liquidation_primitives::ledger::Inspect<T::AccountId>>::positions_of(who)
				.len()
		};
		assert!(accounts.iter().all(|who| held(who) == 2), "one deposit and one debt each");
		#[extrinsic_call]
		liquidate_unsigned_batch(
			RawOrigin::None,
			accounts.clone(),
			frame_system::Pallet::<T>::block_number(),
		);
		assert!(accounts.iter().all(|who| Liquidation::<T>::in_auction(who)));
		let deposit = |who: &T::AccountId| {
			<T::Ledger as liquidation_primitives::ledger::Inspect<T::AccountId>>::deposit_of(
				who, collateral,
			)
		};
		assert!(accounts.iter().all(|who| deposit(who) == 0), "every lot the whole deposit");
		Ok(())
	}

	/// A keeper takes over part of one of the most positions an account may hold (its health
	/// reads them all, the sizing twice).
	#[benchmark]
	fn liquidate_position() -> Result<(), BenchmarkError> {
		let (who, keeper) =
			T::BenchmarkHelper::liquidatable_trader().ok_or(BenchmarkError::Skip)?;
		let underlying = T::Derivatives::positions_at_risk(&who)
			.first()
			.map(|position| position.underlying)
			.ok_or(BenchmarkError::Stop("no position"))?;
		#[extrinsic_call]
		_(RawOrigin::Signed(keeper), who, underlying, sp_runtime::FixedU128::from_inner(u128::MAX));
		assert_eq!(PositionCloseOuts::<T>::get(underlying).taken_over, 1);
		Ok(())
	}

	/// The worker's backstop: the vault closes part of one of the most positions an account
	/// may hold, and pays insurance's share of the fee.
	#[benchmark]
	fn backstop_position() -> Result<(), BenchmarkError> {
		let (who, _) = T::BenchmarkHelper::liquidatable_trader().ok_or(BenchmarkError::Skip)?;
		let underlying = T::Derivatives::positions_at_risk(&who)
			.first()
			.map(|position| position.underlying)
			.ok_or(BenchmarkError::Stop("no position"))?;
		#[block]
		{
			Liquidation::<T>::do_liquidate_unsigned(who)
				.map_err(|_| BenchmarkError::Stop("the backstop failed"))?;
		}
		assert_eq!(PositionCloseOuts::<T>::get(underlying).close_outs, 1);
		Ok(())
	}

	/// `p` positions: `p - 1` debts and a dust deposit (the costlier bankruptcy: the dust goes
	/// to insurance first).
	#[benchmark]
	fn settle_bankrupt(p: Linear<2, { T::MaxPositions::get() }>) {
		let _ = T::BenchmarkHelper::assets();
		let who = T::BenchmarkHelper::liquidatable_account(p - 1, true);
		let caller: T::AccountId = account("caller", 0, 0);
		#[extrinsic_call]
		_(RawOrigin::Signed(caller), who.clone());
		assert!(
			<T::Ledger as liquidation_primitives::ledger::Inspect<T::AccountId>>::positions_of(
				&who
			)
			.is_empty()
		);
	}

	#[benchmark]
	fn set_params() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		let params = Params::<T>::get().ok_or(BenchmarkError::Stop("engine parameters"))?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, params);
		Ok(())
	}

	#[benchmark]
	fn set_asset_limits() -> Result<(), BenchmarkError> {
		let (_, debt) = T::BenchmarkHelper::assets();
		let origin = governance::<T>()?;
		let limits = AssetLimits {
			max_value_per_block: sp_runtime::FixedU128::from_u32(1_000_000),
			paused: false,
		};
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, debt, Some(limits));
		assert_eq!(AssetLimitsOf::<T>::get(debt), Some(limits));
		Ok(())
	}

	#[benchmark]
	fn set_paused() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, true);
		assert!(Paused::<T>::get());
		Ok(())
	}

	/// What detection costs per account: the risk index's walk and the health of one account
	/// with the most spot and derivative positions, and whether an unsigned liquidation can act
	/// on it (the `on_idle` fallback charges this per account it reads).
	#[benchmark]
	fn check_account() {
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		let who = T::BenchmarkHelper::liquidatable_account_with_positions(debts);
		let found;
		#[block]
		{
			found = Liquidation::<T>::liquidatable_accounts_at_risk(None, 1).0;
			let _ = found.first().map(|(who, _)| {
				(Liquidation::<T>::in_auction(who), Liquidation::<T>::actionable(who))
			});
		}
		assert_eq!(found.first().map(|(account, _)| account), Some(&who));
	}

	/// The block's check of the worker's liquidation before dispatch on its costliest spot
	/// branch: an account with the most debts, no derivative position, the block's cap used up,
	/// so that its bankruptcy is read too (the waterfall needs no cap).
	#[benchmark]
	fn check_unsigned_in_block() -> Result<(), BenchmarkError> {
		let _ = T::BenchmarkHelper::assets();
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		let who = T::BenchmarkHelper::liquidatable_account(debts, true);
		let params = Params::<T>::get().ok_or(BenchmarkError::Stop("engine parameters"))?;
		// Every debt asset with a cap of its own (read), the block's cap used up.
		let positions =
			<T::Ledger as liquidation_primitives::ledger::Inspect<T::AccountId>>::positions_of(
				&who,
			);
		for (asset, _, _) in positions {
			AssetLimitsOf::<T>::insert(
				asset,
				AssetLimits { max_value_per_block: params.max_value_per_block, paused: false },
			);
		}
		BlockUsage::<T>::put((
			frame_system::Pallet::<T>::block_number(),
			params.max_value_per_block,
		));
		let checked;
		#[block]
		{
			checked = Liquidation::<T>::check_unsigned_in_block(&who);
		}
		assert!(checked.is_ok(), "{checked:?}");
		Ok(())
	}

	/// The same check's branch for an account with derivative positions: the most debts and
	/// the most positions, its report and its positions at risk read.
	#[benchmark]
	fn check_unsigned_in_block_positions() {
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		let who = T::BenchmarkHelper::liquidatable_account_with_positions(debts);
		let checked;
		#[block]
		{
			checked = Liquidation::<T>::check_unsigned_in_block(&who);
		}
		assert!(checked.is_ok(), "{checked:?}");
	}

	/// The stress test's cost per account (the runtime API's, charged to no block): the walk
	/// reads one account holding the most spot and derivative positions, liquidatable, and
	/// liquidates it until it is safe in the simulation, then undoes it all.
	#[benchmark]
	fn stress_test_account() {
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		let who = T::BenchmarkHelper::liquidatable_account_with_positions(debts);
		let report;
		#[block]
		{
			report = Liquidation::<T>::stress_test(&[], None, 1);
		}
		let report = report.expect("no shock to refuse");
		assert_eq!((report.read, report.liquidatable), (1, 1));
		assert!(Liquidation::<T>::effective_report(&who).is_ok_and(|r| r.is_liquidatable()));
	}

	/// A spot slice of an account with the most debts and derivative positions (its health
	/// and value at risk read them all, twice), the collateral paid in tokens.
	#[benchmark]
	fn derisk_spot() -> Result<(), BenchmarkError> {
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		let (who, keeper) =
			T::BenchmarkHelper::derisk_account(debts).ok_or(BenchmarkError::Skip)?;
		derisk_params::<T>()?;
		let before = risk_report::<T>(&who)?;
		assert!(before.due);
		#[extrinsic_call]
		derisk(RawOrigin::Signed(keeper), who.clone());
		let after = risk_report::<T>(&who)?;
		assert!(after.buffer > before.buffer);
		Ok(())
	}

	/// A perpetual slice taken over by a keeper, from a trader holding the most positions.
	#[benchmark]
	fn derisk_perpetual() -> Result<(), BenchmarkError> {
		let (who, keeper) = T::BenchmarkHelper::derisk_trader().ok_or(BenchmarkError::Skip)?;
		derisk_params::<T>()?;
		let before = risk_report::<T>(&who)?;
		assert!(before.due && !before.terms.first().is_some_and(|term| term.perpetual.is_zero()));
		#[extrinsic_call]
		derisk(RawOrigin::Signed(keeper), who.clone());
		let after = risk_report::<T>(&who)?;
		assert!(after.buffer > before.buffer);
		Ok(())
	}

	/// The worker's spot slice of the account `derisk_spot` de-risks: its collateral sold on
	/// the DEX, the debt repaid from the sale, the rest paid to insurance.
	#[benchmark]
	fn derisk_by_sale() -> Result<(), BenchmarkError> {
		let debts = T::MaxPositions::get().saturating_sub(1).max(1);
		let (who, _) = T::BenchmarkHelper::derisk_account(debts).ok_or(BenchmarkError::Skip)?;
		derisk_params::<T>()?;
		let before = risk_report::<T>(&who)?;
		assert!(before.due);
		#[extrinsic_call]
		derisk_unsigned(RawOrigin::None, who.clone(), frame_system::Pallet::<T>::block_number());
		let after = risk_report::<T>(&who)?;
		assert!(after.buffer > before.buffer);
		Ok(())
	}

	/// The worker's perpetual slice of the trader `derisk_perpetual` de-risks, taken over by
	/// the vault.
	#[benchmark]
	fn derisk_by_vault() -> Result<(), BenchmarkError> {
		let (who, _) = T::BenchmarkHelper::derisk_trader().ok_or(BenchmarkError::Skip)?;
		derisk_params::<T>()?;
		let before = risk_report::<T>(&who)?;
		assert!(before.due && !before.terms.first().is_some_and(|term| term.perpetual.is_zero()));
		#[extrinsic_call]
		derisk_unsigned(RawOrigin::None, who.clone(), frame_system::Pallet::<T>::block_number());
		let after = risk_report::<T>(&who)?;
		assert!(after.buffer > before.buffer);
		Ok(())
	}

	#[benchmark]
	fn set_derisk_params() -> Result<(), BenchmarkError> {
		let origin = governance::<T>()?;
		let engine = Params::<T>::get().ok_or(BenchmarkError::Weightless)?;
		let params = crate::DeriskParams {
			horizon_ms: crate::derisk::MIN_HORIZON_MS,
			confidence: sp_runtime::Permill::from_percent(95),
			max_slice: engine.close_factor,
			fee: sp_runtime::Permill::zero(),
		};
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, Some(params));
		assert_eq!(DeriskParamsOf::<T>::get(), Some(params));
		Ok(())
	}

	/// A waiting shortfall's turn in `on_idle`: insurance pays what it holds (less than is
	/// left), then a pass of auto-deleveraging reads `n` traders of a market, the whole market,
	/// every one a short in profit holding the most positions an account may (each scored: a
	/// health read), and ends: `d` of its finalists are still candidates when scored again and
	/// are reduced (a health read and a haircut each) by a shortfall that takes all they can
	/// give (the other finalists, read before, closed since: a storage read each).
	#[benchmark]
	fn work_position_shortfall(
		n: Linear<{ crate::shortfall::MAX_FINALISTS }, { crate::shortfall::MAX_DELEVERAGE_SCAN }>,
		d: Linear<0, { crate::shortfall::MAX_FINALISTS }>,
	) -> Result<(), BenchmarkError> {
		let underlying = T::BenchmarkHelper::deleverage_market(n, n).ok_or(BenchmarkError::Skip)?;
		// Finalists of earlier windows that outrank the market's traders and have closed
		// since, leaving room for `d` of them.
		let closed: alloc::vec::Vec<(T::AccountId, sp_runtime::FixedU128)> = (0..MAX_FINALISTS - d)
			.map(|index| (account("closed", index, 0), sp_runtime::FixedU128::max_value()))
			.collect();
		// Bankrupt units enough for every winner's whole position, and a shortfall beyond all
		// their profit: each finalist is closed whole.
		let mut entry = crate::PendingShortfall {
			underlying,
			bankrupt_long: true,
			units: sp_runtime::FixedU128::from_u32(10 * n),
			left: sp_runtime::FixedU128::from_u32(u32::MAX),
			overdue: sp_runtime::FixedU128::zero(),
			since: frame_system::Pallet::<T>::block_number(),
			cursor: None,
			finalists: frame_support::BoundedVec::truncate_from(closed),
			seen: false,
			passed_over: Default::default(),
		};
		let step;
		#[block]
		{
			// One more than the market's traders: the window ends the pass.
			step = Liquidation::<T>::work_shortfall(&mut entry, n + 1)
				.map_err(|_| BenchmarkError::Stop("the shortfall's turn failed"))?;
		}
		assert_eq!((step.read, step.tried), (n, d));
		assert!(!step.covered.is_zero());
		assert_eq!(step.deleveraged.is_zero(), d == 0);
		Ok(())
	}

	impl_benchmark_test_suite!(Liquidation, crate::mock::new_test_ext(), crate::mock::Test);
}
