//! Detection of liquidatable accounts with the margin pallet's risk index against a full scan of
//! every indebted account, on the real runtime's state.
//!
//! [`build`] makes a dev chain (native runtime, no node), lets operators feed prices, and files
//! `size` indebted accounts: each with one to three collateral assets (BTC, ETH, DOT) worth 1 000
//! to 1 000 000 USD and a debt in USD (or, for some without ETH collateral, in ETH), at a health
//! factor of one plus an exponential draw (mean 0.7; lending markets hold many accounts a little
//! above one and a long tail of safe ones). Portfolios are written to storage directly, without
//! token transfers, and each account is filed in the risk index by the same function the margin
//! calls use; the state is then committed to the in-memory trie, so reads go through the trie as
//! on a node. [`Bench::crash`] moves every crypto price down by the same fraction, chosen from the
//! drawn health factors so that `share` of the accounts become liquidatable. [`Bench::measure`]
//! times both detections on the same state.

use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, Balance, Price};
use liquidation_runtime::{assets, AccountId, Liquidation, Margin, Runtime};
use pallet_margin::{LiableAccounts, Markets, PortfolioOf, Portfolios, Position};
use sp_runtime::{FixedPointNumber, FixedU128};
use std::{collections::BTreeSet, time::Instant};

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const ETH: AssetId = AssetId::Asset(assets::ETH);
const DOT: AssetId = AssetId::Asset(assets::DOT);

/// Prices before the move, USD per whole unit.
const PRICES: [(AssetId, u128); 4] = [(USD, 1), (BTC, 60_000), (ETH, 3_000), (DOT, 7)];

/// xorshift64*: a deterministic population from a seed.
pub struct Random(u64);

impl Random {
	pub fn new(seed: u64) -> Self {
		Self(seed.max(1))
	}

