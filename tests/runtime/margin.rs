//! Margin accounts in the dev runtime: signed deposits and borrows against prices that operators
//! feed, health read as the `MarginApi` reads it, a crash that makes an account liquidatable.

use liquidation_integration_tests::TestChain;
use liquidation_primitives::{
	ledger::{Inspect as _, RiskScan as _},
	AssetId, Price, PriceError,
};
use liquidation_runtime::{
	assets, genesis_config_presets as presets, Margin, Runtime, RuntimeCall,
};
use pallet_margin::{Amount, AssetStatus};
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::{DispatchError, FixedU128, ModuleError};

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
/// One whole USD (6 decimals) and one whole BTC (8 decimals).
const DOLLAR: u128 = 1_000_000;
const BITCOIN: u128 = 100_000_000;

fn margin(call: pallet_margin::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Margin(call)
}

fn error(error: pallet_margin::Error<Runtime>) -> DispatchError {
	error.into()
}

#[test]
fn a_borrower_becomes_liquidatable_after_a_crash_fed_by_the_operators() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.execute_with(|| {
		// Every dev asset is listed with the preset's parameters.
		let pools = Margin::pool_reports();
		assert_eq!(pools.len(), assets::DEV_ASSETS.len());
		assert!(pools.iter().all(|(_, pool)| pool.status == AssetStatus::Active));
		let weights = Margin::risk_weights(BTC).expect("BTC is listed");
		let (_, _, params) =
			presets::dev_margin_params().into_iter().find(|(a, _, _)| *a == BTC).unwrap();
		assert_eq!(weights.maintenance_collateral_weight, params.maintenance_collateral_weight);
	});

	// Without a BTC price nobody can deposit BTC (its supply cap, in USD, cannot be judged),
	// let alone borrow against it.
	assert_eq!(
		chain.dispatch(
			Alice,
			margin(pallet_margin::Call::deposit { asset: USD, amount: 100_000 * DOLLAR })
		),
		Ok(())
	);
	let missing = error(pallet_margin::Error::Price(PriceError::Missing));
	assert_eq!(
		chain.dispatch(Bob, margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN })),
		Err(missing)
	);

	chain.feed_price(BTC, Price::from_u32(60_000));
	assert_eq!(
		chain.dispatch(Bob, margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN })),
		Ok(())
	);
	// 1 BTC at 60 000 counts 48 000 initially; 43 000 USD borrowed counts 47 300.
	assert_eq!(
		chain.dispatch(
			Bob,
			margin(pallet_margin::Call::borrow { asset: USD, amount: 43_000 * DOLLAR })
		),
		Ok(())
	);
	let insufficient = error(pallet_margin::Error::InsufficientMargin);
	assert_eq!(
		chain.dispatch(
			Bob,
			margin(pallet_margin::Call::borrow { asset: USD, amount: 1_000 * DOLLAR })
		),
		Err(insufficient)
	);
	let bob = Bob.to_account_id();
	chain.execute_with(|| {
		let health = Margin::account_health(&bob).expect("prices are fresh");
		assert!(!health.report.is_liquidatable());
		// Maintenance: 60 000 * 0.90 = 54 000 against 43 000 * 1.05 = 45 150 (plus interest).
		assert_eq!(health.report.maintenance_collateral, FixedU128::from_u32(54_000));
		assert!(health.report.maintenance_debt >= FixedU128::from_u32(45_150));
		assert_eq!(Margin::indebted_accounts(None, 10), vec![bob.clone()]);
	});

	// The crash, in steps the circuit breaker accepts: 52 000, then 46 000.
	chain.feed_price(BTC, Price::from_u32(52_000));
	chain.feed_price(BTC, Price::from_u32(46_000));
	chain.execute_with(|| {
		let health = Margin::account_health(&bob).expect("prices are fresh");
		// 46 000 * 0.90 = 41 400 < 45 150: liquidatable.
		assert!(health.report.is_liquidatable());
		assert!(health.health_factor.unwrap() < FixedU128::from_u32(1));
		let pool = Margin::pool_report(USD).unwrap();
		assert_eq!(pool.total_borrows, Margin::debt_of(&bob, USD));
		// 43 000 and its interest lent of 600 000 deposited: Alice's 100 000 and the
		// perpetuals vault's 500 000 seed.
		assert!(pool.utilization > FixedU128::from_rational(43_000, 600_000));
		assert!(pool.utilization < FixedU128::from_rational(44_000, 600_000));
	});

	// Bob repays everything (repaying needs no margin) and leaves with his bitcoin.
	assert_eq!(
		chain.dispatch(Bob, margin(pallet_margin::Call::repay { asset: USD, amount: Amount::All })),
		Ok(())
	);
	assert_eq!(
		chain.dispatch(
			Bob,
			margin(pallet_margin::Call::withdraw { asset: BTC, amount: Amount::All })
		),
		Ok(())
	);
	chain.execute_with(|| {
		assert!(Margin::positions(&bob).is_empty());
		assert!(Margin::indebted_accounts(None, 10).is_empty());
		// Alice earned the interest Bob paid, less the reserve's share.
		let alice = Alice.to_account_id();
		assert!(Margin::deposit_of(&alice, USD) > 100_000 * DOLLAR);
		let pool = Margin::pool_report(USD).unwrap();
		assert!(pool.reserve > 0);
		// The pool holds what its lenders and reserve are owed, and the custody endowment.
		assert!(pool.cash >= pool.total_deposits);
	});
}

#[test]
fn only_governance_lists_assets_and_changes_parameters() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	let status =
		margin(pallet_margin::Call::set_asset_status { asset: USD, status: AssetStatus::Frozen });
	assert_eq!(chain.dispatch(Ferdie, status.clone()), Err(DispatchError::BadOrigin));
	// Sudo is governance on the dev chain.
	let sudo = RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(status) });
	assert_eq!(chain.dispatch(Alice, sudo), Ok(()));
	chain.execute_with(|| {
		assert_eq!(Margin::pool_report(USD).unwrap().status, AssetStatus::Frozen);
	});
	let frozen = error(pallet_margin::Error::AssetNotActive);
	assert!(matches!(frozen, DispatchError::Module(ModuleError { .. })));
	assert_eq!(
		chain.dispatch(Bob, margin(pallet_margin::Call::deposit { asset: USD, amount: DOLLAR })),
		Err(frozen)
	);
}
