//! Price manipulation on the dev runtime: the Mango Markets attack of October 2022 (a thin
//! collateral pumped within minutes, then borrowed against) lends no more than before the pump.

use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, Price, PriceProvider};
use liquidation_runtime::{assets, Prices, Runtime, RuntimeCall};
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::{DispatchError, FixedPointNumber, FixedU128};

const USD: AssetId = AssetId::Asset(assets::USD);
const DOT: AssetId = AssetId::Asset(assets::DOT);
/// One whole USD (6 decimals) and one whole DOT (10 decimals).
const DOLLAR: u128 = 1_000_000;
const ONE_DOT: u128 = 10_000_000_000;

fn margin(call: pallet_margin::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Margin(call)
}

fn borrow(dollars: u128) -> RuntimeCall {
	margin(pallet_margin::Call::borrow { asset: USD, amount: dollars * DOLLAR })
}

/// Three operators feed DOT up 3.2% a block for 100 blocks (7 to 163 USD in ten minutes, each
/// step under the breaker's 20%). Dave's 5 000 DOT could back 5 000 * 7 * 0.60 / 1.10 =
/// 19 090.91 USD of debt before the pump; after it, opening risk values DOT at its stable price
/// (7 * (1 + 0.06 * 6 s / 1 h)^100 = 7.07), so he can borrow about that much and not the
/// 199 000 USD of the lenders' cash the live price (163) would allow.
#[test]
fn a_pumped_price_lends_no_more_than_before_the_pump() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	let lend = margin(pallet_margin::Call::deposit { asset: USD, amount: 200_000 * DOLLAR });
	assert_eq!(chain.dispatch(Alice, lend), Ok(()));
	chain.feed_price(DOT, Price::from_u32(7));
	let deposit = margin(pallet_margin::Call::deposit { asset: DOT, amount: 5_000 * ONE_DOT });
	assert_eq!(chain.dispatch(Dave, deposit), Ok(()));

	let mut micro_dollars = 7_000_000u128;
	for _ in 0..100 {
		micro_dollars = micro_dollars * 1_032 / 1_000;
		chain.feed_price(DOT, FixedU128::saturating_from_rational(micro_dollars, DOLLAR));
	}
	chain.execute_with(|| {
		let info = Prices::price(&DOT).expect("the breaker never tripped: each step is 3.2%");
		assert!(info.price > Price::from_u32(160), "{:?}", info.price);
		let stable = info.stable.into_inner() as f64 / 1e18;
		assert!((stable - 7.07).abs() < 0.01, "{stable}");
	});

	let insufficient: DispatchError = pallet_margin::Error::<Runtime>::InsufficientMargin.into();
	assert_eq!(chain.dispatch(Dave, borrow(199_000)), Err(insufficient));
	// 2% over his capacity before the pump: refused; just under it: lent.
	assert_eq!(chain.dispatch(Dave, borrow(19_500)), Err(insufficient));
	assert_eq!(chain.dispatch(Dave, borrow(19_000)), Ok(()));
	// Withdrawing against the pump is refused the same way.
	let withdraw = margin(pallet_margin::Call::withdraw {
		asset: DOT,
		amount: pallet_margin::Amount::Exact(500 * ONE_DOT),
	});
	assert_eq!(chain.dispatch(Dave, withdraw), Err(insufficient));
}

/// On the dev chain: opening a margin account holds 1 LIQ (returned when it closes); a
/// tightening of DOT's maintenance weight waits a day while a loosening is at once; a listing
/// under which a liquidation would lower health (at the 8% penalty) is refused.
#[test]
fn the_dev_chain_holds_account_deposits_and_delays_tightenings() {
	use frame_support::traits::fungible::InspectHold;
	use liquidation_runtime::{Balances, Margin, RuntimeHoldReason, RuntimeOrigin, DAYS, UNIT};
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_price(DOT, Price::from_u32(7));
	let deposit = margin(pallet_margin::Call::deposit { asset: DOT, amount: 100 * ONE_DOT });
	assert_eq!(chain.dispatch(Dave, deposit), Ok(()));
	let reason = RuntimeHoldReason::Margin(pallet_margin::HoldReason::AccountDeposit);
	let dave = Dave.to_account_id();
	chain.execute_with(|| assert_eq!(Balances::balance_on_hold(&reason, &dave), UNIT));
	let leave =
		margin(pallet_margin::Call::withdraw { asset: DOT, amount: pallet_margin::Amount::All });
	assert_eq!(chain.dispatch(Dave, leave), Ok(()));
	chain.execute_with(|| assert_eq!(Balances::balance_on_hold(&reason, &dave), 0));

	chain.execute_with(|| {
		let now = frame_system::Pallet::<Runtime>::block_number();
		let params = pallet_margin::Markets::<Runtime>::get(DOT).expect("DOT is listed").params;
		let mut tighter = params;
		tighter.maintenance_collateral_weight = sp_runtime::Permill::from_percent(65);
		assert!(Margin::set_asset_params(RuntimeOrigin::root(), DOT, tighter).is_ok());
		assert_eq!(
			pallet_margin::ScheduledParams::<Runtime>::get(DOT),
			Some((tighter, now + DAYS))
		);
		assert_eq!(pallet_margin::Markets::<Runtime>::get(DOT).map(|m| m.params), Some(params));
		// 1.08 x 0.98 = 1.058 reaches USD's maintenance liability weight (1.05).
		let mut unsound = params;
		unsound.initial_collateral_weight = sp_runtime::Permill::from_percent(97);
		unsound.maintenance_collateral_weight = sp_runtime::Permill::from_percent(98);
		assert_eq!(
			Margin::set_asset_params(RuntimeOrigin::root(), DOT, unsound),
			Err(pallet_margin::Error::<Runtime>::PenaltyUnsound.into())
		);
	});
}
