//! Every scenario in `scenarios/` through the replay with a small population: the accounting
//! identity (checked by the replay after every block) and every pallet's invariants (here after
//! every block too) hold; liquidations happen in the crashes and never on a single faulty feeder.

use liquidation_replay::{
	load, load_renamed, parse, replay, Population, ReplayError, ReplayOptions,
};
use liquidation_scenario::ScenarioError;
use std::path::PathBuf;

fn scenarios() -> Vec<PathBuf> {
	let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
	let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
		.expect("the scenarios directory")
		.map(|entry| entry.expect("an entry").path())
		.filter(|path| path.extension().is_some_and(|ext| ext == "csv"))
		.collect();
	files.sort();
	files
}

fn small() -> ReplayOptions {
	ReplayOptions {
		population: Population { accounts: 40, seed: 3, ..Population::default() },
		check_every: 1,
		..ReplayOptions::default()
	}
}

fn run(file: &str) -> liquidation_replay::Summary {
	let path = scenarios().into_iter().find(|p| p.ends_with(file)).expect("the scenario exists");
	let scenario = load(&path).expect("the scenario loads");
	let result = replay(file, &scenario, &small(), &mut |_| {}).expect("the replay runs");
	let summary = result.summary;
	println!("{}", serde_json::to_string_pretty(&summary).unwrap());
	// The identity, from the summary's own terms (the replay checks it to the unit every block).
	let identity = &summary.identity;
	let right = identity.repaid_usd
		+ identity.covered_usd
		+ identity.socialized_usd
		+ identity.outstanding_bad_debt_usd;
	assert!(
		(identity.liquidated_debt_usd - right).abs()
			<= 1e-6 * identity.liquidated_debt_usd.max(1.0),
		"the identity fails: {identity:?}"
	);
	assert_eq!(summary.invariants_checked, summary.blocks, "invariants after every block");
	assert_eq!(summary.blocks as u64 * 6, summary.path_seconds);
	assert!(!result.timeline.is_empty());
	// Every account in the health distribution, at the start and at the end; none opened
	// liquidatable (borrowing stops at the initial capacity, above maintenance).
	let health = &summary.health_distribution;
	assert_eq!(health.buckets.len(), health.start.len());
	assert_eq!(health.start.iter().sum::<u32>(), summary.accounts);
	assert_eq!(health.end.iter().sum::<u32>(), summary.accounts);
	assert_eq!(health.start[0], 0, "{health:?}");
	// Every liquidatable account can be closed: no keeper is refused as making it worse, and no
	// liquidation waits for the collateral pool's cash.
	for reason in summary.refused.keys() {
		assert!(
			!reason.contains("WouldWorsenHealth") && !reason.contains("InsufficientLiquidity"),
			"refused: {:?}",
			summary.refused
		);
	}
	summary
}

#[test]
fn every_shared_scenario_is_covered_here() {
	let names: Vec<String> =
		scenarios().iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
	assert_eq!(
		names,
		[
			"black-thursday-2020.csv",
			"fast-crash-2025-10-10.csv",
			"may-19-2021.csv",
			"one-block-gap.csv",
			"single-feeder-fault.csv"
		],
		"a new scenario needs its test below"
	);
}

#[test]
fn black_thursday_liquidates_and_keeps_the_books() {
	let summary = run("black-thursday-2020.csv");
	assert!(summary.accounts_liquidated > 0);
	assert!(summary.value_liquidated_usd > 0.0);
	// An account never waits long with nothing under way.
	assert!(summary.max_blocks_liquidatable <= 3, "{}", summary.max_blocks_liquidatable);
	assert_eq!(summary.liquidatable_at_end, 0);
}

/// DOT -80 % in five minutes (10 October 2025's alts): every account liquidated within two
/// blocks, and the busiest block within the block's weight.
#[test]
fn a_fast_crash_is_liquidated_within_two_blocks() {
	let summary = run("fast-crash-2025-10-10.csv");
	assert!(summary.accounts_liquidated > 0);
	assert!(summary.max_blocks_liquidatable <= 2, "{}", summary.max_blocks_liquidatable);
	assert_eq!(summary.liquidatable_at_end, 0);
	let busiest = &summary.outcome.busiest_block;
	assert!(busiest.liquidations > 0, "{busiest:?}");
	assert!(busiest.weight_ms > 0.0 && busiest.weight_ms <= 2_000.0, "{busiest:?}");
	assert!(busiest.execution_ms > 0.0, "{busiest:?}");
	// The crash starts 20 minutes in and takes five.
	assert!(busiest.hours >= 1.0 / 3.0 && busiest.hours <= 0.5, "{busiest:?}");
}

#[test]
fn may_19_liquidates_and_keeps_the_books() {
	let summary = run("may-19-2021.csv");
	assert!(summary.accounts_liquidated > 0);
	assert!(summary.max_blocks_liquidatable <= 3, "{}", summary.max_blocks_liquidatable);
	assert_eq!(summary.liquidatable_at_end, 0);
}

