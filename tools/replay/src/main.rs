//! `liquidation-replay SCENARIO.csv [flags]`: replays a crash scenario through the real runtime
//! and writes a JSON summary and a picture (see the library docs).

use liquidation_replay::{load, picture, replay, Population, Progress, ReplayOptions};
use std::{io::Write, path::PathBuf, time::Instant};

const USAGE: &str = "\
usage: liquidation-replay SCENARIO.csv [flags]

  --accounts N         borrowers (default 1000)
  --seed N             seed of the population and of the keepers' draws (default 42)
  --mix BTC=50,ETH=35  collateral assets and their weights (default BTC=50,ETH=35,DOT=15,
                       less what the scenario does not price)
  --leverage LOW-HIGH  share of initial borrowing capacity used, in percent (default 10-97)
  --traders N          perpetual traders, in the scenario's assets with a market (default 0)
  --trader-leverage LOW-HIGH
                       leverage traders open at, whole times (default 2-20)
  --trader-usd-share F share of traders whose collateral is USD (default 0.5; the rest hold
                       one asset of the mix)
  --long-share F       share of traders who go long (default 0.5)
  --keeper-share F     share of liquidatable accounts keepers take (default 0.3; rest: worker)
  --bidder-discount F  bidders take lots this far under the oracle (default 0.03)
  --block-seconds N    seconds of the path per block, a multiple of 6 (default 6)
  --check-every N      check every pallet's invariants every N blocks (default 100; 1: always)
  --out DIR            where summary.json and replay.svg go (default replay-out/<scenario>)
";

struct Args {
	scenario: PathBuf,
	out: Option<PathBuf>,
	options: ReplayOptions,
}

fn parse() -> Result<Args, String> {
	let mut args = std::env::args().skip(1);
	let mut scenario = None;
	let mut out = None;
	let mut options = ReplayOptions::default();
	while let Some(arg) = args.next() {
		if !arg.starts_with("--") {
			if scenario.replace(PathBuf::from(&arg)).is_some() {
				return Err(format!("one scenario at a time (also got {arg})"));
			}
			continue;
		}
		if arg == "--help" {
			return Err(String::new());
		}
		let value = args.next().ok_or_else(|| format!("{arg} needs a value"))?;
		let bad = |what: &str| format!("{arg}: `{value}` is not {what}");
		let population: &mut Population = &mut options.population;
		match arg.as_str() {
			"--accounts" => population.accounts = value.parse().map_err(|_| bad("a count"))?,
			"--seed" => population.seed = value.parse().map_err(|_| bad("a number"))?,
			"--mix" => {
				population.mix = value
					.split(',')
					.map(|part| {
						let (symbol, weight) = part.split_once('=')?;
						Some((symbol.trim().to_string(), weight.trim().parse().ok()?))
					})
					.collect::<Option<_>>()
					.ok_or_else(|| bad("a list like BTC=50,ETH=50"))?
			},
			"--leverage" => {
				let (low, high) = value
					.split_once('-')
					.and_then(|(l, h)| Some((l.parse().ok()?, h.parse().ok()?)))
					.ok_or_else(|| bad("a range like 10-97"))?;
				if !(low <= high && high < 100) {
					return Err(bad("a range within 0-99"));
				}
				population.leverage = (low, high);
			},
			"--traders" => options.traders.accounts = value.parse().map_err(|_| bad("a count"))?,
			"--trader-leverage" => {
				let (low, high) = value
					.split_once('-')
					.and_then(|(l, h)| Some((l.parse().ok()?, h.parse().ok()?)))
					.ok_or_else(|| bad("a range like 2-20"))?;
				if !(1 <= low && low <= high && high <= 100) {
					return Err(bad("a range within 1-100"));
				}
				options.traders.leverage = (low, high);
			},
			"--trader-usd-share" => {
				options.traders.usd_share = value.parse().map_err(|_| bad("a fraction"))?
			},
			"--long-share" => {
				options.traders.long_share = value.parse().map_err(|_| bad("a fraction"))?
			},
			"--keeper-share" => {
				options.keeper_share = value.parse().map_err(|_| bad("a fraction"))?
			},
			"--bidder-discount" => {
				options.bidder_discount = value.parse().map_err(|_| bad("a fraction"))?
			},
			"--block-seconds" => {
				options.block_seconds = value.parse().map_err(|_| bad("a number"))?
			},
			"--check-every" => options.check_every = value.parse().map_err(|_| bad("a number"))?,
			"--out" => out = Some(PathBuf::from(value)),
			_ => return Err(format!("unknown flag {arg}")),
		}
	}
	let scenario = scenario.ok_or("name a scenario file")?;
	Ok(Args { scenario, out, options })
}

