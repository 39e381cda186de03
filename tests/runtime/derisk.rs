//! Predictive de-risking in the dev runtime: the value at risk from the prices pallet's
//! volatility against a hand computation, the boundary (just inside and just outside the
//! buffer), slices that never overshoot, the slice cap, a perpetual position's slice, and the
//! off-chain worker's slices (sold on the DEX, taken over by the vault).

use frame_support::unsigned::ValidateUnsigned;
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, Price, PriceProvider};
use liquidation_runtime::{assets, Liquidation, Margin, Prices, Runtime, RuntimeCall};
use pallet_liquidation::{derisk::z_score, DeriskAction, DeriskParams, EngineParams, RiskReport};
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::transaction_validity::{
	InvalidTransaction, TransactionSource, TransactionValidity,
};
use sp_runtime::{traits::Zero, FixedI128, FixedPointNumber, FixedU128, Permill};

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const DOLLAR: u128 = 1_000_000;
const BITCOIN: u128 = 100_000_000;
const HOUR_MS: u64 = 3_600_000;

fn sudo(call: RuntimeCall) -> RuntimeCall {
	RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) })
}

fn params(horizon_ms: u64, max_slice_percent: u32) -> DeriskParams {
	DeriskParams {
		horizon_ms,
		confidence: Permill::from_percent(99),
		max_slice: Permill::from_percent(max_slice_percent),
		fee: Permill::from_percent(2),
	}
}

fn set_params(chain: &mut TestChain, params: Option<DeriskParams>) {
	let call =
		sudo(RuntimeCall::Liquidation(pallet_liquidation::Call::set_derisk_params { params }));
	assert_eq!(chain.dispatch(Alice, call), Ok(()));
	assert_eq!(chain.execute_with(pallet_liquidation::DeriskParamsOf::<Runtime>::get), params);
}

fn derisk(
	chain: &mut TestChain,
	who: &liquidation_runtime::AccountId,
) -> sp_runtime::DispatchResult {
	let call = RuntimeCall::Liquidation(pallet_liquidation::Call::derisk { who: who.clone() });
	chain.dispatch(Charlie, call)
}

fn not_due() -> sp_runtime::DispatchError {
	pallet_liquidation::Error::<Runtime>::NotDue.into()
}

fn report(chain: &mut TestChain, who: &liquidation_runtime::AccountId) -> RiskReport<AssetId> {
	chain.execute_with(|| Liquidation::risk_report(who, None).expect("a report"))
}

/// BTC moves 60 000, 63 000, 58 000, 61 000, 60 000 (a volatility the prices pallet estimates);
/// Alice lends 200 000 USD; Dave borrows 40 000 USD against 1 BTC.
fn a_volatile_btc_borrower() -> TestChain {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	for price in [60_000, 63_000, 58_000, 61_000, 60_000] {
		chain.feed_price(BTC, Price::from_u32(price));
	}
	let margin = |call| RuntimeCall::Margin(call);
	let lend = margin(pallet_margin::Call::deposit { asset: USD, amount: 200_000 * DOLLAR });
	assert_eq!(chain.dispatch(Alice, lend), Ok(()));
	let deposit = margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN });
	assert_eq!(chain.dispatch(Dave, deposit), Ok(()));
	let borrow = margin(pallet_margin::Call::borrow { asset: USD, amount: 40_000 * DOLLAR });
	assert_eq!(chain.dispatch(Dave, borrow), Ok(()));
	chain
}

/// BTC as in [`a_volatile_btc_borrower`]; Bob holds a 1 BTC long on 15 000 USD, Charlie 100 000
/// USD of margin (to take units over).
fn a_volatile_btc_long() -> TestChain {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	for price in [60_000, 63_000, 58_000, 61_000, 60_000] {
		chain.feed_price(BTC, Price::from_u32(price));
	}
	for (who, usd) in [(Bob, 15_000u128), (Charlie, 100_000)] {
		let deposit =
			RuntimeCall::Margin(pallet_margin::Call::deposit { asset: USD, amount: usd * DOLLAR });
		assert_eq!(chain.dispatch(who, deposit), Ok(()));
	}
	let open = RuntimeCall::Perpetuals(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::from_u32(1),
		limit_price: Price::from_u32(60_100),
	});
	assert_eq!(chain.dispatch(Bob, open), Ok(()));
	chain
}

