//! The stress test in the dev runtime: its answer against a hand computation, and against what
//! then happens when the oracle feeds the shock and the accounts are liquidated.
//!
//! Interest is set to zero in these chains (and the perpetual book is balanced, so no funding
//! accrues): the blocks of the fall then change nothing but the price, and the stress test's
//! answer, taken before the fall, must equal the totals the real liquidations book after it,
//! to the smallest unit.

use liquidation_integration_tests::{preset_genesis_json, TestChain};
use liquidation_primitives::{ledger::Inspect as _, AssetId};
use liquidation_primitives::{DeficitHandler, Price};
use liquidation_runtime::{
	assets, Insurance, Liquidation, Margin, Runtime, RuntimeCall, UncheckedExtrinsic,
};
use pallet_liquidation::{
	stress::{positions_change, totals_change},
	LiquidationTotals, PositionTotals, StressReport,
};
use serde_json::Value;
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::{traits::Zero, FixedI128, FixedU128};

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const ETH: AssetId = AssetId::Asset(assets::ETH);
const DOLLAR: u128 = 1_000_000;
const BITCOIN: u128 = 100_000_000;

type Report = StressReport<AssetId, pallet_margin::RiskCursor<liquidation_runtime::AccountId>>;

/// Sets every rate of every interest curve in `config` to zero (the kink stays).
fn zero_interest(config: &mut Value) {
	match config {
		Value::Object(map) => {
			for (key, value) in map.iter_mut() {
				if key == "interest" {
					if let Value::Object(curve) = value {
						for (field, rate) in curve.iter_mut() {
							if field != "kink" {
								*rate = serde_json::to_value(FixedU128::zero()).unwrap();
							}
						}
					}
				} else {
					zero_interest(value);
				}
			}
		},
		Value::Array(items) => items.iter_mut().for_each(zero_interest),
		_ => {},
	}
}

/// The dev chain with no interest, BTC at 60 000 and ETH at 3 000.
fn chain_without_interest() -> TestChain {
	let mut config = preset_genesis_json("development");
	zero_interest(&mut config);
	let mut chain = TestChain::from_genesis_json(config);
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	chain
}

fn margin(call: pallet_margin::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Margin(call)
}

/// Alice lends 200 000 USD; Dave and Eve each borrow 43 000 USD against 1 BTC, Ferdie 20 000
/// USD against 1 BTC.
fn three_borrowers() -> TestChain {
	let mut chain = chain_without_interest();
	let lend = margin(pallet_margin::Call::deposit { asset: USD, amount: 200_000 * DOLLAR });
	assert_eq!(chain.dispatch(Alice, lend), Ok(()));
	for (who, usd) in [(Dave, 43_000), (Eve, 43_000), (Ferdie, 20_000)] {
		let deposit = margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN });
		assert_eq!(chain.dispatch(who, deposit), Ok(()));
		let borrow = margin(pallet_margin::Call::borrow { asset: USD, amount: usd * DOLLAR });
		assert_eq!(chain.dispatch(who, borrow), Ok(()));
	}
	chain.execute_with(|| {
		assert_eq!(Margin::debt_of(&Dave.to_account_id(), USD), 43_000 * DOLLAR, "no interest");
	});
	chain
}

/// The stress test of `shocks` over the whole risk index (one page), checked to change nothing.
fn stress(chain: &mut TestChain, shocks: &[(AssetId, i32)]) -> Report {
	chain.execute_with(|| {
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		let report = Liquidation::stress_test(shocks, None, 1_000).expect("the shocks are valid");
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "nothing is kept");
		assert!(report.next.is_none(), "one page reads the whole index");
		report
	})
}

fn spot(report: &Report, asset: AssetId) -> LiquidationTotals {
	report.assets.iter().find(|(a, _)| *a == asset).map(|(_, t)| *t).unwrap_or_default()
}

fn market(report: &Report, underlying: AssetId) -> PositionTotals {
	report.markets.iter().find(|(a, _)| *a == underlying).map(|(_, t)| *t).unwrap_or_default()
}

