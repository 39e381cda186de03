//! Chain stepping: the options checked, the chain started and populated, then block by block the
//! liquidations decided after the last block applied, the path's prices fed, the block's events
//! read into the books and the next liquidations decided; at the end, the summary.

use super::*;
use crate::books::{identity, perp_identity, Books};
use crate::population::{bidder, keeper, populate, populate_traders, Random, TradersOpened};
use frame_support::{
	dispatch::{DispatchClass, DispatchResultWithPostInfo, GetDispatchInfo},
	weights::Weight,
};
use sp_runtime::traits::Dispatchable as _;

/// Replays `scenario` (named `name`) with `options`; `progress` is called after every block.
pub fn replay(
	name: &str,
	scenario: &Scenario,
	options: &ReplayOptions,
	progress: &mut dyn FnMut(&Progress),
) -> Result<Replay, ReplayError> {
	check(scenario)?;
	let options = &checked_options(scenario, options)?;
	let started = Instant::now();
	// The dev genesis without the perpetuals vault's seed: its USD in the USD pool would change
	// the lenders' rates the spot figures were measured under; with traders, an LP funds the
	// vault for them.
	let mut genesis = liquidation_integration_tests::preset_genesis_json("development");
	genesis["perpetuals"]["vaultDeposits"] = serde_json::json!([]);
	let mut chain = TestChain::from_genesis_json(genesis);
	// Block 1 feeds the start of the path; prices are live after it.
	chain.start_block();
	chain.execute_with(|| feed(scenario, 0));
	chain.finish_block();
	chain.start_block();
	if let Some(params) = options.derisk {
		chain.execute_with(|| {
			Liquidation::set_derisk_params(RuntimeOrigin::root(), Some(params))
				.map_err(|error| ReplayError::Options(format!("de-risking: {error:?}")))
		})?;
	}
	let (collateral_usd, debt_usd) = chain.execute_with(|| populate(options))?;
	let traders = chain.execute_with(|| {
		let markets: Vec<AssetId> = scenario
			.assets()
			.filter_map(|symbol| assets::by_symbol(symbol).map(|asset| asset.id))
			.filter(|asset| pallet_perpetuals::Markets::<Runtime>::contains_key(asset))
			.collect();
		populate_traders(options, &markets)
	})?;
	chain.finish_block();
	chain.commit();

	let mut run = Run::new(scenario, options, &mut chain);
	run.health_start = chain.execute_with(|| health_factors(options));
	run.traders = traders;
	run.vault_start = chain.execute_with(vault_value);
	for block in 1..=run.blocks {
		let seconds = u64::from(block) * options.block_seconds;
		chain.skip_slots(options.block_seconds / 6 - 1);
		let executing = Instant::now();
		chain.start_block();
		// Keepers' liquidations go into a block before the worker's (their priority band).
		chain.execute_with(|| {
			run.keepers_act();
			run.keepers_derisk();
		});
		run.submit_to_worker(&mut chain);
		chain.execute_with(|| {
			feed(scenario, seconds);
			if options.derisk.is_some() {
				crate::dex::follow_oracle(&run.dex_assets);
			}
			take_and_restart(options.bidder_discount);
		});
		chain.finish_block();
		run.block_execution_ms = executing.elapsed().as_secs_f64() * 1e3;
		chain.commit();
		chain.execute_with(|| run.after_block(block, seconds))?;
		progress(&Progress {
			block,
			blocks: run.blocks,
			seconds,
			liquidations: run.books.liquidations,
			liquidatable: run.liquidatable_now,
		});
	}
	let summary = chain.execute_with(|| {
		run.summary(name, collateral_usd, debt_usd, started.elapsed().as_secs_f64())
	});
	Ok(Replay { summary, timeline: run.timeline })
}

