//! Flooding the risk index on the dev runtime: 100 000 accounts of the least an indebted account
//! may hold, each 1% from liquidation, do not delay the liquidation of real accounts after a
//! crash of an asset they do not hold.
//!
//! Before the index judged moves per asset, a crash of BTC by 20% made the walk read every
//! account within 20% of liquidation, whatever it held: the flood (at 1%) came first, and the
//! worker, reading 1 000 accounts a block, met the real accounts after 100 blocks.

use frame_support::{dispatch::DispatchClass, weights::Weight};
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, Balance, Price};
use liquidation_runtime::{
	assets, configs::LiquidationScanBatch, AccountId, Liquidation, Margin, Runtime, RuntimeCall,
	RuntimeEvent,
};
use pallet_margin::{
	risk_index::last_bucket_at_risk, LiableAccounts, Markets, PortfolioOf, Portfolios, Position,
	RiskEntryOf, SlotSize,
};
use sp_keyring::Sr25519Keyring::*;

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const DOT: AssetId = AssetId::Asset(assets::DOT);
const DOLLAR: u128 = 1_000_000;
const BITCOIN: u128 = 100_000_000;
/// One whole DOT (10 decimals).
const ONE_DOT: u128 = 10_000_000_000;
/// The flood.
const DUST_ACCOUNTS: u32 = 100_000;

fn margin(call: pallet_margin::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Margin(call)
}

fn dust_account(index: u32) -> AccountId {
	let mut raw = [0xD5u8; 32];
	raw[..4].copy_from_slice(&index.to_le_bytes());
	AccountId::from(raw)
}

/// A dust account's portfolio: 20 USD of DOT (at 7 USD) against as much USD debt as leaves it
/// 1% from liquidation: weighted collateral `C = 20 x 0.6`, weighted debt `D = C x 0.99 / 1.01`
/// (distance `(C - D) / (C + D)` = 1%), 11.2 USD of debt at the USD weight of 1.05. Both
/// positions are above the runtime's 10 USD minimum.
fn dust_portfolio() -> PortfolioOf<Runtime> {
	portfolio_near_liquidation(20.0)
}

/// `collateral_usd` of DOT (at 7 USD) against as much USD debt as leaves the account 1% from
/// liquidation (see [`dust_portfolio`]).
fn portfolio_near_liquidation(collateral_usd: f64) -> PortfolioOf<Runtime> {
	let weights = |asset: AssetId| {
		let params = Markets::<Runtime>::get(asset).expect("a dev asset is listed").params;
		(
			f64::from(params.maintenance_collateral_weight.deconstruct()) / 1e6,
			params.maintenance_liability_weight.to_float(),
		)
	};
	let weighted_collateral = collateral_usd * weights(DOT).0;
	let debt_usd = weighted_collateral * 0.99 / 1.01 / weights(USD).1;
	let deposit = (collateral_usd / 7.0 * ONE_DOT as f64) as Balance;
	let debt = (debt_usd * DOLLAR as f64) as Balance;
	// At genesis every index is one: index units are smallest units.
	PortfolioOf::<Runtime>::truncate_from(vec![
		(DOT, Position::Deposit(deposit)),
		(USD, Position::Borrow(debt)),
	])
}