	pub fn next_u64(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	/// Uniform in `[0, 1)`.
	pub fn unit(&mut self) -> f64 {
		(self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
	}
}

/// A chain holding a population, before or after the move.
pub struct Bench {
	chain: TestChain,
	/// Health factors of the accounts whose debt is in USD (the ones a crypto crash can push
	/// under).
	usd_debt_health_factors: Vec<f64>,
	/// Accounts filed.
	pub accounts: u32,
	/// Seconds it took to build and commit the state.
	pub build_seconds: f64,
}

/// One measurement of both detections on the same state.
#[derive(Debug, Clone)]
pub struct Measurement {
	/// Indebted accounts in the state.
	pub accounts: u32,
	/// The relative fall of every crypto price.
	pub crash: f64,
	/// Accounts the index returned (read and checked).
	pub candidates: usize,
	/// Liquidatable accounts found through the index.
	pub found_by_index: usize,
	/// Liquidatable accounts found by the full scan.
	pub found_by_scan: usize,
	/// Whether both found the same accounts.
	pub same_accounts: bool,
	/// Fastest of the runs, in seconds.
	pub index_seconds: f64,
	/// Fastest of the runs, in seconds.
	pub scan_seconds: f64,
}

impl Measurement {
	/// How many times cheaper detection with the index was.
	pub fn ratio(&self) -> f64 {
		self.scan_seconds / self.index_seconds.max(f64::MIN_POSITIVE)
	}
}

fn account(index: u32) -> AccountId {
	let mut raw = [0x5Au8; 32];
	raw[..4].copy_from_slice(&index.to_le_bytes());
	AccountId::from(raw)
}

fn price(asset: AssetId) -> f64 {
	PRICES.iter().find(|(a, _)| *a == asset).map_or(1.0, |(_, p)| *p as f64)
}

/// Smallest units of `asset` worth `usd` at the starting price.
fn amount_worth(asset: AssetId, usd: f64) -> Balance {
	let decimals = assets::DEV_ASSETS.iter().find(|a| a.id == asset).map_or(12, |a| a.decimals);
	(usd / price(asset) * 10f64.powi(decimals.into())) as Balance
}

/// Builds the state: prices fed, the index's first epoch started, `size` accounts filed.
pub fn build(size: u32, seed: u64) -> Bench {
	let started = Instant::now();
	let mut chain = TestChain::from_preset("development");
	let prices: Vec<(AssetId, Price)> =
		PRICES.iter().map(|(asset, usd)| (*asset, Price::saturating_from_integer(*usd))).collect();
	chain.feed_prices(&prices);
	// The prices are live after the feeding block: the next block's on_idle starts an epoch of
	// the risk index at them.
	chain.produce_block(vec![]);
	let referenced = chain.execute_with(|| {
		let (slot, _) = Margin::risk_slots();
		pallet_margin::References::<Runtime>::iter_prefix(slot).count()
	});
	assert!(referenced >= PRICES.len(), "the risk index references every fed asset");
	let mut random = Random::new(seed);
	let mut usd_debt_health_factors = Vec::new();
	chain.execute_with(|| {
		let weights = |asset: AssetId| {
			let params = Markets::<Runtime>::get(asset).expect("a dev asset is listed").params;
			(
				f64::from(params.maintenance_collateral_weight.deconstruct()) / 1e6,
				params.maintenance_liability_weight.to_float(),
			)
		};
		for index in 0..size {
			let who = account(index);
			let collateral: &[AssetId] = match random.next_u64() % 6 {
				0 | 1 => &[BTC],
				2 => &[ETH],
				3 => &[DOT],
				4 => &[BTC, ETH],
				_ => &[BTC, ETH, DOT],
			};
			let value = 10f64.powf(3.0 + 3.0 * random.unit());
			let health_factor = (1.0 - 0.7 * (1.0 - random.unit()).ln()).max(1.0001);
			let debt_asset =
				if !collateral.contains(&ETH) && random.next_u64() % 5 == 0 { ETH } else { USD };
			let mut positions: Vec<(AssetId, Position)> = Vec::new();
			let mut weighted_collateral = 0.0;
			for asset in collateral {
				let part = value / collateral.len() as f64;
				weighted_collateral += part * weights(*asset).0;
				positions.push((*asset, Position::Deposit(amount_worth(*asset, part))));
			}
			let debt_value = weighted_collateral / health_factor / weights(debt_asset).1;
			positions.push((debt_asset, Position::Borrow(amount_worth(debt_asset, debt_value))));
			if debt_asset == USD {
				usd_debt_health_factors.push(health_factor);
			}
			// At genesis every index is one: index units are smallest units.
			Portfolios::<Runtime>::insert(&who, PortfolioOf::<Runtime>::truncate_from(positions));
			LiableAccounts::<Runtime>::insert(&who, ());
			Margin::reindex_account(&who);
		}
	});
	chain.ext.commit_all().expect("the state commits to the trie");
	usd_debt_health_factors.sort_by(|a, b| a.total_cmp(b));
	Bench {
		chain,
		usd_debt_health_factors,
		accounts: size,
		build_seconds: started.elapsed().as_secs_f64(),
	}
}

impl Bench {
	/// The uniform fall of crypto prices that makes `share` of the accounts liquidatable: the
	/// threshold is put between two drawn health factors, so the count is exact.
	pub fn crash_for_share(&self, share: f64) -> f64 {
		let target = ((self.accounts as f64 * share).round() as usize).max(1);
		let factors = &self.usd_debt_health_factors;
		let below = factors.get(target - 1).copied().unwrap_or(1.0);
		let above = factors.get(target).copied().unwrap_or(below * 1.01);
		1.0 - 2.0 / (below + above)
	}

	/// Operators feed every crypto price `crash` lower than at the start (one block).
	pub fn crash(&mut self, crash: f64) {
		let factor =
			FixedU128::from_rational(((1.0 - crash) * 1e15) as u128, 1_000_000_000_000_000);
		let prices: Vec<(AssetId, Price)> = PRICES
			.iter()
			.map(|(asset, usd)| {
				let start = Price::saturating_from_integer(*usd);
				(*asset, if *asset == USD { start } else { start * factor })
			})
			.collect();
		self.chain.feed_prices(&prices);
	}

	/// Times detection through the index and by a full scan, `runs` times each (alternating),
	/// and keeps the fastest of each.
	pub fn measure(&mut self, crash: f64, runs: u32) -> Measurement {
		let accounts = self.accounts;
		self.chain.execute_with(|| {
			// The crash block's on_idle ran: above the rebase threshold it started a new epoch,
			// and both slots are read (each against its reference), as on chain.
			let (mut index_seconds, mut scan_seconds) = (f64::MAX, f64::MAX);
			let (mut by_index, mut by_scan, mut candidates) = (Vec::new(), Vec::new(), 0);
			for _ in 0..runs.max(1) {
				let started = Instant::now();
				by_index = Liquidation::liquidatable_accounts_at_risk(None, u32::MAX).0;
				index_seconds = index_seconds.min(started.elapsed().as_secs_f64());

				let started = Instant::now();
				by_scan = Liquidation::liquidatable_accounts(None, u32::MAX).0;
				scan_seconds = scan_seconds.min(started.elapsed().as_secs_f64());
			}
			let mut cursor: Option<pallet_margin::RiskCursor<AccountId>> = None;
			loop {
				let (page, next) = Margin::accounts_at_risk(cursor.as_ref(), 10_000);
				candidates += page.len();
				match next {
					Some(next) => cursor = Some(next),
					None => break,
				}
			}
			let index_set: BTreeSet<AccountId> = by_index.iter().map(|(w, _)| w.clone()).collect();
			let scan_set: BTreeSet<AccountId> = by_scan.iter().map(|(w, _)| w.clone()).collect();
			Measurement {
				accounts,
				crash,
				candidates,
				found_by_index: by_index.len(),
				found_by_scan: by_scan.len(),
				same_accounts: index_set == scan_set,
				index_seconds,
				scan_seconds,
			}
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// On a small population, both detections find the same accounts, the share asked for, and
	/// the index reads fewer accounts than there are.
	#[test]
	fn index_and_full_scan_find_the_same_accounts() {
		let mut bench = build(3_000, 11);
		let crash = bench.crash_for_share(0.01);
		bench.crash(crash);
		let measurement = bench.measure(crash, 1);
		assert!(measurement.same_accounts, "{measurement:?}");
		assert!(
			(25..=35).contains(&measurement.found_by_scan),
			"about 1% of 3 000: {measurement:?}"
		);
		assert!(measurement.candidates < 3_000 / 5, "{measurement:?}");
	}
}
