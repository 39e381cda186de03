//! Volatility-driven margins in the dev runtime: governance gives BTC a policy, the prices
//! pallet's volatility of a choppy BTC calls for the largest widening, and an hour later the
//! weights and the BTC perpetual's margin have moved by exactly the step an hour allows:
//! spot collateral weighs less, the perpetual's requirement grows by `1 / (1 - widening)`.

use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, PositionLiquidation, Price, PriceProvider};
use liquidation_runtime::{assets, Margin, Perpetuals, Prices, Runtime, RuntimeCall};
use pallet_margin::volatility::VolatilityPolicy;
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::{FixedI128, FixedU128, Permill};

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const DOLLAR: u128 = 1_000_000;
const BITCOIN: u128 = 100_000_000;

fn requirement(chain: &mut TestChain) -> FixedU128 {
	chain.execute_with(|| {
		<Perpetuals as PositionLiquidation<_, _>>::positions_at_risk(&Bob.to_account_id())[0]
			.maintenance_requirement
	})
}

fn maintenance_collateral(chain: &mut TestChain) -> FixedU128 {
	chain.execute_with(|| Margin::health_of(&Dave.to_account_id()).unwrap().maintenance_collateral)
}

#[test]
fn weights_and_perpetual_margins_widen_by_the_step_an_hour() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	for price in [60_000, 63_000, 58_000, 61_000, 60_000] {
		chain.feed_price(BTC, Price::from_u32(price));
	}
	let margin = |call| RuntimeCall::Margin(call);
	for (who, asset, amount) in [(Bob, USD, 15_000 * DOLLAR), (Dave, BTC, BITCOIN)] {
		assert_eq!(
			chain.dispatch(who, margin(pallet_margin::Call::deposit { asset, amount })),
			Ok(())
		);
	}
	let open = RuntimeCall::Perpetuals(pallet_perpetuals::Call::modify_position {
		underlying: BTC,
		size_delta: FixedI128::from_u32(1),
		limit_price: Price::from_u32(60_100),
	});
	assert_eq!(chain.dispatch(Bob, open), Ok(()));
	let (required, collateral) = (requirement(&mut chain), maintenance_collateral(&mut chain));

	// A new policy widens only after the risk-change delay (a day on the dev chain): none here.
	let no_delay = RuntimeCall::Sudo(pallet_sudo::Call::sudo {
		call: Box::new(margin(pallet_margin::Call::set_risk_change_delay { delay: 0 })),
	});
	assert_eq!(chain.dispatch(Alice, no_delay), Ok(()));
	// Reference 5 % a day, widening at most 40 %, 24 % a day: 1 % an hour.
	let policy = VolatilityPolicy {
		reference_volatility: FixedU128::from_rational(5, 100),
		max_widening: Permill::from_percent(40),
		max_step_per_day: Permill::from_percent(24),
	};
	let call = RuntimeCall::Sudo(pallet_sudo::Call::sudo {
		call: Box::new(margin(pallet_margin::Call::set_volatility_policy {
			asset: BTC,
			policy: Some(policy),
		})),
	});
	assert_eq!(chain.dispatch(Alice, call), Ok(()));
	let volatility = chain.execute_with(|| Prices::price(&BTC).unwrap().volatility);
	assert!(policy.target(volatility) == Permill::from_percent(40), "{volatility:?}");
	// Nothing moves before the hour's turn.
	let widening = chain.execute_with(|| pallet_margin::Widenings::<Runtime>::get(BTC));
	assert_eq!(widening, Permill::zero());
	// An hour of blocks (the oracle keeps BTC fresh, at 60 000): one step of 1 %.
	for block in 0..600u32 {
		if block % 50 == 0 {
			chain.feed_price(BTC, Price::from_u32(60_000));
		} else {
			chain.produce_block(vec![]);
		}
	}
	let widening = chain.execute_with(|| pallet_margin::Widenings::<Runtime>::get(BTC));
	// 600 / 14 400 of a day is 41 666 ppm (rounded down), times 24 %: 9 999 ppm, 1 % to the
	// rounding (a step rounds towards the slower change).
	assert_eq!(widening, Permill::from_parts(9_999));
	let kept = FixedU128::from_rational(1_000_000 - 9_999, 1_000_000);
	// Dave's bitcoin weighs 1 % less; Bob's requirement grew by 1 / 0.99 (to rounding).
	let now = maintenance_collateral(&mut chain);
	let expected = collateral * kept;
	let off = if now > expected { now - expected } else { expected - now };
	// (the widened weight is a Permill: 891 000 ppm, 0.054 USD from the exact product)
	assert!(off < FixedU128::from_rational(1, 10), "{now:?} against {expected:?}");
	let now = requirement(&mut chain);
	let expected = required / kept;
	let off = if now > expected { now - expected } else { expected - now };
	assert!(off < FixedU128::from_rational(1, 10), "{now:?} against {expected:?}");
	assert!(now > required);
	// The market's report shows the fractions in force.
	chain.execute_with(|| {
		let report = Perpetuals::market_report(BTC).expect("listed");
		let listed = pallet_perpetuals::Markets::<Runtime>::get(BTC).unwrap().params;
		assert!(report.params.min_initial_margin > listed.min_initial_margin, "{report:?}");
	});
	chain.execute_with(|| {
		Margin::do_try_state().expect("invariants hold");
		Perpetuals::do_try_state().expect("invariants hold");
	});
}