/// 100 000 dust accounts in DOT and USD, and Dave and Eve holding 1 BTC against 43 000 USD each.
/// BTC falls 20% in two feeds. The first walk after the crash (a page of 1 000 entries, the
/// runtime's `ScanBatch`) returns Dave and Eve and nothing of the flood, though a uniform
/// judgment of the 20% move reaches the flood's bucket; the off-chain worker's run submits
/// their unsigned liquidations, and the next block includes both.
#[test]
fn real_accounts_are_found_at_once_among_100_000_dust_accounts() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (DOT, Price::from_u32(7))]);
	let lend = margin(pallet_margin::Call::deposit { asset: USD, amount: 200_000 * DOLLAR });
	assert_eq!(chain.dispatch(Alice, lend), Ok(()));
	for borrower in [Dave, Eve] {
		let deposit = margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN });
		assert_eq!(chain.dispatch(borrower, deposit), Ok(()));
		let borrow = margin(pallet_margin::Call::borrow { asset: USD, amount: 43_000 * DOLLAR });
		assert_eq!(chain.dispatch(borrower, borrow), Ok(()));
	}

	// The flood, written as `detection-bench` writes its population: portfolios stored
	// directly (no token moves; the pools' totals do not count them) and each account filed
	// by the function every margin call files with.
	let dust_bucket = chain.execute_with(|| {
		let portfolio = dust_portfolio();
		for index in 0..DUST_ACCOUNTS {
			let who = dust_account(index);
			Portfolios::<Runtime>::insert(&who, portfolio.clone());
			LiableAccounts::<Runtime>::insert(&who, ());
			Margin::reindex_account(&who);
		}
		let entry = RiskEntryOf::<Runtime>::get(dust_account(0)).expect("filed");
		let mut held = vec![USD, DOT];
		held.sort();
		assert_eq!(entry.assets.to_vec(), held);
		assert_eq!(SlotSize::<Runtime>::get(entry.slot), DUST_ACCOUNTS + 2);
		// 1% from liquidation, less the rounding slack.
		assert!((95..100).contains(&entry.bucket), "{entry:?}");
		entry.bucket
	});
	chain.commit();

	// Two feeds: the breaker lets each move at most 20%.
	chain.feed_price(BTC, Price::from_u32(52_000));
	chain.feed_price(BTC, Price::from_u32(48_000));
	let (dave, eve) = (Dave.to_account_id(), Eve.to_account_id());
	chain.execute_with(|| {
		// A 20% move, judged for every account alike, reaches the flood's bucket: every dust
		// account would be read, the flood first (it is nearer to liquidation than Dave and
		// Eve).
		let (current, previous) = Margin::risk_slots();
		let uniform = [current, previous]
			.map(|slot| last_bucket_at_risk(Margin::adverse_move_since_reference(slot)))
			.into_iter()
			.max()
			.unwrap_or_default();
		assert!(uniform >= dust_bucket, "uniform reach {uniform}, flood at {dust_bucket}");

		// Judged per asset, the walk reads the holders of BTC only, and the lists of DOT and
		// USD only to the buckets their own moves reach: none for DOT, which did not move; for
		// USD, a few blocks of interest since the reference (the flood would be read once the
		// USD debt unit has risen by 1% since the reference, weeks at the dev rates, unless a
		// move of 2% of any asset starts a new reference first).
		for slot in [current, previous] {
			for asset in [USD, DOT] {
				let reach = Margin::reach_of_asset(slot, asset);
				assert!(reach < dust_bucket, "{asset:?} reaches bucket {reach} in slot {slot}");
			}
		}
		let (read, next) = Margin::accounts_at_risk(None, LiquidationScanBatch::get());
		let mut read_sorted = read.clone();
		read_sorted.sort();
		let mut real = vec![dave.clone(), eve.clone()];
		real.sort();
		assert_eq!(read_sorted, real, "the walk read {} accounts", read.len());
		assert_eq!(next, None, "the walk is complete in one page");
	});

	// The off-chain worker of the crash block's successor: one run, its transactions in the
	// pool.
	let submitted = chain.run_liquidation_worker();
	let mut liquidated: Vec<AccountId> = submitted
		.iter()
		.flat_map(|xt| match &xt.function {
			RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate_unsigned_batch {
				accounts,
				..
			}) => accounts.to_vec(),
			other => panic!("the worker submitted {other:?}"),
		})
		.collect();
	liquidated.sort();
	let mut real = vec![dave.clone(), eve.clone()];
	real.sort();
	assert_eq!(liquidated, real);

	// The next block includes them.
	chain.include_all(submitted);
	let mut started: Vec<AccountId> = chain.execute_with(|| {
		frame_system::Pallet::<Runtime>::events()
			.into_iter()
			.filter_map(|record| match record.event {
				RuntimeEvent::Liquidation(pallet_liquidation::Event::AuctionStarted {
					who,
					..
				}) => Some(who),
				_ => None,
			})
			.collect()
	});
	started.sort();
	assert_eq!(started, real);
}

