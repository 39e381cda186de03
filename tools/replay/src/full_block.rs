//! # Full blocks of liquidations, executed as a node executes them
//!
//! The capacity table (`cargo test --test runtime capacity -- --nocapture`) computes from the
//! generated weights how many liquidations of each path a block holds. This module measures it:
//! on the dev runtime (its `development` genesis) it opens four cohorts of accounts, crashes DOT
//! from 7 to 3 USD in five feeds the breaker accepts, and builds one block per liquidation path,
//! applying that path's transactions through `Executive` as a block builder does, until the block
//! refuses the next one for want of weight (`ExhaustsResources`):
//!
//! - **keeper**: one keeper's signed `liquidate` calls (he repays USD, takes DOT);
//! - **flash**: signed `flash_liquidate` calls (the DOT sold on the DEX's DOT/USD pool, moved to
//!   the oracle price after the crash and deepened, so every sale clears its slippage bound);
//! - **worker**: the off-chain worker's unsigned batches (`liquidate_unsigned_batch`, each
//!   account's liquidation starting an auction), `MaxUnsignedBatch` accounts each, a smaller one
//!   when the block has no room left for what a whole one declares;
//! - **bankrupt**: the same batches of accounts the crash left with dust collateral (the
//!   waterfall settles each: insurance first, then the lenders).
//!
//! Each block is then executed again from the state before it by the runtime's wasm blob in
//! `sc-executor` (wasmtime, compiled: `Core_execute_block`, as a node imports a block, which also
//! checks the state root the native build computed), and timed against the 2 s of ref time the
//! dev chain gives a block (`RuntimeBlockWeights`). The first execution compiles the runtime (a
//! node does that once per runtime) and is not counted; the figure is the middle of the others.
//!
//! The engine's `on_idle` fallback is kept idle, as it is on a chain whose worker liquidates
//! (it waits `WorkerGraceBlocks` after the worker's last liquidation): no liquidation but the
//! path's is in a block. The blocks' other hooks run as on chain (the risk index's upkeep after
//! the crash among them): the time is the whole block's, its weight over all classes is shown
//! beside the normal class's. The state is an in-memory trie: a node reads from its database
//! (ParityDB), which the weights price and this does not. The accounts (cohorts of one
//! portfolio, health 0.82 at 3 USD a DOT: each liquidation takes the whole position) are alike;
//! a portfolio of more positions costs more per liquidation (the weights charge the costliest).

use super::*;
use codec::Encode as _;
use frame_support::{dispatch::DispatchClass, traits::fungibles::Mutate as _};
use liquidation_integration_tests::signed_extrinsic;
use sc_executor::WasmExecutor;
use sp_core::traits::{CallContext, CodeExecutor as _, RuntimeCode, WrappedRuntimeCode};
use sp_keyring::Sr25519Keyring;
use sp_runtime::transaction_validity::{InvalidTransaction, TransactionValidityError};
use std::time::Duration;

const DOT: AssetId = AssetId::Asset(assets::DOT);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const ONE_USD: Balance = 1_000_000;
const ONE_DOT: Balance = 10_000_000_000;
/// What the dev chain gives a block's execution: 2 s of ref time (`RuntimeBlockWeights`).
pub const BUDGET_MS: f64 = 2_000.0;

/// One path's full block.
#[derive(Clone, Debug, Serialize)]
pub struct PathBlock {
	/// The liquidation path.
	pub path: &'static str,
	/// Transactions of the path the block included.
	pub included: u32,
	/// The liquidations: the transactions whose dispatch succeeded (a batch: the accounts its
	/// event says it liquidated).
	pub liquidations: u32,
	/// Whether the block refused the next transaction for want of weight (else the cohort ran
	/// out first: more accounts would be needed to fill it).
	pub full: bool,
	/// The normal-class weight the block was left charged, in ms of ref time.
	pub weight_ms: f64,
	/// The normal class's limit, in ms.
	pub limit_ms: f64,
	/// The weight of the whole block (every class: the hooks' too), in ms.
	pub total_weight_ms: f64,
	/// How long building it took natively (the liquidations applied one by one, with their
	/// validation), ms.
	pub native_ms: f64,
	/// How long the wasm runtime took to execute the block (median of the timed runs), ms.
	pub wasm_ms: f64,
	/// Every timed wasm execution, ms.
	pub wasm_runs_ms: Vec<f64>,
	/// Failed dispatches or refused transactions by reason (none expected).
	pub failures: BTreeMap<String, u32>,
}

