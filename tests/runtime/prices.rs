//! Prices in the dev runtime: operators feed `orml-oracle`, `pallet-prices` combines and serves.

use frame_support::BoundedVec;
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, Price, PriceError, PriceProvider};
use liquidation_runtime::{assets, Prices, RuntimeCall};
use sp_keyring::Sr25519Keyring;
use sp_runtime::traits::One;

const BTC: AssetId = AssetId::Asset(assets::BTC);
const USD: AssetId = AssetId::Asset(assets::USD);

fn feed(price: u32) -> RuntimeCall {
	RuntimeCall::Oracle(orml_oracle::Call::feed_values {
		values: BoundedVec::truncate_from(vec![(BTC, Price::from_u32(price))]),
	})
}

fn feed_block(chain: &mut TestChain, prices: &[(Sr25519Keyring, u32)]) {
	let feeds =
		prices.iter().map(|(operator, price)| chain.signed(*operator, feed(*price))).collect();
	assert!(chain.produce_block(feeds).iter().all(Result::is_ok));
}

#[test]
fn three_operators_make_a_live_price_that_the_runtime_api_reports() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.execute_with(|| {
		assert_eq!(Prices::price(&BTC), Err(PriceError::Missing));
		assert_eq!(Prices::price(&USD).map(|info| info.price), Ok(Price::one()));
	});

	use Sr25519Keyring::*;
	feed_block(&mut chain, &[(Alice, 60_000), (Bob, 60_100), (Charlie, 59_900)]);

	chain.execute_with(|| {
		assert_eq!(Prices::price(&BTC).map(|info| info.price), Ok(Price::from_u32(60_000)));
		// What the `PricesApi` runtime API returns (the end-to-end tests call it over RPC).
		let report = Prices::price_report(&BTC);
		assert_eq!(report.usable.map(|info| info.price), Ok(Price::from_u32(60_000)));
		assert_eq!(report.halted_candidate, None);
		assert!(!report.fixed);
		let all = Prices::all_price_reports();
		assert_eq!(all.len(), assets::DEV_ASSETS.len());
	});
}

#[test]
fn one_operator_cannot_move_or_halt_the_price() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	use Sr25519Keyring::*;
	let honest = [(Alice, 60_000), (Bob, 60_000), (Charlie, 60_000), (Dave, 60_000)];
	feed_block(&mut chain, &honest);
	// Eve reports a 60% crash, block after block.
	for _ in 0..5 {
		let mut prices = honest.to_vec();
		prices.push((Eve, 24_000));
		feed_block(&mut chain, &prices);
		chain.execute_with(|| {
			assert_eq!(Prices::price(&BTC).map(|info| info.price), Ok(Price::from_u32(60_000)));
		});
	}
}

#[test]
fn a_crash_reported_by_a_majority_halts_until_confirmed() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	use Sr25519Keyring::*;
	feed_block(&mut chain, &[(Alice, 60_000), (Bob, 60_000), (Charlie, 60_000)]);
	// -40% in one block: beyond the 20% bound of the dev parameters.
	feed_block(&mut chain, &[(Alice, 36_000), (Bob, 36_000), (Charlie, 36_000)]);
	chain.execute_with(|| assert_eq!(Prices::price(&BTC), Err(PriceError::Halted)));
	// The dev parameters want three confirming blocks.
	for confirmation in 1..=3 {
		feed_block(&mut chain, &[(Alice, 36_000), (Bob, 36_100), (Charlie, 35_900)]);
		let expected =
			if confirmation < 3 { Err(PriceError::Halted) } else { Ok(Price::from_u32(36_000)) };
		chain.execute_with(|| {
			assert_eq!(Prices::price(&BTC).map(|info| info.price), expected, "after {confirmation}")
		});
	}
}