/// Keepers liquidate `accounts` as the stress test does, in its order (the largest debt against
/// the largest collateral, slice after slice until each is no longer liquidatable), all in one
/// block: before the fallback's grace ends, as keepers racing for the penalty would.
fn keepers_liquidate_until_safe(
	chain: &mut TestChain,
	accounts: &[liquidation_runtime::AccountId],
) {
	chain.start_block();
	for who in accounts {
		for slice in 0.. {
			assert!(slice < 64, "still liquidatable after 64 slices");
			let plan = chain.execute_with(|| {
				let due = Liquidation::effective_report(who).expect("health").is_liquidatable();
				(due && Liquidation::actionable(who))
					.then(|| Liquidation::preview(who, None).expect("a plan"))
			});
			let Some(plan) = plan else { break };
			let call = RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate {
				who: who.clone(),
				debt_asset: plan.debt_asset,
				collateral_asset: plan.collateral_asset,
				max_repay: u128::MAX,
			});
			let xt = chain.signed(Charlie, call);
			assert_eq!(chain.apply(xt), Ok(Ok(())));
		}
	}
	chain.finish_block();
}

/// The engine's totals of `assets` now.
fn totals(chain: &mut TestChain, assets: &[AssetId]) -> Vec<(LiquidationTotals, PositionTotals)> {
	chain.execute_with(|| {
		assets
			.iter()
			.map(|asset| {
				(
					pallet_liquidation::Totals::<Runtime>::get(asset),
					pallet_liquidation::PositionCloseOuts::<Runtime>::get(asset),
				)
			})
			.collect()
	})
}

/// BTC -50 % (to 30 000): Dave and Eve (43 000 USD against 1 BTC) are insolvent, Ferdie (20 000)
/// stays safe (27 000 of maintenance collateral against 21 000 of maintenance debt). A keeper takes each one's whole bitcoin for what
/// it covers with his reward only (the penalty is junior to the debt: `1 + 8 % × 50 % = 1.04`),
/// `30 000 / 1.04 = 28 846.153846` USD; the rest, `14 153.846154` USD each, is written off, and
/// the waterfall gives the insurance fund what it holds (the dev fund holds no USD: all of it is
/// socialized over the USD lenders).
#[test]
fn the_stress_test_of_a_fall_of_half_matches_the_hand_computation() {
	let mut chain = three_borrowers();
	// Bob stakes 5 000 USD into the insurance fund: it pays that much of the bad debt at once.
	let stake = RuntimeCall::Insurance(pallet_insurance::Call::stake {
		asset: USD,
		amount: 5_000 * DOLLAR,
		min_shares: 0,
	});
	assert_eq!(chain.dispatch(Bob, stake), Ok(()));
	let fund = chain.execute_with(|| Insurance::coverable_now(USD));
	assert_eq!(fund, 5_000 * DOLLAR);
	let report = stress(&mut chain, &[(BTC, -5_000)]);
	assert_eq!(report.liquidatable, 2, "{report:?}");
	assert_eq!(report.unresolved, 0);
	assert!(report.read >= 2 && report.read <= 3, "{report:?}");

	let usd = spot(&report, USD);
	let btc = spot(&report, BTC);
	// 30 000 / 1.04 in micro-USD, to the rounding of the sizing.
	let covers = 28_846_153_846u128;
	assert!(usd.repaid.abs_diff(2 * covers) <= 4, "{usd:?}");
	assert_eq!(usd.liquidations, 2);
	assert_eq!(btc.seized, 2 * BITCOIN, "both bitcoins");
	assert_eq!(btc.penalty_to_insurance, 0, "no penalty from an insolvent account");
	assert_eq!(usd.written_off, 2 * 43_000 * DOLLAR - usd.repaid);
	assert_eq!(usd.covered, 5_000 * DOLLAR, "the fund pays all it holds");
	assert_eq!(usd.socialized, usd.written_off - 5_000 * DOLLAR, "the rest at once");
	assert_eq!(usd.most_queued, 0, "nothing waits");

	// In USD at the shocked prices: BTC at 30 000, USD at 1.
	let value = report.value;
	assert_eq!(value.collateral_seized, FixedU128::from_u32(60_000));
	assert_eq!(value.debt_repaid, FixedU128::from_rational(usd.repaid, DOLLAR));
	assert_eq!(value.bad_debt, FixedU128::from_rational(usd.written_off, DOLLAR));
	assert_eq!(value.insurance_now, FixedU128::from_u32(5_000));
	assert_eq!(value.insurance_now + value.to_lenders, value.bad_debt);
	// The stress test took nothing from the fund.
	assert_eq!(chain.execute_with(|| Insurance::coverable_now(USD)), 5_000 * DOLLAR);
	assert!(value.shortfall.is_zero() && value.notional_closed.is_zero());

	// A fall of a fifth (to 48 000) closes out no one: both are liquidated by slices, no bad debt.
	let report = stress(&mut chain, &[(BTC, -2_000)]);
	assert_eq!(report.liquidatable, 2);
	assert_eq!(spot(&report, USD).written_off, 0);
	assert!(spot(&report, BTC).seized < 2 * BITCOIN);
	// A fall of 10 % liquidates no one (health factor 54 000 × 0.9 / (43 000 × 1.05) = 1.08).
	let report = stress(&mut chain, &[(BTC, -1_000)]);
	assert_eq!(report.liquidatable, 0);
	assert!(report.assets.is_empty() && report.value == Default::default());
}