/// `options` checked against `scenario`, with the default collateral mix (the part of
/// [`DEFAULT_MIX`] the scenario prices) when none is given.
fn checked_options(
	scenario: &Scenario,
	options: &ReplayOptions,
) -> Result<ReplayOptions, ReplayError> {
	if !(0.0..=1.0).contains(&options.keeper_share) {
		return Err(ReplayError::Options("the keeper share must be between 0 and 1".into()));
	}
	if !(0.0..1.0).contains(&options.bidder_discount) {
		return Err(ReplayError::Options("the bidder discount must be in [0, 1)".into()));
	}
	if options.block_seconds == 0 || options.block_seconds % 6 != 0 {
		return Err(ReplayError::Options("seconds per block must be a multiple of 6".into()));
	}
	let traders = &options.traders;
	if !(0.0..=1.0).contains(&traders.usd_share) || !(0.0..=1.0).contains(&traders.long_share) {
		return Err(ReplayError::Options(
			"the traders' USD and long shares must be between 0 and 1".into(),
		));
	}
	if !(1 <= traders.leverage.0 && traders.leverage.0 <= traders.leverage.1) {
		return Err(ReplayError::Options("the traders' leverage must be a range from 1".into()));
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
	Ok(options)
}

/// What a replay keeps from block to block: the books, the waits, who liquidates what next,
/// and the timeline.
struct Run<'a> {
	options: &'a ReplayOptions,
	blocks: u32,
	sample_every: u32,
	/// The weight of one block's transactions the worker submits in a run
	/// (`Liquidation::worker_budget`), and what those it chose for the next block are likely to
	/// use (`Liquidation::plan_worker_batches`).
	worker_budget: Weight,
	worker_used: Weight,
	/// The last block's execution time, and the busiest block so far.
	block_execution_ms: f64,
	liquidations_so_far: u32,
	busiest: BusiestBlock,
	collateral_assets: Vec<AssetId>,
	scenario_assets: Vec<(String, AssetId)>,
	insurance_start: f64,
	random: Random,
	books: Books,
	timeline: Vec<Point>,
	/// Blocks each due account has waited with nothing under way.
	streaks: HashMap<AccountId, u32>,
	worst_streak: u32,
	worst_streak_from: Option<u32>,
	invariants_checked: u32,
	refused: BTreeMap<String, u32>,
	held_back: BTreeMap<String, u32>,
	most_auctions_running: u32,
	/// Decided after the last block: the worker's unsigned liquidations and the keepers'.
	to_worker: Vec<Vec<AccountId>>,
	to_keepers: Vec<AccountId>,
	keeper_assigned: BTreeSet<AccountId>,
	/// Accounts a keeper could not liquidate: the worker's until they are no longer due.
	keeper_refused: BTreeSet<AccountId>,
	liquidations_at_last_point: u32,
	last_identity: Identity,
	liquidatable_now: u32,
	most_liquidatable: u32,
	/// The perpetual traders as opened, the vault's value then, and the close-outs at the last
	/// timeline point.
	traders: TradersOpened,
	vault_start: f64,
	close_outs_at_last_point: u32,
	/// The accounts by health factor after the population opened.
	health_start: Vec<u32>,
	/// De-risking: where the worker's walk of the indebted accounts resumes, the slices decided
	/// after the last block (the worker's, the keepers'), and the draws of who takes them (apart
	/// from the liquidations' draws, so that a run with de-risking splits the liquidations as
	/// one without does until their paths part).
	derisk_cursor: Option<AccountId>,
	derisk_to_worker: Vec<AccountId>,
	derisk_to_keepers: Vec<AccountId>,
	derisk_random: Random,
	/// The scenario's assets with a DEX pool the arbitrageur keeps at the oracle.
	pub(crate) dex_assets: Vec<AssetId>,
	/// Debt liquidated and notional closed out so far (USD) after the last block, the most in
	/// one block and when.
	liquidated_usd: f64,
	peak_block_usd: f64,
	peak_block: u32,
	/// Accounts liquidated until they owed nothing.
	liquidated_whole: BTreeSet<AccountId>,
}