fn fail(message: impl std::fmt::Display) -> ! {
	eprintln!("liquidation-replay: {message}");
	std::process::exit(2);
}

fn main() {
	let args = match parse() {
		Ok(args) => args,
		Err(error) => {
			if !error.is_empty() {
				eprintln!("liquidation-replay: {error}\n");
			}
			eprint!("{USAGE}");
			std::process::exit(2);
		},
	};
	let name = args
		.scenario
		.file_stem()
		.map_or_else(|| "scenario".to_string(), |s| s.to_string_lossy().into_owned());
	// Nothing runs on an invalid file: the error names the line.
	let scenario = load(&args.scenario)
		.unwrap_or_else(|error| fail(format_args!("{}: {error}", args.scenario.display())));
	let out = args.out.unwrap_or_else(|| PathBuf::from("replay-out").join(&name));
	std::fs::create_dir_all(&out)
		.unwrap_or_else(|error| fail(format_args!("{}: {error}", out.display())));

	eprintln!(
		"replaying {} ({} s of path) with {} accounts and {} perpetual traders ...",
		args.scenario.display(),
		scenario.end_seconds(),
		args.options.population.accounts,
		args.options.traders.accounts
	);
	let started = Instant::now();
	let mut last_shown = 0u32;
	let mut show = |progress: &Progress| {
		let percent = progress.block * 100 / progress.blocks.max(1);
		if percent != last_shown || progress.block == progress.blocks {
			last_shown = percent;
			let elapsed = started.elapsed().as_secs_f64();
			let eta =
				elapsed / f64::from(progress.block) * f64::from(progress.blocks - progress.block);
			eprint!(
				"\r[{percent:>3}%] block {}/{}  path {:>5.1} h  liquidations {}  liquidatable now {}  \
				 elapsed {:.0} s  left ~{:.0} s   ",
				progress.block,
				progress.blocks,
				progress.seconds as f64 / 3_600.0,
				progress.liquidations,
				progress.liquidatable,
				elapsed,
				eta,
			);
			let _ = std::io::stderr().flush();
		}
	};
	let result = replay(&name, &scenario, &args.options, &mut show);
	eprintln!();
	let result = result.unwrap_or_else(|error| fail(error));

	let summary_path = out.join("summary.json");
	let json = serde_json::to_string_pretty(&result.summary).unwrap_or_else(|e| fail(e));
	std::fs::write(&summary_path, &json)
		.unwrap_or_else(|error| fail(format_args!("{}: {error}", summary_path.display())));
	let timeline_path = out.join("timeline.json");
	let timeline = serde_json::to_string(&result.timeline).unwrap_or_else(|e| fail(e));
	std::fs::write(&timeline_path, timeline)
		.unwrap_or_else(|error| fail(format_args!("{}: {error}", timeline_path.display())));
	let picture_path = out.join("replay.svg");
	let step = (result.summary.blocks / result.timeline.len().max(1) as u32).max(1);
	let title = format!(
		"{name}: {} accounts, {} liquidated, bad debt {:.0} USD ({:.0} covered, {:.0} socialized)",
		result.summary.accounts,
		result.summary.accounts_liquidated,
		result.summary.bad_debt_usd,
		result.summary.insurance_used_usd,
		result.summary.loss_socialized_usd,
	);
	picture::draw(&picture_path, &title, &result.timeline, step)
		.unwrap_or_else(|error| fail(format_args!("{}: {error}", picture_path.display())));
	println!("{json}");
	eprintln!(
		"wrote {}, {} and {}",
		summary_path.display(),
		timeline_path.display(),
		picture_path.display()
	);
}