/// The changes of the engine's spot totals of `assets` from `before` to `after`.
fn spot_change(
	before: &[(LiquidationTotals, PositionTotals)],
	after: &[(LiquidationTotals, PositionTotals)],
) -> Vec<LiquidationTotals> {
	before.iter().zip(after).map(|((before, _), (after, _))| totals_change(before, after)).collect()
}

/// The stress test of BTC down `change_bps` before the fall, and what the engine books when the
/// oracle then feeds `path` (until BTC's price is usable at its last level: a jump beyond the
/// breaker's bound is accepted once confirmed) and keepers liquidate as the stress test does.
fn stress_then_feed(change_bps: i32, path: &[u32]) -> (Report, Vec<LiquidationTotals>) {
	let mut chain = three_borrowers();
	let report = stress(&mut chain, &[(BTC, change_bps)]);
	let before = totals(&mut chain, &[USD, BTC]);
	let last = Price::from_u32(*path.last().expect("a path"));
	for price in path {
		chain.feed_price(BTC, Price::from_u32(*price));
	}
	for _ in 0..10 {
		let usable = chain.execute_with(|| {
			<liquidation_runtime::Prices as liquidation_primitives::PriceProvider<_>>::price(&BTC)
				.is_ok_and(|info| info.price == last)
		});
		if usable {
			break;
		}
		chain.feed_price(BTC, last);
	}
	// Worst shortfall first, as the stress test (and the worker).
	let order: Vec<_> = chain.execute_with(|| {
		Liquidation::liquidatable_accounts_at_risk(None, 1_000)
			.0
			.into_iter()
			.map(|(who, _)| who)
			.collect()
	});
	keepers_liquidate_until_safe(&mut chain, &order);
	let after = totals(&mut chain, &[USD, BTC]);
	chain.execute_with(|| {
		for who in [Dave, Eve, Ferdie] {
			let report = Liquidation::effective_report(&who.to_account_id()).unwrap();
			assert!(!report.is_liquidatable(), "{who:?} left liquidatable");
		}
	});
	(report, spot_change(&before, &after))
}

/// The stress test's answer before the fall equals, to the unit, what the engine books after
/// it: a fall of a fifth fed in two steps (Dave and Eve liquidated in slices, no bad debt), and
/// a gap of half through the breaker (the price halted, then confirmed at 30 000: both closed
/// out, their bad debt written off and socialized).
#[test]
fn the_stress_test_equals_what_happens_when_the_fall_is_fed() {
	let (report, happened) = stress_then_feed(-2_000, &[52_000, 48_000]);
	assert_eq!(report.liquidatable, 2);
	assert!(happened[0].repaid > 0 && happened[0].written_off == 0, "{happened:?}");
	assert_eq!(vec![spot(&report, USD), spot(&report, BTC)], happened);

	let (report, happened) = stress_then_feed(-5_000, &[30_000]);
	assert_eq!(report.liquidatable, 2);
	assert!(happened[0].written_off > 0, "{happened:?}");
	assert_eq!(vec![spot(&report, USD), spot(&report, BTC)], happened);
}

