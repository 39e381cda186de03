//! `liquidation-block-bench`: one block full of each liquidation path (keeper, flash, worker,
//! bankrupt) built through the dev runtime, then executed by its wasm blob as a node imports a
//! block, timed against the 2 s a block's execution may take. See
//! [`liquidation_replay::full_block`].
//!
//! ```text
//! cargo build --locked --release -p liquidation-replay
//! target/release/liquidation-block-bench --accounts 1500
//! ```

use clap::Parser;

/// Builds and times full blocks of liquidations on the dev runtime.
#[derive(Parser, Debug)]
#[command(name = "liquidation-block-bench", version)]
struct Args {
	/// Accounts in each path's cohort: more than a block holds, so that each block fills.
	#[arg(long, default_value_t = 1_500)]
	accounts: u32,
	/// Timed wasm executions of each block (after an untimed first, which compiles the runtime).
	#[arg(long, default_value_t = 3)]
	runs: u32,
	/// Print the blocks as JSON too.
	#[arg(long)]
	json: bool,
}

fn main() {
	let args = Args::parse();
	eprintln!("opening {} accounts in each of four cohorts and crashing DOT ...", args.accounts);
	let started = std::time::Instant::now();
	let blocks =
		liquidation_replay::full_block::measure(args.accounts, args.runs).unwrap_or_else(|error| {
			eprintln!("error: {error}");
			std::process::exit(1);
		});
	eprintln!("measured in {:.0} s", started.elapsed().as_secs_f64());
	println!("{}", liquidation_replay::full_block::table(&blocks));
	for block in &blocks {
		for (reason, count) in &block.failures {
			println!("{}: {count} x {reason}", block.path);
		}
	}
	if args.json {
		match serde_json::to_string_pretty(&blocks) {
			Ok(json) => println!("{json}"),
			Err(error) => eprintln!("error: {error}"),
		}
	}
}