impl<'a> Run<'a> {
	fn new(scenario: &'a Scenario, options: &'a ReplayOptions, chain: &mut TestChain) -> Self {
		let blocks =
			u32::try_from(scenario.end_seconds() / options.block_seconds).unwrap_or(u32::MAX);
		Run {
			options,
			blocks,
			sample_every: if options.sample_every == 0 {
				(blocks / 1_500).max(1)
			} else {
				options.sample_every
			},
			worker_budget: chain.execute_with(Liquidation::worker_budget),
			worker_used: Weight::zero(),
			block_execution_ms: 0.0,
			liquidations_so_far: 0,
			busiest: BusiestBlock::default(),
			collateral_assets: options
				.population
				.mix
				.iter()
				.filter_map(|(symbol, _)| assets::by_symbol(symbol).map(|a| a.id))
				.collect(),
			scenario_assets: scenario
				.assets()
				.filter_map(|symbol| Some((symbol.to_string(), assets::by_symbol(symbol)?.id)))
				.collect(),
			insurance_start: chain.execute_with(|| Insurance::custody(USD)) as f64 / DOLLAR,
			random: Random(options.population.seed.wrapping_add(0x5eed).max(1)),
			books: Books {
				derisk: crate::books::DeriskBooks {
					fee: options
						.derisk
						.map_or(0.0, |params| f64::from(params.fee.deconstruct()) / 1_000_000.0),
					..Default::default()
				},
				..Default::default()
			},
			timeline: Vec::new(),
			streaks: HashMap::new(),
			worst_streak: 0,
			worst_streak_from: None,
			invariants_checked: 0,
			refused: BTreeMap::new(),
			held_back: BTreeMap::new(),
			most_auctions_running: 0,
			to_worker: Vec::new(),
			to_keepers: Vec::new(),
			keeper_assigned: BTreeSet::new(),
			keeper_refused: BTreeSet::new(),
			liquidations_at_last_point: 0,
			last_identity: Identity::default(),
			liquidatable_now: 0,
			most_liquidatable: 0,
			traders: TradersOpened::default(),
			vault_start: 0.0,
			close_outs_at_last_point: 0,
			health_start: Vec::new(),
			derisk_cursor: None,
			derisk_to_worker: Vec::new(),
			derisk_to_keepers: Vec::new(),
			derisk_random: Random(options.population.seed.wrapping_add(0xde12).max(1)),
			dex_assets: chain.execute_with(|| {
				scenario
					.assets()
					.filter_map(|symbol| assets::by_symbol(symbol).map(|a| a.id))
					.filter(|asset| {
						*asset != USD
							&& pallet_asset_conversion::Pallet::<Runtime>::get_reserves(
								(*asset).into(),
								USD.into(),
							)
							.is_ok()
					})
					.collect()
			}),
			liquidated_usd: 0.0,
			peak_block_usd: 0.0,
			peak_block: 0,
			liquidated_whole: BTreeSet::new(),
		}
	}