/// A cascade map over uniform falls: more is liquidated the further prices fall, and each fall
/// is the stress test of that fall of every oracle-priced asset.
#[test]
fn the_cascade_map_grows_with_the_fall() {
	let mut chain = three_borrowers();
	let steps = chain.execute_with(|| {
		let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
		let steps = Liquidation::stress_cascade(&[5, 10, 20, 30, 50], 200).expect("valid falls");
		assert_eq!(sp_io::storage::root(sp_runtime::StateVersion::V1), root, "nothing is kept");
		steps
	});
	let liquidatable: Vec<u32> = steps.iter().map(|step| step.report.liquidatable).collect();
	// Dave and Eve from a fall of 16.4 % (to 43 000 × 1.05 / 0.9 = 50 167), Ferdie only beyond
	// 61 % (to 20 000 × 1.05 / 0.9 = 23 333).
	assert_eq!(liquidatable, vec![0, 0, 2, 2, 2]);
	let bad_debt: Vec<FixedU128> = steps.iter().map(|step| step.report.value.bad_debt).collect();
	assert!(bad_debt.windows(2).all(|pair| pair[0] <= pair[1]), "{bad_debt:?}");
	assert!(bad_debt[4] > FixedU128::zero());
	// The 50 % step is the stress test of BTC, ETH, DOT and the native token all down 50 %.
	let oracle_assets = chain.execute_with(|| {
		<liquidation_runtime::Prices as liquidation_primitives::PriceShock<_>>::oracle_assets()
	});
	let shocks: Vec<_> = oracle_assets.iter().map(|asset| (*asset, -5_000)).collect();
	let uniform = chain.execute_with(|| Liquidation::stress_test(&shocks, None, 200).unwrap());
	assert_eq!(uniform, steps[4].report);
	chain.execute_with(|| {
		assert!(Liquidation::stress_cascade(&[5, 10], 501).is_err(), "beyond a page of work");
		assert!(Liquidation::stress_test(&[(BTC, -100), (BTC, -100)], None, 10).is_err());
		assert!(Liquidation::stress_test(&[(BTC, -100)], None, 0).is_err(), "an empty page");
		// Outside a transaction the prices pallet refuses to shock.
		assert!(!<liquidation_runtime::Prices as liquidation_primitives::PriceShock<_>>::shock(
			&BTC,
			FixedU128::from_rational(1, 2)
		));
		assert!(Liquidation::stress_cascade(&[0], 10).is_err(), "a fall of nothing");
		assert!(Liquidation::stress_cascade(&[100], 10).is_err(), "a fall of all");
		assert!(Liquidation::stress_test(&[(BTC, -10_000)], None, 10).is_err());
		assert!(Liquidation::stress_test(&[(AssetId::Asset(999), -100)], None, 10).is_err());
	});
}