/// The value at risk by hand: `z(99 %) √(h / 1 day) |s| σ` with `s = 60 000 × 0.90` (the BTC
/// deposit at its maintenance weight; the USD debt has no volatility), against the buffer
/// `60 000 × 0.90 - 40 000 × 1.05` (and the interest of a few blocks).
#[test]
fn the_value_at_risk_is_the_hand_computation_and_the_boundary_is_the_buffer() {
	let mut chain = a_volatile_btc_borrower();
	let dave = Dave.to_account_id();
	set_params(&mut chain, Some(params(HOUR_MS, 25)));
	let volatility = chain.execute_with(|| Prices::price(&BTC).unwrap().volatility);
	assert!(volatility > FixedU128::from_rational(1, 100), "{volatility:?}");
	let z = z_score(Permill::from_percent(99)).unwrap();
	assert_eq!(z, FixedU128::from_rational(23_263, 10_000));
	let k = z * FixedU128::from_rational(1, 24).sqrt();
	let expected = k * volatility * FixedU128::from_u32(54_000);
	assert!(k * volatility < FixedU128::from_u32(1), "a move at risk below all of the price");
	let risk = report(&mut chain, &dave);
	let diff = if risk.value_at_risk > expected {
		risk.value_at_risk - expected
	} else {
		expected - risk.value_at_risk
	};
	assert!(diff < FixedU128::from_rational(1, 1_000_000), "{risk:?} against {expected:?}");
	assert_eq!(risk.terms[0].asset, BTC);
	assert!(risk.terms[0].long);
	let debt = chain.execute_with(|| {
		<Margin as liquidation_primitives::ledger::Inspect<_>>::debt_of(&dave, USD)
	});
	// The health accrues interest to this block's time: within a thousandth of a dollar.
	let buffer = FixedU128::from_u32(54_000)
		- FixedU128::from_rational(debt, DOLLAR) * FixedU128::from_rational(105, 100);
	let drift = if risk.buffer > buffer { risk.buffer - buffer } else { buffer - risk.buffer };
	assert!(drift < FixedU128::from_rational(1, 1_000), "{risk:?} against {buffer:?}");
	let buffer = risk.buffer;

	// The horizon at which the VaR meets the buffer: h* = 1 h (B / VaR(1 h))².
	let ratio = buffer / risk.value_at_risk;
	let boundary_ms =
		(FixedU128::from_u32(HOUR_MS as u32) * ratio * ratio).into_inner() / FixedU128::DIV;
	assert!(boundary_ms > 60_000 && boundary_ms < 7 * 24 * HOUR_MS as u128, "{boundary_ms}");
	let boundary_ms = boundary_ms as u64;

	// Just inside the buffer (1 % shorter horizon): not due, refused, nothing changes.
	set_params(&mut chain, Some(params(boundary_ms * 99 / 100, 25)));
	let inside = report(&mut chain, &dave);
	assert!(inside.value_at_risk < inside.buffer && !inside.due, "{inside:?}");
	let btc = |chain: &mut TestChain| {
		chain.execute_with(|| {
			<Margin as liquidation_primitives::ledger::Inspect<_>>::deposit_of(&dave, BTC)
		})
	};
	let held = btc(&mut chain);
	assert_eq!(derisk(&mut chain, &dave), Err(not_due()));
	assert_eq!(btc(&mut chain), held, "nothing seized");

	// Just outside (1 % longer): due; one slice brings the VaR back to the buffer, no further.
	set_params(&mut chain, Some(params(boundary_ms * 101 / 100, 25)));
	let outside = report(&mut chain, &dave);
	assert!(outside.value_at_risk > outside.buffer && outside.due, "{outside:?}");
	let (candidates, next) = chain.execute_with(|| Liquidation::derisk_candidates(None, 100));
	assert_eq!(candidates.len(), 1, "Dave only (Alice lends, owes nothing): {candidates:?}");
	assert_eq!(candidates[0], (dave.clone(), outside.value_at_risk - outside.buffer));
	assert!(next.is_none());
	assert_eq!(derisk(&mut chain, &dave), Ok(()));
	let after = report(&mut chain, &dave);
	assert!(after.buffer > outside.buffer, "the buffer grows: {after:?}");
	assert!(after.value_at_risk < outside.value_at_risk);
	let gap = if after.value_at_risk > after.buffer {
		after.value_at_risk - after.buffer
	} else {
		after.buffer - after.value_at_risk
	};
	// Rounded down in the debt's smallest unit (and the bitcoin's): within a cent.
	assert!(gap < FixedU128::from_rational(1, 100), "{after:?}");
	// Never past it but for the rounding of the bitcoin paid (down, in the owner's favour: one
	// satoshi, 0.0006 USD).
	let past = FixedU128::from_rational(6, 10_000);
	assert!(after.value_at_risk + past >= after.buffer, "never past the buffer: {after:?}");
	// Charlie was paid the repayment's value in bitcoin and 2 % on top.
	let events = chain.liquidation_events();
	let Some(pallet_liquidation::Event::Derisked { action, keeper, .. }) = events.last() else {
		panic!("de-risked: {events:?}")
	};
	assert_eq!(*keeper, Some(Charlie.to_account_id()));
	let DeriskAction::Spot { debt_asset, repaid, collateral_asset, seized, to_insurance } = *action
	else {
		panic!("a spot slice: {action:?}")
	};
	assert_eq!((debt_asset, collateral_asset, to_insurance), (USD, BTC, 0));
	let paid = FixedU128::from_rational(seized, BITCOIN) * FixedU128::from_u32(60_000);
	let owed = FixedU128::from_rational(repaid, DOLLAR) * FixedU128::from_rational(102, 100);
	assert!(paid <= owed && owed - paid < FixedU128::from_rational(1, 1_000), "{paid:?} {owed:?}");
	// Not due any more (to the rounding): a second slice does nothing or little.
	chain.execute_with(|| Liquidation::do_try_state().expect("invariants hold"));
}

