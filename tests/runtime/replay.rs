//! Black Thursday (12-13 March 2020) through the real runtime: operators feed the scenario's
//! path, a population of leveraged accounts is liquidated by the engine as on chain (the
//! worker's unsigned transactions, validated and applied by `Executive`), auctions are taken by
//! a bidder and restarted when due, and every pallet's invariants are checked after every block.
//!
//! The path is sampled once a minute: one block per minute of the scenario (the Aura slots in
//! between are skipped, so the chain's clock follows the scenario's). That keeps the test to a
//! few thousand blocks; the crash replay tool replays at one block per six seconds.

use frame_support::{traits::fungibles::Mutate, BoundedVec};
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, Price};
use liquidation_runtime::{
	assets, configs::AllAssets, Auction, Insurance, Liquidation, Margin, Runtime, RuntimeCall,
	RuntimeOrigin, UncheckedExtrinsic,
};
use sp_core::crypto::AccountId32;

type AccountId = AccountId32;

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const ETH: AssetId = AssetId::Asset(assets::ETH);
const DOLLAR: u128 = 1_000_000;
/// One block per minute of the scenario.
const SECONDS_PER_BLOCK: u64 = 60;
const ACCOUNTS: u32 = 120;

fn account(index: u32) -> AccountId {
	let mut raw = [0xA5u8; 32];
	raw[..4].copy_from_slice(&index.to_le_bytes());
	AccountId::from(raw)
}

fn operators() -> Vec<AccountId> {
	pallet_membership::Members::<Runtime, liquidation_runtime::OracleOperatorsInstance>::get()
		.into_inner()
}

/// Every operator feeds the scenario's prices at `seconds` (called inside an open block).
fn feed(scenario: &liquidation_scenario::Scenario, seconds: u64) {
	for operator in operators() {
		let values: Vec<(AssetId, Price)> = scenario
			.assets()
			.filter_map(|symbol| {
				let asset = assets::by_symbol(symbol)?;
				let price = scenario.price_at("*", symbol, seconds)?;
				Some((asset.id, Price::from_inner(price)))
			})
			.collect();
		orml_oracle::Pallet::<Runtime>::feed_values(
			RuntimeOrigin::signed(operator),
			BoundedVec::truncate_from(values),
		)
		.expect("an operator feeds");
	}
}

/// xorshift64*: a deterministic population.
struct Random(u64);
impl Random {
	fn below(&mut self, bound: u64) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
	}
}

/// Lenders, an insurance staker and `ACCOUNTS` borrowers: collateral of 10 000 to 100 000 USD in
/// BTC, ETH or both, borrowing USD at 30% to 97% of what the initial weights allow.
fn populate() {
	let lender = account(u32::MAX);
	let bidder = account(u32::MAX - 1);
	AllAssets::mint_into(USD, &lender, 100_000_000 * DOLLAR).unwrap();
	Margin::deposit(RuntimeOrigin::signed(lender.clone()), USD, 50_000_000 * DOLLAR).unwrap();
	Insurance::stake(RuntimeOrigin::signed(lender), USD, 200_000 * DOLLAR).unwrap();
	AllAssets::mint_into(USD, &bidder, 1_000_000_000 * DOLLAR).unwrap();
	let mut random = Random(0x9e37_79b9_7f4a_7c15);
	let btc_price = 7_900u128;
	let eth_price = 194u128;
	for index in 0..ACCOUNTS {
		let who = account(index);
		let value = 10_000 + u128::from(random.below(90_000));
		let (btc_value, eth_value) = match index % 3 {
			0 => (value, 0),
			1 => (0, value),
			_ => (value / 2, value - value / 2),
		};
		let btc_amount = btc_value * 100_000_000 / btc_price;
		let eth_amount = eth_value * 1_000_000_000_000_000_000 / eth_price;
		for (asset, amount) in [(BTC, btc_amount), (ETH, eth_amount)] {
			if amount > 0 {
				AllAssets::mint_into(asset, &who, amount).unwrap();
				Margin::deposit(RuntimeOrigin::signed(who.clone()), asset, amount).unwrap();
			}
		}
		// Initial capacity: BTC counts 80%, ETH 75%; USD debt counts 1.10.
		let capacity = (btc_value * 80 / 100 + eth_value * 75 / 100) * 100 / 110;
		let leverage = 30 + u128::from(random.below(68));
		let borrow = capacity * leverage / 100 * DOLLAR;
		Margin::borrow(RuntimeOrigin::signed(who), USD, borrow).unwrap();
	}
}

