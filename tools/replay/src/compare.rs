//! Side by side: the same scenario and population replayed without and with predictive
//! de-risking, compared on what the owners bore and how hard the engine worked
//! ([`crate::Outcome`]): bad debt, fees paid, full liquidations, the peak value liquidated in a
//! block, the longest wait.

use crate::{picture, replay, Outcome, Progress, Replay, ReplayError, ReplayOptions};
use liquidation_scenario::Scenario;

/// Replays `scenario` twice on the same population and draws: without de-risking, then with
/// `params` (the options' own de-risking is ignored). `progress` gets each run's blocks, the
/// second run's after the first's.
pub fn run_both(
	name: &str,
	scenario: &Scenario,
	options: &ReplayOptions,
	params: pallet_liquidation::DeriskParams,
	progress: &mut dyn FnMut(&Progress),
) -> Result<(Replay, Replay), ReplayError> {
	let without =
		replay(name, scenario, &ReplayOptions { derisk: None, ..options.clone() }, progress)?;
	let with = replay(
		name,
		scenario,
		&ReplayOptions { derisk: Some(params), ..options.clone() },
		progress,
	)?;
	Ok((without, with))
}

/// The two outcomes as a Markdown table, one row a figure, with the change.
pub fn table(without: &Outcome, with: &Outcome) -> String {
	let usd = |v: f64| format!("{:.0} USD", v);
	let rows: Vec<(&str, String, String, String)> = vec![
		row(
			"bad debt (spot written off + perpetual shortfalls)",
			without.bad_debt_usd,
			with.bad_debt_usd,
			usd,
		),
		row("fees paid by users", without.fees_paid_usd, with.fees_paid_usd, usd),
		row(
			"of them liquidation penalties and fees",
			without.penalties_usd,
			with.penalties_usd,
			usd,
		),
		row("of them de-risking fees", without.derisk_fees_usd, with.derisk_fees_usd, usd),
		row(
			"full liquidations (accounts left owing nothing)",
			f64::from(without.full_liquidations),
			f64::from(with.full_liquidations),
			|v| format!("{v:.0}"),
		),
		row(
			"peak value liquidated in a block",
			without.peak_liquidated_usd_per_block,
			with.peak_liquidated_usd_per_block,
			usd,
		),
		row(
			"longest wait",
			f64::from(without.longest_wait_blocks),
			f64::from(with.longest_wait_blocks),
			|v| format!("{v:.0} blocks"),
		),
		(
			"de-riskings (by the worker), accounts",
			"-".into(),
			format!(
				"{} ({}), {}",
				with.deriskings, with.deriskings_by_worker, with.accounts_derisked
			),
			String::new(),
		),
		("value de-risked", "-".into(), usd(with.derisked_usd), String::new()),
	];
	let mut out =
		String::from("| | without de-risking | with de-risking | change |\n|---|---:|---:|---:|\n");
	for (label, a, b, change) in rows {
		out.push_str(&format!("| {label} | {a} | {b} | {change} |\n"));
	}
	out
}

fn row(
	label: &'static str,
	without: f64,
	with: f64,
	show: impl Fn(f64) -> String,
) -> (&'static str, String, String, String) {
	let change = if without.abs() > 1e-9 {
		format!("{:+.1} %", (with - without) / without * 100.0)
	} else if with.abs() > 1e-9 {
		"new".into()
	} else {
		"0".into()
	};
	(label, show(without), show(with), change)
}

/// Draws the two timelines side by side into `path` ([`picture::draw_comparison`]).
pub fn draw(
	path: &std::path::Path,
	title: &str,
	without: &Replay,
	with: &Replay,
) -> Result<(), Box<dyn std::error::Error>> {
	let step = (without.summary.blocks / without.timeline.len().max(1) as u32).max(1);
	picture::draw_comparison(path, title, &without.timeline, &with.timeline, step)
}
