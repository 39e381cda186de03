//! The books: running figures read from each block's events, and the accounting identity they
//! must keep against the engine's own totals.

use super::*;
use sp_runtime::traits::Zero;

/// Running figures from the block events.
#[derive(Default)]
pub(crate) struct Books {
	pub(crate) liquidated_debt: Balance,
	pub(crate) liquidated: BTreeSet<AccountId>,
	/// Accounts liquidated in the last block read.
	pub(crate) this_block: BTreeSet<AccountId>,
	pub(crate) by_path: BTreeMap<String, u32>,
	pub(crate) fallback: u32,
	pub(crate) auctions_started: u32,
	pub(crate) auction_takes: u32,
	pub(crate) auction_restarts: u32,
	pub(crate) liquidations: u32,
	/// What was done to each account before, for [`BadDebtOrigins`].
	pub(crate) history: HashMap<AccountId, History>,
	pub(crate) auction_owners: HashMap<u32, AccountId>,
	pub(crate) origins: BadDebtOrigins,
	pub(crate) perps: PerpBooks,
	/// Accounts whose debt or positions a liquidation acted on in the last block read (its
	/// own, an auction's proceeds, a close-out): where a full liquidation is looked for.
	pub(crate) acted_on: BTreeSet<AccountId>,
	/// What liquidations cost the owners beyond the debt repaid, USD.
	pub(crate) penalties_usd: f64,
	pub(crate) derisk: DeriskBooks,
	/// Accounts a worker batch passed over in dispatch, by the code of the reason
	/// (`WorkerSkipped`): a batch the pool took and the block included, one of whose accounts the
	/// block's check refused (a keeper got there first, the account turned healthy at the new
	/// block's time, the caps full).
	pub(crate) worker_skipped: BTreeMap<u8, u32>,
}

/// Running figures of the de-riskings, from the engine's `Derisked` events.
#[derive(Default)]
pub(crate) struct DeriskBooks {
	pub(crate) slices: u32,
	pub(crate) by_worker: u32,
	pub(crate) accounts: BTreeSet<AccountId>,
	/// Collateral paid over the repayment's value and the perpetual slices' fees, USD.
	pub(crate) fees_usd: f64,
	/// Debt repaid and notional taken over, USD.
	pub(crate) value_usd: f64,
	/// Slices since the last timeline point.
	pub(crate) since_point: u32,
	/// The governed fee, a fraction.
	pub(crate) fee: f64,
}

/// Running figures of the perpetual close-outs and their waterfall, from the engine's and the
/// perpetuals pallet's events (exact, in the engine's fixed-point USD).
#[derive(Default)]
pub(crate) struct PerpBooks {
	pub(crate) closed_out: BTreeSet<AccountId>,
	pub(crate) close_outs: u32,
	pub(crate) taken_over: u32,
	pub(crate) partial: u32,
	pub(crate) notional: FixedU128,
	pub(crate) fees: FixedU128,
	pub(crate) fee_to_insurance: Balance,
	pub(crate) shortfalls: u32,
	pub(crate) shortfall: FixedU128,
	/// Insurance's cover, in USD's smallest units.
	pub(crate) covered: Balance,
	/// The haircuts of the perpetuals pallet's `Deleveraged` events.
	pub(crate) deleveraged: FixedU128,
	pub(crate) positions_deleveraged: u32,
	pub(crate) to_lps: FixedU128,
	pub(crate) most_outstanding: FixedU128,
}

