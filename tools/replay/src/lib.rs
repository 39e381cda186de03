//! # Crash replay
//!
//! Runs a price path (a scenario in the `scenarios/` CSV format) through the real runtime, natively
//! and without a node, and reports what happened to solvency.
//!
//! - **Chain**: the dev runtime's `development` genesis, advanced block by block through
//!   `Executive` at one block per [`ReplayOptions::block_seconds`] of the path (Aura slots and
//!   timestamps follow the path's clock).
//! - **Operators** (the five dev oracle operators) feed the path's prices through `orml-oracle`
//!   every block; a scenario's named feeders (`op1`, `op2`, ...) map to them in order, `*` rows to
//!   all of them.
//! - **Population**: a lender supplies USD, an insurance staker stakes USD, and
//!   [`Population::accounts`] borrowers deposit a mix of collateral (1 000 to 500 000 USD,
//!   log-uniform) and borrow USD with the real margin calls, each using a share of its initial
//!   borrowing capacity drawn from [`Population::leverage`] (most accounts moderate, a tail near
//!   the limit, as in lending markets).
//! - **Liquidation**: after each block, what the off-chain worker finds (through the risk index)
//!   is split between keepers (a [`ReplayOptions::keeper_share`] of accounts, liquidated with the
//!   signed `liquidate` call in the next block) and the worker (unsigned `liquidate_unsigned`
//!   transactions applied by `Executive` in the next block, at most the runtime's bound per
//!   block). The runtime's `on_idle` hooks run as on chain (risk index upkeep, the engine's
//!   fallback).
//! - **Bidders** take every auction lot once its price is [`ReplayOptions::bidder_discount`] under
//!   the oracle price, and restart auctions when due.
//! - **De-risking** (with [`ReplayOptions::derisk`]): after each block the worker's walk reads a
//!   page of the indebted accounts (the runtime's `ScanBatch`, after a cursor, as its off-chain
//!   worker does) for those due; keepers take a share of them (the signed `derisk`) and the
//!   worker the rest, with the unsigned slots its liquidations leave (`derisk_unsigned`, its
//!   spot slices sold on the DEX); an arbitrageur keeps each DEX pool at the oracle price after
//!   every feed. [`compare::run_both`] replays the same population without and with it.
//!
//! The [`Summary`] has the accounts and value liquidated, the longest an account stayed
//! liquidatable with nothing under way, bad debt, insurance used and loss socialized, per asset,
//! and the accounting identity *liquidated debt = repaid + covered + socialized (+ bad debt still
//! outstanding)*, checked after every block from two independent books (the margin ledger's
//! events and the engine's totals). The [`Point`]s of the timeline feed [`picture::draw`].

mod books;
pub mod compare;
mod dex;
pub mod full_block;
pub mod picture;
mod population;
mod run;

pub use books::BadDebtOrigins;
pub use run::replay;

use frame_support::{traits::fungibles::Mutate, BoundedVec};
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, Balance, Price, PriceProvider};
use liquidation_runtime::{
	assets, configs::AllAssets, AccountId, Auction, Insurance, Liquidation, Margin, Perpetuals,
	Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, UncheckedExtrinsic,
};
use liquidation_scenario::{Scenario, ScenarioError, ONE_USD};
use serde::Serialize;
use sp_runtime::FixedU128;
use std::{
	collections::{BTreeMap, BTreeSet, HashMap},
	fmt,
	time::Instant,
};

/// The asset every borrower borrows.
pub const DEBT_SYMBOL: &str = "USD";
const USD: AssetId = AssetId::Asset(assets::USD);
const DOLLAR: f64 = 1_000_000.0;

/// Who borrows what.
#[derive(Clone, Debug)]
pub struct Population {
	/// Borrowers.
	pub accounts: u32,
	/// Seed of every random draw.
	pub seed: u64,
	/// Collateral assets and their weights in the mix (an account holds one, two or three).
	/// Empty: [`DEFAULT_MIX`], less what the scenario has no price for.
	pub mix: Vec<(String, u32)>,
	/// Range of the share of initial borrowing capacity an account uses, in percent.
	pub leverage: (u32, u32),
}

impl Default for Population {
	fn default() -> Self {
		Self { accounts: 1_000, seed: 42, mix: Vec::new(), leverage: (10, 97) }
	}
}