	/// The worker's transactions from the last block's state, as the pool orders them: every
	/// liquidation before any de-risking.
	fn submit_to_worker(&mut self, chain: &mut TestChain) {
		// The block the worker read: the one before this (just started) block.
		let found_at = chain
			.execute_with(|| frame_system::Pallet::<Runtime>::block_number().saturating_sub(1));
		let liquidations = self.to_worker.drain(..).map(|accounts| pallet_liquidation::Call::<
			Runtime,
		>::liquidate_unsigned_batch {
			accounts: accounts.try_into().expect("the worker's batches are bounded"),
			found_at,
		});
		let deriskings =
			self.derisk_to_worker
				.drain(..)
				.map(|who| pallet_liquidation::Call::<Runtime>::derisk_unsigned { who, found_at });
		let calls: Vec<_> = liquidations.chain(deriskings).collect();
		for call in calls {
			let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call));
			match chain.apply(xt) {
				Ok(Ok(())) => {},
				Ok(Err(error)) => {
					*self.refused.entry(format!("worker: {:?}", error)).or_default() += 1
				},
				Err(validity) => {
					*self.refused.entry(format!("worker: {validity:?}")).or_default() += 1
				},
			}
		}
	}

	/// Keepers act on what they saw after the last block: an account with perpetual positions
	/// has the one the engine would choose taken over (and the keeper closes what he took at
	/// once), one without has its largest collateral seized for its USD debt.
	fn keepers_act(&mut self) {
		for who in self.to_keepers.drain(..) {
			if pallet_perpetuals::PositionCount::<Runtime>::get(&who) > 0 {
				if let Err(reason) = take_over(&who) {
					*self.refused.entry(format!("keeper (position): {reason}")).or_default() += 1;
					self.keeper_assigned.remove(&who);
					self.keeper_refused.insert(who);
				}
				continue;
			}
			// Nothing to seize (a bankrupt account): nothing for a keeper, the worker's.
			let Some(collateral) = largest_collateral(&who) else {
				self.keeper_assigned.remove(&who);
				self.keeper_refused.insert(who);
				continue;
			};
			let result = as_keeper(pallet_liquidation::Call::liquidate {
				who: who.clone(),
				debt_asset: USD,
				collateral_asset: collateral,
				max_repay: Balance::MAX,
			});
			if let Err(error) = result {
				*self.refused.entry(format!("keeper: {:?}", error.error)).or_default() += 1;
				// A keeper whose liquidation is refused leaves the account to the worker.
				self.keeper_assigned.remove(&who);
				self.keeper_refused.insert(who);
			}
		}
	}

	/// Keepers de-risk what they were given after the last block, and close at once what a
	/// perpetual slice made them hold.
	fn keepers_derisk(&mut self) {
		for who in self.derisk_to_keepers.drain(..) {
			match as_keeper(pallet_liquidation::Call::derisk { who }) {
				Ok(_) => close_keeper_positions(),
				Err(error) => {
					*self
						.refused
						.entry(format!("keeper (de-risk): {:?}", error.error))
						.or_default() += 1
				},
			}
		}
	}

	/// After block `block` (at `seconds` of the path): its events into the books, the identity
	/// and (when due) the invariants checked, the due accounts found and handed out, and the
	/// timeline sampled.
	fn after_block(&mut self, block: u32, seconds: u64) -> Result<(), ReplayError> {
		let events: Vec<RuntimeEvent> = frame_system::Pallet::<Runtime>::read_events_no_consensus()
			.map(|record| record.event)
			.collect();
		self.books.read(&events);
		let (identity, holds) = identity(&self.books);
		self.last_identity = identity;
		holds.map_err(|detail| ReplayError::Identity { block, seconds, detail })?;
		perp_identity(&mut self.books.perps).map_err(|detail| ReplayError::Identity {
			block,
			seconds,
			detail,
		})?;
		let full_check = (self.options.check_every > 0 && block % self.options.check_every == 0)
			|| block == self.blocks;
		if full_check {
			check_invariants().map_err(|error| ReplayError::Invariant { block, seconds, error })?;
			self.invariants_checked += 1;
		}
		let due = due_accounts(full_check).map_err(|error| ReplayError::Invariant {
			block,
			seconds,
			error,
		})?;
		self.liquidatable_now = due.len() as u32;
		self.most_liquidatable = self.most_liquidatable.max(self.liquidatable_now);
		let worker_held_back = self.hand_out(block, due);
		if self.options.derisk.is_some() {
			self.hand_out_derisk(worker_held_back);
		}
		self.count_block(block);
		self.most_auctions_running =
			self.most_auctions_running.max(pallet_auction::Auctions::<Runtime>::count());
		if block % self.sample_every == 0 || block == self.blocks {
			self.sample(seconds);
		}
		Ok(())
	}

	/// Counts each due account's wait, and gives it to a keeper or the worker for the next
	/// block. Returns whether the worker left an account it was given unsubmitted.
	fn hand_out(&mut self, block: u32, due: Vec<AccountId>) -> bool {
		let worker_held_back;
		self.worker_used = Weight::zero();
		let due_set: BTreeSet<&AccountId> = due.iter().collect();
		// An account liquidated in this block had something under way: its wait restarts.
		let this_block = &self.books.this_block;
		self.streaks.retain(|who, _| due_set.contains(who) && !this_block.contains(who));
		self.keeper_assigned.retain(|who| due_set.contains(who));
		self.keeper_refused.retain(|who| due_set.contains(who));
		for who in &due {
			let streak = self.streaks.entry(who.clone()).or_default();
			*streak += 1;
			if *streak > self.worst_streak {
				self.worst_streak = *streak;
				self.worst_streak_from = Some(block.saturating_sub(*streak));
			}
		}
		// Each account is a keeper's or the worker's once it becomes liquidatable.
		let mut for_worker = Vec::new();
		for who in due {
			let keeper_takes = !self.keeper_refused.contains(&who)
				&& (self.keeper_assigned.contains(&who)
					|| (self.streaks.get(&who) == Some(&1)
						&& self.random.unit() < self.options.keeper_share));
			if keeper_takes {
				self.keeper_assigned.insert(who.clone());
				self.to_keepers.push(who);
			} else {
				// The worker walks them worst first; the order of `due` is the replay's.
				for_worker.push((who, Default::default()));
			}
		}
		// The worker plans the next block as its off-chain run does
		// (`Liquidation::plan_worker_batches`): each account checked as the pool validates it,
		// against what those chosen before it leave, put in batches while the block's weight
		// holds them, all undone after.
		let candidates: Vec<AccountId> = for_worker.iter().map(|(who, _)| who.clone()).collect();
		let Some(plan) =
			Liquidation::planning_next_block(|| Liquidation::plan_worker_batches(for_worker))
		else {
			return true;
		};
		let chosen: BTreeSet<&AccountId> = plan.batches.iter().flatten().collect();
		let refused: BTreeMap<&AccountId, u8> =
			plan.refused.iter().map(|(who, code)| (who, *code)).collect();
		for who in &candidates {
			if chosen.contains(who) {
				continue;
			}
			let reason = match refused.get(who) {
				Some(code) => invalid_reason(*code, who),
				None => "block full".into(),
			};
			*self.held_back.entry(reason).or_default() += 1;
		}
		worker_held_back = plan.held_back;
		self.worker_used = plan.used;
		self.to_worker = plan.batches;
		worker_held_back
	}

	/// The worker's walk for de-risking, as its off-chain run does it: only when it left no
	/// due account of this block's liquidations unsubmitted, a page of indebted accounts after
	/// its cursor, of which it chooses the due ones with the largest excess, as many as the
	/// unsigned slots its liquidations left (`worker_derisk_page`). Each goes to a keeper (a
	/// [`ReplayOptions::keeper_share`] of them, signed `derisk` in the next block) or to the
	/// worker.
	fn hand_out_derisk(&mut self, worker_held_back: bool) {
		if worker_held_back {
			return;
		}
		let room = Liquidation::derisk_room(
			self.to_worker.iter().map(|batch| batch.len() as u32).sum(),
			self.worker_budget.saturating_sub(self.worker_used),
		);
		if room == 0 {
			return;
		}
		let (chosen, next) = Liquidation::worker_derisk_page(self.derisk_cursor.take(), room);
		self.derisk_cursor = next;
		// `worker_derisk_page` chose only accounts whose slice validation would accept.
		for (who, _) in chosen {
			if self.derisk_random.unit() < self.options.keeper_share {
				self.derisk_to_keepers.push(who);
			} else {
				self.derisk_to_worker.push(who);
			}
		}
	}

	/// The block's value liquidated (its peak) and the accounts it liquidated whole.
	fn count_block(&mut self, block: u32) {
		let liquidated =
			self.books.liquidated_debt as f64 / DOLLAR + self.books.perps.notional.to_float();
		let this_block = liquidated - self.liquidated_usd;
		if this_block > self.peak_block_usd {
			self.peak_block_usd = this_block;
			self.peak_block = block;
		}
		self.liquidated_usd = liquidated;
		let so_far = self.books.liquidations + self.books.perps.close_outs;
		let in_block = so_far.saturating_sub(self.liquidations_so_far);
		self.liquidations_so_far = so_far;
		if in_block > self.busiest.liquidations {
			let weight = frame_system::Pallet::<Runtime>::block_weight().total();
			self.busiest = BusiestBlock {
				block,
				hours: f64::from(block) * self.options.block_seconds as f64 / 3_600.0,
				liquidations: in_block,
				weight_ms: weight.ref_time() as f64 / 1e9,
				execution_ms: self.block_execution_ms,
			};
		}
		for who in &self.books.acted_on {
			let owes = Margin::positions(who).iter().any(|(_, _, debt)| *debt > 0)
				|| pallet_perpetuals::PositionCount::<Runtime>::get(who) > 0;
			if !owes {
				self.liquidated_whole.insert(who.clone());
			}
		}
	}

	/// A point of the timeline at `seconds`.
	fn sample(&mut self, seconds: u64) {
		let totals = pallet_liquidation::Totals::<Runtime>::get(USD);
		self.timeline.push(Point {
			seconds,
			prices: self
				.scenario_assets
				.iter()
				.filter_map(|(symbol, asset)| Some((symbol.clone(), price_now(*asset)?.to_float())))
				.collect(),
			aggregate_health: aggregate_health(&self.collateral_assets),
			liquidatable: self.most_liquidatable,
			liquidations: self.books.liquidations - self.liquidations_at_last_point,
			insurance_usd: Insurance::custody(USD) as f64 / DOLLAR,
			bad_debt_usd: totals.written_off as f64 / DOLLAR,
			socialized_usd: totals.socialized as f64 / DOLLAR,
			queued_usd: pallet_liquidation::Pallet::<Runtime>::queued_bad_debt(USD).0 as f64
				/ DOLLAR,
			position_close_outs: self.books.perps.close_outs - self.close_outs_at_last_point,
			position_shortfall_usd: self.books.perps.shortfall.to_float(),
			deleveraged_usd: self.books.perps.deleveraged.to_float(),
			to_lps_usd: self.books.perps.to_lps.to_float(),
			liquidated_usd: self.liquidated_usd,
			deriskings: self.books.derisk.since_point,
		});
		self.books.derisk.since_point = 0;
		self.close_outs_at_last_point = self.books.perps.close_outs;
		self.liquidations_at_last_point = self.books.liquidations;
		self.most_liquidatable = 0;
	}

	/// The summary at the end of the path.
	fn summary(
		&self,
		name: &str,
		collateral_usd: f64,
		debt_usd: f64,
		wall_seconds: f64,
	) -> Summary {
		let mut per_asset = BTreeMap::new();
		for (symbol, asset) in &self.scenario_assets {
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
		let options = self.options;
		let books = &self.books;
		Summary {
			scenario: name.to_string(),
			accounts: options.population.accounts,
			collateral_usd,
			debt_usd,
			blocks: self.blocks,
			path_seconds: u64::from(self.blocks) * options.block_seconds,
			wall_seconds,
			accounts_liquidated: books.liquidated.len() as u32,
			liquidations: books.by_path.clone(),
			fallback_liquidations: books.fallback,
			value_liquidated_usd: books.liquidated_debt as f64 / DOLLAR,
			max_blocks_liquidatable: self.worst_streak,
			longest_wait_from_hours: self
				.worst_streak_from
				.map(|from| (u64::from(from) * options.block_seconds) as f64 / 3_600.0),
			liquidatable_at_end: self.liquidatable_now,
			bad_debt_usd: usd.written_off,
			insurance_used_usd: usd.covered,
			insurance_start_usd: self.insurance_start,
			insurance_end_usd: Insurance::custody(USD) as f64 / DOLLAR,
			loss_socialized_usd: usd.socialized,
			auctions_started: books.auctions_started,
			auction_takes: books.auction_takes,
			auction_restarts: books.auction_restarts,
			refused: self.refused.clone(),
			held_back: self.held_back.clone(),
			worker_skipped: books
				.worker_skipped
				.iter()
				.map(|(code, count)| (skipped_reason(*code), *count))
				.collect(),
			most_auctions_running: self.most_auctions_running,
			bad_debt_origins: books.origins.clone(),
			per_asset,
			identity: self.last_identity.clone(),
			invariants_checked: self.invariants_checked,
			perpetuals: (options.traders.accounts > 0).then(|| self.perp_summary()),
			health_distribution: HealthDistribution {
				buckets: HealthDistribution::labels(),
				start: self.health_start.clone(),
				end: health_factors(options),
			},
			outcome: self.outcome(usd.written_off),
		}
	}

	/// The figures runs with and without de-risking are compared on.
	fn outcome(&self, spot_bad_debt: f64) -> Outcome {
		let books = &self.books;
		let derisk = &books.derisk;
		Outcome {
			derisk: self.options.derisk.as_ref().map(DeriskSettings::from),
			bad_debt_usd: spot_bad_debt + books.perps.shortfall.to_float(),
			penalties_usd: books.penalties_usd,
			derisk_fees_usd: derisk.fees_usd,
			fees_paid_usd: books.penalties_usd + derisk.fees_usd,
			full_liquidations: self.liquidated_whole.len() as u32,
			peak_liquidated_usd_per_block: self.peak_block_usd,
			peak_block_hours: (u64::from(self.peak_block) * self.options.block_seconds) as f64
				/ 3_600.0,
			longest_wait_blocks: self.worst_streak,
			busiest_block: self.busiest.clone(),
			deriskings: derisk.slices,
			deriskings_by_worker: derisk.by_worker,
			accounts_derisked: derisk.accounts.len() as u32,
			derisked_usd: derisk.value_usd,
		}
	}

	/// The perpetual traders' part of the summary.
	fn perp_summary(&self) -> PerpetualSummary {
		let perps = &self.books.perps;
		let outstanding = pallet_liquidation::PendingShortfalls::<Runtime>::get()
			.iter()
			.fold(0.0, |sum, entry| sum + entry.left.to_float());
		PerpetualSummary {
			traders: self.options.traders.accounts,
			positions_opened: self.traders.positions,
			collateral_usd: self.traders.collateral_usd,
			notional_opened_usd: self.traders.notional_usd,
			vault_deposit_usd: self.traders.vault_deposit_usd,
			vault_start_usd: self.vault_start,
			vault_end_usd: vault_value(),
			traders_closed_out: perps.closed_out.len() as u32,
			close_outs: perps.close_outs,
			taken_over: perps.taken_over,
			backstop: perps.close_outs - perps.taken_over,
			partial: perps.partial,
			notional_closed_usd: perps.notional.to_float(),
			fees_usd: perps.fees.to_float(),
			fee_to_insurance_usd: perps.fee_to_insurance as f64 / DOLLAR,
			shortfalls: perps.shortfalls,
			shortfall_usd: perps.shortfall.to_float(),
			insurance_usd: perps.covered as f64 / DOLLAR,
			deleveraged_usd: perps.deleveraged.to_float(),
			to_lps_usd: perps.to_lps.to_float(),
			outstanding_usd: outstanding,
			positions_deleveraged: perps.positions_deleveraged,
			most_outstanding_usd: perps.most_outstanding.to_float(),
		}
	}
}