/// A horizon of four hours puts the VaR far above the buffer: each slice repays at most a
/// quarter of the debt (the governed slice), the buffer grows each time, the account is never
/// liquidatable, and the slices stop once the VaR is back inside.
#[test]
fn slices_are_capped_and_stop_inside_the_buffer() {
	let mut chain = a_volatile_btc_borrower();
	let dave = Dave.to_account_id();
	set_params(&mut chain, Some(params(4 * HOUR_MS, 25)));
	let mut last = report(&mut chain, &dave);
	assert!(last.due);
	let mut slices = 0;
	while last.due && last.value_at_risk > last.buffer + FixedU128::from_rational(1, 100) {
		let debt = chain.execute_with(|| {
			<Margin as liquidation_primitives::ledger::Inspect<_>>::debt_of(&dave, USD)
		});
		assert_eq!(derisk(&mut chain, &dave), Ok(()));
		slices += 1;
		let now = report(&mut chain, &dave);
		assert!(now.buffer > last.buffer, "{now:?} after {last:?}");
		let repaid = chain.execute_with(|| {
			debt - <Margin as liquidation_primitives::ledger::Inspect<_>>::debt_of(&dave, USD)
		});
		assert!(repaid <= debt / 4 + 1, "at most a quarter: {repaid} of {debt}");
		chain.execute_with(|| {
			assert!(!Margin::health_of(&dave).unwrap().is_liquidatable());
		});
		last = now;
		assert!(slices < 40, "{last:?}");
	}
	assert!(slices > 1, "capped: {slices}");
	// The last slice brought the VaR back to the buffer, within a cent.
	assert!(last.value_at_risk <= last.buffer + FixedU128::from_rational(1, 100), "{last:?}");
	assert!(derisk(&mut chain, &dave).is_err(), "inside the buffer: refused");
}

