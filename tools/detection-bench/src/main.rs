//! `detection-bench`: detection of liquidatable accounts with the risk index against a full scan,
//! at several population sizes (see the library docs for the population and the move).
//!
//! ```text
//! cargo run -p liquidation-detection-bench --release -- [--sizes 10000,100000,1000000]
//!     [--share 0.001] [--seed 7] [--runs 3]
//! ```

use liquidation_detection_bench::{build, Measurement};

struct Options {
	sizes: Vec<u32>,
	share: f64,
	seed: u64,
	runs: u32,
}

fn parse() -> Result<Options, String> {
	let mut options =
		Options { sizes: vec![10_000, 100_000, 1_000_000], share: 0.001, seed: 7, runs: 3 };
	let mut args = std::env::args().skip(1);
	while let Some(flag) = args.next() {
		let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
		let bad = |what: &str| format!("{flag}: {value:?} is not {what}");
		match flag.as_str() {
			"--sizes" => {
				options.sizes = value
					.split(',')
					.map(|size| size.trim().parse::<u32>())
					.collect::<Result<_, _>>()
					.map_err(|_| bad("a comma-separated list of account counts"))?
			},
			"--share" => {
				options.share = value.parse().map_err(|_| bad("a fraction"))?;
				if !(options.share > 0.0 && options.share < 0.5) {
					return Err(bad("a fraction between 0 and 0.5"));
				}
			},
			"--seed" => options.seed = value.parse().map_err(|_| bad("a number"))?,
			"--runs" => options.runs = value.parse().map_err(|_| bad("a number"))?,
			_ => return Err(format!("unknown flag {flag} (--sizes, --share, --seed, --runs)")),
		}
	}
	Ok(options)
}

fn main() {
	let options = match parse() {
		Ok(options) => options,
		Err(error) => {
			eprintln!("detection-bench: {error}");
			std::process::exit(2);
		},
	};
	println!(
		"{:>10} {:>8} {:>11} {:>10} {:>10} {:>13} {:>13} {:>8}",
		"accounts",
		"crash",
		"index read",
		"found idx",
		"found scan",
		"index (ms)",
		"scan (ms)",
		"ratio"
	);
	let mut all_equal = true;
	for size in &options.sizes {
		eprintln!("building {size} accounts ...");
		let mut bench = build(*size, options.seed);
		let crash = bench.crash_for_share(options.share);
		eprintln!(
			"  built in {:.1} s; crypto prices fall {:.3}%",
			bench.build_seconds,
			crash * 100.0
		);
		bench.crash(crash);
		let m: Measurement = bench.measure(crash, options.runs);
		all_equal &= m.same_accounts && m.found_by_index == m.found_by_scan;
		println!(
			"{:>10} {:>7.3}% {:>11} {:>10} {:>10} {:>13.3} {:>13.3} {:>7.0}x{}",
			m.accounts,
			m.crash * 100.0,
			m.candidates,
			m.found_by_index,
			m.found_by_scan,
			m.index_seconds * 1e3,
			m.scan_seconds * 1e3,
			m.ratio(),
			if m.same_accounts { "" } else { "  DIFFERENT ACCOUNTS" },
		);
	}
	if !all_equal {
		eprintln!("detection-bench: the index and the full scan found different accounts");
		std::process::exit(1);
	}
}
