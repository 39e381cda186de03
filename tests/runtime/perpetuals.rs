//! Perpetual futures in the dev runtime: the preset's markets and vault, a trade signed as a
//! wallet signs it, and a 5x long backed by another asset that a fall of the underlying makes
//! liquidatable, as margin's health, its risk index and the engine see it.

use frame_support::unsigned::ValidateUnsigned;
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{ledger::Inspect as _, AssetId, Price};
use liquidation_runtime::{
	assets, genesis_config_presets as presets, Liquidation, Margin, Perpetuals, Runtime,
	RuntimeCall, RuntimeEvent, UncheckedExtrinsic,
};
use pallet_perpetuals::MarketStatus;
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::transaction_validity::TransactionSource;
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

/// Bob's 5x BTC long backed by 4 ETH, and BTC at 50 500: his maintenance health is
/// 10 200 - (1.05 × 9 502.4 + 31.50 + 284.5) < 0, health factor 0.991 (partial close-outs).
fn a_liquidatable_5x_long() -> TestChain {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	let deposit =
		RuntimeCall::Margin(pallet_margin::Call::deposit { asset: ETH, amount: 4 * ETHER });
	assert_eq!(chain.dispatch(Bob, deposit), Ok(()));
	let open = perps(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::saturating_from_integer(1),
		limit_price: Price::from_u32(60_100),
	});
	assert_eq!(chain.dispatch(Bob, open), Ok(()));
	chain.feed_price(BTC, Price::from_u32(52_000));
	chain.feed_price(BTC, Price::from_u32(50_500));
	let bob = Bob.to_account_id();
	chain.execute_with(|| {
		let factor = Margin::health_of(&bob).unwrap().health_factor().unwrap();
		assert!(factor > FixedU128::from_rational(99, 100), "{factor:?}");
		assert!(factor < FixedU128::from_u32(1), "{factor:?}");
	});
	chain
}

fn engine_events(chain: &mut TestChain) -> Vec<pallet_liquidation::Event<Runtime>> {
	chain.execute_with(|| {
		frame_system::Pallet::<Runtime>::events()
			.into_iter()
			.filter_map(|record| match record.event {
				RuntimeEvent::Liquidation(event) => Some(event),
				_ => None,
			})
			.collect()
	})
}

/// The worker closes a liquidatable perpetual position against the vault (the backstop): half
/// of it (the close factor: releasing all of its margin would not reach the target), at the
/// oracle less the fee, insurance taking half of the fee; the shortfall falls, and the next
/// slice is valid at once. Its loss became USD debt, the spot engine's to repay from his ETH.
#[test]
fn the_worker_closes_half_a_liquidatable_long_against_the_vault() {
	let mut chain = a_liquidatable_5x_long();
	let bob = Bob.to_account_id();
	let call = pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who: bob.clone() };
	let (before, usd_debt, fund_usd) = chain.execute_with(|| {
		assert!(Liquidation::due_accounts(None, 100).0.iter().any(|(who, _)| *who == bob));
		assert!(Liquidation::validate_unsigned(TransactionSource::Local, &call).is_ok());
		let fund = pallet_insurance::Pallet::<Runtime>::fund_account();
		(
			Margin::health_of(&bob).unwrap(),
			Margin::debt_of(&bob, USD),
			liquidation_runtime::Assets::balance(assets::USD, &fund),
		)
	});
	chain.start_block();
	let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call.clone()));
	assert_eq!(chain.apply(xt), Ok(Ok(())));
	chain.finish_block();
	let events = engine_events(&mut chain);
	let (units, whole, fee, to_insurance, taker) = events
		.iter()
		.find_map(|event| match event {
			pallet_liquidation::Event::PositionLiquidated {
				who,
				underlying,
				units,
				whole,
				fee,
				to_insurance,
				taker,
				keeper: false,
				..
			} if *who == bob && *underlying == BTC => {
				Some((*units, *whole, *fee, *to_insurance, taker.clone()))
			},
			_ => None,
		})
		.unwrap_or_else(|| panic!("a backstop close-out: {events:?}"));
	assert_eq!(units, FixedU128::from_rational(1, 2));
	assert!(!whole);
	assert_eq!(taker, Perpetuals::vault_account());
	chain.execute_with(|| {
		// The fee: half the margin the half releases (a few dozen USD), half of it to insurance
		// (6 decimals, rounded down).
		assert!(fee > FixedU128::from_u32(60) && fee < FixedU128::from_u32(80), "{fee:?}");
		let half = fee.into_inner() / 2 / 1_000_000_000_000;
		assert!(to_insurance.abs_diff(half) <= 1, "{to_insurance} against {half}");
		let fund = pallet_insurance::Pallet::<Runtime>::fund_account();
		assert_eq!(
			liquidation_runtime::Assets::balance(assets::USD, &fund),
			fund_usd + to_insurance
		);
		let position = &Perpetuals::position_reports(&bob)[0];
		assert_eq!(position.size, FixedI128::from_rational(1, 2));
		// Half the loss (4 751.2) and the fee, lent to him in USD.
		let lent = Margin::debt_of(&bob, USD) - usd_debt;
		assert!(lent > 4_751 * 1_000_000 && lent < 4_900 * 1_000_000, "{lent}");
		let after = Margin::health_of(&bob).unwrap();
		assert!(after.maintenance_shortfall() < before.maintenance_shortfall());
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!((totals.close_outs, totals.taken_over), (1, 0));
		assert_eq!(totals.fee_to_insurance, to_insurance);
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
		Liquidation::do_try_state().expect("invariants hold");
		// Still liquidatable: the next slice is valid at once.
		if after.is_liquidatable() {
			assert!(Liquidation::validate_unsigned(TransactionSource::Local, &call).is_ok());
		}
	});
}