/// Who trades perpetual futures (none by default: the spot replay's figures stay as measured).
#[derive(Clone, Debug)]
pub struct Traders {
	/// Traders.
	pub accounts: u32,
	/// Range of the leverage a trader opens at (notional over his collateral), whole times.
	pub leverage: (u32, u32),
	/// Share of traders whose collateral is USD; the others hold one asset of the spot mix.
	pub usd_share: f64,
	/// Share of traders who go long (the others short).
	pub long_share: f64,
}

impl Default for Traders {
	fn default() -> Self {
		Self { accounts: 0, leverage: (2, 20), usd_share: 0.5, long_share: 0.5 }
	}
}

/// The collateral mix when none is given: weights of a large lending market's collateral.
pub const DEFAULT_MIX: [(&str, u32); 3] = [("BTC", 50), ("ETH", 35), ("DOT", 15)];

/// How the replay runs.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
	/// The population.
	pub population: Population,
	/// The perpetual traders (in the scenario's assets that have a perpetual market).
	pub traders: Traders,
	/// Share of liquidatable accounts a keeper liquidates (the rest are left to the worker).
	pub keeper_share: f64,
	/// Bidders take an auction lot once its price is this far under the oracle price.
	pub bidder_discount: f64,
	/// Seconds of the path per block.
	pub block_seconds: u64,
	/// Check every pallet's invariants every this many blocks (0: only at the end).
	pub check_every: u32,
	/// A timeline point every this many blocks (0: about 1 500 points in all).
	pub sample_every: u32,
	/// Predictive de-risking switched on with these parameters (`None`: off, the dev chain's
	/// default). When on, the worker submits de-riskings with the slots its liquidations leave
	/// (as the runtime's worker does), keepers take a [`Self::keeper_share`] of the due accounts,
	/// and an arbitrageur keeps the DEX pools at the oracle price (the worker sells spot slices
	/// there).
	pub derisk: Option<pallet_liquidation::DeriskParams>,
}

/// The de-risking parameters a replay uses by default with de-risking on, each from a rule or a
/// figure from the field:
///
/// - **horizon one hour**: the time the engine needs to work a crash's queue of liquidations
///   at the worker's pace with keepers (the replays' longest waits are a few blocks; an
///   hour covers a breaker's confirmation and a sequence of falls, as Black Thursday's first
///   fall lasted about one hour);
/// - **confidence 99 %**: the market-risk VaR standard of the Basel framework;
/// - **slice a quarter**: half the engine's close factor (50 %), so an account is reduced in at
///   least four steps, each re-judged at the new price and volatility;
/// - **fee 2 %**: a quarter of the 8 % liquidation penalty: above the DEX's 0.3 % fee and a
///   keeper's gas, so that a slice is worth taking, and far enough under the penalty that an
///   owner loses less to being de-risked than to being liquidated.
pub fn default_derisk_params() -> pallet_liquidation::DeriskParams {
	use sp_runtime::Permill;
	pallet_liquidation::DeriskParams {
		horizon_ms: 3_600_000,
		confidence: Permill::from_percent(99),
		max_slice: Permill::from_percent(25),
		fee: Permill::from_percent(2),
	}
}

impl Default for ReplayOptions {
	fn default() -> Self {
		Self {
			population: Population::default(),
			traders: Traders::default(),
			keeper_share: 0.3,
			bidder_discount: 0.03,
			block_seconds: 6,
			check_every: 100,
			sample_every: 0,
			derisk: None,
		}
	}
}

/// Why a replay did not run or stopped.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayError {
	/// The scenario file is not valid (the error names the line).
	Scenario(ScenarioError),
	/// The scenario names more feeders than the runtime has operators.
	TooManyFeeders { named: usize, operators: usize },
	/// An option is out of range, or the scenario lacks a path the population needs.
	Options(String),
	/// An invariant of a pallet failed after a block.
	Invariant { block: u32, seconds: u64, error: String },
	/// The accounting identity failed after a block.
	Identity { block: u32, seconds: u64, detail: String },
}