/// A crash puts more accounts under at once than the worker takes in one run: it submits them in
/// batches (`liquidate_unsigned_batch`), worst first, as many as one block holds or its bound on
/// accounts per run, whichever binds first; one block includes every batch; after them the block
/// could not take one more account (unless the bound stopped the worker); the next run submits
/// the rest.
#[test]
fn the_worker_submits_what_one_block_holds() {
	use frame_support::traits::fungibles::Mutate as _;
	use liquidation_runtime::{configs::AllAssets, RuntimeOrigin};
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (DOT, Price::from_u32(7))]);
	let budget = chain.execute_with(Liquidation::worker_budget);
	let bound = <Runtime as pallet_liquidation::Config>::MaxUnsignedPerBlock::get();
	let most = <Runtime as pallet_liquidation::Config>::MaxUnsignedBatch::get();
	let accounts = bound + 10;
	// Each: 2 000 USD of DOT, 1 000 USD borrowed (maintenance health 1 400 / 1 050 = 1.33).
	chain.execute_with(|| {
		let lender = Alice.to_account_id();
		let lent = u128::from(accounts) * 1_000 * DOLLAR;
		AllAssets::mint_into(USD, &lender, lent).expect("minted");
		Margin::deposit(RuntimeOrigin::signed(lender), USD, lent).expect("lent");
		for index in 0..accounts {
			let who = dust_account(index);
			AllAssets::mint_into(AssetId::Native, &who, 10u128.pow(15)).expect("minted");
			AllAssets::mint_into(DOT, &who, 2_000 * ONE_DOT / 7).expect("minted");
			Margin::deposit(RuntimeOrigin::signed(who.clone()), DOT, 2_000 * ONE_DOT / 7)
				.expect("deposited");
			Margin::borrow(RuntimeOrigin::signed(who), USD, 1_000 * DOLLAR).expect("borrowed");
		}
	});
	chain.commit();
	// DOT 29% lower, in two feeds the breaker accepts: health 5 / 7 x 1.33 = 0.95.
	chain.feed_price(DOT, Price::from_rational(60, 10));
	chain.feed_price(DOT, Price::from_u32(5));
	let due = chain.execute_with(|| Liquidation::liquidatable_accounts(None, accounts + 1).0.len());
	assert_eq!(due as u32, accounts);

	let submitted = chain.run_liquidation_worker();
	let batches: Vec<Vec<AccountId>> = submitted
		.iter()
		.map(|xt| match &xt.function {
			RuntimeCall::Liquidation(pallet_liquidation::Call::liquidate_unsigned_batch {
				accounts,
				..
			}) => accounts.to_vec(),
			other => panic!("the worker submitted {other:?}"),
		})
		.collect();
	let offered: u32 = batches.iter().map(|batch| batch.len() as u32).sum();
	assert!(batches.iter().all(|batch| !batch.is_empty() && batch.len() as u32 <= most));
	assert!(offered > 20, "one block holds {offered} of the worker's liquidations");
	// The weights a block reserves and is likely left charged, for one more account (they are
	// alike: two positions each, none bankrupt).
	let (declared, single, share, batch_base) = chain.execute_with(|| {
		let who = dust_account(0);
		assert_eq!(Liquidation::liquidate_unsigned_expected_weight(&who), spot_path_expected());
		(
			Liquidation::liquidate_unsigned_weight(&who),
			spot_path_expected(),
			Liquidation::batch_share_weight(pallet_liquidation::batch::ShareClass::OneDebt),
			Liquidation::batch_base_weight(),
		)
	});
	// Shared keys make an account after the first of its batch cheaper than one alone.
	assert!(share.all_lte(single), "{share:?} against {single:?}");

	// One block includes every batch, each liquidating every account in it.
	chain.include_all(submitted);
	let charged = chain.execute_with(|| {
		*frame_system::Pallet::<Runtime>::block_weight().get(DispatchClass::Normal)
	});
	assert!(budget.all_gte(charged), "{charged:?} within {budget:?}");
	let events = chain.liquidation_events();
	let started = events
		.iter()
		.filter(|event| matches!(event, pallet_liquidation::Event::AuctionStarted { .. }))
		.count();
	assert_eq!(started as u32, offered);
	assert!(!events
		.iter()
		.any(|event| matches!(event, pallet_liquidation::Event::WorkerSkipped { .. })));
	// The bound stopped the worker, or the block could not have taken a batch of one more.
	let base = <Runtime as frame_system::Config>::BlockWeights::get()
		.get(DispatchClass::Normal)
		.base_extrinsic;
	// As a batch declares an account: its bound and the reads before its liquidation.
	let declared = declared.saturating_add(
		<Runtime as frame_system::Config>::DbWeight::get()
			.reads(pallet_liquidation::batch::READS_BEFORE),
	);
	let one_more = charged.saturating_add(batch_base).saturating_add(declared).saturating_add(base);
	assert!(offered == bound || budget.any_lt(one_more), "{offered} offered, {charged:?} charged");
	// The rest wait for the worker's next run (its cursor walks on past those at auction).
	let left =
		chain.execute_with(|| Liquidation::liquidatable_accounts(None, accounts + 1).0.len());
	assert_eq!(left as u32, accounts - offered);
	println!(
		"the worker's run: {offered} accounts in {} batches, {:.0} of {:.0} ms charged",
		batches.len(),
		charged.ref_time() as f64 / 1e9,
		budget.ref_time() as f64 / 1e9
	);
}

/// The path a two-position spot account's unsigned liquidation is expected to take, run once
/// in the block (the pool validated it), from the generated weights: an auction, or the
/// waterfall over its two positions, and the read of whether it holds derivative positions; and
/// the block's check of the account before dispatch.
fn spot_path_expected() -> Weight {
	use pallet_liquidation::WeightInfo as _;
	type Weights = pallet_liquidation::weights::SubstrateWeight<Runtime>;
	let read = <Runtime as frame_system::Config>::DbWeight::get().reads(1);
	Weights::liquidate_unsigned()
		.max(Weights::settle_bankrupt(2))
		.saturating_add(read)
		.saturating_add(
			Weights::check_unsigned_in_block().max(Weights::check_unsigned_in_block_positions()),
		)
}