impl PathBlock {
	/// A block of `path` with nothing in it yet.
	fn empty(path: &'static str) -> Self {
		Self {
			path,
			included: 0,
			liquidations: 0,
			full: false,
			weight_ms: 0.0,
			limit_ms: 0.0,
			total_weight_ms: 0.0,
			native_ms: 0.0,
			wasm_ms: 0.0,
			wasm_runs_ms: Vec::new(),
			failures: BTreeMap::new(),
		}
	}
}

/// Builds and times one full block per path with `accounts` accounts in each cohort, each block
/// executed in wasm `runs` times after the untimed first. `Err` says what went wrong (no wasm
/// runtime in this build, a block the wasm runtime refused, a setup call that failed).
pub fn measure(accounts: u32, runs: u32) -> Result<Vec<PathBlock>, String> {
	if runs == 0 {
		return Err("at least one timed run".into());
	}
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (DOT, Price::from_u32(7))]);
	chain.execute_with(|| open_cohorts(accounts))?;
	chain.commit();
	// DOT 7 -> 3 USD, each feed within the breaker's 20 %: 14, 17, 16, 17 and 14 % down.
	for price in [(6, 1), (5, 1), (42, 10), (35, 10), (3, 1)] {
		keep_fallback_idle(&mut chain);
		chain.feed_price(DOT, Price::from_rational(price.0, price.1));
	}
	chain.execute_with(deepen_dot_pool)?;
	chain.commit();
	let due = chain.execute_with(|| {
		(0..4u8)
			.map(|cohort| {
				(0..accounts)
					.filter(|index| {
						Margin::health_of(&member(cohort, *index))
							.is_ok_and(|report| report.is_liquidatable())
					})
					.count()
			})
			.collect::<Vec<_>>()
	});
	if due.iter().any(|count| *count as u32 != accounts) {
		return Err(format!("not every account is liquidatable after the crash: {due:?}"));
	}

	let executor = WasmBlockExecutor::of_this_runtime()?;
	let genesis_hash = chain.genesis_hash();
	let mut blocks = Vec::new();
	for (cohort, path) in ["keeper", "flash", "worker", "bankrupt"].into_iter().enumerate() {
		let cohort = cohort as u8;
		let transactions: Vec<UncheckedExtrinsic> = match path {
			"keeper" | "flash" => {
				let signer = if path == "keeper" { KEEPER } else { FLASHER };
				let nonce = chain.execute_with(|| {
					frame_system::Pallet::<Runtime>::account_nonce(signer.to_account_id())
				});
				(0..accounts)
					.map(|index| {
						let who = member(cohort, index);
						let call = if path == "keeper" {
							pallet_liquidation::Call::liquidate {
								who,
								debt_asset: USD,
								collateral_asset: DOT,
								max_repay: Balance::MAX,
							}
						} else {
							pallet_liquidation::Call::flash_liquidate {
								who,
								debt_asset: USD,
								collateral_asset: DOT,
								max_repay: Balance::MAX,
							}
						};
						signed_extrinsic(signer, call.into(), nonce + index, genesis_hash)
					})
					.collect()
			},
			_ => Vec::new(),
		};
		keep_fallback_idle(&mut chain);
		chain.commit();
		let before = chain.ext.as_backend();
		let mut block = if transactions.is_empty() {
			let cohort = (0..accounts).map(|index| member(cohort, index)).collect();
			fill_block_with_batches(&mut chain, path, cohort)
		} else {
			fill_block(&mut chain, path, transactions)
		};
		let built = chain.last_block(block.1);
		let times = executor.time(&before, chain.ext.state_version, &built, runs, path)?;
		let ms = |time: &Duration| time.as_secs_f64() * 1_000.0;
		let mut sorted: Vec<f64> = times.iter().map(ms).collect();
		block.0.wasm_runs_ms = sorted.clone();
		sorted.sort_by(f64::total_cmp);
		block.0.wasm_ms = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
		blocks.push(block.0);
	}
	Ok(blocks)
}