fn check_invariants() {
	Margin::do_try_state().expect("margin invariants");
	Auction::do_try_state().expect("auction invariants");
	Insurance::do_try_state().expect("insurance invariants");
	Liquidation::do_try_state().expect("engine invariants");
}

#[test]
fn black_thursday_liquidates_every_account_within_a_few_blocks_and_keeps_the_books() {
	let path = std::path::Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap())
		.join("../scenarios/black-thursday-2020.csv");
	let scenario = liquidation_scenario::Scenario::from_file(path).expect("the scenario parses");
	scenario.check_assets(|symbol| assets::by_symbol(symbol).is_some()).expect("known assets");

	let mut chain = TestChain::from_preset("development");
	chain.start_block();
	chain.execute_with(|| feed(&scenario, 0));
	chain.finish_block();
	chain.start_block();
	chain.execute_with(populate);
	chain.finish_block();

	let bidder = account(u32::MAX - 1);
	let max_per_block =
		<Runtime as pallet_liquidation::Config>::MaxUnsignedPerBlock::get() as usize;
	let mut streak = vec![0u32; ACCOUNTS as usize];
	let (mut worst_streak, mut most_candidates, mut liquidations) = (0u32, 0usize, 0u32);
	let mut candidates: Vec<AccountId> = Vec::new();
	let mut failures = std::collections::BTreeMap::<String, u32>::new();
	let mut seconds = SECONDS_PER_BLOCK;
	while seconds <= scenario.end_seconds() {
		chain.skip_slots(SECONDS_PER_BLOCK / 6 - 1);
		chain.start_block();
		// The worker's transactions from the last block's state come first (high priority).
		for who in candidates.drain(..) {
			let call = pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who };
			let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call));
			match chain.apply(xt) {
				Ok(Ok(())) => liquidations += 1,
				other => {
					let entry = format!("{other:?}");
					*failures.entry(entry).or_insert(0u32) += 1;
				},
			}
		}
		chain.execute_with(|| {
			feed(&scenario, seconds);
			// The bidder buys every lot at or under the oracle price; due auctions are restarted.
			for report in Auction::auction_reports() {
				if report.needs_restart {
					let _ = Auction::redo(RuntimeOrigin::signed(bidder.clone()), report.id);
				} else if report.oracle_price.is_some_and(|oracle| report.price <= oracle) {
					let _ = Auction::take(
						RuntimeOrigin::signed(bidder.clone()),
						report.id,
						report.auction.lot,
						report.price,
					);
				}
			}
		});
		chain.finish_block();
		chain.execute_with(|| {
			check_invariants();
			// What the worker finds now, worst first, up to its bound per block.
			let (found, _) = Liquidation::liquidatable_accounts(None, 10_000);
			let due: Vec<AccountId> = found
				.into_iter()
				.map(|(who, _)| who)
				.filter(|who| !Liquidation::in_auction(who))
				.collect();
			most_candidates = most_candidates.max(due.len());
			for index in 0..ACCOUNTS {
				let who = account(index);
				if due.contains(&who) {
					streak[index as usize] += 1;
					worst_streak = worst_streak.max(streak[index as usize]);
				} else {
					streak[index as usize] = 0;
				}
			}
			candidates = due.into_iter().take(max_per_block).collect();
		});
		seconds += SECONDS_PER_BLOCK;
	}

	println!("refused liquidations: {failures:?}");
	chain.execute_with(|| {
		let totals = pallet_liquidation::Totals::<Runtime>::get(USD);
		println!(
			"black thursday: {liquidations} liquidations, {} repaid USD, {} written off, {} covered, \
			 {} socialised; most due at once {most_candidates}, longest wait {worst_streak} blocks",
			totals.repaid / DOLLAR,
			totals.written_off,
			totals.covered,
			totals.socialized,
		);
		assert!(liquidations > 10, "the crash liquidated accounts: {liquidations}");
		// The accounting identity of the waterfall.
		assert_eq!(totals.written_off, totals.covered + totals.socialized);
		let pool = Margin::pool_report(USD).unwrap();
		assert_eq!(pool.bad_debt, 0, "every write-off was covered or socialised");
	});
	// An account found liquidatable is liquidated in the next block, unless more than the
	// per-block bound were due at once.
	let allowed = 1 + (most_candidates as u32).div_ceil(max_per_block as u32);
	assert!(worst_streak <= allowed, "an account waited {worst_streak} blocks (allowed {allowed})");
}