impl fmt::Display for ReplayError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::Scenario(error) => write!(f, "{error}"),
			Self::TooManyFeeders { named, operators } => write!(
				f,
				"the scenario names {named} feeders, but the runtime has {operators} oracle operators"
			),
			Self::Options(what) => write!(f, "{what}"),
			Self::Invariant { block, seconds, error } => {
				write!(f, "block {block} ({seconds} s): invariant failed: {error}")
			},
			Self::Identity { block, seconds, detail } => {
				write!(f, "block {block} ({seconds} s): accounting identity failed: {detail}")
			},
		}
	}
}

impl std::error::Error for ReplayError {}

impl From<ScenarioError> for ReplayError {
	fn from(error: ScenarioError) -> Self {
		Self::Scenario(error)
	}
}

/// One sample of the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
	/// Seconds since the start of the path.
	pub seconds: u64,
	/// Oracle price of each scenario asset (absent while unusable).
	pub prices: BTreeMap<String, f64>,
	/// Borrowers' collateral under maintenance weights over their debt under maintenance
	/// weights, all together (below one, the population as a whole is underwater).
	pub aggregate_health: f64,
	/// Most accounts liquidatable with nothing under way after a block of the interval since the
	/// previous point.
	pub liquidatable: u32,
	/// Liquidations since the previous point.
	pub liquidations: u32,
	/// The insurance fund's USD.
	pub insurance_usd: f64,
	/// Bad debt written off so far.
	pub bad_debt_usd: f64,
	/// Loss socialized over the lenders so far.
	pub socialized_usd: f64,
	/// Bad debt waiting for insurance now (the queue: covered in later blocks, or socialized
	/// after the delay).
	pub queued_usd: f64,
	/// Perpetual close-outs since the previous point.
	pub position_close_outs: u32,
	/// Shortfalls of insolvent traders so far, USD, and of them what auto-deleveraging took
	/// and what the vault's LPs bore so far.
	pub position_shortfall_usd: f64,
	pub deleveraged_usd: f64,
	pub to_lps_usd: f64,
	/// Debt liquidated and perpetual notional closed out so far, USD.
	pub liquidated_usd: f64,
	/// De-riskings since the previous point.
	pub deriskings: u32,
}

/// Per collateral or debt asset.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AssetSummary {
	/// Liquidations that repaid this asset (counted on the debt side).
	pub liquidations: u32,
	/// Debt repaid, whole units.
	pub repaid: f64,
	/// Collateral seized, whole units.
	pub seized: f64,
	/// Penalties paid to insurance, whole units.
	pub penalty_to_insurance: f64,
	/// Debt written off, whole units.
	pub written_off: f64,
	/// Bad debt covered by insurance, whole units.
	pub covered: f64,
	/// Bad debt socialized over the lenders, whole units.
	pub socialized: f64,
	/// Of `covered`, what insurance paid in a later block than the write-off (the queue).
	pub covered_later: f64,
	/// The most bad debt that waited for insurance at once, whole units.
	pub most_queued: f64,
	/// Bad debt still waiting at the end, whole units.
	pub queued: f64,
}

/// The accounting identity, in USD: liquidated debt = repaid + covered + socialized +
/// outstanding. The replay checks it to the unit after every block and stops with
/// [`ReplayError::Identity`] when it fails, so a summary is only written for a run where it held;
/// these are its terms at the end.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Identity {
	/// Debt taken off liquidated accounts (the margin ledger's `Repaid` by others and
	/// `DebtWrittenOff` events).
	pub liquidated_debt_usd: f64,
	/// Repaid by keepers, flash sales and auction proceeds (the engine's totals).
	pub repaid_usd: f64,
	/// Bad debt covered by insurance.
	pub covered_usd: f64,
	/// Bad debt socialized over the lenders.
	pub socialized_usd: f64,
	/// Bad debt written off and not (yet) covered or socialized.
	pub outstanding_bad_debt_usd: f64,
}