/// The perpetuals vault's net asset value, USD (0 when it cannot be valued).
fn vault_value() -> f64 {
	Perpetuals::vault_report().map_or(0.0, |report| report.nav.to_float())
}

/// The keeper closes every position he holds (what a perpetual de-risking slice gave him): a
/// keeper holds no risk. A close the market refuses leaves it with him.
fn close_keeper_positions() {
	for position in Perpetuals::position_reports(&keeper()) {
		let limit = if position.size.into_inner() > 0 {
			Price::from_inner(1)
		} else {
			Price::from_inner(u128::MAX / 4)
		};
		let _ = as_keeper(pallet_perpetuals::Call::close_position {
			underlying: position.underlying,
			limit_price: limit,
		});
	}
}

/// Dispatches `call` as the keeper's signed transaction, and charges the block its weight as
/// the block builder would (its actual weight after dispatch, and `CheckKeeperLiquidation`'s
/// check): the worker's transactions, applied after the keepers', find that much less room.
fn as_keeper(call: impl Into<RuntimeCall>) -> DispatchResultWithPostInfo {
	let call: RuntimeCall = call.into();
	let info = call.get_dispatch_info();
	let check = match &call {
		RuntimeCall::Liquidation(call) => Liquidation::keeper_check_weight(call),
		_ => Weight::zero(),
	};
	let result = call.dispatch(RuntimeOrigin::signed(keeper()));
	let post = match &result {
		Ok(post) => *post,
		Err(error) => error.post_info,
	};
	frame_system::Pallet::<Runtime>::register_extra_weight_unchecked(
		post.calc_actual_weight(&info).saturating_add(check),
		DispatchClass::Normal,
	);
	result
}