#[test]
fn a_single_faulty_feeder_liquidates_nobody() {
	let summary = run("single-feeder-fault.csv");
	assert_eq!(summary.accounts_liquidated, 0);
	assert!(summary.liquidations.is_empty(), "{:?}", summary.liquidations);
	assert_eq!(summary.value_liquidated_usd, 0.0);
}

#[test]
fn invalid_scenarios_are_refused_naming_the_line() {
	const HEADER: &str = "seconds,feeder,asset,price\n";
	assert_eq!(parse("").unwrap_err(), ReplayError::Scenario(ScenarioError::Empty));
	assert_eq!(parse(HEADER).unwrap_err(), ReplayError::Scenario(ScenarioError::Empty));
	let unknown = parse(&format!("{HEADER}0,*,BTC,1\n0,*,XYZ,2\n")).unwrap_err();
	assert_eq!(unknown.to_string(), "line 3: unknown asset symbol `XYZ`");
	let unordered = parse(&format!("{HEADER}10,*,BTC,1\n5,*,BTC,2\n")).unwrap_err();
	assert_eq!(
		unordered.to_string(),
		"line 3: rows must be in time order, but 5 s comes after 10 s"
	);
	let negative = parse(&format!("{HEADER}0,*,BTC,1\n6,*,BTC,-2\n")).unwrap_err();
	assert_eq!(negative.to_string(), "line 3: a price cannot be negative");
	let feeders: String = (1..=6).map(|n| format!("0,op{n},BTC,1\n")).collect::<Vec<_>>().concat();
	assert_eq!(
		parse(&format!("{HEADER}{feeders}")).unwrap_err(),
		ReplayError::TooManyFeeders { named: 6, operators: 5 }
	);
}

#[test]
fn a_scenario_without_the_populations_prices_is_refused_before_running() {
	let scenario = parse("seconds,feeder,asset,price\n0,*,BTC,100\n60,*,BTC,90\n").unwrap();
	let error = replay("btc-only", &scenario, &small(), &mut |_| {}).unwrap_err();
	assert!(matches!(error, ReplayError::Options(_)), "{error}");
}

/// `one-block-gap.csv` (BTC, ETH and DOT about 18 % lower from one block to the next) with 60
/// perpetual traders beside 30 borrowers: traders are closed out by keepers and the vault, the
/// insolvent ones' shortfalls go down the waterfall (insurance, auto-deleveraging of the
/// opposite winners, the LPs), and its identity (checked by the replay after every block, from
/// the events against the engine's totals) holds; nobody waits, every pallet's invariants hold
/// after every block.
#[test]
fn perpetual_traders_in_a_gap_are_closed_out_and_their_shortfalls_settled() {
	let path =
		scenarios().into_iter().find(|p| p.ends_with("one-block-gap.csv")).expect("the file");
	let scenario = load(&path).expect("the scenario loads");
	let mut options = small();
	options.population.accounts = 30;
	options.traders.accounts = 60;
	let result = replay("gap", &scenario, &options, &mut |_| {}).expect("the replay runs");
	let summary = result.summary;
	println!("{}", serde_json::to_string_pretty(&summary).unwrap());
	assert_eq!(summary.invariants_checked, summary.blocks, "invariants after every block");
	assert!(summary.max_blocks_liquidatable <= 3, "{}", summary.max_blocks_liquidatable);
	assert_eq!(summary.liquidatable_at_end, 0);
	// No keeper is refused as making an account worse (a partial takeover the no-harm guard
	// refuses is made whole: the replay's keepers accept whole positions).
	for reason in summary.refused.keys() {
		assert!(!reason.contains("WouldWorsenHealth"), "refused: {:?}", summary.refused);
	}
	let perps = summary.perpetuals.expect("the traders' summary");
	assert!(perps.positions_opened > perps.traders / 2, "{perps:?}");
	assert!(perps.taken_over > 0 && perps.backstop > 0, "{perps:?}");
	assert!(perps.shortfalls > 0 && perps.deleveraged_usd > 0.0, "{perps:?}");
	let right =
		perps.insurance_usd + perps.deleveraged_usd + perps.to_lps_usd + perps.outstanding_usd;
	assert!(
		(perps.shortfall_usd - right).abs() <= 1e-6 * perps.shortfall_usd,
		"the waterfall's identity fails: {perps:?}"
	);
	// The timeline carries the close-outs.
	let closed: u32 = result.timeline.iter().map(|point| point.position_close_outs).sum();
	assert_eq!(closed, perps.close_outs);
}