/// A keeper takes over half of the position at the oracle less the fee: he holds the fee as
/// unrealised profit and pays insurance's half of it; a keeper without the margin for it is
/// refused, and a healthy account cannot be touched.
#[test]
fn a_keeper_takes_over_half_a_liquidatable_long() {
	let mut chain = a_liquidatable_5x_long();
	let take = |max_units: FixedU128| {
		RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate_position {
			who: Bob.to_account_id(),
			underlying: BTC,
			max_units,
		})
	};
	// Charlie has no margin: the takeover would leave him below initial health.
	assert!(chain.dispatch(Charlie, take(FixedU128::from_u32(1))).is_err());
	let deposit = RuntimeCall::Margin(pallet_margin::Call::deposit {
		asset: USD,
		amount: 20_000 * 1_000_000,
	});
	assert_eq!(chain.dispatch(Charlie, deposit), Ok(()));
	// Dave's account is healthy: nothing to liquidate.
	let healthy = RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate_position {
		who: Dave.to_account_id(),
		underlying: BTC,
		max_units: FixedU128::from_u32(1),
	});
	assert!(chain.dispatch(Charlie, healthy).is_err());
	assert_eq!(chain.dispatch(Charlie, take(FixedU128::from_u32(1))), Ok(()));
	let charlie = Charlie.to_account_id();
	chain.execute_with(|| {
		let his = &Perpetuals::position_reports(&charlie)[0];
		assert_eq!(his.size, FixedI128::from_rational(1, 2));
		// (The fallback may have closed a first slice in the blocks the calls took.)
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!(totals.taken_over, 1);
		// His unrealised profit is his takeover's fee (less the funding of the block).
		let fee = frame_system::Pallet::<Runtime>::events()
			.into_iter()
			.find_map(|record| match record.event {
				RuntimeEvent::Liquidation(pallet_liquidation::Event::PositionLiquidated {
					fee,
					keeper: true,
					..
				}) => Some(FixedI128::from_inner(fee.into_inner() as i128)),
				_ => None,
			})
			.expect("the takeover's event");
		let profit = his.unrealised_pnl;
		assert!(profit <= fee && profit > fee - FixedI128::from_u32(1), "{profit:?} {fee:?}");
		// Open interest unchanged by the takeover: Bob's and Charlie's longs.
		let market = Perpetuals::market_report(BTC).unwrap();
		let bobs = Perpetuals::position_reports(&Bob.to_account_id())
			.first()
			.map(|position| position.size.into_inner() as u128)
			.unwrap_or_default();
		assert_eq!(market.long_interest.into_inner(), bobs + his.size.into_inner() as u128);
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}

/// With no worker, `on_idle` closes the position out after the grace period.
#[test]
fn the_fallback_closes_positions_when_no_worker_runs() {
	let mut chain = a_liquidatable_5x_long();
	let bob = Bob.to_account_id();
	for _ in 0..6 {
		chain.produce_block(vec![]);
	}
	chain.execute_with(|| {
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert!(totals.close_outs >= 1, "{totals:?}");
		let left = Perpetuals::position_reports(&bob);
		assert!(left.is_empty() || left[0].size < FixedI128::from_u32(1), "{left:?}");
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}

/// A perpetual-only trader whose loss exceeds his account: 3 000 USD behind a 1 BTC long, BTC
/// falls to 52 000 (a loss of 8 002.4). The worker closes the whole position; he is charged
/// all he has and no more (closed at his bankruptcy price as far as his account goes), so no
/// debt is left to the USD lenders; the vault holds the shortfall, of which the insurance
/// fund (2 000 USD staked) pays what it holds and the LPs bear the rest.
#[test]
fn an_insolvent_long_is_closed_at_its_bankruptcy_and_its_shortfall_covered_then_borne_by_lps() {
	const DOLLAR: u128 = 1_000_000;
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	let stake = RuntimeCall::Insurance(pallet_insurance::Call::stake {
		asset: USD,
		amount: 2_000 * DOLLAR,
		min_shares: 2_000 * DOLLAR - 1_000,
	});
	assert_eq!(chain.dispatch(Dave, stake), Ok(()));
	let deposit =
		RuntimeCall::Margin(pallet_margin::Call::deposit { asset: USD, amount: 3_000 * DOLLAR });
	assert_eq!(chain.dispatch(Bob, deposit), Ok(()));
	let open = perps(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::saturating_from_integer(1),
		limit_price: Price::from_u32(60_100),
	});
	assert_eq!(chain.dispatch(Bob, open), Ok(()));
	chain.feed_price(BTC, Price::from_u32(52_000));
	let bob = Bob.to_account_id();
	let vault = Perpetuals::vault_account();
	let (owed_beyond, bob_usd, vault_usd, fund_usd) = chain.execute_with(|| {
		let report = Liquidation::effective_report(&bob).unwrap();
		// His bankruptcy price: where his equity is zero, 52 000 plus what he owes beyond it.
		let bankruptcy = Perpetuals::position_reports(&bob)[0].bankruptcy_price.unwrap();
		let expected = FixedU128::from_u32(52_000) + (report.debt_value - report.collateral_value);
		assert!(bankruptcy.into_inner().abs_diff(expected.into_inner()) < 1_000, "{bankruptcy:?}");
		let fund = pallet_insurance::Pallet::<Runtime>::fund_account();
		(
			report.debt_value - report.collateral_value,
			Margin::deposit_of(&bob, USD),
			Margin::deposit_of(&vault, USD),
			liquidation_runtime::Assets::balance(assets::USD, &fund),
		)
	});
	// About 8 002.4 of loss against 2 969.9988 of deposit.
	assert!(owed_beyond > FixedU128::from_u32(5_000), "{owed_beyond:?}");
	assert!(owed_beyond < FixedU128::from_u32(5_100), "{owed_beyond:?}");
	chain.start_block();
	let call = pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who: bob.clone() };
	let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call));
	assert_eq!(chain.apply(xt), Ok(Ok(())));
	chain.finish_block();
	let events = engine_events(&mut chain);
	let (shortfall, covered, to_lps) = events
		.iter()
		.find_map(|event| match event {
			pallet_liquidation::Event::PositionShortfall {
				who,
				shortfall,
				covered,
				to_lps,
				..
			} if *who == bob => Some((*shortfall, *covered, *to_lps)),
			_ => None,
		})
		.unwrap_or_else(|| panic!("a shortfall: {events:?}"));
	assert!(events.iter().any(|event| matches!(
		event,
		pallet_liquidation::Event::PositionLiquidated { whole: true, keeper: false, .. }
	)));
	chain.execute_with(|| {
		// His whole deposit went to the vault; no debt is left (to rounding).
		assert!(Perpetuals::position_reports(&bob).is_empty());
		assert_eq!(Margin::deposit_of(&bob, USD), 0);
		assert!(Margin::debt_of(&bob, USD) <= 1, "{}", Margin::debt_of(&bob, USD));
		// The shortfall: what he owed beyond his account and the close-out's fee (a share of
		// 0.56% of 52 000).
		assert!(shortfall >= owed_beyond, "{shortfall:?}");
		assert!(shortfall < owed_beyond + FixedU128::from_u32(200), "{shortfall:?}");
		// Insurance paid what it held (the 2 000 staked, its locked shares' part aside); the
		// LPs bore the rest.
		let fund = pallet_insurance::Pallet::<Runtime>::fund_account();
		let paid = fund_usd - liquidation_runtime::Assets::balance(assets::USD, &fund);
		assert_eq!(paid, covered);
		assert!(covered > 1_900 * DOLLAR && covered <= 2_000 * DOLLAR, "{covered}");
		let covered_value = FixedU128::from_rational(covered, DOLLAR);
		assert_eq!(to_lps, shortfall - covered_value);
		assert_eq!(Margin::deposit_of(&vault, USD), vault_usd + bob_usd + covered);
		let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::get(BTC);
		assert_eq!(totals.shortfall, shortfall);
		assert_eq!(totals.covered + totals.to_lps, totals.shortfall);
		Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
		Liquidation::do_try_state().expect("invariants hold");
	});
}
