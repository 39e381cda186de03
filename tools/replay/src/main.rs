//! `liquidation-replay SCENARIO.csv [flags]`: replays a crash scenario through the real runtime
//! and writes a JSON summary and a picture (see the library docs).

use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use liquidation_replay::{
	compare, default_derisk_params, load_renamed, picture, replay, Population, Progress, Replay,
	ReplayOptions, Traders,
};
use std::{
	path::{Path, PathBuf},
	time::Instant,
};

/// Whether predictive de-risking runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DeriskMode {
	/// Off (the dev chain's default).
	Off,
	/// On.
	On,
	/// The same population replayed without and with it, compared side by side.
	Both,
}

/// Replays a crash scenario through the real runtime (no node): a population of borrowers and
/// perpetual traders, the oracle fed the scenario's path, keepers, bidders and the engine's
/// worker acting each block. Writes summary.json, timeline.json and replay.svg.
#[derive(Parser, Debug)]
#[command(name = "liquidation-replay", version, about, long_about = None)]
struct Args {
	/// The scenario: CSV `seconds,feeder,asset,price` (see `scenarios/README.md`).
	scenario: PathBuf,
	/// Prices a scenario asset as a dev asset (`--asset LUNA=DOT`; repeat for more): its path
	/// moves the dev asset, whose listing (decimals, weights, markets) stays the dev chain's.
	#[arg(long = "asset", value_name = "SYMBOL=DEVSYMBOL", value_parser = parse_rename)]
	assets: Vec<(String, String)>,
	/// Borrowers.
	#[arg(long, default_value_t = 1_000)]
	accounts: u32,
	/// Seed of the population and of the keepers' draws.
	#[arg(long, default_value_t = 42)]
	seed: u64,
	/// Collateral assets and their weights (default BTC=50,ETH=35,DOT=15, less what the scenario
	/// does not price).
	#[arg(long, value_name = "BTC=50,ETH=35", value_parser = parse_mix)]
	mix: Option<Mix>,
	/// Share of initial borrowing capacity used, in percent.
	#[arg(long, value_name = "LOW-HIGH", default_value = "10-97", value_parser = parse_leverage)]
	leverage: (u32, u32),
	/// Perpetual traders, in the scenario's assets with a market.
	#[arg(long, default_value_t = 0)]
	traders: u32,
	/// Leverage traders open at, whole times.
	#[arg(long, value_name = "LOW-HIGH", default_value = "2-20", value_parser = parse_trader_leverage)]
	trader_leverage: (u32, u32),
	/// Share of traders whose collateral is USD (the rest hold one asset of the mix).
	#[arg(long, default_value_t = 0.5, value_parser = parse_fraction)]
	trader_usd_share: f64,
	/// Share of traders who go long.
	#[arg(long, default_value_t = 0.5, value_parser = parse_fraction)]
	long_share: f64,
	/// Share of liquidatable accounts keepers take (the rest: the worker).
	#[arg(long, default_value_t = 0.3, value_parser = parse_fraction)]
	keeper_share: f64,
	/// Bidders take lots this far under the oracle.
	#[arg(long, default_value_t = 0.03, value_parser = parse_fraction)]
	bidder_discount: f64,
	/// Seconds of the path per block, a multiple of 6.
	#[arg(long, default_value_t = 6)]
	block_seconds: u64,
	/// Check every pallet's invariants every N blocks (1: always).
	#[arg(long, value_name = "N", default_value_t = 100)]
	check_every: u32,
	/// Predictive de-risking: `off`, `on` (the worker and keepers de-risk due accounts), or
	/// `both`: the same population without and with it, compared side by side (a table on
	/// stdout and in derisk.md, the picture derisk.svg; each run's files in without/ and with/).
	#[arg(long, value_enum, default_value_t = DeriskMode::Off)]
	derisk: DeriskMode,
	/// De-risking's horizon, minutes (default 60; see `default_derisk_params`).
	#[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u64).range(1..=10_080))]
	derisk_horizon: Option<u64>,
	/// Where summary.json and replay.svg go (default replay-out/<scenario>).
	#[arg(long)]
	out: Option<PathBuf>,
}

impl Args {
	fn options(&self) -> ReplayOptions {
		let defaults = ReplayOptions::default();
		ReplayOptions {
			population: Population {
				accounts: self.accounts,
				seed: self.seed,
				mix: self.mix.clone().map(|mix| mix.0).unwrap_or_default(),
				leverage: self.leverage,
			},
			traders: Traders {
				accounts: self.traders,
				leverage: self.trader_leverage,
				usd_share: self.trader_usd_share,
				long_share: self.long_share,
			},
			keeper_share: self.keeper_share,
			bidder_discount: self.bidder_discount,
			block_seconds: self.block_seconds,
			check_every: self.check_every,
			derisk: (self.derisk == DeriskMode::On).then(|| self.derisk_params()),
			..defaults
		}
	}

