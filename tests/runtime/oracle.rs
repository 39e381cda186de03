//! Prices reach the chain through `orml-oracle`, fed by the operators in `pallet-membership`.

use frame_support::BoundedVec;
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, Price};
use liquidation_runtime::{assets, Oracle, Runtime, RuntimeCall};
use sp_keyring::Sr25519Keyring;
use sp_runtime::DispatchError;

fn feed(price: Price) -> RuntimeCall {
	RuntimeCall::Oracle(orml_oracle::Call::feed_values {
		values: BoundedVec::truncate_from(vec![(AssetId::Asset(assets::BTC), price)]),
	})
}

#[test]
fn an_operator_feeds_a_price_and_reads_it_back() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);

	let alice_feed = chain.signed(Sr25519Keyring::Alice, feed(Price::from_u32(60_000)));
	let outcomes = chain.produce_block(vec![alice_feed]);
	assert_eq!(outcomes, vec![Ok(())]);

	chain.execute_with(|| {
		let raw = orml_oracle::RawValues::<Runtime>::get(
			Sr25519Keyring::Alice.to_account_id(),
			AssetId::Asset(assets::BTC),
		)
		.expect("Alice's value is stored");
		assert_eq!(raw.value, Price::from_u32(60_000));
		assert_eq!(raw.timestamp, pallet_timestamp::Now::<Runtime>::get());
	});
}

#[test]
fn operators_values_combine_into_their_median() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);

	// Charlie's outlier: the median (61 000, Bob's) is neither the mean (70 333), nor the first
	// or last value fed, nor the smallest or largest.
	let feeds = vec![
		chain.signed(Sr25519Keyring::Alice, feed(Price::from_u32(60_000))),
		chain.signed(Sr25519Keyring::Bob, feed(Price::from_u32(61_000))),
		chain.signed(Sr25519Keyring::Charlie, feed(Price::from_u32(90_000))),
	];
	assert_eq!(chain.produce_block(feeds), vec![Ok(()), Ok(()), Ok(())]);

	chain.execute_with(|| {
		let combined = Oracle::get(&AssetId::Asset(assets::BTC)).expect("three values");
		assert_eq!(combined.value, Price::from_u32(61_000));
	});
}

#[test]
fn a_non_operator_cannot_feed() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);

	// Ferdie is endowed but is not an oracle operator.
	let ferdie_feed = chain.signed(Sr25519Keyring::Ferdie, feed(Price::from_u32(1)));
	let outcomes = chain.produce_block(vec![ferdie_feed]);
	assert_eq!(
		outcomes,
		vec![Err(DispatchError::from(orml_oracle::Error::<Runtime>::NoPermission))]
	);

	chain.execute_with(|| {
		assert!(orml_oracle::RawValues::<Runtime>::get(
			Sr25519Keyring::Ferdie.to_account_id(),
			AssetId::Asset(assets::BTC),
		)
		.is_none());
		assert!(Oracle::get(&AssetId::Asset(assets::BTC)).is_none());
	});
}

/// An operator's feed pays no fee, yet goes into a block before every liquidation: the pool
/// gives it `ORACLE_FEED_PRIORITY`, above the keepers' band; a non-member's feed gets no priority.
#[test]
fn an_operators_feed_goes_before_every_liquidation() {
	use codec::Encode as _;
	use liquidation_runtime::{
		configs::KeeperLiquidationPriority,
		feed_priority::{FEED_TAG, ORACLE_FEED_PRIORITY},
		Executive,
	};
	use sp_runtime::transaction_validity::TransactionSource;
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	let mut validate = |signer: Sr25519Keyring| {
		let xt = chain.signed(signer, feed(Price::from_u32(60_000)));
		chain.execute_with(|| {
			let parent = frame_system::Pallet::<Runtime>::parent_hash();
			Executive::validate_transaction(TransactionSource::External, xt, parent)
				.expect("a feed is valid in the pool")
		})
	};
	let operator = validate(Sr25519Keyring::Alice);
	assert!(operator.priority >= ORACLE_FEED_PRIORITY, "{operator:?}");
	assert!(ORACLE_FEED_PRIORITY > KeeperLiquidationPriority::get() + u64::from(u32::MAX));
	// One feed per operator in the pool at a time: a queue of them cannot each go first.
	let tag = (FEED_TAG, Sr25519Keyring::Alice.to_account_id()).encode();
	assert!(operator.provides.contains(&tag), "{operator:?}");
	// Ferdie is no operator: his feed would fail in dispatch and pay; it is not put first.
	let stranger = validate(Sr25519Keyring::Ferdie);
	assert!(stranger.priority < KeeperLiquidationPriority::get(), "{stranger:?}");
	assert!(!stranger.provides.iter().any(|provided| provided.starts_with(&FEED_TAG.encode())));
}
