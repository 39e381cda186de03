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
//!
//! The [`Summary`] has the accounts and value liquidated, the longest an account stayed
//! liquidatable with nothing under way, bad debt, insurance used and loss socialized, per asset,
//! and the accounting identity *liquidated debt = repaid + covered + socialized (+ bad debt still
//! outstanding)*, checked after every block from two independent books (the margin ledger's
//! events and the engine's totals). The [`Point`]s of the timeline feed [`picture::draw`].

pub mod picture;

use frame_support::{traits::fungibles::Mutate, BoundedVec};
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, Balance, Price, PriceProvider};
use liquidation_runtime::{
	assets, configs::AllAssets, AccountId, Auction, Insurance, Liquidation, Margin, Runtime,
	RuntimeCall, RuntimeEvent, RuntimeOrigin, UncheckedExtrinsic,
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

/// The collateral mix when none is given: weights of a large lending market's collateral.
pub const DEFAULT_MIX: [(&str, u32); 3] = [("BTC", 50), ("ETH", 35), ("DOT", 15)];

/// How the replay runs.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
	/// The population.
	pub population: Population,
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
}

impl Default for ReplayOptions {
	fn default() -> Self {
		Self {
			population: Population::default(),
			keeper_share: 0.3,
			bidder_discount: 0.03,
			block_seconds: 6,
			check_every: 100,
			sample_every: 0,
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

/// xorshift64*: deterministic draws from a seed.
struct Random(u64);

impl Random {
	fn next_u64(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	/// Uniform in `[0, 1)`.
	fn unit(&mut self) -> f64 {
		(self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
	}
}

fn borrower(index: u32) -> AccountId {
	let mut raw = [0xB0u8; 32];
	raw[..4].copy_from_slice(&index.to_le_bytes());
	AccountId::from(raw)
}

fn role(tag: u8) -> AccountId {
	AccountId::from([tag; 32])
}

fn lender() -> AccountId {
	role(0xE1)
}
fn staker() -> AccountId {
	role(0xE2)
}
fn keeper() -> AccountId {
	role(0xE3)
}
fn bidder() -> AccountId {
	role(0xE4)
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

/// The operators in the order named feeders map to them.
fn operators() -> Vec<AccountId> {
	liquidation_runtime::genesis_config_presets::oracle_operators()
}

/// Every operator feeds its path's prices at `seconds` (inside an open block).
fn feed(scenario: &Scenario, seconds: u64) {
	let named = scenario.named_feeders();
	for (index, operator) in operators().into_iter().enumerate() {
		let feeder = named.get(index).map_or("*", String::as_str);
		let values: Vec<(AssetId, Price)> = scenario
			.assets()
			.filter_map(|symbol| {
				let asset = assets::by_symbol(symbol)?;
				let price = scenario.price_at(feeder, symbol, seconds)?;
				Some((asset.id, Price::from_inner(price)))
			})
			.collect();
		if values.is_empty() {
			continue;
		}
		// An operator's feed can only fail on the oracle's own rules (one feed per block).
		let _ = orml_oracle::Pallet::<Runtime>::feed_values(
			RuntimeOrigin::signed(operator),
			BoundedVec::truncate_from(values),
		);
	}
}

/// Draws the share of borrowing capacity an account uses: most moderate, a tail near the top
/// of `range`.
fn leverage(random: &mut Random, (low, high): (u32, u32)) -> f64 {
	let f = match random.unit() {
		u if u < 0.40 => 0.45 * random.unit(),
		u if u < 0.85 => 0.45 + 0.40 * random.unit(),
		_ => 0.85 + 0.15 * random.unit(),
	};
	(f64::from(low) + (f64::from(high) - f64::from(low)) * f) / 100.0
}

/// Opens the population's positions with the real margin calls (tokens are minted to them as a
/// genesis endowment would be). Returns the collateral and debt, USD.
fn populate(options: &ReplayOptions) -> Result<(f64, f64), ReplayError> {
	let population = &options.population;
	let mix: Vec<(AssetId, u32)> = population
		.mix
		.iter()
		.map(|(symbol, weight)| {
			let asset = assets::by_symbol(symbol)
				.ok_or_else(|| ReplayError::Options(format!("unknown collateral `{symbol}`")))?;
			Ok((asset.id, *weight))
		})
		.collect::<Result<_, ReplayError>>()?;
	let total_weight: u32 = mix.iter().map(|(_, w)| w).sum();
	let mut random = Random(population.seed.max(1));
	let accounts = f64::from(population.accounts.max(1));
	// Enough to lend to everyone, within the USD pool's cap.
	let supply = (accounts * 200_000.0).min(800_000_000.0);
	let supply_units = (supply * DOLLAR) as Balance;
	let insurance_units = (supply * 0.02 * DOLLAR) as Balance;
	let fail = |what: &str, e: sp_runtime::DispatchError| {
		ReplayError::Options(format!("setting up the population: {what}: {e:?}"))
	};
	// Opening a margin account holds a deposit of the native token (and its minimum balance).
	let account_deposit = {
		use frame_support::traits::Get;
		<<Runtime as pallet_margin::Config>::AccountDeposit as Get<Balance>>::get()
			.saturating_add(liquidation_runtime::EXISTENTIAL_DEPOSIT)
			.saturating_mul(2)
	};
	let native_for_deposit = |who: &AccountId| {
		AllAssets::mint_into(AssetId::Native, who, account_deposit)
			.map_err(|e| fail("mint the account deposit", e))
	};
	native_for_deposit(&lender())?;
	AllAssets::mint_into(USD, &lender(), supply_units * 2).map_err(|e| fail("mint", e))?;
	Margin::deposit(RuntimeOrigin::signed(lender()), USD, supply_units)
		.map_err(|e| fail("lend", e))?;
	AllAssets::mint_into(USD, &staker(), insurance_units * 2).map_err(|e| fail("mint", e))?;
	Insurance::stake(RuntimeOrigin::signed(staker()), USD, insurance_units, 0)
		.map_err(|e| fail("stake", e))?;
	for who in [keeper(), bidder()] {
		AllAssets::mint_into(USD, &who, supply_units).map_err(|e| fail("mint", e))?;
	}
	let params =
		|asset: AssetId| pallet_margin::Markets::<Runtime>::get(asset).map(|market| market.params);
	let usd_initial = params(USD)
		.map(|p| p.initial_liability_weight.to_float())
		.ok_or_else(|| ReplayError::Options("USD is not listed".into()))?;
	let (mut collateral_usd, mut debt_usd) = (0.0, 0.0);
	for index in 0..population.accounts {
		let who = borrower(index);
		let value = 10f64.powf(3.0 + 2.7 * random.unit());
		// One, two or all of the mix, by weight.
		let holdings = 1 + (random.next_u64() % (mix.len().min(3) as u64)) as usize;
		let mut chosen: Vec<AssetId> = Vec::new();
		while chosen.len() < holdings {
			let mut draw = random.next_u64() % u64::from(total_weight.max(1));
			for (asset, weight) in &mix {
				if draw < u64::from(*weight) {
					if !chosen.contains(asset) {
						chosen.push(*asset);
					}
					break;
				}
				draw -= u64::from(*weight);
			}
		}
		let mut capacity = 0.0;
		native_for_deposit(&who)?;
		for asset in &chosen {
			let price = price_now(*asset)
				.ok_or_else(|| ReplayError::Options(format!("no price for {}", symbol_of(*asset))))?
				.to_float();
			// At least the asset's minimum position.
			let minimum = params(*asset).map_or(0, |p| p.min_position);
			let amount =
				((value / chosen.len() as f64 / price * whole(*asset)) as Balance).max(minimum);
			let part = amount as f64 / whole(*asset) * price;
			AllAssets::mint_into(*asset, &who, amount).map_err(|e| fail("mint", e))?;
			Margin::deposit(RuntimeOrigin::signed(who.clone()), *asset, amount)
				.map_err(|e| fail("deposit", e))?;
			let weight = params(*asset)
				.map(|p| f64::from(p.initial_collateral_weight.deconstruct()) / 1e6)
				.unwrap_or(0.0);
			capacity += part * weight;
			collateral_usd += part;
		}
		let borrow = capacity / usd_initial * leverage(&mut random, population.leverage);
		let units = (borrow * DOLLAR) as Balance;
		if Margin::borrow(RuntimeOrigin::signed(who), USD, units).is_ok() {
			debt_usd += borrow;
		}
	}
	Ok((collateral_usd, debt_usd))
}

/// Borrowers' weighted collateral over weighted debt, from the pools (what borrowers deposit is
/// all the collateral pools hold; the lender only supplies USD).
fn aggregate_health(collateral: &[AssetId]) -> f64 {
	let weighted = |asset: AssetId, deposits: bool| -> f64 {
		let (Some(report), Some(market), Some(price)) = (
			Margin::pool_report(asset),
			pallet_margin::Markets::<Runtime>::get(asset),
			price_now(asset),
		) else {
			return 0.0;
		};
		let amount = if deposits { report.total_deposits } else { report.total_borrows };
		let value = amount as f64 / whole(asset) * price.to_float();
		if deposits {
			value * f64::from(market.params.maintenance_collateral_weight.deconstruct()) / 1e6
		} else {
			value * market.params.maintenance_liability_weight.to_float()
		}
	};
	let collateral: f64 = collateral.iter().map(|asset| weighted(*asset, true)).sum();
	let debt = weighted(USD, false);
	if debt > 0.0 {
		collateral / debt
	} else {
		f64::INFINITY
	}
}

fn check_invariants() -> Result<(), String> {
	Margin::do_try_state().map_err(|e| format!("margin: {e:?}"))?;
	Auction::do_try_state().map_err(|e| format!("auction: {e:?}"))?;
	Insurance::do_try_state().map_err(|e| format!("insurance: {e:?}"))?;
	Liquidation::do_try_state().map_err(|e| format!("liquidation: {e:?}"))?;
	Ok(())
}

/// Running figures from the block events.
#[derive(Default)]
struct Books {
	liquidated_debt: Balance,
	liquidated: BTreeSet<AccountId>,
	/// Accounts liquidated in the last block read.
	this_block: BTreeSet<AccountId>,
	by_path: BTreeMap<String, u32>,
	fallback: u32,
	auctions_started: u32,
	auction_takes: u32,
	auction_restarts: u32,
	liquidations: u32,
	/// What was done to each account before, for [`BadDebtOrigins`].
	history: HashMap<AccountId, History>,
	auction_owners: HashMap<u32, AccountId>,
	origins: BadDebtOrigins,
}

/// What happened to an account before its debt was written off.
#[derive(Clone, Copy, Default)]
struct History {
	keeper: bool,
	auction: bool,
	/// An auction of it ended returning collateral with no shortfall (closed as unneeded, or
	/// sold what it had to raise).
	returned: bool,
	/// Penalties it paid, USD: liquidators' rewards, insurance's share, auction penalties.
	liquidator_reward_usd: f64,
	insurance_share_usd: f64,
	auction_penalty_usd: f64,
}

/// Where bad debt came from: the debt written off, by what had been done to the account before,
/// and the penalties those accounts had paid (what their lenders lost on top of the gap).
#[derive(Clone, Debug, Default, Serialize)]
pub struct BadDebtOrigins {
	/// USD written off, by history: `none` (nothing before: the price gapped past it),
	/// `keeper`, `auction`, `keeper+auction`; `+returned` when an auction of it had returned
	/// collateral.
	pub written_off_usd: BTreeMap<String, f64>,
	/// Penalties paid before the write-off by accounts later written off, USD.
	pub liquidator_reward_usd: f64,
	pub insurance_share_usd: f64,
	pub auction_penalty_usd: f64,
}

impl Books {
	fn read(&mut self, events: &[RuntimeEvent]) {
		self.this_block.clear();
		for event in events {
			match event {
				RuntimeEvent::Margin(pallet_margin::Event::Repaid {
					payer,
					who,
					asset,
					amount,
				}) if payer != who && *asset == USD => self.liquidated_debt += amount,
				RuntimeEvent::Margin(pallet_margin::Event::DebtWrittenOff {
					asset,
					amount,
					..
				}) if *asset == USD => self.liquidated_debt += amount,
				RuntimeEvent::Liquidation(pallet_liquidation::Event::Liquidated {
					who,
					path,
					debt_asset,
					collateral_asset,
					to_insurance,
					reward,
					as_deposit,
					..
				}) => {
					let value = |asset: &AssetId, amount: &Balance| {
						price_now(*asset)
							.map_or(0.0, |price| *amount as f64 / whole(*asset) * price.to_float())
					};
					let history = self.history.entry(who.clone()).or_default();
					history.keeper |= *path == pallet_liquidation::LiquidationPath::Keeper;
					history.liquidator_reward_usd += value(collateral_asset, reward);
					// As a deposit the insurance share is paid in the debt asset.
					let insurance_asset = if *as_deposit { debt_asset } else { collateral_asset };
					history.insurance_share_usd += value(insurance_asset, to_insurance);
					self.liquidated.insert(who.clone());
					self.this_block.insert(who.clone());
					let path = match path {
						pallet_liquidation::LiquidationPath::Keeper => "keeper",
						pallet_liquidation::LiquidationPath::Flash => "flash",
						pallet_liquidation::LiquidationPath::Auction => "auction",
					};
					*self.by_path.entry(path.into()).or_default() += 1;
					self.liquidations += 1;
				},
				RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionStarted {
					who,
					..
				}) => {
					self.history.entry(who.clone()).or_default().auction = true;
					self.liquidated.insert(who.clone());
					self.this_block.insert(who.clone());
					*self.by_path.entry("auction".into()).or_default() += 1;
					self.auctions_started += 1;
					self.liquidations += 1;
				},
				RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionProceeds {
					owner,
					penalty,
					debt_asset,
					..
				}) if *debt_asset == USD => {
					self.history.entry(owner.clone()).or_default().auction_penalty_usd +=
						*penalty as f64 / DOLLAR;
				},
				RuntimeEvent::Auction(pallet_auction::Event::Started { id, owner, .. }) => {
					self.auction_owners.insert(*id, owner.clone());
				},
				RuntimeEvent::Auction(pallet_auction::Event::Ended { id, returned, shortfall }) => {
					if let Some(owner) = self.auction_owners.remove(id) {
						if *returned > 0 && *shortfall == 0 {
							self.history.entry(owner).or_default().returned = true;
						}
					}
				},
				RuntimeEvent::Liquidation(pallet_liquidation::Event::BadDebtSettled {
					who,
					asset,
					bad_debt,
					..
				}) => {
					if *asset == USD {
						let history = self.history.remove(who).unwrap_or_default();
						let mut label = match (history.keeper, history.auction) {
							(false, false) => "none",
							(true, false) => "keeper",
							(false, true) => "auction",
							(true, true) => "keeper+auction",
						}
						.to_string();
						if history.returned {
							label.push_str("+returned");
						}
						*self.origins.written_off_usd.entry(label).or_default() +=
							*bad_debt as f64 / DOLLAR;
						self.origins.liquidator_reward_usd += history.liquidator_reward_usd;
						self.origins.insurance_share_usd += history.insurance_share_usd;
						self.origins.auction_penalty_usd += history.auction_penalty_usd;
					}
					self.liquidated.insert(who.clone());
					self.this_block.insert(who.clone());
					*self.by_path.entry("bankrupt".into()).or_default() += 1;
					self.liquidations += 1;
				},
				RuntimeEvent::Liquidation(pallet_liquidation::Event::FallbackLiquidations {
					liquidated,
					..
				}) => self.fallback += liquidated,
				RuntimeEvent::Auction(pallet_auction::Event::Taken { .. }) => {
					self.auction_takes += 1
				},
				RuntimeEvent::Auction(pallet_auction::Event::Restarted { .. }) => {
					self.auction_restarts += 1
				},
				_ => {},
			}
		}
	}
}

/// The identity from the two books; `Err` with the figures when it fails.
fn identity(books: &Books) -> (Identity, Result<(), String>) {
	let totals = pallet_liquidation::Totals::<Runtime>::get(USD);
	let outstanding = totals.written_off.saturating_sub(totals.covered + totals.socialized);
	let pool_bad_debt =
		pallet_margin::Markets::<Runtime>::get(USD).map_or(0, |market| market.pool.bad_debt);
	let right = totals.repaid + totals.covered + totals.socialized + outstanding;
	let usd = |units: Balance| units as f64 / DOLLAR;
	let identity = Identity {
		liquidated_debt_usd: usd(books.liquidated_debt),
		repaid_usd: usd(totals.repaid),
		covered_usd: usd(totals.covered),
		socialized_usd: usd(totals.socialized),
		outstanding_bad_debt_usd: usd(outstanding),
	};
	let result = if books.liquidated_debt != right {
		Err(format!(
			"liquidated debt {} units, but repaid {} + covered {} + socialized {} + outstanding {}",
			books.liquidated_debt, totals.repaid, totals.covered, totals.socialized, outstanding
		))
	} else if outstanding != pool_bad_debt {
		Err(format!("outstanding bad debt {outstanding} differs from the pool's {pool_bad_debt}"))
	} else {
		Ok(())
	};
	(identity, result)
}

/// Replays `scenario` (named `name`) with `options`; `progress` is called after every block.
pub fn replay(
	name: &str,
	scenario: &Scenario,
	options: &ReplayOptions,
	progress: &mut dyn FnMut(&Progress),
) -> Result<Replay, ReplayError> {
	check(scenario)?;
	if !(0.0..=1.0).contains(&options.keeper_share) {
		return Err(ReplayError::Options("the keeper share must be between 0 and 1".into()));
	}
	if !(0.0..1.0).contains(&options.bidder_discount) {
		return Err(ReplayError::Options("the bidder discount must be in [0, 1)".into()));
	}
	if options.block_seconds == 0 || options.block_seconds % 6 != 0 {
		return Err(ReplayError::Options("seconds per block must be a multiple of 6".into()));
	}
	let mut options = options.clone();
	if options.population.mix.is_empty() {
		options.population.mix = DEFAULT_MIX
			.iter()
			.filter(|(symbol, _)| scenario.assets().any(|s| s == *symbol))
			.map(|(symbol, weight)| (symbol.to_string(), *weight))
			.collect();
		if options.population.mix.is_empty() {
			return Err(ReplayError::Options("the scenario prices no collateral asset".into()));
		}
	}
	let options = &options;
	let needed: Vec<&str> = options
		.population
		.mix
		.iter()
		.map(|(symbol, _)| symbol.as_str())
		.chain([DEBT_SYMBOL])
		.collect();
	for symbol in needed {
		if symbol == DEBT_SYMBOL && options.population.mix.iter().any(|(s, _)| s == DEBT_SYMBOL) {
			return Err(ReplayError::Options(
				"USD is what borrowers borrow, not collateral".into(),
			));
		}
		if scenario.price_at("*", symbol, 0).is_none()
			&& !scenario.named_feeders().iter().any(|f| scenario.price_at(f, symbol, 0).is_some())
		{
			return Err(ReplayError::Options(format!(
				"the scenario has no price for {symbol} at 0 s, which the population needs"
			)));
		}
	}
	let started = Instant::now();
	let collateral_assets: Vec<AssetId> = options
		.population
		.mix
		.iter()
		.filter_map(|(symbol, _)| assets::by_symbol(symbol).map(|a| a.id))
		.collect();
	let scenario_assets: Vec<(String, AssetId)> = scenario
		.assets()
		.filter_map(|symbol| Some((symbol.to_string(), assets::by_symbol(symbol)?.id)))
		.collect();

	let mut chain = TestChain::from_preset("development");
	// Block 1 feeds the start of the path; prices are live after it.
	chain.start_block();
	chain.execute_with(|| feed(scenario, 0));
	chain.finish_block();
	chain.start_block();
	let (collateral_usd, debt_usd) = chain.execute_with(|| populate(options))?;
	chain.finish_block();
	chain.commit();

	let insurance_start = chain.execute_with(|| Insurance::custody(USD)) as f64 / DOLLAR;
	let max_unsigned = <Runtime as pallet_liquidation::Config>::MaxUnsignedPerBlock::get() as usize;
	let blocks = u32::try_from(scenario.end_seconds() / options.block_seconds).unwrap_or(u32::MAX);
	let sample_every =
		if options.sample_every == 0 { (blocks / 1_500).max(1) } else { options.sample_every };
	let mut random = Random(options.population.seed.wrapping_add(0x5eed).max(1));
	let mut books = Books::default();
	let mut timeline = Vec::new();
	let mut streaks: HashMap<AccountId, u32> = HashMap::new();
	let (mut worst_streak, mut invariants_checked) = (0u32, 0u32);
	let mut worst_streak_from: Option<u32> = None;
	let mut refused: BTreeMap<String, u32> = BTreeMap::new();
	let mut held_back: BTreeMap<String, u32> = BTreeMap::new();
	let mut most_auctions_running = 0u32;
	let (mut to_worker, mut to_keepers): (Vec<AccountId>, Vec<AccountId>) = (vec![], vec![]);
	let mut keeper_assigned: BTreeSet<AccountId> = BTreeSet::new();
	// Accounts a keeper could not liquidate: the worker's until they are no longer due.
	let mut keeper_refused: BTreeSet<AccountId> = BTreeSet::new();
	let mut liquidations_at_last_point = 0u32;
	let mut last_identity = Identity::default();
	let mut liquidatable_now = 0u32;
	let mut most_liquidatable = 0u32;

	for block in 1..=blocks {
		let seconds = u64::from(block) * options.block_seconds;
		chain.skip_slots(options.block_seconds / 6 - 1);
		chain.start_block();
		// The worker's transactions from the last block's state, as the pool orders them.
		for who in to_worker.drain(..) {
			let call = pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who };
			let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call));
			match chain.apply(xt) {
				Ok(Ok(())) => {},
				Ok(Err(error)) => *refused.entry(format!("worker: {:?}", error)).or_default() += 1,
				Err(validity) => *refused.entry(format!("worker: {validity:?}")).or_default() += 1,
			}
		}
		chain.execute_with(|| {
			// Keepers act on what they saw after the last block.
			for who in to_keepers.drain(..) {
				// Nothing to seize (a bankrupt account): nothing for a keeper, the worker's.
				let Some(collateral) = largest_collateral(&who) else {
					keeper_assigned.remove(&who);
					keeper_refused.insert(who);
					continue;
				};
				let result = Liquidation::liquidate(
					RuntimeOrigin::signed(keeper()),
					who.clone(),
					USD,
					collateral,
					Balance::MAX,
				);
				if let Err(error) = result {
					*refused.entry(format!("keeper: {:?}", error.error)).or_default() += 1;
					// A keeper whose liquidation is refused leaves the account to the worker.
					keeper_assigned.remove(&who);
					keeper_refused.insert(who);
				}
			}
			feed(scenario, seconds);
			take_and_restart(options.bidder_discount);
		});
		chain.finish_block();
		chain.commit();

		let outcome = chain.execute_with(|| -> Result<(), ReplayError> {
			let events: Vec<RuntimeEvent> =
				frame_system::Pallet::<Runtime>::read_events_no_consensus()
					.map(|record| record.event)
					.collect();
			books.read(&events);
			let (identity, holds) = identity(&books);
			last_identity = identity;
			holds.map_err(|detail| ReplayError::Identity { block, seconds, detail })?;
			let due_check = options.check_every > 0 && block % options.check_every == 0;
			if due_check || block == blocks {
				check_invariants().map_err(|error| ReplayError::Invariant {
					block,
					seconds,
					error,
				})?;
				invariants_checked += 1;
			}
			// What the worker finds through the risk index, worst first.
			let mut found_by_index: BTreeSet<AccountId> = BTreeSet::new();
			let mut due: Vec<AccountId> = Vec::new();
			let mut cursor = None;
			loop {
				// As the worker reads: accounts a liquidation can act on (on check blocks every
				// liquidatable one is read, for the comparison with a full scan, then filtered).
				let (found, next) = if due_check || block == blocks {
					Liquidation::liquidatable_accounts_at_risk(cursor.as_ref(), 10_000)
				} else {
					Liquidation::due_accounts(cursor.as_ref(), 10_000)
				};
				found_by_index.extend(found.iter().map(|(who, _)| who.clone()));
				due.extend(found.into_iter().map(|(who, _)| who).filter(Liquidation::actionable));
				match next {
					Some(next) => cursor = Some(next),
					None => break,
				}
			}
			if due_check || block == blocks {
				// The risk index finds what a full scan of every account finds.
				let (scanned, _) = Liquidation::liquidatable_accounts(None, u32::MAX);
				let scanned: BTreeSet<AccountId> =
					scanned.into_iter().map(|(who, _)| who).collect();
				if scanned != found_by_index {
					return Err(ReplayError::Invariant {
						block,
						seconds,
						error: format!(
							"the risk index found {} liquidatable accounts, a full scan {}",
							found_by_index.len(),
							scanned.len()
						),
					});
				}
			}
			liquidatable_now = due.len() as u32;
			most_liquidatable = most_liquidatable.max(liquidatable_now);
			let due_set: BTreeSet<&AccountId> = due.iter().collect();
			// An account liquidated in this block had something under way: its wait restarts.
			streaks.retain(|who, _| due_set.contains(who) && !books.this_block.contains(who));
			keeper_assigned.retain(|who| due_set.contains(who));
			keeper_refused.retain(|who| due_set.contains(who));
			for who in &due {
				let streak = streaks.entry(who.clone()).or_default();
				*streak += 1;
				if *streak > worst_streak {
					worst_streak = *streak;
					worst_streak_from = Some(block.saturating_sub(*streak));
				}
			}
			for who in due {
				// Each account is a keeper's or the worker's once it becomes liquidatable.
				let keeper_takes = !keeper_refused.contains(&who)
					&& (keeper_assigned.contains(&who)
						|| (streaks.get(&who) == Some(&1) && random.unit() < options.keeper_share));
				if keeper_takes {
					keeper_assigned.insert(who.clone());
					to_keepers.push(who);
				} else if to_worker.len() >= max_unsigned {
					*held_back.entry("block full".into()).or_default() += 1;
				} else {
					// As the worker submits: what validation would accept (while every auction
					// slot is taken, only bankrupt accounts).
					match Liquidation::check_unsigned(&who) {
						Ok(_) => to_worker.push(who),
						Err(code) => *held_back.entry(invalid_reason(code, &who)).or_default() += 1,
					}
				}
			}
			most_auctions_running =
				most_auctions_running.max(pallet_auction::Auctions::<Runtime>::count());
			if block % sample_every == 0 || block == blocks {
				let totals = pallet_liquidation::Totals::<Runtime>::get(USD);
				timeline.push(Point {
					seconds,
					prices: scenario_assets
						.iter()
						.filter_map(|(symbol, asset)| {
							Some((symbol.clone(), price_now(*asset)?.to_float()))
						})
						.collect(),
					aggregate_health: aggregate_health(&collateral_assets),
					liquidatable: most_liquidatable,
					liquidations: books.liquidations - liquidations_at_last_point,
					insurance_usd: Insurance::custody(USD) as f64 / DOLLAR,
					bad_debt_usd: totals.written_off as f64 / DOLLAR,
					socialized_usd: totals.socialized as f64 / DOLLAR,
					queued_usd: pallet_liquidation::Pallet::<Runtime>::queued_bad_debt(USD).0
						as f64 / DOLLAR,
				});
				liquidations_at_last_point = books.liquidations;
				most_liquidatable = 0;
			}
			Ok(())
		});
		outcome?;
		progress(&Progress {
			block,
			blocks,
			seconds,
			liquidations: books.liquidations,
			liquidatable: liquidatable_now,
		});
	}

	let summary = chain.execute_with(|| {
		let mut per_asset = BTreeMap::new();
		for (symbol, asset) in &scenario_assets {
			let totals = pallet_liquidation::Totals::<Runtime>::get(asset);
			let unit = whole(*asset);
			per_asset.insert(
				symbol.clone(),
				AssetSummary {
					liquidations: totals.liquidations,
					repaid: totals.repaid as f64 / unit,
					seized: totals.seized as f64 / unit,
					penalty_to_insurance: totals.penalty_to_insurance as f64 / unit,
					written_off: totals.written_off as f64 / unit,
					covered: totals.covered as f64 / unit,
					socialized: totals.socialized as f64 / unit,
					covered_later: totals.covered_later as f64 / unit,
					most_queued: totals.most_queued as f64 / unit,
					queued: pallet_liquidation::Pallet::<Runtime>::queued_bad_debt(*asset).0 as f64
						/ unit,
				},
			);
		}
		let usd = per_asset.get(DEBT_SYMBOL).cloned().unwrap_or_default();
		Summary {
			scenario: name.to_string(),
			accounts: options.population.accounts,
			collateral_usd,
			debt_usd,
			blocks,
			path_seconds: u64::from(blocks) * options.block_seconds,
			wall_seconds: started.elapsed().as_secs_f64(),
			accounts_liquidated: books.liquidated.len() as u32,
			liquidations: books.by_path.clone(),
			fallback_liquidations: books.fallback,
			value_liquidated_usd: books.liquidated_debt as f64 / DOLLAR,
			max_blocks_liquidatable: worst_streak,
			longest_wait_from_hours: worst_streak_from
				.map(|from| (u64::from(from) * options.block_seconds) as f64 / 3_600.0),
			liquidatable_at_end: liquidatable_now,
			bad_debt_usd: usd.written_off,
			insurance_used_usd: usd.covered,
			insurance_start_usd: insurance_start,
			insurance_end_usd: Insurance::custody(USD) as f64 / DOLLAR,
			loss_socialized_usd: usd.socialized,
			auctions_started: books.auctions_started,
			auction_takes: books.auction_takes,
			auction_restarts: books.auction_restarts,
			refused,
			held_back,
			most_auctions_running,
			bad_debt_origins: books.origins.clone(),
			per_asset,
			identity: last_identity.clone(),
			invariants_checked,
		}
	});
	Ok(Replay { summary, timeline })
}

/// The collateral asset `who` holds most of, by value.
fn largest_collateral(who: &AccountId) -> Option<AssetId> {
	Margin::positions(who)
		.into_iter()
		.filter(|(_, deposit, _)| *deposit > 0)
		.filter_map(|(asset, deposit, _)| {
			let price = price_now(asset)?;
			Some((asset, deposit as f64 / whole(asset) * price.to_float()))
		})
		.max_by(|a, b| a.1.total_cmp(&b.1))
		.map(|(asset, _)| asset)
}

/// Bidders take every lot priced `discount` under the oracle; due auctions are restarted.
fn take_and_restart(discount: f64) {
	let limit = FixedU128::from_rational(((1.0 - discount) * 1e9) as u128, 1_000_000_000);
	for report in Auction::auction_reports() {
		if report.wanted == 0 {
			// No longer needed (prices rose back): anyone may return the lot to its owner.
			let _ = Auction::close(RuntimeOrigin::signed(bidder()), report.id);
		} else if report.needs_restart {
			let _ = Auction::redo(RuntimeOrigin::signed(bidder()), report.id);
		} else if report.oracle_price.is_some_and(|oracle| report.price <= oracle * limit) {
			let _ = Auction::take(
				RuntimeOrigin::signed(bidder()),
				report.id,
				report.auction.lot,
				report.price,
			);
		}
	}
}

/// The worker's reason not to submit `who`, from its validation code (for `WOULD_FAIL`, the
/// error the dispatch would fail with, found by running it and undoing it).
fn invalid_reason(code: u8, who: &AccountId) -> String {
	use pallet_liquidation::invalid;
	match code {
		invalid::NOT_LIQUIDATABLE => "not liquidatable".into(),
		invalid::PAUSED => "paused".into(),
		invalid::AUCTIONS_FULL => "auctions full".into(),
		invalid::WOULD_FAIL => {
			let error = frame_support::storage::with_transaction(|| {
				let result = Liquidation::liquidate_unsigned(RuntimeOrigin::none(), who.clone());
				frame_support::storage::TransactionOutcome::Rollback(Ok::<
					_,
					sp_runtime::DispatchError,
				>(result))
			});
			match error {
				Ok(Err(error)) => format!("would fail: {:?}", error.error),
				_ => "would fail".into(),
			}
		},
		other => format!("code {other}"),
	}
}

/// USD of a scenario price (for messages).
pub fn scenario_usd(price: u128) -> f64 {
	price as f64 / ONE_USD as f64
}