/// What a replay found.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
	/// The scenario's name.
	pub scenario: String,
	/// Borrowers.
	pub accounts: u32,
	/// Their collateral at the start, USD.
	pub collateral_usd: f64,
	/// Their debt at the start, USD.
	pub debt_usd: f64,
	/// Blocks replayed.
	pub blocks: u32,
	/// Seconds of the path replayed.
	pub path_seconds: u64,
	/// Wall-clock seconds the replay took (population and blocks).
	pub wall_seconds: f64,
	/// Distinct accounts liquidated at least once.
	pub accounts_liquidated: u32,
	/// Liquidations by path: keeper, flash, auction (worker), bankrupt (waterfall).
	pub liquidations: BTreeMap<String, u32>,
	/// Liquidations the engine's `on_idle` fallback made itself.
	pub fallback_liquidations: u32,
	/// Debt taken off liquidated accounts, USD.
	pub value_liquidated_usd: f64,
	/// Longest an account stayed liquidatable with nothing under way (no auction running, no
	/// liquidation of it in the block), in blocks.
	pub max_blocks_liquidatable: u32,
	/// Hours into the path when that longest wait began (`None`: no account was liquidatable).
	pub longest_wait_from_hours: Option<f64>,
	/// Accounts liquidatable with nothing under way at the end.
	pub liquidatable_at_end: u32,
	/// Debt written off bankrupt accounts, USD.
	pub bad_debt_usd: f64,
	/// Bad debt insurance paid, USD.
	pub insurance_used_usd: f64,
	/// Insurance fund at the start and at the end, USD.
	pub insurance_start_usd: f64,
	pub insurance_end_usd: f64,
	/// Loss spread over the USD lenders, USD.
	pub loss_socialized_usd: f64,
	/// Auctions started, ended by bidders and restarted.
	pub auctions_started: u32,
	pub auction_takes: u32,
	pub auction_restarts: u32,
	/// Liquidation calls the runtime refused, by reason.
	pub refused: BTreeMap<String, u32>,
	/// Account-blocks a due account was left to the worker and the worker did not submit it,
	/// by reason: what its validation refused (`auctions full`, `would fail`, ...) or `block
	/// full` (the worker's per-block limit was reached).
	pub held_back: BTreeMap<String, u32>,
	/// Account-blocks a worker batch included in a block passed over in dispatch (its
	/// `WorkerSkipped` events), by reason: what the block's check of the account refused.
	pub worker_skipped: BTreeMap<String, u32>,
	/// Most auctions running at once (after a block).
	pub most_auctions_running: u32,
	/// Where the bad debt came from.
	pub bad_debt_origins: BadDebtOrigins,
	/// Per asset symbol.
	pub per_asset: BTreeMap<String, AssetSummary>,
	/// The accounting identity.
	pub identity: Identity,
	/// Checks passed: every pallet's invariants, and detection through the risk index equal to
	/// a full scan.
	pub invariants_checked: u32,
	/// The perpetual traders and their liquidations (`None`: the replay had none).
	pub perpetuals: Option<PerpetualSummary>,
	/// How the accounts' health was spread at the start and at the end.
	pub health_distribution: HealthDistribution,
	/// What the accounts' owners bore, and how hard the engine worked: the figures a run with
	/// de-risking is compared on against one without.
	pub outcome: Outcome,
}

/// The figures a replay with predictive de-risking is compared on against one without (see
/// [`compare`]).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Outcome {
	/// De-risking's parameters (`None`: off).
	pub derisk: Option<DeriskSettings>,
	/// Bad debt: spot debt written off and perpetual shortfalls, USD.
	pub bad_debt_usd: f64,
	/// What liquidations cost the owners beyond the debt they repaid, USD: keepers' rewards and
	/// insurance's share of the penalty, auction penalties, perpetual liquidation fees.
	pub penalties_usd: f64,
	/// What de-risking cost the owners beyond the debt it repaid (collateral paid over the
	/// repayment's value, the perpetual slices' fees), USD.
	pub derisk_fees_usd: f64,
	/// Both: the fees users paid.
	pub fees_paid_usd: f64,
	/// Accounts liquidated until they owed nothing (no debt, no position left).
	pub full_liquidations: u32,
	/// The most debt liquidated and perpetual notional closed out in one block, USD, and the
	/// hour of the path it was in.
	pub peak_liquidated_usd_per_block: f64,
	pub peak_block_hours: f64,
	/// Longest an account stayed liquidatable with nothing under way, in blocks.
	pub longest_wait_blocks: u32,
	/// The block with the most liquidations (see [`BusiestBlock`]).
	pub busiest_block: BusiestBlock,
	/// De-riskings: all, by the worker, the accounts de-risked, and the value reduced (debt
	/// repaid and notional taken over), USD.
	pub deriskings: u32,
	pub deriskings_by_worker: u32,
	pub accounts_derisked: u32,
	pub derisked_usd: f64,
}