	fn derisk_params(&self) -> pallet_liquidation::DeriskParams {
		let mut params = default_derisk_params();
		if let Some(minutes) = self.derisk_horizon {
			params.horizon_ms = minutes * 60_000;
		}
		params
	}
}

fn parse_rename(value: &str) -> Result<(String, String), String> {
	let (from, to) = value.split_once('=').ok_or("expected SYMBOL=DEVSYMBOL, like LUNA=DOT")?;
	let (from, to) = (from.trim(), to.trim());
	if from.is_empty() || to.is_empty() {
		return Err("expected SYMBOL=DEVSYMBOL, like LUNA=DOT".into());
	}
	Ok((from.to_string(), to.to_string()))
}

/// Collateral symbols and weights (one flag value, not a repeated flag).
#[derive(Clone, Debug, PartialEq)]
struct Mix(Vec<(String, u32)>);

fn parse_mix(value: &str) -> Result<Mix, String> {
	value
		.split(',')
		.map(|part| {
			let (symbol, weight) = part.split_once('=')?;
			Some((symbol.trim().to_string(), weight.trim().parse().ok()?))
		})
		.collect::<Option<_>>()
		.map(Mix)
		.ok_or_else(|| "expected a list like BTC=50,ETH=50".into())
}

fn parse_range(value: &str) -> Result<(u32, u32), String> {
	value
		.split_once('-')
		.and_then(|(low, high)| Some((low.parse().ok()?, high.parse().ok()?)))
		.ok_or_else(|| "expected a range like 10-97".into())
}

fn parse_leverage(value: &str) -> Result<(u32, u32), String> {
	let (low, high) = parse_range(value)?;
	if low <= high && high < 100 {
		Ok((low, high))
	} else {
		Err("expected a range within 0-99".into())
	}
}

fn parse_trader_leverage(value: &str) -> Result<(u32, u32), String> {
	let (low, high) = parse_range(value)?;
	if 1 <= low && low <= high && high <= 100 {
		Ok((low, high))
	} else {
		Err("expected a range within 1-100".into())
	}
}

fn parse_fraction(value: &str) -> Result<f64, String> {
	let fraction: f64 = value.parse().map_err(|_| format!("`{value}` is not a number"))?;
	if (0.0..=1.0).contains(&fraction) {
		Ok(fraction)
	} else {
		Err("expected a fraction between 0 and 1".into())
	}
}

fn fail(message: impl std::fmt::Display) -> ! {
	eprintln!("liquidation-replay: {message}");
	std::process::exit(2);
}

fn main() {
	let args = Args::parse();
	let options = args.options();
	let name = args
		.scenario
		.file_stem()
		.map_or_else(|| "scenario".to_string(), |s| s.to_string_lossy().into_owned());
	// Nothing runs on an invalid file: the error names the line.
	let scenario = load_renamed(&args.scenario, &args.assets)
		.unwrap_or_else(|error| fail(format_args!("{}: {error}", args.scenario.display())));
	let out = args.out.clone().unwrap_or_else(|| PathBuf::from("replay-out").join(&name));
	std::fs::create_dir_all(&out)
		.unwrap_or_else(|error| fail(format_args!("{}: {error}", out.display())));

	eprintln!(
		"replaying {} ({} s of path) with {} accounts and {} perpetual traders{} ...",
		args.scenario.display(),
		scenario.end_seconds(),
		options.population.accounts,
		options.traders.accounts,
		match args.derisk {
			DeriskMode::Off => "",
			DeriskMode::On => ", de-risking on",
			DeriskMode::Both => ", without then with de-risking",
		}
	);
	let started = Instant::now();
	// A bar on a terminal (hidden when stderr is not one: logs get the summary only).
	let bar = ProgressBar::new(0);
	bar.set_style(
		ProgressStyle::with_template(
			"{elapsed_precise} [{bar:30}] block {pos}/{len}  {msg}  left ~{eta}",
		)
		.unwrap_or_else(|_| ProgressStyle::default_bar())
		.progress_chars("=> "),
	);
	let mut show = |progress: &Progress| {
		bar.set_length(u64::from(progress.blocks));
		bar.set_position(u64::from(progress.block));
		bar.set_message(format!(
			"path {:.1} h  liquidations {}  liquidatable now {}",
			progress.seconds as f64 / 3_600.0,
			progress.liquidations,
			progress.liquidatable,
		));
	};
	if args.derisk == DeriskMode::Both {
		let result = compare::run_both(&name, &scenario, &options, args.derisk_params(), &mut show);
		bar.finish_and_clear();
		eprintln!("replayed both in {:.0} s", started.elapsed().as_secs_f64());
		let (without, with) = result.unwrap_or_else(|error| fail(error));
		write_run(&out.join("without"), &name, &without);
		write_run(&out.join("with"), &name, &with);
		let table = compare::table(&without.summary.outcome, &with.summary.outcome);
		let table_path = out.join("derisk.md");
		std::fs::write(&table_path, &table)
			.unwrap_or_else(|error| fail(format_args!("{}: {error}", table_path.display())));
		let picture_path = out.join("derisk.svg");
		let title = format!(
			"{name}: {} accounts without and with predictive de-risking",
			without.summary.accounts + options.traders.accounts
		);
		compare::draw(&picture_path, &title, &without, &with)
			.unwrap_or_else(|error| fail(format_args!("{}: {error}", picture_path.display())));
		println!("{table}");
		eprintln!(
			"wrote {}, {} and the runs in without/ and with/",
			table_path.display(),
			picture_path.display()
		);
		return;
	}
	let result = replay(&name, &scenario, &options, &mut show);
	bar.finish_and_clear();
	eprintln!("replayed in {:.0} s", started.elapsed().as_secs_f64());
	let result = result.unwrap_or_else(|error| fail(error));
	let json = write_run(&out, &name, &result);
	println!("{json}");
}

