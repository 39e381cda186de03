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