/// The runtime's wasm blob in `sc-executor`, as a node executes blocks.
pub struct WasmBlockExecutor {
	executor: WasmExecutor<sp_io::SubstrateHostFunctions>,
	code: WrappedRuntimeCode<'static>,
	hash: Vec<u8>,
}

impl WasmBlockExecutor {
	/// An executor of `wasm` (compiled at its first call).
	pub fn new(wasm: &'static [u8]) -> Self {
		Self {
			executor: WasmExecutor::<sp_io::SubstrateHostFunctions>::builder().build(),
			code: WrappedRuntimeCode(wasm.into()),
			hash: sp_core::blake2_256(wasm).to_vec(),
		}
	}

	/// The executor of the runtime built with this tool (`Err` when it was built without one).
	pub fn of_this_runtime() -> Result<Self, String> {
		liquidation_runtime::WASM_BINARY
			.map(Self::new)
			.ok_or_else(|| "this build has no wasm runtime (built with SKIP_WASM_BUILD)".into())
	}

	/// Executes `block` (`Core_execute_block`, which checks its state root) from the state
	/// `before` `runs + 1` times, each from a fresh copy; the time of each but the first (which
	/// may compile the runtime). `Err` names `what` when the runtime refuses the block.
	pub fn time(
		&self,
		before: &sp_state_machine::InMemoryBackend<sp_core::Blake2Hasher>,
		state_version: sp_core::storage::StateVersion,
		block: &liquidation_runtime::Block,
		runs: u32,
		what: &str,
	) -> Result<Vec<Duration>, String> {
		let runtime_code =
			RuntimeCode { code_fetcher: &self.code, heap_pages: None, hash: self.hash.clone() };
		let encoded = block.encode();
		let mut times = Vec::new();
		for run in 0..=runs {
			let mut state = sp_io::TestExternalities::new_empty();
			state.backend = before.clone();
			state.state_version = state_version;
			let started = Instant::now();
			let (result, _) = self.executor.call(
				&mut state.ext(),
				&runtime_code,
				"Core_execute_block",
				&encoded,
				CallContext::Onchain,
			);
			let elapsed = started.elapsed();
			result.map_err(|error| {
				format!("the wasm runtime refused the {what} block (run {run}): {error}")
			})?;
			if run > 0 {
				times.push(elapsed);
			}
		}
		Ok(times)
	}
}

/// The keeper who signs the `liquidate` calls.
const KEEPER: Sr25519Keyring = Sr25519Keyring::Dave;
/// The caller of the `flash_liquidate` calls.
const FLASHER: Sr25519Keyring = Sr25519Keyring::Eve;

/// Cohort `cohort`'s account `index` (0: keeper, 1: flash, 2: worker, 3: bankrupt).
fn member(cohort: u8, index: u32) -> AccountId {
	let mut raw = [0xC0 + cohort; 32];
	raw[..4].copy_from_slice(&index.to_le_bytes());
	AccountId::from(raw)
}

/// The fallback waits `WorkerGraceBlocks` after the worker's last liquidation: dated to the
/// next block, it stays idle there (as while the worker liquidates on a live chain).
fn keep_fallback_idle(chain: &mut TestChain) {
	chain.execute_with(|| {
		let next = frame_system::Pallet::<Runtime>::block_number() + 1;
		pallet_liquidation::LastWorkerLiquidation::<Runtime>::put(next);
	});
}