/// The block with the most liquidations and close-outs: what it held, the weight it used of the
/// block's 2 s, and how long it took to execute here (natively, in the profile the replay was
/// built with; a node executes the runtime's wasm, compiled, somewhat slower).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct BusiestBlock {
	/// Its number in the replay (`0`: no liquidation at all).
	pub block: u32,
	/// Hours into the path.
	pub hours: f64,
	/// Liquidations (keepers', the worker's, flash, bankrupt) and perpetual close-outs in it.
	pub liquidations: u32,
	/// The block's weight used (every class, after refunds), milliseconds of ref time.
	pub weight_ms: f64,
	/// Wall-clock time of the block's execution in the replay: keepers' calls, the worker's
	/// transactions, the oracle feeds, bidders and the hooks, milliseconds.
	pub execution_ms: f64,
}

/// De-risking's parameters as a summary shows them.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DeriskSettings {
	pub horizon_minutes: f64,
	pub confidence_percent: f64,
	pub max_slice_percent: f64,
	pub fee_percent: f64,
}

impl From<&pallet_liquidation::DeriskParams> for DeriskSettings {
	fn from(params: &pallet_liquidation::DeriskParams) -> Self {
		let percent = |p: sp_runtime::Permill| f64::from(p.deconstruct()) / 10_000.0;
		Self {
			horizon_minutes: params.horizon_ms as f64 / 60_000.0,
			confidence_percent: percent(params.confidence),
			max_slice_percent: percent(params.max_slice),
			fee_percent: percent(params.fee),
		}
	}
}

/// The accounts (borrowers and traders) by health factor, at the start of the path (after the
/// population opened) and at its end: maintenance-weighted collateral over maintenance-weighted
/// debt (positions' profit, loss and requirements included), in [`HEALTH_BUCKETS`]; accounts
/// with nothing to owe apart.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct HealthDistribution {
	/// The buckets' labels.
	pub buckets: Vec<String>,
	/// Accounts in each bucket at the start, and at the end.
	pub start: Vec<u32>,
	pub end: Vec<u32>,
}

/// The health factor buckets' upper bounds (the last is open): below 1 an account is
/// liquidatable; 1.25 is the engine's target after a partial liquidation.
pub const HEALTH_BUCKETS: [f64; 7] = [1.0, 1.1, 1.25, 1.5, 2.0, 3.0, f64::INFINITY];

impl HealthDistribution {
	/// The labels of [`HEALTH_BUCKETS`], then `no debt`.
	pub fn labels() -> Vec<String> {
		let mut labels = Vec::new();
		let mut low = 0.0;
		for high in HEALTH_BUCKETS {
			labels.push(if high.is_infinite() {
				format!("≥ {low}")
			} else if low == 0.0 {
				format!("< {high}")
			} else {
				format!("{low}–{high}")
			});
			low = high;
		}
		labels.push("no debt".into());
		labels
	}

	/// Counts `factors` (`None`: nothing owed) into the buckets.
	pub fn count(factors: impl Iterator<Item = Option<f64>>) -> Vec<u32> {
		let mut counts = vec![0u32; HEALTH_BUCKETS.len() + 1];
		for factor in factors {
			let index = match factor {
				None => HEALTH_BUCKETS.len(),
				Some(factor) => HEALTH_BUCKETS
					.iter()
					.position(|high| factor < *high)
					.unwrap_or(HEALTH_BUCKETS.len() - 1),
			};
			counts[index] += 1;
		}
		counts
	}
}

