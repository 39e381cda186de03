//! End-to-end tests: a real `liquidation-node --dev --tmp` on free local ports, driven over
//! JSON-RPC as a wallet or a bot would drive it.
//!
//! Declared as a test of the `liquidation-node` package (see `node/Cargo.toml`) so that cargo
//! builds the binary first and hands over its path.

mod node;

use std::time::Duration;

use codec::{Decode, Encode};
use frame_support::BoundedVec;
use jsonrpsee::{core::client::ClientT, rpc_params};
use liquidation_integration_tests::signed_extrinsic;
use liquidation_primitives::{AssetId, Price, PriceError, PriceReport};
use liquidation_runtime::{assets, Header, Runtime, RuntimeCall};
use node::{free_port, Node};
use sp_core::{bytes, Bytes, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::traits::Header as _;
use sp_runtime::traits::One;

/// Bounds generous enough for a debug build on a loaded two-core machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(300);
const BLOCKS_TIMEOUT: Duration = Duration::from_secs(180);
const INCLUSION_TIMEOUT: Duration = Duration::from_secs(90);

async fn header(node: &Node, hash: Option<H256>) -> Header {
	node.rpc()
		.request::<Option<Header>, _>("chain_getHeader", rpc_params![hash])
		.await
		.expect("chain_getHeader answers")
		.expect("the header exists")
}

async fn best_and_finalized(node: &Node) -> (u32, u32) {
	let best = *header(node, None).await.number();
	let finalized_hash: H256 = node
		.rpc()
		.request("chain_getFinalizedHead", rpc_params![])
		.await
		.expect("chain_getFinalizedHead answers");
	let finalized = *header(node, Some(finalized_hash)).await.number();
	(best, finalized)
}

/// `PricesApi_price` at the best block, through `state_call`.
async fn prices_api(node: &Node, asset: AssetId) -> PriceReport {
	let encoded: Bytes = node
		.rpc()
		.request(
			"state_call",
			rpc_params!["PricesApi_price", bytes::to_hex(&asset.encode(), false)],
		)
		.await
		.expect("state_call answers");
	PriceReport::decode(&mut &encoded[..]).expect("a PriceReport")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_chain_authors_finalizes_and_takes_an_oracle_feed() {
	let node = Node::start_dev(STARTUP_TIMEOUT).await;

	// At least three blocks authored and finalized.
	let blocks = node
		.wait_for("3 finalized blocks", BLOCKS_TIMEOUT, || async {
			let (best, finalized) = best_and_finalized(&node).await;
			(finalized >= 3).then_some((best, finalized))
		})
		.await;
	assert!(blocks.0 >= blocks.1, "best {} is at or past finalized {}", blocks.0, blocks.1);

	// Alice, a dev oracle operator, feeds BTC at 61 234.5 USD with a signed transaction.
	let genesis_hash: H256 = node
		.rpc()
		.request("chain_getBlockHash", rpc_params![0u32])
		.await
		.expect("chain_getBlockHash answers");
	let alice = Sr25519Keyring::Alice;
	let nonce: u32 = node
		.rpc()
		.request("system_accountNextIndex", rpc_params![alice.to_account_id().to_string()])
		.await
		.expect("system_accountNextIndex answers");
	let btc = AssetId::Asset(assets::BTC);
	let price = Price::from_rational(122_469, 2);
	let call = RuntimeCall::Oracle(orml_oracle::Call::feed_values {
		values: BoundedVec::truncate_from(vec![(btc, price)]),
	});
	let xt = signed_extrinsic(alice, call, nonce, genesis_hash);
	let _tx_hash: H256 = node
		.rpc()
		.request("author_submitExtrinsic", rpc_params![bytes::to_hex(&xt.encode(), false)])
		.await
		.expect("the node accepts Alice's feed");

	// The value is on chain, read back from state with the runtime's own storage key.
	let key = orml_oracle::RawValues::<Runtime>::hashed_key_for(alice.to_account_id(), btc);
	let stored = node
		.wait_for("Alice's BTC value in state", INCLUSION_TIMEOUT, || async {
			node.rpc()
				.request::<Option<Bytes>, _>(
					"state_getStorage",
					rpc_params![bytes::to_hex(&key, false)],
				)
				.await
				.expect("state_getStorage answers")
		})
		.await;
	let value = orml_oracle::TimestampedValue::<Price, u64>::decode(&mut &stored[..])
		.expect("the stored value decodes");
	assert_eq!(value.value, price);
	assert!(value.timestamp > 0);

	// The prices runtime API, called as a client calls it: USD is fixed at 1; BTC has one
	// operator's value, and a price needs three, so it has none.
	let usd = prices_api(&node, AssetId::Asset(assets::USD)).await;
	assert!(usd.fixed);
	assert_eq!(usd.usable.map(|info| info.price), Ok(Price::one()));
	let btc_report = prices_api(&node, btc).await;
	assert_eq!(btc_report.usable, Err(PriceError::Missing));

	// The insurance runtime API: USD is insured by the dev genesis, and the fund is empty.
	let encoded: Bytes = node
		.rpc()
		.request(
			"state_call",
			rpc_params![
				"InsuranceApi_fund",
				bytes::to_hex(&AssetId::Asset(assets::USD).encode(), false)
			],
		)
		.await
		.expect("state_call answers");
	let fund = pallet_insurance::FundReport::decode(&mut &encoded[..]).expect("a FundReport");
	assert!(fund.params.is_some());
	assert_eq!((fund.fund.total(), fund.custody), (0, 0));

	// The margin runtime API: every dev asset has a pool at index 1, empty but for USD's, which
	// holds the perpetuals vault's seed; an account without positions is healthy with nothing on
	// either side.
	let encoded: Bytes = node
		.rpc()
		.request("state_call", rpc_params!["MarginApi_pools", "0x"])
		.await
		.expect("state_call answers");
	let pools = Vec::<(AssetId, pallet_margin::PoolReport)>::decode(&mut &encoded[..])
		.expect("a list of pools");
	assert_eq!(pools.len(), assets::DEV_ASSETS.len());
	let seed = liquidation_runtime::genesis_config_presets::DEV_VAULT_SEED_USD * 1_000_000;
	for (asset, pool) in &pools {
		let expected = if *asset == AssetId::Asset(assets::USD) { seed } else { 0 };
		assert_eq!(pool.total_deposits, expected, "{asset:?}");
		assert!(pool.borrow_index.is_one());
	}
	let ferdie = Sr25519Keyring::Ferdie.to_account_id();
	let encoded: Bytes = node
		.rpc()
		.request(
			"state_call",
			rpc_params!["MarginApi_account_health", bytes::to_hex(&ferdie.encode(), false)],
		)
		.await
		.expect("state_call answers");
	let health = Result::<pallet_margin::AccountHealth, liquidation_primitives::HealthError<AssetId>>::decode(
		&mut &encoded[..],
	)
	.expect("a health result")
	.expect("no prices are needed for an empty account");
	assert_eq!(health.health_factor, None);

	// The perpetuals runtime API: three markets, flat; the vault holds its seed and nothing
	// else; Ferdie has no position.
	let encoded: Bytes = node
		.rpc()
		.request("state_call", rpc_params!["PerpetualsApi_markets", "0x"])
		.await
		.expect("state_call answers");
	let markets = Vec::<pallet_perpetuals::MarketReport<AssetId>>::decode(&mut &encoded[..])
		.expect("a list of markets");
	assert_eq!(markets.len(), 3);
	assert!(markets.iter().all(|market| market.skew == Default::default()));
	let encoded: Bytes = node
		.rpc()
		.request("state_call", rpc_params!["PerpetualsApi_vault", "0x"])
		.await
		.expect("state_call answers");
	let vault = Option::<pallet_perpetuals::VaultReport>::decode(&mut &encoded[..])
		.expect("a vault report")
		.expect("no market is skewed: no price is needed");
	let seed_usd = liquidation_runtime::genesis_config_presets::DEV_VAULT_SEED_USD as i128;
	let seed_value =
		<sp_runtime::FixedI128 as sp_runtime::FixedPointNumber>::saturating_from_integer(seed_usd);
	assert_eq!(vault.nav, seed_value);
	let encoded: Bytes = node
		.rpc()
		.request(
			"state_call",
			rpc_params!["PerpetualsApi_positions", bytes::to_hex(&ferdie.encode(), false)],
		)
		.await
		.expect("state_call answers");
	let positions = Vec::<pallet_perpetuals::PositionReport<AssetId>>::decode(&mut &encoded[..])
		.expect("a list of positions");
	assert!(positions.is_empty());

	// The auction runtime API: nothing is being auctioned.
	let encoded: Bytes = node
		.rpc()
		.request("state_call", rpc_params!["AuctionApi_auctions", "0x"])
		.await
		.expect("state_call answers");
	let auctions =
		Vec::<pallet_auction::AuctionReport<liquidation_runtime::AccountId, AssetId, u32>>::decode(
			&mut &encoded[..],
		)
		.expect("a list of auctions");
	assert!(auctions.is_empty());

	node.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chain_survives_a_restart_with_a_base_path() {
	let base = node::scratch_dir("base-path");
	let base_path = base.to_str().expect("a UTF-8 path").to_string();
	let args = ["--dev", "--base-path", base_path.as_str()];

	let node = Node::start(&args, STARTUP_TIMEOUT).await;
	let before = node
		.wait_for("2 finalized blocks", BLOCKS_TIMEOUT, || async {
			let (best, finalized) = best_and_finalized(&node).await;
			(finalized >= 2).then_some(best)
		})
		.await;
	node.stop();

	// The same database, reopened: the chain goes on from where it was.
	let node = Node::start(&args, STARTUP_TIMEOUT).await;
	let (best, _) = best_and_finalized(&node).await;
	assert!(best >= before, "after a restart the best block is {best}, before it was {before}");
	node.stop();

	// `purge-chain` deletes the database and nothing else: it is there, with files, before.
	let chain_dir = base.join("chains").join("liquidation_dev");
	let database = chain_dir.join("paritydb");
	let files = std::fs::read_dir(&database).map_or(0, |entries| entries.count());
	assert!(files > 0, "no database at {} before the purge", database.display());
	let output = Node::command()
		.args(["purge-chain", "--dev", "--base-path", base_path.as_str(), "-y"])
		.output()
		.expect("the node binary runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	assert!(!database.exists(), "the database is gone");
	assert!(chain_dir.join("keystore").exists(), "the keystore is kept");
	let _ = std::fs::remove_dir_all(base);
}

#[test]
fn build_spec_prints_the_two_authority_local_chain() {
	let output = Node::command()
		.args(["build-spec", "--chain", "local"])
		.output()
		.expect("the node binary runs");
	assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
	let spec: serde_json::Value =
		serde_json::from_slice(&output.stdout).expect("a JSON chain spec");
	assert_eq!(spec["id"], "liquidation_local_testnet");
	assert_eq!(spec["properties"]["tokenSymbol"], "LIQ");
	let genesis = &spec["genesis"]["runtimeGenesis"]["patch"];
	let count = |value: &serde_json::Value| value.as_array().map_or(0, Vec::len);
	assert_eq!(count(&genesis["aura"]["authorities"]), 2);
	assert_eq!(count(&genesis["grandpa"]["authorities"]), 2);
	assert_eq!(count(&genesis["oracleOperators"]["members"]), 5);
	assert_eq!(count(&genesis["assets"]["metadata"]), 4);
}

#[test]
fn a_missing_chain_spec_is_a_clear_error() {
	let output = Node::command()
		.args(["--chain", "/nonexistent/liquidation-spec.json", "--tmp"])
		.output()
		.expect("the node binary runs");
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(!output.status.success());
	assert!(stderr.contains("no chain called"), "stderr: {stderr}");
	assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

#[test]
fn a_malformed_chain_spec_is_a_clear_error() {
	let dir = node::scratch_dir("malformed-spec");
	let spec = dir.join("spec.json");
	std::fs::write(&spec, b"{ this is not a chain spec").expect("writes the file");
	let output = Node::command()
		.arg("--chain")
		.arg(&spec)
		.arg("--tmp")
		.output()
		.expect("the node binary runs");
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(!output.status.success());
	assert!(stderr.contains("could not be read"), "stderr: {stderr}");
	assert!(!stderr.contains("panicked"), "stderr: {stderr}");
	let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_taken_rpc_port_is_a_clear_error() {
	// Hold the port for the whole run.
	let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("binds a free port");
	let taken = listener.local_addr().expect("has an address").port();
	let output = Node::command()
		.args(["--dev", "--tmp", "--no-prometheus", "--no-telemetry", "--no-mdns"])
		.args(["--rpc-port", &taken.to_string(), "--port", &free_port().to_string()])
		.output()
		.expect("the node binary runs");
	drop(listener);
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(!output.status.success(), "the node must not run without its RPC port: {stderr}");
	assert!(stderr.contains(&taken.to_string()), "the message names the port: {stderr}");
	assert!(!stderr.contains("panicked"), "stderr: {stderr}");
}

/// Signs `call` as `signer` with its next nonce (the pool's count included) and submits it.
async fn submit(node: &Node, signer: Sr25519Keyring, call: RuntimeCall) {
	let genesis_hash: H256 = node
		.rpc()
		.request("chain_getBlockHash", rpc_params![0u32])
		.await
		.expect("chain_getBlockHash answers");
	let nonce: u32 = node
		.rpc()
		.request("system_accountNextIndex", rpc_params![signer.to_account_id().to_string()])
		.await
		.expect("system_accountNextIndex answers");
	let xt = signed_extrinsic(signer, call, nonce, genesis_hash);
	let _: H256 = node
		.rpc()
		.request("author_submitExtrinsic", rpc_params![bytes::to_hex(&xt.encode(), false)])
		.await
		.expect("the node accepts the transaction");
}

/// Three operators feed BTC at `price`; returns once the price is live, with the best block
/// number at that moment.
async fn feed_btc(node: &Node, price: u32) -> u32 {
	let btc = AssetId::Asset(assets::BTC);
	for operator in [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie] {
		let values = BoundedVec::truncate_from(vec![(btc, Price::from_u32(price))]);
		submit(node, operator, RuntimeCall::Oracle(orml_oracle::Call::feed_values { values }))
			.await;
	}
	node.wait_for("the fed BTC price live", INCLUSION_TIMEOUT, || async {
		let report = prices_api(node, btc).await;
		let live = report.usable.map(|info| info.price) == Ok(Price::from_u32(price));
		if live {
			Some(*header(node, None).await.number())
		} else {
			None
		}
	})
	.await
}

/// The liquidation events in block `number`.
async fn liquidation_events_at(
	node: &Node,
	number: u32,
) -> Vec<pallet_liquidation::Event<Runtime>> {
	let hash: Option<H256> = node
		.rpc()
		.request("chain_getBlockHash", rpc_params![number])
		.await
		.expect("chain_getBlockHash answers");
	let Some(hash) = hash else { return Vec::new() };
	// `System::Events`: twox128("System") ++ twox128("Events").
	let key = [sp_core::twox_128(b"System"), sp_core::twox_128(b"Events")].concat();
	let stored: Option<Bytes> = node
		.rpc()
		.request("state_getStorage", rpc_params![bytes::to_hex(&key, false), hash])
		.await
		.expect("state_getStorage answers");
	let Some(stored) = stored else { return Vec::new() };
	let records =
		Vec::<frame_system::EventRecord<liquidation_runtime::RuntimeEvent, H256>>::decode(
			&mut &stored[..],
		)
		.expect("the events decode");
	records
		.into_iter()
		.filter_map(|record| match record.event {
			liquidation_runtime::RuntimeEvent::Liquidation(event) => Some(event),
			_ => None,
		})
		.collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_own_worker_liquidates_within_two_blocks_of_a_crash() {
	let node = Node::start_dev(STARTUP_TIMEOUT).await;
	node.wait_for("a finalized block", BLOCKS_TIMEOUT, || async {
		(best_and_finalized(&node).await.1 >= 1).then_some(())
	})
	.await;
	let usd = AssetId::Asset(assets::USD);
	let btc = AssetId::Asset(assets::BTC);
	feed_btc(&node, 60_000).await;

	// Alice lends 200 000 USD; Dave borrows 43 000 USD against 1 BTC.
	let margin = |call| RuntimeCall::Margin(call);
	submit(
		&node,
		Sr25519Keyring::Alice,
		margin(pallet_margin::Call::deposit { asset: usd, amount: 200_000_000_000 }),
	)
	.await;
	submit(
		&node,
		Sr25519Keyring::Dave,
		margin(pallet_margin::Call::deposit { asset: btc, amount: 100_000_000 }),
	)
	.await;
	submit(
		&node,
		Sr25519Keyring::Dave,
		margin(pallet_margin::Call::borrow { asset: usd, amount: 43_000_000_000 }),
	)
	.await;
	let dave = Sr25519Keyring::Dave.to_account_id();
	node.wait_for("Dave's debt on chain", INCLUSION_TIMEOUT, || async {
		let encoded: Bytes = node
			.rpc()
			.request(
				"state_call",
				rpc_params!["MarginApi_positions", bytes::to_hex(&dave.encode(), false)],
			)
			.await
			.expect("state_call answers");
		let positions = Vec::<(AssetId, u128, u128)>::decode(&mut &encoded[..]).expect("positions");
		positions.iter().any(|(asset, _, debt)| *asset == usd && *debt > 0).then_some(())
	})
	.await;

	// The crash, in steps the breaker accepts: at 46 000 Dave's health factor is 0.92.
	feed_btc(&node, 52_000).await;
	let crashed_at = feed_btc(&node, 46_000).await;

	// The worker runs after each imported block; its unsigned liquidation must be in one of
	// the next two blocks.
	let found = node
		.wait_for("the worker's liquidation", BLOCKS_TIMEOUT, || async {
			let best = *header(&node, None).await.number();
			if best < crashed_at + 2 {
				return None;
			}
			let mut found = None;
			for number in crashed_at..=crashed_at + 2 {
				for event in liquidation_events_at(&node, number).await {
					if let pallet_liquidation::Event::AuctionStarted { who, .. } = &event {
						if *who == dave {
							found = Some(number);
						}
					}
				}
			}
			Some(found)
		})
		.await;
	let number = found.expect("an auction of Dave's collateral started within two blocks");
	assert!(number <= crashed_at + 2);
	node.stop();
}