/// A lender's USD, the keeper's, and the cohorts with the real margin calls: the first three
/// hold 2 000 USD of DOT (at 7 USD) against 700 USD of debt (liquidatable under 3.675 USD a DOT,
/// solvent above 2.45); the bankrupt cohort 20 USD of DOT against 10.5 USD (at 3 USD a DOT its
/// collateral, 8.57 USD, is under the engine's 10 USD of dust).
fn open_cohorts(accounts: u32) -> Result<(), String> {
	let failed = |what: &str, error: sp_runtime::DispatchError| format!("{what}: {error:?}");
	let lender = population::lender();
	let lent = Balance::from(accounts) * 4 * 1_000 * ONE_USD;
	// Native tokens for the margin account's storage deposit.
	AllAssets::mint_into(AssetId::Native, &lender, 10u128.pow(15))
		.map_err(|e| failed("endow the lender", e))?;
	AllAssets::mint_into(USD, &lender, lent).map_err(|e| failed("mint the loan", e))?;
	Margin::deposit(RuntimeOrigin::signed(lender), USD, lent).map_err(|e| failed("lend", e))?;
	let keeper = KEEPER.to_account_id();
	AllAssets::mint_into(USD, &keeper, Balance::from(accounts) * 1_000 * ONE_USD)
		.map_err(|e| failed("fund the keeper", e))?;
	for cohort in 0..4u8 {
		let (collateral_usd, debt_usd) = if cohort == 3 { (20.0, 10.5) } else { (2_000.0, 700.0) };
		let deposit = (collateral_usd / 7.0 * ONE_DOT as f64) as Balance;
		let debt = (debt_usd * ONE_USD as f64) as Balance;
		for index in 0..accounts {
			let who = member(cohort, index);
			AllAssets::mint_into(AssetId::Native, &who, 10u128.pow(15))
				.map_err(|e| failed("endow", e))?;
			AllAssets::mint_into(DOT, &who, deposit).map_err(|e| failed("mint DOT", e))?;
			Margin::deposit(RuntimeOrigin::signed(who.clone()), DOT, deposit)
				.map_err(|e| failed("deposit DOT", e))?;
			Margin::borrow(RuntimeOrigin::signed(who), USD, debt)
				.map_err(|e| failed("borrow USD", e.error))?;
		}
	}
	Ok(())
}

/// Moves the DOT/USD pool to the oracle price and adds 50 M USD a side, so that the flash
/// liquidations' sales (a few hundred thousand USD in all) move it by well under their bound.
fn deepen_dot_pool() -> Result<(), String> {
	dex::follow_oracle(&[DOT]);
	let provider = population::role(0xE8);
	let price = price_now(DOT).ok_or("no DOT price")?.to_float();
	let usd = 50_000_000 * ONE_USD;
	let dot = (50_000_000.0 / price * ONE_DOT as f64) as Balance;
	// Twice what goes in: the pool's transfers keep the provider's accounts alive.
	AllAssets::mint_into(USD, &provider, 2 * usd).map_err(|e| format!("{e:?}"))?;
	AllAssets::mint_into(DOT, &provider, 2 * dot).map_err(|e| format!("{e:?}"))?;
	AllAssets::mint_into(AssetId::Native, &provider, 10u128.pow(15))
		.map_err(|e| format!("{e:?}"))?;
	pallet_asset_conversion::Pallet::<Runtime>::add_liquidity(
		RuntimeOrigin::signed(provider.clone()),
		Box::new(DOT.into()),
		Box::new(USD.into()),
		dot,
		usd,
		1,
		1,
		provider,
	)
	.map_err(|e| format!("deepen the DOT/USD pool: {e:?}"))
}

/// Applies `transactions` in a new block until it refuses one for want of weight; the block's
/// figures (without the wasm timing) and its header.
fn fill_block(
	chain: &mut TestChain,
	path: &'static str,
	transactions: Vec<UncheckedExtrinsic>,
) -> (PathBlock, liquidation_runtime::Header) {
	let started = Instant::now();
	chain.start_block();
	let mut block = PathBlock::empty(path);
	for xt in transactions {
		match chain.apply(xt) {
			Ok(Ok(())) => {
				block.included += 1;
				block.liquidations += 1;
			},
			Ok(Err(error)) => {
				block.included += 1;
				*block.failures.entry(format!("failed: {error:?}")).or_default() += 1;
			},
			Err(TransactionValidityError::Invalid(InvalidTransaction::ExhaustsResources)) => {
				block.full = true;
				break;
			},
			Err(error) => *block.failures.entry(format!("refused: {error:?}")).or_default() += 1,
		}
	}
	finish(chain, block, started)
}

