//! `liquidation-node`: the dev chain node of the liquidation engine.
//!
//! `liquidation-node --dev` runs a single-authority chain (Alice) that authors a block every six
//! seconds, finalizes with GRANDPA, runs off-chain workers and answers JSON-RPC on
//! 127.0.0.1:9944. `--chain local` is the two-authority (Alice, Bob) network. The chain is kept
//! in ParityDB under `--base-path`.

mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() {
	if let Err(error) = command::run() {
		// A clear one-line message instead of a `Debug` dump: a bad chain spec path or a taken
		// port is a user error, not a crash.
		eprintln!("Error: {error}");
		std::process::exit(1);
	}
}
