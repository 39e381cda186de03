//! The full-block benchmark's machinery on small cohorts: each path's block, built natively
//! through `Executive`, is executed again by the runtime's wasm blob from the state before it
//! (which checks the native build's state root), and every account of each cohort is liquidated.
//! The figures themselves come from `liquidation-block-bench` on an optimised build.

#[test]
fn each_paths_block_is_built_and_executed_in_wasm() {
	let accounts = 30;
	let blocks = liquidation_replay::full_block::measure(accounts, 1).expect("measured");
	let paths: Vec<&str> = blocks.iter().map(|block| block.path).collect();
	assert_eq!(paths, ["keeper", "flash", "worker", "bankrupt"]);
	for block in &blocks {
		assert!(block.failures.is_empty(), "{block:?}");
		assert_eq!(block.liquidations, accounts, "{block:?}");
		// Thirty fit with room to spare.
		assert!(!block.full, "{block:?}");
		assert!(block.weight_ms > 0.0 && block.weight_ms < block.limit_ms, "{block:?}");
		assert_eq!(block.wasm_runs_ms.len(), 1);
		assert!(block.wasm_ms > 0.0, "{block:?}");
	}
	println!("{}", liquidation_replay::full_block::table(&blocks));
}

/// A block that refused a transaction (as a full block refuses the next one) executes in wasm:
/// `apply_extrinsic` notes an extrinsic before validating it, and the test chain undoes a
/// refused one as a node's block builder does, so the native build's state root holds.
#[test]
fn a_block_that_refused_a_transaction_executes_in_wasm() {
	use liquidation_integration_tests::{signed_extrinsic, TestChain};
	use liquidation_replay::full_block::WasmBlockExecutor;
	use sp_keyring::Sr25519Keyring::Alice;
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.commit();
	let before = chain.ext.as_backend();
	let genesis = chain.genesis_hash();
	let remark = |nonce| {
		let call = frame_system::Call::remark { remark: vec![1, 2, 3] };
		signed_extrinsic(Alice, call.into(), nonce, genesis)
	};
	chain.start_block();
	assert_eq!(chain.apply(remark(0)), Ok(Ok(())));
	// Last, as the call a full block refuses: nothing after it overwrites what it noted.
	assert!(chain.apply(remark(7)).is_err(), "a nonce from the future is refused");
	let header = chain.finish_block();
	let block = chain.last_block(header);
	assert_eq!(block.extrinsics.len(), 2, "the timestamp and the remark");
	let executor = WasmBlockExecutor::of_this_runtime().expect("a wasm runtime");
	let state_version = chain.ext.state_version;
	executor.time(&before, state_version, &block, 1, "test").expect("the runtime takes it");
}