/// Derivatives and auto-deleveraging: Bob's 1 BTC long on 3 000 USD, and two shorts of 0.5 BTC
/// in profit after a fall (Charlie on 30 000 USD, Dave on 5 000: the book is balanced, no
/// funding accrues). The stress test of BTC -13 % (to 52 200) closes Bob's long against the
/// vault at his bankruptcy, and, the insurance fund holding no USD, auto-deleveraging takes
/// his shortfall from the shorts; the same happens, to the unit, when the fall is fed and the
/// worker liquidates him.
#[test]
fn the_stress_test_of_a_perpetual_book_equals_its_close_out_and_deleveraging() {
	let mut chain = chain_without_interest();
	for (who, usd) in [(Bob, 3_000u128), (Charlie, 30_000), (Dave, 5_000)] {
		let deposit = margin(pallet_margin::Call::deposit { asset: USD, amount: usd * DOLLAR });
		assert_eq!(chain.dispatch(who, deposit), Ok(()));
	}
	let trade = |size: FixedI128, limit: u32| {
		RuntimeCall::Perpetuals(pallet_perpetuals::Call::modify_position {
			underlying: BTC,
			size_delta: size,
			limit_price: Price::from_u32(limit),
		})
	};
	let half = FixedI128::from_rational(1, 2);
	// In one block: the book is never skewed over time, so the funding rate stays at zero.
	let trades = vec![
		chain.signed(Bob, trade(FixedI128::from_u32(1), 60_100)),
		chain.signed(Charlie, trade(-half, 1)),
		chain.signed(Dave, trade(-half, 1)),
	];
	assert_eq!(chain.produce_block(trades), vec![Ok(()), Ok(()), Ok(())]);
	assert_eq!(chain.execute_with(|| Insurance::coverable_now(USD)), 0, "an empty fund");

	let report = stress(&mut chain, &[(BTC, -1_300)]);
	assert_eq!(report.liquidatable, 1, "{report:?}");
	assert_eq!(report.unresolved, 0);
	let btc = market(&report, BTC);
	assert_eq!(btc.close_outs, 1, "{btc:?}");
	// 1 BTC at 52 200.
	assert_eq!(btc.notional, FixedU128::from_u32(52_200));
	// His loss (about 7 802 USD) beyond his 3 000 USD, to rounding.
	assert!(btc.shortfall > FixedU128::from_u32(4_700), "{btc:?}");
	assert!(btc.shortfall < FixedU128::from_u32(4_900), "{btc:?}");
	assert!(btc.covered.is_zero() && btc.pending.is_zero(), "{btc:?}");
	assert!(btc.deleveraged + btc.to_lps == btc.shortfall, "{btc:?}");
	assert!(btc.to_lps < FixedU128::from_rational(1, DOLLAR), "to rounding: {btc:?}");
	assert_eq!(report.value.deleveraged, btc.deleveraged);
	assert_eq!(report.value.notional_closed, btc.notional);

	let before = totals(&mut chain, &[USD, BTC]);
	chain.feed_price(BTC, Price::from_u32(52_200));
	let bob = Bob.to_account_id();
	for _ in 0..8 {
		let due = chain.execute_with(|| {
			Liquidation::effective_report(&bob).unwrap().is_liquidatable()
				&& Liquidation::actionable(&bob)
		});
		if !due {
			break;
		}
		chain.start_block();
		let call = pallet_liquidation::Call::<Runtime>::liquidate_unsigned {
			who: bob.clone(),
			found_at: 0,
		};
		let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call));
		assert_eq!(chain.apply(xt), Ok(Ok(())));
		chain.finish_block();
	}
	let after = totals(&mut chain, &[USD, BTC]);
	let (was, now) = (before[1].1, after[1].1);
	let happened = positions_change(&was, &now);
	assert_eq!(btc, happened);
	let usd_happened = after[0].0.written_off - before[0].0.written_off;
	assert_eq!(spot(&report, USD).written_off, usd_happened);
	chain.execute_with(|| {
		assert!(liquidation_runtime::Perpetuals::position_reports(&bob).is_empty());
		assert!(Liquidation::pending_shortfalls().is_empty());
	});
}

/// A halted price stays halted under a shock: the accounts it makes liquidatable (valued at the
/// shocked last price) are counted, but nothing can be liquidated at a price no one can use, so
/// they are reported unresolved and nothing is booked.
#[test]
fn a_halted_price_leaves_the_accounts_unresolved() {
	let mut chain = three_borrowers();
	let halt = RuntimeCall::Sudo(pallet_sudo::Call::sudo {
		call: Box::new(RuntimeCall::Prices(pallet_prices::Call::halt { asset: BTC })),
	});
	assert_eq!(chain.dispatch(Alice, halt), Ok(()));
	let report = stress(&mut chain, &[(BTC, -5_000)]);
	assert_eq!((report.liquidatable, report.unresolved), (2, 2), "{report:?}");
	assert!(report.assets.is_empty() && report.value == Default::default(), "{report:?}");
}