/// Writes a run's summary.json, timeline.json and replay.svg into `out`; returns the summary's
/// JSON.
fn write_run(out: &Path, name: &str, result: &Replay) -> String {
	std::fs::create_dir_all(out)
		.unwrap_or_else(|error| fail(format_args!("{}: {error}", out.display())));
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
	picture::draw(
		&picture_path,
		&title,
		&result.timeline,
		step,
		&result.summary.health_distribution,
	)
	.unwrap_or_else(|error| fail(format_args!("{}: {error}", picture_path.display())));
	eprintln!(
		"wrote {}, {} and {}",
		summary_path.display(),
		timeline_path.display(),
		picture_path.display()
	);
	json
}

#[cfg(test)]
mod tests {
	use super::*;
	use clap::CommandFactory;

	#[test]
	fn the_flags_are_well_formed() {
		Args::command().debug_assert();
	}

	#[test]
	fn flags_parse_into_the_options() {
		let args = Args::try_parse_from([
			"liquidation-replay",
			"luna.csv",
			"--asset",
			"LUNA=DOT",
			"--asset",
			"UST=ETH",
			"--mix",
			"DOT=70,BTC=30",
			"--leverage",
			"20-90",
			"--traders",
			"10",
			"--long-share",
			"0.7",
		])
		.unwrap();
		assert_eq!(args.assets, vec![("LUNA".into(), "DOT".into()), ("UST".into(), "ETH".into())]);
		let options = args.options();
		assert_eq!(options.population.mix, vec![("DOT".into(), 70), ("BTC".into(), 30)]);
		assert_eq!(options.population.leverage, (20, 90));
		assert_eq!((options.traders.accounts, options.traders.long_share), (10, 0.7));
		assert_eq!(options.population.accounts, 1_000);
		assert_eq!(options.derisk, None, "off by default");
		let on = Args::try_parse_from([
			"liquidation-replay",
			"x.csv",
			"--derisk",
			"on",
			"--derisk-horizon",
			"30",
		])
		.unwrap();
		assert_eq!(on.options().derisk.map(|p| p.horizon_ms), Some(1_800_000));
		let both = Args::try_parse_from(["liquidation-replay", "x.csv", "--derisk", "both"]);
		assert_eq!(both.unwrap().options().derisk, None, "each run sets its own");
		for bad in [
			vec!["liquidation-replay", "x.csv", "--leverage", "5-200"],
			vec!["liquidation-replay", "x.csv", "--asset", "LUNA"],
			vec!["liquidation-replay", "x.csv", "--keeper-share", "1.5"],
			vec!["liquidation-replay", "x.csv", "--mix", "BTC"],
			vec!["liquidation-replay", "x.csv", "--derisk", "maybe"],
			vec!["liquidation-replay", "x.csv", "--derisk-horizon", "0"],
			vec!["liquidation-replay"],
		] {
			assert!(Args::try_parse_from(&bad).is_err(), "{bad:?}");
		}
	}
}
