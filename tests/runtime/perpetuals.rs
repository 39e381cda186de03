//! Perpetual futures in the dev runtime: the preset's markets and vault, a trade signed as a
//! wallet signs it, and a 5x long backed by another asset that a fall of the underlying makes
//! liquidatable, as margin's health, its risk index and the engine see it.

use liquidation_integration_tests::TestChain;
use liquidation_primitives::{ledger::Inspect as _, AssetId, Price};
use liquidation_runtime::{
	assets, genesis_config_presets as presets, Liquidation, Margin, Perpetuals, Runtime,
	RuntimeCall,
};
use pallet_perpetuals::MarketStatus;
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::{traits::Zero, FixedI128, FixedPointNumber, FixedU128};

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const ETH: AssetId = AssetId::Asset(assets::ETH);
const DOT: AssetId = AssetId::Asset(assets::DOT);
/// One whole ETH (18 decimals).
const ETHER: u128 = 1_000_000_000_000_000_000;

fn perps(call: pallet_perpetuals::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Perpetuals(call)
}

#[test]
fn the_preset_lists_three_markets_and_seeds_the_vault() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.execute_with(|| {
		let markets = Perpetuals::market_reports();
		let listed: Vec<AssetId> = markets.iter().map(|m| m.underlying).collect();
		assert_eq!(listed.len(), 3);
		for underlying in [BTC, ETH, DOT] {
			assert!(listed.contains(&underlying));
		}
		assert!(markets.iter().all(|m| m.status == MarketStatus::Active && m.skew.is_zero()));
		for (underlying, params) in presets::dev_perpetual_markets() {
			assert_eq!(params.check(), Ok(()), "{underlying:?}");
		}
		// Half of Alice's USD endowment, a deposit of the vault's account in margin.
		let seed = presets::DEV_VAULT_SEED_USD;
		let vault = Perpetuals::vault_report().expect("no market is skewed");
		assert_eq!(vault.nav, FixedI128::saturating_from_integer(seed as i128));
		assert_eq!(Margin::deposit_of(&Perpetuals::vault_account(), USD), seed * 1_000_000);
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}

/// The test: 4 ETH (12 000 USD) back a 1 BTC long on BTC-PERP (60 000 USD, five times
/// the collateral); BTC falls and the account becomes liquidatable, reported so by margin's
/// health, by its risk index and by the engine's scan.
#[test]
fn a_5x_btc_long_backed_by_eth_becomes_liquidatable_when_btc_falls() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	let bob = Bob.to_account_id();
	let deposit =
		RuntimeCall::Margin(pallet_margin::Call::deposit { asset: ETH, amount: 4 * ETHER });
	assert_eq!(chain.dispatch(Bob, deposit), Ok(()));
	let open = perps(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::saturating_from_integer(1),
		limit_price: Price::from_u32(60_100),
	});
	assert_eq!(chain.dispatch(Bob, open), Ok(()));
	chain.execute_with(|| {
		let positions = Perpetuals::position_reports(&bob);
		assert_eq!(positions.len(), 1);
		// Fill 60 000 (1 + 1 / 25 000) = 60 002.4; its 5 bps fee lent to Bob in USD.
		assert_eq!(positions[0].entry_price, FixedU128::from_rational(600_024, 10));
		assert_eq!(Margin::debt_of(&bob, USD), 30_001_200);
		let health = Margin::health_of(&bob).unwrap();
		assert!(!health.is_liquidatable());
		assert!(!health.derivatives.maintenance_requirement.is_zero());
		// Filed in the risk index at his distance, the position's sensitivity included, in the
		// lists of ETH, of USD (the fee debt) and of BTC (the underlying): a walk with nothing
		// moved does not read him.
		let entry = pallet_margin::RiskEntryOf::<Runtime>::get(&bob).expect("filed");
		assert!(entry.bucket > 1_000, "{entry:?}");
		assert!(entry.assets.contains(&BTC) && entry.assets.contains(&ETH));
		assert!(!Margin::accounts_at_risk(None, 100).0.contains(&bob));
	});

	// BTC falls, in steps the circuit breaker accepts.
	chain.feed_price(BTC, Price::from_u32(52_000));
	chain.execute_with(|| {
		// Loss 8 002.4 plus 0.56% maintenance of 52 000 and the fee debt, against 10 200.
		assert!(!Margin::health_of(&bob).unwrap().is_liquidatable());
	});
	chain.feed_price(BTC, Price::from_u32(48_000));
	chain.execute_with(|| {
		// Loss 12 002.4 > 10 200 of maintenance collateral.
		let health = Margin::health_of(&bob).unwrap();
		assert!(health.is_liquidatable());
		// (12 002.4 and the little funding accrued over the blocks of the fall)
		let loss = health.derivatives.loss;
		assert!(loss >= FixedU128::from_rational(120_024, 10), "{loss:?}");
		assert!(loss < FixedU128::from_u32(12_003), "{loss:?}");
		assert!(Margin::accounts_at_risk(None, 100).0.contains(&bob));
		let (found, _) = Liquidation::liquidatable_accounts_at_risk(None, 100);
		assert!(found.iter().any(|(who, _)| *who == bob));
		// The position reports the price that made it so.
		let at = Perpetuals::position_reports(&bob)[0].liquidation_price.unwrap();
		assert!(at > FixedU128::from_u32(48_000) && at < FixedU128::from_u32(52_000), "{at:?}");
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}