/// What happened to the perpetual traders. Their waterfall's identity, *shortfall = insurance
/// + auto-deleveraging + the LPs + outstanding*, is checked to the unit after every block from
/// two books (the engine's and the perpetuals pallet's events against the engine's per-market
/// totals and queue); these are its terms at the end.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PerpetualSummary {
	/// Traders, and the positions they opened (initial margin and the markets' caps refuse
	/// some).
	pub traders: u32,
	pub positions_opened: u32,
	/// Their collateral and the notional they opened, USD.
	pub collateral_usd: f64,
	pub notional_opened_usd: f64,
	/// What the LP put in the vault, and the vault's value at the start and at the end, USD.
	pub vault_deposit_usd: f64,
	pub vault_start_usd: f64,
	pub vault_end_usd: f64,
	/// Distinct traders closed out at least once.
	pub traders_closed_out: u32,
	/// Close-outs: all, taken over by keepers, closed by the vault (the backstop), partial.
	pub close_outs: u32,
	pub taken_over: u32,
	pub backstop: u32,
	pub partial: u32,
	/// Notional closed out and liquidation fees (USD), and insurance's share of the fees.
	pub notional_closed_usd: f64,
	pub fees_usd: f64,
	pub fee_to_insurance_usd: f64,
	/// Shortfalls of insolvent traders (what they owed beyond all they held), USD.
	pub shortfalls: u32,
	pub shortfall_usd: f64,
	/// Of them: paid by insurance, taken by auto-deleveraging from the opposite winners,
	/// borne by the vault's LPs, still waiting (USD).
	pub insurance_usd: f64,
	pub deleveraged_usd: f64,
	pub to_lps_usd: f64,
	pub outstanding_usd: f64,
	/// Positions deleveraged (one haircut each), and the most that waited at once (USD).
	pub positions_deleveraged: u32,
	pub most_outstanding_usd: f64,
}

/// A replay's summary and timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Replay {
	pub summary: Summary,
	pub timeline: Vec<Point>,
}

/// Where a replay is, for a progress display.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
	pub block: u32,
	pub blocks: u32,
	pub seconds: u64,
	pub liquidations: u32,
	pub liquidatable: u32,
}

/// Reads a scenario and checks it against the runtime: every symbol a dev asset, at most as
/// many named feeders as operators. Nothing is run on an error; the error names the line.
pub fn load(path: &std::path::Path) -> Result<Scenario, ReplayError> {
	let scenario = Scenario::from_file(path)?;
	check(&scenario)?;
	Ok(scenario)
}

/// As [`load`], with each `(from, to)` of `renames` pricing the scenario's asset `from` as the
/// dev asset `to` (a LUNA path replayed as DOT) before the check.
pub fn load_renamed(
	path: &std::path::Path,
	renames: &[(String, String)],
) -> Result<Scenario, ReplayError> {
	let mut scenario = Scenario::from_file(path)?;
	for (from, to) in renames {
		scenario.rename_asset(from, to)?;
	}
	check(&scenario)?;
	Ok(scenario)
}

/// As [`load`], for a scenario's text.
pub fn parse(text: &str) -> Result<Scenario, ReplayError> {
	let scenario = Scenario::parse(text)?;
	check(&scenario)?;
	Ok(scenario)
}

fn check(scenario: &Scenario) -> Result<(), ReplayError> {
	scenario.check_assets(|symbol| assets::by_symbol(symbol).is_some())?;
	let operators = liquidation_runtime::genesis_config_presets::oracle_operators().len();
	let named = scenario.named_feeders().len();
	if named > operators {
		return Err(ReplayError::TooManyFeeders { named, operators });
	}
	Ok(())
}

fn whole(asset: AssetId) -> f64 {
	let decimals = assets::DEV_ASSETS.iter().find(|a| a.id == asset).map_or(12, |a| a.decimals);
	10f64.powi(decimals.into())
}

fn symbol_of(asset: AssetId) -> String {
	assets::DEV_ASSETS
		.iter()
		.find(|a| a.id == asset)
		.map_or_else(|| format!("{asset:?}"), |a| a.symbol.to_string())
}

fn price_now(asset: AssetId) -> Option<Price> {
	<Runtime as pallet_margin::Config>::Prices::price(&asset).ok().map(|info| info.price)
}

/// USD of a scenario price (for messages).
pub fn scenario_usd(price: u128) -> f64 {
	price as f64 / ONE_USD as f64
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn health_factors_fall_into_their_buckets() {
		assert_eq!(
			HealthDistribution::labels(),
			["< 1", "1–1.1", "1.1–1.25", "1.25–1.5", "1.5–2", "2–3", "≥ 3", "no debt"]
		);
		let factors = [Some(0.2), Some(1.0), Some(1.24), Some(1.25), Some(2.5), Some(50.0), None];
		assert_eq!(HealthDistribution::count(factors.into_iter()), [1, 1, 1, 1, 0, 1, 1, 1]);
	}
}