/// A keeper takes over the position of `who` the engine would close first, as far as the
/// engine sizes it, and closes what he took at once (a keeper holds no risk). `Err` with the
/// reason when the engine refuses.
fn take_over(who: &AccountId) -> Result<(), String> {
	let underlying =
		Liquidation::preview_position(who, None).map_err(|error| format!("{error:?}"))?.underlying;
	as_keeper(pallet_liquidation::Call::liquidate_position {
		who: who.clone(),
		underlying,
		max_units: FixedU128::from_inner(u128::MAX),
	})
	.map_err(|error| format!("{:?}", error.error))?;
	if let Some(taken) = pallet_perpetuals::Positions::<Runtime>::get(keeper(), underlying) {
		let limit = if taken.size.into_inner() > 0 {
			Price::from_inner(1)
		} else {
			Price::from_inner(u128::MAX / 4)
		};
		// A close the market refuses (paused, its skew's bound) leaves the keeper holding it.
		let _ =
			as_keeper(pallet_perpetuals::Call::close_position { underlying, limit_price: limit });
	}
	Ok(())
}

/// The accounts the worker finds through the risk index that a liquidation can act on. On a
/// `full_check` block every liquidatable account is read and compared with a full scan of every
/// account (`Err` when they differ), then filtered.
fn due_accounts(full_check: bool) -> Result<Vec<AccountId>, String> {
	let mut found_by_index: BTreeSet<AccountId> = BTreeSet::new();
	let mut due: Vec<AccountId> = Vec::new();
	let mut cursor = None;
	loop {
		let (found, next) = if full_check {
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
	if full_check {
		// The risk index finds what a full scan of every account finds.
		let (scanned, _) = Liquidation::liquidatable_accounts(None, u32::MAX);
		let scanned: BTreeSet<AccountId> = scanned.into_iter().map(|(who, _)| who).collect();
		if scanned != found_by_index {
			return Err(format!(
				"the risk index found {} liquidatable accounts, a full scan {}",
				found_by_index.len(),
				scanned.len()
			));
		}
	}
	Ok(due)
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

/// Every borrower's and trader's health factor now, counted into [`HEALTH_BUCKETS`]: `None`
/// for an account with nothing to owe (no debt, no position), zero when its health cannot be
/// judged.
fn health_factors(options: &ReplayOptions) -> Vec<u32> {
	let borrowers = (0..options.population.accounts).map(crate::population::borrower);
	let traders = (0..options.traders.accounts).map(crate::population::trader);
	HealthDistribution::count(borrowers.chain(traders).map(|who| {
		let Ok(report) = Margin::health_of(&who) else { return Some(0.0) };
		let debt = report.maintenance_debt.to_float();
		(debt > 0.0).then(|| report.maintenance_collateral.to_float() / debt)
	}))
}

fn check_invariants() -> Result<(), String> {
	Margin::do_try_state().map_err(|e| format!("margin: {e:?}"))?;
	Auction::do_try_state().map_err(|e| format!("auction: {e:?}"))?;
	Insurance::do_try_state().map_err(|e| format!("insurance: {e:?}"))?;
	Liquidation::do_try_state().map_err(|e| format!("liquidation: {e:?}"))?;
	liquidation_runtime::Perpetuals::do_try_state().map_err(|e| format!("perpetuals: {e:?}"))?;
	Ok(())
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

/// What a `WorkerSkipped` code says (the state it was judged in is gone).
fn skipped_reason(code: u8) -> String {
	use pallet_liquidation::invalid;
	match code {
		invalid::NOT_LIQUIDATABLE => "not liquidatable".into(),
		invalid::PAUSED => "paused".into(),
		invalid::AUCTIONS_FULL => "auctions full".into(),
		invalid::CAPS_FULL => "the block's caps are full".into(),
		invalid::WOULD_FAIL => "would fail".into(),
		other => format!("code {other}"),
	}
}

/// The worker's reason not to submit `who`, from its validation code (for `WOULD_FAIL`, the
/// error the dispatch would fail with, found by running it and undoing it).
fn invalid_reason(code: u8, who: &AccountId) -> String {
	if code != pallet_liquidation::invalid::WOULD_FAIL {
		return skipped_reason(code);
	}
	let error = frame_support::storage::with_transaction(|| {
		let result = Liquidation::liquidate_unsigned(
			RuntimeOrigin::none(),
			who.clone(),
			frame_system::Pallet::<Runtime>::block_number(),
		);
		frame_support::storage::TransactionOutcome::Rollback(Ok::<_, sp_runtime::DispatchError>(
			result,
		))
	});
	match error {
		Ok(Err(error)) => format!("would fail: {:?}", error.error),
		_ => "would fail".into(),
	}
}