/// Switched off, or for a liquidatable account (a liquidation's), de-risking is refused.
#[test]
fn de_risking_is_refused_when_off_or_liquidatable() {
	let mut chain = a_volatile_btc_borrower();
	let dave = Dave.to_account_id();
	assert_eq!(
		derisk(&mut chain, &dave),
		Err(pallet_liquidation::Error::<Runtime>::DeriskDisabled.into()),
		"off by default"
	);
	set_params(&mut chain, Some(params(7 * 24 * HOUR_MS, 25)));
	// Out of range: a fee at the penalty, a slice beyond the close factor, a day of 1 minute.
	for bad in [
		DeriskParams { fee: Permill::from_percent(8), ..params(HOUR_MS, 25) },
		params(HOUR_MS, 60),
		params(59_000, 25),
		DeriskParams { confidence: Permill::from_percent(70), ..params(HOUR_MS, 25) },
	] {
		let call = sudo(RuntimeCall::Liquidation(pallet_liquidation::Call::set_derisk_params {
			params: Some(bad),
		}));
		assert_eq!(chain.dispatch(Alice, call), Ok(()), "sudo itself succeeds");
		assert_eq!(
			chain.execute_with(pallet_liquidation::DeriskParamsOf::<Runtime>::get),
			Some(params(7 * 24 * HOUR_MS, 25)),
			"{bad:?} refused"
		);
	}
	// Nor may governance make a liquidation cheaper than de-risking (a 2 % fee).
	let engine = chain.execute_with(|| pallet_liquidation::Params::<Runtime>::get().unwrap());
	let cheaper = pallet_liquidation::EngineParams {
		liquidation_penalty: Permill::from_percent(2),
		..engine
	};
	let call =
		sudo(RuntimeCall::Liquidation(pallet_liquidation::Call::set_params { params: cheaper }));
	assert_eq!(chain.dispatch(Alice, call), Ok(()));
	assert_eq!(chain.execute_with(|| pallet_liquidation::Params::<Runtime>::get()), Some(engine));
	chain.feed_price(BTC, Price::from_u32(52_000));
	chain.feed_price(BTC, Price::from_u32(46_000));
	chain.execute_with(|| assert!(Margin::health_of(&dave).unwrap().is_liquidatable()));
	assert!(!report(&mut chain, &dave).due);
	assert_eq!(derisk(&mut chain, &dave), Err(not_due()), "a liquidation's");
	set_params(&mut chain, None);
	assert!(chain.execute_with(|| Liquidation::risk_report(&dave, None)).is_err());
}