/// A scenario in another chain's symbols, of an asset priced in cents: a LUNA path from
/// 0.038 USD to 0.005 in ten minutes, replayed as DOT (`--asset LUNA=DOT`). The population is
/// sized from value at any price level (every account set up, nothing refused by a cap), the
/// DOT holders are liquidated as it falls, and the books hold.
#[test]
fn a_cheap_asset_under_another_name_replays_as_a_dev_asset() {
	let dir = std::env::temp_dir().join(format!("replay-luna-{}", std::process::id()));
	std::fs::create_dir_all(&dir).unwrap();
	let path = dir.join("luna.csv");
	let text = "seconds,feeder,asset,price\n0,*,USD,1.0\n0,*,BTC,60000\n0,*,ETH,3000\n\
	            0,*,LUNA,0.038\n300,*,LUNA,0.02\n600,*,LUNA,0.005\n";
	std::fs::write(&path, text).unwrap();
	// Unknown under its own name; renamed onto a symbol the scenario prices, refused too.
	assert_eq!(load(&path).unwrap_err().to_string(), "line 5: unknown asset symbol `LUNA`");
	let taken = load_renamed(&path, &[("LUNA".into(), "BTC".into())]).unwrap_err();
	assert_eq!(
		taken.to_string(),
		"cannot rename onto `BTC`: the scenario prices it already (line 3)"
	);
	let scenario = load_renamed(&path, &[("LUNA".into(), "DOT".into())]).unwrap();
	let mut options = small();
	options.population.mix = vec![("DOT".into(), 70), ("BTC".into(), 30)];
	let summary =
		replay("luna", &scenario, &options, &mut |_| {}).expect("the replay runs").summary;
	std::fs::remove_dir_all(&dir).ok();
	assert_eq!(summary.accounts, 40);
	assert!(summary.collateral_usd > 1e6, "{}", summary.collateral_usd);
	assert!(summary.refused.is_empty(), "{:?}", summary.refused);
	assert!(summary.accounts_liquidated > 0);
	assert!(summary.per_asset["DOT"].seized > 0.0, "{:?}", summary.per_asset);
	assert_eq!(summary.invariants_checked, summary.blocks);
}

/// A slide with swings (BTC and ETH down 30 % over 30 minutes, ±2 % a minute around the
/// trend): the same 40 borrowers and 12 perpetual traders replayed without and with predictive
/// de-risking. With it the worker and keepers reduce due accounts before they breach (the
/// worker's spot slices sold on the DEX the arbitrageur keeps at the oracle), the books and
/// every invariant hold after every block, and the owners pay less in penalties: a slice's fee
/// is a quarter of a liquidation's penalty.
#[test]
fn de_risking_ahead_of_a_slide_lowers_what_liquidations_take() {
	let mut text = String::from("seconds,feeder,asset,price\n0,*,USD,1.0\n0,*,DOT,7.0\n");
	for minute in 0..=30u32 {
		let trend = 1.0 - 0.3 * f64::from(minute) / 30.0;
		let swing = if minute % 2 == 0 { 1.02 } else { 0.98 };
		let seconds = minute * 60;
		text.push_str(&format!("{seconds},*,BTC,{:.2}\n", 60_000.0 * trend * swing));
		text.push_str(&format!("{seconds},*,ETH,{:.2}\n", 3_000.0 * trend * swing));
	}
	let scenario = parse(&text).expect("the scenario parses");
	let mut options = small();
	options.population.mix = vec![("BTC".into(), 60), ("ETH".into(), 40)];
	options.traders.accounts = 12;
	let (without, with) = liquidation_replay::compare::run_both(
		"slide",
		&scenario,
		&options,
		liquidation_replay::default_derisk_params(),
		&mut |_| {},
	)
	.expect("both runs");
	let (a, b) = (&without.summary.outcome, &with.summary.outcome);
	println!("{}", liquidation_replay::compare::table(a, b));
	println!(
		"REFUSED {:?} HELD {:?} SKIPPED {:?}",
		with.summary.refused, with.summary.held_back, with.summary.worker_skipped
	);
	assert_eq!(a.deriskings, 0);
	assert!(a.derisk.is_none() && b.derisk.is_some());
	assert!(b.deriskings > 0 && b.deriskings_by_worker > 0, "{b:?}");
	assert!(b.deriskings_by_worker < b.deriskings, "keepers take their share: {b:?}");
	assert!(b.derisk_fees_usd > 0.0 && b.derisked_usd > 0.0, "{b:?}");
	for summary in [&without.summary, &with.summary] {
		assert_eq!(summary.invariants_checked, summary.blocks, "invariants after every block");
		assert_eq!(summary.liquidatable_at_end, 0);
	}
	assert!(b.penalties_usd < a.penalties_usd, "{a:?} {b:?}");
	assert!(b.full_liquidations <= a.full_liquidations, "{a:?} {b:?}");
	let slices: u32 = with.timeline.iter().map(|point| point.deriskings).sum();
	assert_eq!(slices, b.deriskings, "the timeline carries the slices");
}