/// Applies the worker's batches (`liquidate_unsigned_batch`) of `accounts` in a new block, as
/// the worker plans them: at most `MaxUnsignedBatch` accounts each, a smaller one when the
/// block has no longer room for what a whole one declares, until it has no room for a batch
/// of one. The liquidations are what the batches' events count.
fn fill_block_with_batches(
	chain: &mut TestChain,
	path: &'static str,
	accounts: Vec<AccountId>,
) -> (PathBlock, liquidation_runtime::Header) {
	let started = Instant::now();
	chain.start_block();
	let mut block = PathBlock::empty(path);
	let most = <Runtime as pallet_liquidation::Config>::MaxUnsignedBatch::get() as usize;
	let (mut next, mut size) = (0usize, most);
	while next < accounts.len() {
		let end = next.saturating_add(size).min(accounts.len());
		let batch = accounts.get(next..end).unwrap_or_default().to_vec();
		let call = pallet_liquidation::Call::liquidate_unsigned_batch {
			accounts: batch.try_into().expect("at most MaxUnsignedBatch"),
			found_at: 0,
		};
		match chain.apply(UncheckedExtrinsic::new_bare(call.into())) {
			Ok(Ok(())) => block.included += 1,
			Ok(Err(error)) => {
				block.included += 1;
				*block.failures.entry(format!("failed: {error:?}")).or_default() += 1;
			},
			Err(TransactionValidityError::Invalid(InvalidTransaction::ExhaustsResources)) => {
				if size == 1 {
					block.full = true;
					break;
				}
				size /= 2;
				continue;
			},
			Err(error) => *block.failures.entry(format!("refused: {error:?}")).or_default() += 1,
		}
		next = end;
	}
	for event in chain.liquidation_events() {
		match event {
			pallet_liquidation::Event::WorkerBatch { liquidated, .. } => {
				block.liquidations += liquidated
			},
			pallet_liquidation::Event::WorkerSkipped { code, .. } => {
				*block.failures.entry(format!("skipped: code {code}")).or_default() += 1
			},
			_ => {},
		}
	}
	finish(chain, block, started)
}

/// Finishes the block `block` was filled in, started at `started`: its figures and header.
fn finish(
	chain: &mut TestChain,
	mut block: PathBlock,
	started: Instant,
) -> (PathBlock, liquidation_runtime::Header) {
	let header = chain.finish_block();
	block.native_ms = started.elapsed().as_secs_f64() * 1_000.0;
	let (weight, limit, total) = chain.execute_with(|| {
		let consumed = frame_system::Pallet::<Runtime>::block_weight();
		let limit = <Runtime as frame_system::Config>::BlockWeights::get()
			.get(DispatchClass::Normal)
			.max_total
			.unwrap_or_default();
		(*consumed.get(DispatchClass::Normal), limit, consumed.total())
	});
	block.weight_ms = weight.ref_time() as f64 / 1e9;
	block.limit_ms = limit.ref_time() as f64 / 1e9;
	block.total_weight_ms = total.ref_time() as f64 / 1e9;
	(block, header)
}

/// The blocks as a Markdown table, the execution beside the 2 s budget.
pub fn table(blocks: &[PathBlock]) -> String {
	let mut out = String::from(
		"| path | liquidations in the block | block full | weight charged (normal class) | \
		 weight of the block | built natively | executed in wasm | share of the 2 s budget |\n\
		 |---|---|---|---|---|---|---|---|\n",
	);
	for block in blocks {
		out.push_str(&format!(
			"| {} | {} | {} | {:.0} of {:.0} ms | {:.0} ms | {:.0} ms | {:.0} ms | {:.1} % |\n",
			block.path,
			block.liquidations,
			if block.full { "yes" } else { "no (more accounts needed)" },
			block.weight_ms,
			block.limit_ms,
			block.total_weight_ms,
			block.native_ms,
			block.wasm_ms,
			block.wasm_ms / BUDGET_MS * 100.0,
		));
	}
	out
}