/// A perpetual long backed by USD: its VaR is the position's, and a slice is taken over by the
/// keeper at the oracle less 2 % of the notional closed, never past the buffer.
#[test]
fn a_perpetual_long_is_de_risked_by_a_keepers_takeover() {
	let mut chain = a_volatile_btc_long();
	let bob = Bob.to_account_id();
	set_params(&mut chain, Some(params(7 * 24 * HOUR_MS, 25)));
	let before = report(&mut chain, &bob);
	assert!(before.due, "{before:?}");
	assert_eq!(before.terms[0].asset, BTC);
	assert!(!before.terms[0].perpetual.is_zero());
	assert_eq!(derisk(&mut chain, &bob), Ok(()));
	let events = chain.liquidation_events();
	let Some(pallet_liquidation::Event::Derisked { action, .. }) = events.last() else {
		panic!("de-risked: {events:?}")
	};
	let DeriskAction::Perpetual { underlying, units, fee } = *action else {
		panic!("a perpetual slice: {action:?}")
	};
	assert_eq!(underlying, BTC);
	// A quarter of the position at most (the slice), at a fee of a quarter (2 % / 8 %) of a
	// liquidation's: below the margin it released.
	assert!(units <= FixedU128::from_rational(1, 4) && !units.is_zero(), "{units:?}");
	let notional = units * FixedU128::from_u32(60_000);
	assert!(!fee.is_zero() && fee < notional * FixedU128::from_rational(1, 100), "{fee:?}");
	let after = report(&mut chain, &bob);
	assert!(after.buffer > before.buffer, "{after:?}");
	assert!(after.value_at_risk < before.value_at_risk);
	chain.execute_with(|| {
		let charlie = liquidation_runtime::Perpetuals::position_reports(&Charlie.to_account_id());
		assert_eq!(charlie.len(), 1, "Charlie took the units over");
		liquidation_runtime::Perpetuals::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}

/// The perpetual slice sized exactly (its horizon just past where the VaR meets the buffer, so
/// no cap binds): the excess falls, the VaR never ends below the buffer, the fee is the
/// market's liquidation fee share discounted by 2 % / 8 % of the margin the slice released, and
/// a keeper may not de-risk himself.
#[test]
fn a_perpetual_slice_is_sized_to_the_buffer_and_charged_a_discounted_fee() {
	use liquidation_primitives::PositionLiquidation;
	let mut chain = a_volatile_btc_long();
	let bob = Bob.to_account_id();
	set_params(&mut chain, Some(params(HOUR_MS, 25)));
	let hour = report(&mut chain, &bob);
	assert!(hour.value_at_risk < hour.buffer, "inside at an hour: {hour:?}");
	// VaR grows as √h: 5 % past the boundary.
	let ratio = hour.buffer / hour.value_at_risk;
	let boundary_ms =
		(FixedU128::from_u32(HOUR_MS as u32) * ratio * ratio).into_inner() / FixedU128::DIV;
	set_params(&mut chain, Some(params(boundary_ms as u64 * 105 / 100, 25)));
	let before = report(&mut chain, &bob);
	assert!(before.due, "{before:?}");
	let requirement = |chain: &mut TestChain| {
		chain.execute_with(|| {
			<liquidation_runtime::Perpetuals as PositionLiquidation<_, _>>::positions_at_risk(&bob)
				.first()
				.map(|position| position.maintenance_requirement)
				.unwrap_or_default()
		})
	};
	let required = requirement(&mut chain);
	// A keeper may not de-risk his own account.
	let own = RuntimeCall::Liquidation(pallet_liquidation::Call::derisk { who: bob.clone() });
	assert_eq!(
		chain.dispatch(Bob, own),
		Err(pallet_liquidation::Error::<Runtime>::OwnAccount.into())
	);
	assert_eq!(derisk(&mut chain, &bob), Ok(()));
	let events = chain.liquidation_events();
	let Some(pallet_liquidation::Event::Derisked { action, value_at_risk, buffer, .. }) =
		events.last()
	else {
		panic!("de-risked: {events:?}")
	};
	let DeriskAction::Perpetual { units, fee, .. } = *action else {
		panic!("a perpetual slice: {action:?}")
	};
	assert!(units < FixedU128::from_rational(1, 4), "the sizing, not the cap: {units:?}");
	// The excess fell; never past the buffer (to a cent).
	assert!(value_at_risk.1 - buffer.1.min(value_at_risk.1) < value_at_risk.0 - buffer.0);
	assert!(
		value_at_risk.1 + FixedU128::from_rational(1, 100) >= buffer.1,
		"{value_at_risk:?} {buffer:?}"
	);
	// The fee: φ f / b of the margin released.
	let released = required - requirement(&mut chain);
	let share = chain.execute_with(|| {
		<liquidation_runtime::Perpetuals as PositionLiquidation<_, _>>::fee_share(BTC).unwrap()
	});
	let expected = released * FixedU128::from(share) * FixedU128::from_rational(2, 100)
		/ FixedU128::from_rational(8, 100);
	let diff = if fee > expected { fee - expected } else { expected - fee };
	assert!(diff < FixedU128::from_rational(1, 1_000), "{fee:?} against {expected:?}");
}

/// What `validate_unsigned` says of the worker's de-risking of `who` from `source`.
fn validate_derisk(
	chain: &mut TestChain,
	who: &liquidation_runtime::AccountId,
	source: TransactionSource,
) -> TransactionValidity {
	let call =
		pallet_liquidation::Call::<Runtime>::derisk_unsigned { who: who.clone(), found_at: 0 };
	chain.execute_with(|| <Liquidation as ValidateUnsigned>::validate_unsigned(source, &call))
}

/// The worker de-risks a due borrower with no keeper: it submits the slice, the pool accepts it
/// only from the local node and below every liquidation, and the next block sells the
/// collateral on the DEX, repays the debt from the sale and pays the rest to insurance; the
/// buffer grows, the VaR ends at the buffer, the owner pays the fee and nothing more.
#[test]
fn the_worker_de_risks_a_borrower_by_selling_on_the_dex() {
	let mut chain = a_volatile_btc_borrower();
	let dave = Dave.to_account_id();
	// Off: the worker submits nothing, and validation refuses.
	assert!(chain.run_liquidation_worker().is_empty());
	assert_eq!(
		validate_derisk(&mut chain, &dave, TransactionSource::Local),
		Err(InvalidTransaction::Custom(pallet_liquidation::invalid::NOT_DUE).into())
	);
	set_params(&mut chain, Some(params(7 * 24 * HOUR_MS, 10)));
	let before = report(&mut chain, &dave);
	assert!(before.due, "{before:?}");
	let submitted = chain.run_liquidation_worker();
	assert_eq!(submitted.len(), 1, "one slice for Dave");
	assert!(matches!(
		&submitted[0].function,
		RuntimeCall::Liquidation(pallet_liquidation::Call::derisk_unsigned { who, .. }) if *who == dave
	));
	// Only from the local node; under every liquidation's priority.
	assert_eq!(
		validate_derisk(&mut chain, &dave, TransactionSource::External),
		Err(InvalidTransaction::Call.into())
	);
	let valid = validate_derisk(&mut chain, &dave, TransactionSource::Local).expect("valid");
	assert_eq!(valid.priority, 0, "after every liquidation and signed transaction");

	// A halted price: no volatility to judge by, so not due; the worker submits nothing. (In a
	// branch of its own: the halt is undone with the state.)
	chain.execute_with(|| {
		frame_support::storage::with_transaction(|| {
			assert_eq!(
				liquidation_runtime::Prices::halt(liquidation_runtime::RuntimeOrigin::root(), BTC),
				Ok(())
			);
			assert_eq!(
				Liquidation::check_derisk_unsigned(&dave),
				Err(pallet_liquidation::invalid::NOT_DUE)
			);
			assert_eq!(Liquidation::worker_derisk_page(None, 20), (Vec::new(), None));
			frame_support::storage::TransactionOutcome::Rollback(
				Ok::<_, sp_runtime::DispatchError>(()),
			)
		})
		.expect("rolled back");
	});

	// A slice (a tenth of the 40 000 USD debt) may use half of the block's cap at most: under a
	// cap of 7 000 USD it is refused, the worker's and a keeper's alike (a liquidation of the
	// same size would pass).
	let engine = chain.execute_with(pallet_liquidation::Params::<Runtime>::get).expect("set");
	let set_engine = |chain: &mut TestChain, params: EngineParams| {
		let call = sudo(RuntimeCall::Liquidation(pallet_liquidation::Call::set_params { params }));
		assert_eq!(chain.dispatch(Alice, call), Ok(()));
	};
	set_engine(
		&mut chain,
		EngineParams { max_value_per_block: FixedU128::from_u32(7_000), ..engine },
	);
	// (The pool is told the block is full: a cap is per block, so it is kept, not banned.)
	assert_eq!(
		validate_derisk(&mut chain, &dave, TransactionSource::Local),
		Err(InvalidTransaction::ExhaustsResources.into())
	);
	assert_eq!(
		derisk(&mut chain, &dave),
		Err(pallet_liquidation::Error::<Runtime>::BlockCapReached.into())
	);
	set_engine(&mut chain, engine);

	let insurance =
		|chain: &mut TestChain| chain.execute_with(|| liquidation_runtime::Insurance::custody(USD));
	let insurance_before = insurance(&mut chain);
	chain.include_all(submitted);
	let events = chain.liquidation_events();
	let Some(pallet_liquidation::Event::Derisked { action, keeper, .. }) = events.last() else {
		panic!("de-risked: {events:?}")
	};
	assert_eq!(*keeper, None, "the worker's slice");
	let DeriskAction::Spot { debt_asset, repaid, collateral_asset, seized, to_insurance } = *action
	else {
		panic!("a spot slice: {action:?}")
	};
	assert_eq!((debt_asset, collateral_asset), (USD, BTC));
	// A tenth of the debt at most (the slice); the bitcoin taken is worth the repayment and the
	// 2 % fee at the oracle.
	assert!(repaid > 0 && repaid <= 40_001 * DOLLAR / 10, "{repaid}");
	let taken = FixedU128::from_rational(seized, BITCOIN) * FixedU128::from_u32(60_000);
	let owed = FixedU128::from_rational(repaid, DOLLAR) * FixedU128::from_rational(102, 100);
	assert!(taken <= owed && owed - taken < FixedU128::from_rational(1, 1_000), "{taken:?}");
	// The sale brought the debt and at least half the fee (its floor; the pool's price is the
	// oracle's, less its fee and slippage): the rest went to insurance.
	assert!(to_insurance >= repaid / 100 && to_insurance < repaid * 2 / 100, "{to_insurance}");
	assert_eq!(insurance(&mut chain), insurance_before + to_insurance);
	let after = report(&mut chain, &dave);
	assert!(after.buffer > before.buffer, "the buffer grows: {after:?}");
	assert!(after.value_at_risk < before.value_at_risk, "{after:?}");
	chain.execute_with(|| {
		Liquidation::do_try_state().expect("invariants hold");
		Margin::do_try_state().expect("invariants hold");
	});
}

/// The worker de-risks a perpetual long with no keeper: the vault takes the units over at the
/// discounted fee; a liquidatable account is the liquidation's, never the de-risking's.
#[test]
fn the_worker_de_risks_a_perpetual_long_against_the_vault() {
	let mut chain = a_volatile_btc_long();
	let bob = Bob.to_account_id();
	set_params(&mut chain, Some(params(7 * 24 * HOUR_MS, 25)));
	let before = report(&mut chain, &bob);
	assert!(before.due, "{before:?}");
	let size = |chain: &mut TestChain| {
		chain.execute_with(|| {
			liquidation_runtime::Perpetuals::position_reports(&Bob.to_account_id())[0].size
		})
	};
	let size_before = size(&mut chain);
	let submitted = chain.run_liquidation_worker();
	assert_eq!(submitted.len(), 1);
	chain.include_all(submitted);
	let events = chain.liquidation_events();
	let Some(pallet_liquidation::Event::Derisked { action, keeper, .. }) = events.last() else {
		panic!("de-risked: {events:?}")
	};
	assert_eq!(*keeper, None);
	let DeriskAction::Perpetual { underlying, units, fee } = *action else {
		panic!("a perpetual slice: {action:?}")
	};
	assert_eq!(underlying, BTC);
	assert!(units <= FixedU128::from_rational(1, 4) && !units.is_zero(), "{units:?}");
	assert!(!fee.is_zero());
	let size_after = size(&mut chain);
	assert_eq!(
		size_before.into_inner() - size_after.into_inner(),
		units.into_inner() as i128,
		"the slice's units left Bob's long"
	);
	let after = report(&mut chain, &bob);
	assert!(after.buffer > before.buffer && after.value_at_risk < before.value_at_risk);
	chain.execute_with(|| {
		liquidation_runtime::Perpetuals::do_try_state().expect("invariants hold");
		Liquidation::do_try_state().expect("invariants hold");
	});

	// BTC falls until Bob is liquidatable: the worker liquidates, it does not de-risk.
	for price in [56_000, 52_000, 48_500, 45_000, 42_000, 40_000] {
		chain.feed_price(BTC, Price::from_u32(price));
	}
	chain.execute_with(|| {
		let report = Liquidation::effective_report(&Bob.to_account_id()).expect("a report");
		assert!(report.is_liquidatable(), "{report:?}");
	});
	assert_eq!(
		validate_derisk(&mut chain, &bob, TransactionSource::Local),
		Err(InvalidTransaction::Custom(pallet_liquidation::invalid::NOT_DUE).into())
	);
	let submitted = chain.run_liquidation_worker();
	assert!(
		submitted.iter().all(|xt| matches!(
			&xt.function,
			RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate_unsigned_batch { .. })
		)),
		"only liquidations: {submitted:?}"
	);
	assert!(!submitted.is_empty());
}

/// The worker's walk chooses, of a page, the due accounts with the largest excess as far as its
/// room goes, and resumes before the first one it had no room for: none is passed over.
#[test]
fn the_workers_walk_passes_over_no_due_account() {
	let mut chain = a_volatile_btc_borrower();
	let margin = |call| RuntimeCall::Margin(call);
	for (who, usd) in [(Eve, 30_000u128), (Ferdie, 35_000)] {
		let deposit = margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN });
		assert_eq!(chain.dispatch(who, deposit), Ok(()));
		let borrow = margin(pallet_margin::Call::borrow { asset: USD, amount: usd * DOLLAR });
		assert_eq!(chain.dispatch(who, borrow), Ok(()));
	}
	set_params(&mut chain, Some(params(7 * 24 * HOUR_MS, 10)));
	let (dave, eve, ferdie) = (Dave.to_account_id(), Eve.to_account_id(), Ferdie.to_account_id());
	chain.execute_with(|| {
		let (all, next) = Liquidation::worker_derisk_page(None, 20);
		let mut found: Vec<_> = all.iter().map(|(who, _)| who.clone()).collect();
		found.sort();
		let mut expected = vec![dave.clone(), eve.clone(), ferdie.clone()];
		expected.sort();
		assert_eq!(found, expected, "every borrower due at a week's horizon");
		assert_eq!(next, None, "one page holds them all");
		// The largest excess is the most indebted's, Dave's.
		assert_eq!(all[0].0, dave);
		// Room for one: Dave; the walk resumes where the two others are still ahead.
		let (one, next) = Liquidation::worker_derisk_page(None, 1);
		assert_eq!(one.iter().map(|(who, _)| who.clone()).collect::<Vec<_>>(), vec![dave.clone()]);
		// Exactly: just before the first of them in the walk's order (the start when it is first),
		// not after the page (which a complete page would make the end of the walk).
		use liquidation_primitives::ledger::RiskScan;
		let page = <Margin as RiskScan<_>>::indebted_accounts(None, 1_000);
		let first_left = page.iter().position(|who| *who == eve || *who == ferdie).expect("listed");
		let expected = first_left.checked_sub(1).map(|index| page[index].clone());
		assert_eq!(next, expected);
		let (rest, _) = Liquidation::worker_derisk_page(next, 20);
		for who in [&eve, &ferdie] {
			assert!(rest.iter().any(|(w, _)| w == who), "{who:?} passed over: {rest:?}");
		}
	});
}