/// What happened to an account before its debt was written off.
#[derive(Clone, Copy, Default)]
pub(crate) struct History {
	pub(crate) keeper: bool,
	pub(crate) auction: bool,
	/// An auction of it ended returning collateral with no shortfall (closed as unneeded, or
	/// sold what it had to raise).
	pub(crate) returned: bool,
	/// Penalties it paid, USD: liquidators' rewards, insurance's share, auction penalties.
	pub(crate) liquidator_reward_usd: f64,
	pub(crate) insurance_share_usd: f64,
	pub(crate) auction_penalty_usd: f64,
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
	pub(crate) fn read(&mut self, events: &[RuntimeEvent]) {
		self.this_block.clear();
		self.acted_on.clear();
		let value = |asset: &AssetId, amount: &Balance| {
			price_now(*asset).map_or(0.0, |price| *amount as f64 / whole(*asset) * price.to_float())
		};
		for event in events {
			match event {
				// Repaid by another than the owner: a liquidation's repayment (the perpetuals
				// vault paying a trader's profit into his USD debt is a settlement, not one).
				RuntimeEvent::Margin(pallet_margin::Event::Repaid {
					payer,
					who,
					asset,
					amount,
				}) if payer != who && *asset == USD && *payer != Perpetuals::vault_account() => {
					self.liquidated_debt += amount
				},
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
					let history = self.history.entry(who.clone()).or_default();
					history.keeper |= *path == pallet_liquidation::LiquidationPath::Keeper;
					let reward_usd = value(collateral_asset, reward);
					history.liquidator_reward_usd += reward_usd;
					// As a deposit the insurance share is paid in the debt asset.
					let insurance_asset = if *as_deposit { debt_asset } else { collateral_asset };
					let insurance_usd = value(insurance_asset, to_insurance);
					history.insurance_share_usd += insurance_usd;
					self.penalties_usd += reward_usd + insurance_usd;
					self.acted_on.insert(who.clone());
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
					self.penalties_usd += *penalty as f64 / DOLLAR;
					self.acted_on.insert(owner.clone());
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
					self.acted_on.insert(who.clone());
					*self.by_path.entry("bankrupt".into()).or_default() += 1;
					self.liquidations += 1;
				},
				RuntimeEvent::Liquidation(pallet_liquidation::Event::PositionLiquidated {
					who,
					whole,
					notional,
					fee,
					to_insurance,
					keeper,
					..
				}) => {
					let perps = &mut self.perps;
					perps.closed_out.insert(who.clone());
					perps.close_outs += 1;
					perps.taken_over += u32::from(*keeper);
					perps.partial += u32::from(!*whole);
					perps.notional = perps.notional + *notional;
					perps.fees = perps.fees + *fee;
					self.penalties_usd += fee.to_float();
					self.acted_on.insert(who.clone());
					perps.fee_to_insurance += to_insurance;
					self.liquidated.insert(who.clone());
					self.this_block.insert(who.clone());
					let path = if *keeper { "position keeper" } else { "position backstop" };
					*self.by_path.entry(path.into()).or_default() += 1;
					self.liquidations += 1;
				},
				RuntimeEvent::Liquidation(pallet_liquidation::Event::PositionShortfall {
					shortfall,
					covered,
					to_lps,
					..
				}) => {
					let perps = &mut self.perps;
					perps.shortfalls += 1;
					perps.shortfall = perps.shortfall + *shortfall;
					perps.covered += covered;
					perps.to_lps = perps.to_lps + *to_lps;
				},
				RuntimeEvent::Liquidation(pallet_liquidation::Event::ShortfallWorked {
					covered,
					to_lps,
					..
				}) => {
					self.perps.covered += covered;
					self.perps.to_lps = self.perps.to_lps + *to_lps;
				},
				RuntimeEvent::Perpetuals(pallet_perpetuals::Event::Deleveraged {
					haircut, ..
				}) => {
					self.perps.deleveraged = self.perps.deleveraged + *haircut;
					self.perps.positions_deleveraged += 1;
				},
				RuntimeEvent::Liquidation(pallet_liquidation::Event::WorkerSkipped {
					code,
					..
				}) => *self.worker_skipped.entry(*code).or_default() += 1,
				RuntimeEvent::Liquidation(pallet_liquidation::Event::FallbackLiquidations {
					liquidated,
					..
				}) => self.fallback += liquidated,
				RuntimeEvent::Liquidation(pallet_liquidation::Event::Derisked {
					who,
					keeper,
					action,
					..
				}) => {
					let derisk = &mut self.derisk;
					derisk.slices += 1;
					derisk.since_point += 1;
					derisk.by_worker += u32::from(keeper.is_none());
					derisk.accounts.insert(who.clone());
					match action {
						pallet_liquidation::DeriskAction::Spot { debt_asset, repaid, .. } => {
							// The fee at the prices the slice was made at (before the block's
							// feed, whose prices `value` reads): `seized` is worth the repayment
							// times `1 + fee` there, to the collateral's smallest unit.
							let repaid_usd = value(debt_asset, repaid);
							derisk.fees_usd += repaid_usd * derisk.fee;
							derisk.value_usd += repaid_usd;
							// Its repayment (a `Repaid` by another, read above) is not a
							// liquidation's.
							if *debt_asset == USD {
								self.liquidated_debt = self.liquidated_debt.saturating_sub(*repaid);
							}
						},
						pallet_liquidation::DeriskAction::Perpetual { underlying, units, fee } => {
							derisk.fees_usd += fee.to_float();
							derisk.value_usd += price_now(*underlying)
								.map_or(0.0, |price| units.to_float() * price.to_float());
						},
					}
				},
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
pub(crate) fn identity(books: &Books) -> (Identity, Result<(), String>) {
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

/// The perpetual waterfall's identity from the two books: the events' shortfalls equal
/// insurance's cover, the haircuts and the LPs' part from the events plus what waits in the
/// engine's queue, and each term equals the engine's per-market totals summed. Returns what
/// waits (USD); `Err` with the figures when a term differs.
pub(crate) fn perp_identity(books: &mut PerpBooks) -> Result<FixedU128, String> {
	let pending = pallet_liquidation::PendingShortfalls::<Runtime>::get()
		.iter()
		.fold(FixedU128::zero(), |sum, entry| sum + entry.left);
	books.most_outstanding = books.most_outstanding.max(pending);
	// USD has 6 decimals: a smallest unit is 10^12 of the engine's fixed-point USD.
	let covered = FixedU128::from_inner(books.covered.saturating_mul(1_000_000_000_000));
	let right = covered + books.deleveraged + books.to_lps + pending;
	if books.shortfall != right {
		return Err(format!(
			"perpetual shortfalls {:?}, but insurance {covered:?} + deleveraged {:?} + LPs {:?} \
			 + outstanding {pending:?}",
			books.shortfall, books.deleveraged, books.to_lps
		));
	}
	let totals = pallet_liquidation::PositionCloseOuts::<Runtime>::iter_values().fold(
		pallet_liquidation::PositionTotals::default(),
		|mut sum, totals| {
			sum.close_outs += totals.close_outs;
			sum.shortfall = sum.shortfall + totals.shortfall;
			sum.covered = sum.covered + totals.covered;
			sum.deleveraged = sum.deleveraged + totals.deleveraged;
			sum.to_lps = sum.to_lps + totals.to_lps;
			sum.pending = sum.pending + totals.pending;
			sum
		},
	);
	let books_terms =
		(books.close_outs, books.shortfall, covered, books.deleveraged, books.to_lps, pending);
	let engine_terms = (
		totals.close_outs,
		totals.shortfall,
		totals.covered,
		totals.deleveraged,
		totals.to_lps,
		totals.pending,
	);
	if books_terms != engine_terms {
		return Err(format!(
			"the events' (close-outs, shortfall, insurance, deleveraged, LPs, outstanding) \
			 {books_terms:?} differ from the engine's totals {engine_terms:?}"
		));
	}
	Ok(pending)
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The accounts a batch passed over are counted by reason; other events leave the count.
	#[test]
	fn the_books_count_the_accounts_a_batch_passed_over() {
		use pallet_liquidation::invalid;
		let skipped = |code| {
			RuntimeEvent::Liquidation(pallet_liquidation::Event::WorkerSkipped {
				who: AccountId::from([1; 32]),
				code,
			})
		};
		let mut books = Books::default();
		books.read(&[
			skipped(invalid::NOT_LIQUIDATABLE),
			skipped(invalid::CAPS_FULL),
			RuntimeEvent::Liquidation(pallet_liquidation::Event::WorkerBatch {
				liquidated: 3,
				skipped: 2,
			}),
		]);
		books.read(&[skipped(invalid::NOT_LIQUIDATABLE)]);
		assert_eq!(
			books.worker_skipped,
			BTreeMap::from([(invalid::NOT_LIQUIDATABLE, 2), (invalid::CAPS_FULL, 1)])
		);
	}
}
