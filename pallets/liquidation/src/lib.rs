//! # Liquidation pallet
//!
//! The engine that closes out accounts whose margin fell below maintenance, before their losses
//! exceed their collateral, and absorbs any deficit in a known order.
//!
//! ## Goals
//!
//! - **Every liquidatable account can be closed**: by a keeper, a flash sale, an auction or,
//!   when no worker runs, `on_idle`; a partial liquidation never lowers the account's health,
//!   and the deepest account is closed out one collateral at a time.
//! - **Take no more than needed**: a partial liquidation restores the target health factor,
//!   capped by the close factor; the penalty is junior to the debt.
//! - **Losses in a known order**: bad debt goes to insurance, queues for it up to a delay, and
//!   only then is socialized; every step is evented and totalled ([`Totals`]).
//! - **Transparent**: what a liquidation would do is previewed by the runtime API before anyone
//!   pays for it.
//!
//! Terms are those of the [glossary](liquidation_primitives#glossary).
//!
//! ## Overview
//!
//! The pallet owns no ledger: it reads health and moves positions through
//! [`liquidation_primitives::MarginLedger`], prices through
//! [`liquidation_primitives::PriceProvider`], sends collateral no one takes to a
//! [`liquidation_primitives::CollateralAuction`], sells through a
//! [`liquidation_primitives::CollateralSwap`], and hands losses to a
//! [`liquidation_primitives::DeficitHandler`] and a [`liquidation_primitives::LossSocializer`].
//!
//! Three ways to liquidate an account whose maintenance health is below zero:
//! - **Keeper** ([`Pallet::liquidate`], signed, permissionless): the keeper repays debt and
//!   receives collateral worth the repayment plus the liquidation penalty, less insurance's share.
//! - **Flash** ([`Pallet::flash_liquidate`], signed): the engine seizes the collateral, sells it on
//!   the DEX within the call, repays the debt and pays the caller his reward; refused, changing
//!   nothing, if the sale brings less than the oracle value minus the slippage bound.
//! - **Auction** ([`Pallet::liquidate_unsigned`], from the off-chain worker): with no liquidator,
//!   the collateral goes into a Dutch auction whose proceeds repay the debt (the engine is the
//!   auction's [`liquidation_primitives::AuctionHandler`]).
//!
//! **Derivative positions** (perpetual futures in the same margin accounts, through
//! [`liquidation_primitives::PositionLiquidation`]) are closed before spot debt: the worker's
//! unsigned liquidation and the fallback close one against the vault (the backstop), a keeper
//! takes one over ([`Pallet::liquidate_position`]); sized to the target health in close-factor
//! slices, at the fill less a fee that is a share of the margin released; an insolvent
//! account's shortfall stays with the vault, covered by insurance, then by auto-deleveraging
//! of the opposite profitable positions (exact haircuts, in `on_idle`), then borne by its LPs.
//! See [`positions`] and [`shortfall`].
//!
//! The **off-chain worker** reads, after every block, the accounts the ledger's risk index cannot
//! rule out ([`liquidation_primitives::ledger::RiskScan::accounts_at_risk`]: only those the price
//! moves could have pushed under; a bounded page, resuming where the last run stopped), and
//! submits the liquidatable ones, worst shortfall first, in batches of unsigned liquidations
//! ([`Pallet::liquidate_unsigned_batch`], [`batch`]: accounts liquidated alike share most of the
//! storage a liquidation touches, so a block holds several times more of them in batches than
//! one by one), as many as one block's normal-class weight holds by their declared weights
//! ([`Pallet::worker_budget`]; at most [`Config::MaxUnsignedPerBlock`] accounts).
//! `ValidateUnsigned` accepts them only from the local node, re-checks each
//! against current state, tags each by account (no duplicates in the pool) and gives a priority
//! that grows with the shortfall; it also runs the liquidation and undoes it, so one that would
//! fail (the sizing, debt all at auction) never enters the pool, and one the block's caps
//! have no room for is kept in the pool for the next block (`ExhaustsResources`; a liquidation
//! larger than their room is cut to it). A liquidation is **validated once**: the block that
//! includes it does not run it a second time before dispatch but checks only what the block's
//! earlier transactions may have changed (the account's health, the auction slots, the caps'
//! room: [`Pallet::check_unsigned_in_block`]), so it is charged for one run. While every
//! auction slot is taken
//! ([`liquidation_primitives::CollateralAuction::has_capacity`]), an unsigned liquidation could
//! only fail: the worker submits (and validation accepts) only bankrupt accounts then, whose
//! waterfall needs no auction; the others wait for a sale to free a slot, or for a keeper.
//!
//! **Keepers** race the worker for the same accounts. The transaction extension
//! [`CheckKeeperLiquidation`] checks a keeper's liquidation before any fee is charged (in the
//! pool, and again when a block includes it) and gives it a priority band above the worker's
//! ([`Config::KeeperPriority`]): a block takes keepers' liquidations first, and whoever comes
//! second for an account made healthy by the first is dropped, not included to fail: a keeper
//! never pays for a liquidation the worker got to first (see [`extension`]).
//!
//! With predictive de-risking switched on ([`derisk`]), and only when it submitted every
//! liquidatable account it found, the worker then uses the room left to de-risk: it reads a page
//! of indebted accounts after a second cursor and submits an unsigned slice for each one due,
//! largest excess of value at risk over buffer first. A de-risking has the lowest priority (a
//! block takes it after every liquidation and signed transaction) and may use at most
//! [`derisk::DERISK_CAP_SHARE`] of the per-block caps.
//!
//! The **fallback**: when liquidatable accounts have waited [`Config::WorkerGraceBlocks`] with no
//! worker liquidation included (no node runs a worker), `on_idle` liquidates them itself with
//! half of the block's spare weight, through the same path and caps ([`Event::FallbackLiquidations`]),
//! passing over an account whose liquidation fails (only the block's cap stops it).
//!
//! **The owner during an auction** (see [`effective`] and the handler in `impl_handler.rs`): an
//! auction raises at most the debt it was started for that its owner still owes, with the
//! penalty due on that debt; proceeds repay the debt first, then the penalty due on the debt
//! actually repaid (never more), and anything beyond goes back to him; an auction no longer
//! needed (he repaid, or deposited enough to be safe with the lot back) raises only the penalty
//! still due on debt it already repaid, then nothing: anyone may close it, returning the lot.
//!
//! **The penalty is junior to the debt.** While an account is *insolvent* (what it holds and
//! has at auction is worth less than it owes, [`Pallet::insolvent`]) it pays no penalty to
//! insurance: a keeper or flash liquidator keeps his own reward, `b (1 - s)`, and no
//! more (see [`sizing`]); an auction's penalty share of the proceeds repays more of the owner's
//! debt instead. Insurance would otherwise take the penalty and pay it straight back as cover
//! for the same account's bad debt, and the lenders' loss would look larger by as much.
//!
//! ## Terminology
//!
//! - **Shortfall**: how far maintenance-weighted debt exceeds maintenance-weighted collateral.
//! - **Health factor**: maintenance collateral over maintenance debt; below one, liquidatable.
//! - **Penalty** (`liquidation_penalty`, `b`): collateral seized is worth the repaid debt times
//!   `1 + b`; the excess is the penalty, split between the insurance fund (`insurance_share`,
//!   `s`) and the liquidator.
//! - **Reward**: the liquidator's part of the penalty, `b (1 - s)` of the repaid value: his
//!   incentive on the keeper and flash paths (an auction's buyer is paid by the falling price
//!   instead, and all of the penalty goes to insurance).
//! - **Partial liquidation**: repays what brings the health factor to `target_health_factor`,
//!   capped by `close_factor`; the whole position when the health factor is below
//!   `full_liquidation_health_factor`, when a partial one cannot help, or when the rest would be
//!   dust (see [`sizing`]).
//! - **Close-out**: a liquidation that repays the whole debt position or takes the whole
//!   collateral position. When a collateral is worth less than the repayment with its penalty,
//!   the liquidator takes all of it for what it covers (`value / (1 + b)` of debt): an account of
//!   any depth can be closed out, one collateral at a time, by a keeper, a flash liquidator or an
//!   auction.
//! - **No-harm rule** (replaces "never less healthy", which no liquidation of an account deeper
//!   than `(1 + b) w / l` could meet): a liquidation that closes out no position never raises
//!   the account's maintenance shortfall (weighted debt minus weighted collateral), and never
//!   lowers its health factor while the account is shallow enough (`h l > (1 + b) w`) for a
//!   liquidation to raise it. Repaying `R` and seizing `R (1 + b)` changes the shortfall by
//!   `R ((1 + b) w - l)`, so the rule holds by construction while `(1 + b) w < l` for every
//!   listed pair, which both sides enforce: [`Call::set_params`] refuses a penalty at or above
//!   the ledger's `penalty_limit` (`PenaltyUnsound`), and the margin pallet refuses a listing
//!   or a change of weights that would break it under the penalty in force. A slice cut to the
//!   caps' room is a partial liquidation like any other and keeps the rule. It is checked after
//!   every keeper and flash liquidation (`WouldWorsenHealth`) and by a property test over random
//!   accounts.
//! - **Effective health**: an account with collateral at auction is judged as if its auctions
//!   sold at the oracle now (see [`effective`]): a running auction shields only its lot, the
//!   rest of the account stays liquidatable by every path, and the waterfall writes off at once
//!   every debt asset no auction is still raising debt in (a debt asset an auction raises waits
//!   for its end: a debt position is written off whole).
//! - **Valuation rule**: a position whose price is stale or halted is valued at its last price
//!   (never priced: a deposit at nothing), so an unusable price neither makes an account
//!   liquidatable nor lets it escape; only the pair a liquidation repays and seizes needs a
//!   usable price.
//! - **Bankrupt**: an account with debt and no collateral left (counting what its auctions would
//!   return), or only collateral worth less than the dust value (which is then forfeited to its
//!   lending pool). Its debt is *written off* (all but the debt its auctions are raising); the
//!   insurance fund *covers* what its per-block cap allows, and the rest *waits* in the pool for
//!   later blocks' cover; only what is beyond all the fund holds, or still waits after a
//!   governed delay, is *socialized* over that asset's lenders ([`bad_debt`]).
//!   The waterfall waits while the engine or an asset of the account is paused.
//! - **Breakers**: per-block caps on the debt value liquidated (over all assets and per asset),
//!   a pause per asset and for the whole engine. Nothing is liquidated on a Missing, Stale or
//!   Halted price.
//!
//! ## Interface
//!
//! Anyone (signed): [`Pallet::liquidate`], [`Pallet::flash_liquidate`],
//! [`Pallet::liquidate_position`], [`Pallet::settle_bankrupt`], [`Pallet::derisk`]. The local
//! off-chain worker (unsigned): [`Pallet::liquidate_unsigned`], [`Pallet::derisk_unsigned`].
//! Governance: [`Pallet::set_params`], [`Pallet::set_asset_limits`],
//! [`Pallet::set_derisk_params`], [`Pallet::set_paused`]. Clients: the `LiquidationApi` runtime
//! API (liquidatable accounts, a liquidation preview, a position close-out preview, totals, and
//! the stress test of [`stress`]: what a set of price shocks would liquidate, and who would bear
//! the losses).
//!
//! ## Usage
//!
//! Alice's health factor fell below one; a keeper repays what the close factor allows and takes
//! her bitcoin with the penalty, half of it to insurance (from the pallet's tests):
//!
#![doc = docify::embed!("src/tests/mod.rs", a_keeper_repays_part_and_takes_collateral_with_the_penalty)]
//!
//! ## Implementor's guide
//!
//! - **Ledger** ([`liquidation_primitives::MarginLedger`]: every layer of
//!   [`liquidation_primitives::ledger`]): `pallet-margin` or your own lending ledger. Its
//!   `RiskScan` finds the accounts to check; a ledger without an index may return every indebted
//!   account there (correct, only slower).
//! - **Socializer** and **Deficit** ([`liquidation_primitives::LossSocializer`],
//!   [`liquidation_primitives::DeficitHandler`]): who spreads and who covers bad debt
//!   (`pallet-margin`, `pallet-insurance`); **Income** receives penalties.
//! - **Shock** ([`liquidation_primitives::PriceShock`], `pallet-prices`): moves prices inside the
//!   stress test's simulation ([`stress`]), which is always undone; `()` refuses every shock.
//! - **Auctions** ([`liquidation_primitives::CollateralAuction`], `pallet-auction`, whose
//!   handler this pallet is) and **Swap** ([`liquidation_primitives::CollateralSwap`]: the flash
//!   path's DEX; `()` disables it).
//! - The off-chain worker needs the runtime to implement `CreateBare` for this pallet's calls;
//!   **UnsignedPriority**, **UnsignedLongevity**, **MaxUnsignedPerBlock**, **ScanBatch** and
//!   **WorkerLockMillis** tune it; put [`CheckKeeperLiquidation`] in the runtime's transaction
//!   extensions (after the fee's: every extension validates before any prepares, so a refusal
//!   withdraws no fee), with **KeeperPriority** above **UnsignedPriority**; **WorkerGraceBlocks** is how long liquidatable accounts wait
//!   for it before `on_idle` acts.
//! - Keep the engine's penalty in the margin ledger's listing checks (`pallet-margin`'s
//!   `LiquidationPenalty` reads [`Params`]): both refuse a pair under which a liquidation would
//!   lower health.
//! - **WeightInfo** from your runtime's benchmarks, with `BenchmarkHelper` (with the `runtime-benchmarks` feature).
//!
//! ## Invariants (checked by `try_state`)
//!
//! 1. The parameters, when set, pass the governance range checks (de-risking's against the
//!    engine's: a fee below the penalty, a slice at most the close factor).
//! 2. The per-block usage never exceeds its cap, over all assets and per asset.
//! 3. Every auction listed for an owner ([`OwnerAuctions`]) is running: the auctions' end
//!    removes it.
//! 4. Every listed auction has its dues ([`AuctionDue`]), and there are no others.
//! 5. Per asset, the debt written off is what insurance covered, what was socialized and what
//!    still waits in the queue; an asset with bad debt waiting is in [`BadDebtQueuedSince`].
//! 6. Per derivative market, the shortfalls of insolvent accounts are what insurance covered,
//!    what auto-deleveraging took, what the vault's LPs bore and what still waits
//!    ([`PositionCloseOuts`]); what waits is the sum of the market's [`PendingShortfalls`], none
//!    of them empty, and [`ShortfallsOwed`] their sum over all markets; keepers took over at
//!    most as many close-outs as there were.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

pub mod bad_debt;
pub mod batch;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod derisk;
pub mod effective;
pub mod extension;
mod functions;
mod impl_handler;
#[cfg(test)]
mod mock;
mod offchain;
pub mod positions;
pub mod shortfall;
pub mod sizing;
pub mod stress;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use derisk::{DeriskAction, DeriskParams, RiskReport, RiskTerm};
pub use extension::CheckKeeperLiquidation;
pub use stress::{CascadeStep, StressReport, StressValue};
pub use types::*;
pub use weights::WeightInfo;

/// Collateral put up for auction is worth up to this many times what it has to raise at the oracle price
/// (capped by the deposit): room for the price to fall before the auction falls short. What is not
/// needed returns to the owner.
pub const AUCTION_LOT_COVER: u128 = 2;

/// The largest dust value governance may set, in USD: positions left worth less are
/// liquidated whole, so a large one would close out healthy-sized positions. Aave v3.3 closes
/// out positions whose leftover would be under 1 000 USD (`MIN_LEFTOVER_BASE`); ten times it
/// leaves room without letting governance close out real positions whole.
pub const MAX_DUST_VALUE_USD: u32 = 10_000;

/// The longest governance may make bad debt wait for insurance before it is socialized: 30
/// days of 6-second blocks. Lenders cannot be kept from a loss longer than this.
pub const MAX_SOCIALIZE_DELAY_BLOCKS: u32 = 30 * 14_400;

/// Codes of the `InvalidTransaction::Custom` errors of the worker's unsigned liquidations and
/// de-riskings.
pub mod invalid {
	/// The account is healthy, unknown, or its health cannot be computed.
	pub const NOT_LIQUIDATABLE: u8 = 1;
	/// The engine or the assets concerned are paused.
	pub const PAUSED: u8 = 2;
	// 3 is retired: a running auction no longer shields its owner's other collateral.
	/// Every auction slot is taken and the account is not bankrupt: its liquidation would start
	/// an auction and fail. It waits for a slot (a sale frees one) or for a keeper.
	pub const AUCTIONS_FULL: u8 = 4;
	/// Dispatching the liquidation (or the de-risking) now would fail (the collateral pool, the
	/// sizing, all its debt at auction; for a de-risking's sale, the DEX below its
	/// floor): validation runs it and undoes it, so nothing that fails is included.
	pub const WOULD_FAIL: u8 = 5;
	/// A de-risking: the switch is off, or the account is not due (its buffer covers its value
	/// at risk, it is liquidatable, or it has collateral at auction).
	pub const NOT_DUE: u8 = 6;
	/// This block's caps on liquidated value have less room left than the engine's dust. For
	/// the worker's unsigned transactions the pool is told `ExhaustsResources` instead
	/// ([`to_invalid`]): a block builder passes such a transaction over and keeps it for the
	/// next block, where it is validated again, rather than dropping it and banning its hash
	/// (which would keep the worker from resubmitting the account for 30 minutes). The pool
	/// validates against a fresh block, whose caps are unused, so it never sees this code at
	/// submission. A keeper's call gets the custom code when a block is built: dropped (its hash
	/// banned for a while), he resubmits with a new hash (a mortal era, a tip).
	pub const CAPS_FULL: u8 = 7;

	/// The pool's reason for one of these codes, for the worker's unsigned transactions.
	pub fn to_invalid(code: u8) -> sp_runtime::transaction_validity::InvalidTransaction {
		use sp_runtime::transaction_validity::InvalidTransaction;
		if code == CAPS_FULL {
			InvalidTransaction::ExhaustsResources
		} else {
			InvalidTransaction::Custom(code)
		}
	}
}

/// `value` in whole USD (rounded down, saturating): what transaction priorities add.
pub(crate) fn whole_usd(value: liquidation_primitives::UsdValue) -> u64 {
	(value.into_inner() / <sp_runtime::FixedU128 as sp_runtime::FixedPointNumber>::DIV)
		.try_into()
		.unwrap_or(u64::MAX)
}

/// Sets up what the benchmarks need.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId, AccountId> {
	/// A collateral and a debt asset, listed and with usable prices, and a DEX pool between them.
	fn assets() -> (AssetId, AssetId);
	/// An account with `debt_positions` debts (at least one) against one collateral, made
	/// liquidatable; when `bankrupt`, with only one smallest unit of collateral left (dust).
	fn liquidatable_account(debt_positions: u32, bankrupt: bool) -> AccountId;
	/// As [`Self::liquidatable_account`] (not bankrupt), holding besides the most derivative
	/// positions an account may (opened before it became liquidatable): what a check of an
	/// account costs at most. The default holds none (a runtime without derivatives).
	fn liquidatable_account_with_positions(debt_positions: u32) -> AccountId {
		Self::liquidatable_account(debt_positions, false)
	}
	/// An account holding the most derivative positions an account may, made liquidatable
	/// with a health factor above the full-liquidation one (the costlier partial close-out),
	/// and a keeper funded to take over one of them; `None` in a runtime without derivatives
	/// (the position benchmarks are then skipped).
	fn liquidatable_trader() -> Option<(AccountId, AccountId)>;
	/// A market with `traders` accounts, each holding the most positions an account may (the
	/// costliest to rank and to deleverage), of which `winners` hold a short in profit in it
	/// and the others a long; an insurance fund holding a little of the settlement asset.
	/// Returns the market's underlying; `None` in a runtime without derivatives (the
	/// benchmark is then skipped).
	fn deleverage_market(traders: u32, winners: u32) -> Option<AssetId>;
	/// An account holding `debt_positions` debts and the most derivative positions an account
	/// may, not liquidatable, whose collateral's price is volatile enough that a week's value at
	/// risk exceeds its buffer (its spot exposure the largest term), and a keeper holding every
	/// debt asset; `None` skips the benchmark (the default).
	fn derisk_account(_debt_positions: u32) -> Option<(AccountId, AccountId)> {
		None
	}
	/// A trader holding the most derivative positions an account may, not liquidatable, one of
	/// whose underlyings is volatile enough that a week's value at risk exceeds the buffer, and
	/// a keeper with margin to take units over; `None` skips the benchmark (the default).
	fn derisk_trader() -> Option<(AccountId, AccountId)> {
		None
	}
	/// `n` accounts alike, each as [`Self::liquidatable_account`] makes one (not bankrupt,
	/// `debt_positions` debts against the same collateral, no derivative position), all
	/// liquidatable at once and so deep that an auction of its largest debt takes its whole
	/// deposit (the costlier branch: the debts it backed re-counted, its entry in the risk index
	/// re-filed): the worker's batch. `None` skips the benchmark (the default).
	fn liquidatable_accounts(_n: u32, _debt_positions: u32) -> Option<alloc::vec::Vec<AccountId>> {
		None
	}
}

/// Where a walk of the ledger's risk index stopped: the ledger's own opaque cursor.
pub type CursorOf<T> =
	<<T as pallet::Config>::Ledger as liquidation_primitives::ledger::RiskScan<
		<T as frame_system::Config>::AccountId,
	>>::Cursor;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungibles, Get},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use liquidation_primitives::{
		Balance, CollateralAuction, CollateralSwap, DeficitHandler, FundIncome, LossSocializer,
		MarginLedger, PositionLiquidation, PriceError, PriceProvider, UsdValue,
	};

	/// The storage layout's version: 0, the layout since genesis. A change of what is stored
	/// bumps it and comes with a migration in a `migrations` module (as `pallet-insurance`'s
	/// `v1`), listed in the runtime's `Executive`.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		frame_system::Config + frame_system::offchain::CreateBare<Call<Self>>
	{
		/// Identifies an asset.
		type AssetId: Parameter + Member + MaxEncodedLen + Ord + Copy + MaybeSerializeDeserialize;

		/// Every asset the engine moves (the native token and `pallet-assets` alike).
		type Assets: fungibles::Mutate<Self::AccountId, AssetId = Self::AssetId, Balance = Balance>;

		/// Margin accounts: health, positions, the moves of a liquidation.
		type Ledger: MarginLedger<Self::AccountId, AssetId = Self::AssetId, Balance = Balance>;

		/// Spreads uncovered bad debt over lenders.
		type Socializer: LossSocializer<Self::AssetId, Balance>;

		/// Covers bad debt (the insurance fund).
		type Deficit: DeficitHandler<Self::AccountId, Self::AssetId, Balance>;

		/// Takes the insurance share of penalties (the insurance fund).
		type Income: FundIncome<Self::AccountId, Self::AssetId, Balance>;

		/// Dutch auctions for collateral no liquidator takes.
		type Auctions: CollateralAuction<
			Self::AccountId,
			AssetId = Self::AssetId,
			Balance = Balance,
			AuctionId = u32,
		>;

		/// The DEX, for flash liquidations.
		type Swap: CollateralSwap<Self::AccountId, Self::AssetId, Balance>;

		/// Oracle prices (the flash path's slippage bound, the sizing).
		type Prices: PriceProvider<Self::AssetId>;

		/// Moves prices inside the stress test's simulation, which is always undone
		/// ([`crate::stress`]); `()` leaves prices as they are (every shock is then refused).
		type Shock: liquidation_primitives::PriceShock<Self::AssetId>;

		/// The period the prices' volatility is stated over, in milliseconds (the prices
		/// pallet's own): scales the value at risk of predictive de-risking to its horizon
		/// ([`crate::derisk`]).
		#[pallet::constant]
		type VolatilityPeriodMs: Get<u64>;

		/// Derivative positions in the same margin accounts, closed out before spot debt
		/// ([`crate::positions`]); `()` for a runtime without derivatives.
		type Derivatives: PositionLiquidation<Self::AccountId, Self::AssetId>;

		/// Who sets parameters, caps and pauses.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The engine's account (receives seized collateral and insurance cover in passing).
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Most positions an account may hold (the ledger's bound): sizes the weight of a
		/// bankrupt account's write-offs.
		#[pallet::constant]
		type MaxPositions: Get<u32>;

		/// Most auctions running for one account at once.
		#[pallet::constant]
		type MaxAuctionsPerAccount: Get<u32>;

		/// Accounts at risk (from the ledger's risk index) the off-chain worker, or the `on_idle`
		/// fallback, reads per run; each resumes where it stopped.
		#[pallet::constant]
		type ScanBatch: Get<u32>;

		/// Blocks liquidatable accounts may wait with no unsigned liquidation included before
		/// `on_idle` liquidates them itself: the chain stays safe on nodes without a worker.
		#[pallet::constant]
		type WorkerGraceBlocks: Get<BlockNumberFor<Self>>;

		/// Most unsigned transactions (liquidations, then de-riskings) the off-chain worker
		/// submits per run: a bound on its work. The block's weight bounds them first (the
		/// worker submits what one block holds, [`Pallet::worker_budget`]).
		#[pallet::constant]
		type MaxUnsignedPerBlock: Get<u32>;

		/// Most accounts in one of the worker's batches ([`Pallet::liquidate_unsigned_batch`]).
		/// A batch declares the sum of its accounts' costliest paths, which the block must have
		/// free before it dispatches it, so a batch that declares more than a block leaves free
		/// after keepers' calls waits; one that holds few accounts shares little of what its
		/// accounts read and write alike (the engine's parameters, the caps, each asset's
		/// market, pool and insurance fund).
		#[pallet::constant]
		type MaxUnsignedBatch: Get<u32>;

		/// Base priority of unsigned liquidations; the shortfall in whole USD is added.
		#[pallet::constant]
		type UnsignedPriority: Get<TransactionPriority>;

		/// Base priority of a keeper's liquidation that passes [`CheckKeeperLiquidation`] (when
		/// the runtime includes that extension); the shortfall in whole USD is added. Above
		/// `UnsignedPriority` by more than any shortfall, keepers' liquidations go into a block
		/// before the worker's.
		#[pallet::constant]
		type KeeperPriority: Get<TransactionPriority>;

		/// Blocks an unsigned liquidation stays valid in the pool.
		#[pallet::constant]
		type UnsignedLongevity: Get<TransactionLongevity>;

		/// How long the off-chain worker's lock holds, in milliseconds: overlapping runs (a
		/// slow run and the next block's) never submit twice.
		#[pallet::constant]
		type WorkerLockMillis: Get<u64>;

		/// Weights of the calls, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;

		/// Benchmark set-up.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AssetId, Self::AccountId>;
	}

	/// The engine's parameters; without them nothing is liquidated.
	#[pallet::storage]
	pub type Params<T: Config> = StorageValue<_, EngineParams>;

	/// Predictive de-risking's parameters ([`crate::derisk`]); none: the switch is off.
	#[pallet::storage]
	pub type DeriskParamsOf<T: Config> = StorageValue<_, DeriskParams>;

	/// Per-asset caps and pauses (an asset without an entry has no cap of its own).
	#[pallet::storage]
	pub type AssetLimitsOf<T: Config> = StorageMap<_, Blake2_128Concat, T::AssetId, AssetLimits>;

	/// The whole engine is paused.
	#[pallet::storage]
	pub type Paused<T: Config> = StorageValue<_, bool, ValueQuery>;

	/// Debt value liquidated in the block named, over all assets.
	#[pallet::storage]
	pub type BlockUsage<T: Config> = StorageValue<_, (BlockNumberFor<T>, UsdValue), ValueQuery>;

	/// Debt value liquidated in the block named, per debt asset.
	#[pallet::storage]
	pub type AssetBlockUsage<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, (BlockNumberFor<T>, UsdValue), ValueQuery>;

	/// Running auctions started for each account.
	#[pallet::storage]
	pub type OwnerAuctions<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AccountId,
		BoundedVec<u32, T::MaxAuctionsPerAccount>,
		ValueQuery,
	>;

	/// What each running auction the engine started is raising for its owner's side: the debt
	/// it repays, the penalty on that debt, and what it paid of each (see [`AuctionDues`]).
	#[pallet::storage]
	pub type AuctionDue<T: Config> = StorageMap<_, Twox64Concat, u32, AuctionDues>;

	/// The last block an unsigned (worker) liquidation was included in.
	#[pallet::storage]
	pub type LastWorkerLiquidation<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Since when `on_idle` has seen liquidatable accounts (cleared by a walk of the risk index
	/// that finds none).
	#[pallet::storage]
	pub type UnhandledSince<T: Config> = StorageValue<_, BlockNumberFor<T>>;

	/// Where `on_idle`'s walk of the risk index resumes.
	#[pallet::storage]
	pub type IdleCursor<T: Config> = StorageValue<_, CursorOf<T>>;

	/// Per asset with bad debt waiting for insurance: the block it started waiting (see
	/// [`crate::bad_debt`]); what waits is the pool's bad debt.
	#[pallet::storage]
	pub type BadDebtQueuedSince<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, BlockNumberFor<T>>;

	/// The last asset whose bad-debt queue `on_initialize` worked: the next block resumes after
	/// it.
	#[pallet::storage]
	pub type BadDebtQueueCursor<T: Config> = StorageValue<_, T::AssetId>;

	/// Running totals per asset.
	#[pallet::storage]
	pub type Totals<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, LiquidationTotals, ValueQuery>;

	/// Running totals of derivative close-outs per market (its underlying).
	#[pallet::storage]
	pub type PositionCloseOuts<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, PositionTotals, ValueQuery>;

	/// What is left of the shortfalls in [`PendingShortfalls`], USD: what the perpetuals vault
	/// is owed (read by its value, so kept apart from the queue's larger entries).
	#[pallet::storage]
	pub type ShortfallsOwed<T: Config> = StorageValue<_, UsdValue, ValueQuery>;

	/// Shortfalls of insolvent accounts' positions that insurance had not covered at their
	/// close-out, oldest first, worked in `on_idle` (see [`crate::shortfall`]).
	#[pallet::storage]
	pub type PendingShortfalls<T: Config> = StorageValue<
		_,
		BoundedVec<
			PendingShortfall<T::AssetId, T::AccountId, BlockNumberFor<T>>,
			ConstU32<{ crate::shortfall::MAX_PENDING_SHORTFALLS }>,
		>,
		ValueQuery,
	>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// The engine's parameters (none: the engine is off until governance sets them).
		pub params: Option<EngineParams>,
		/// Per-asset caps.
		pub asset_limits: alloc::vec::Vec<(T::AssetId, AssetLimits)>,
		/// Predictive de-risking's parameters (none: switched off).
		pub derisk_params: Option<DeriskParams>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// Checked like the governance calls: a bad preset must not build a chain.
			if let Some(params) = self.params {
				if let Err(error) = Pallet::<T>::do_set_params(params) {
					panic!("invalid liquidation parameters in genesis: {error:?}");
				}
			}
			for (asset, limits) in &self.asset_limits {
				AssetLimitsOf::<T>::insert(asset, limits);
			}
			if let Some(derisk) = self.derisk_params {
				if let Err(error) = Pallet::<T>::do_set_derisk_params(Some(derisk)) {
					panic!("invalid de-risking parameters in genesis: {error:?}");
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` was liquidated: `repaid` of its debt, `seized` of its collateral.
		Liquidated {
			/// The liquidated account.
			who: T::AccountId,
			/// How it was liquidated.
			path: LiquidationPath,
			/// The keeper or flash liquidator (`None` on the unsigned and fallback paths).
			liquidator: Option<T::AccountId>,
			/// The asset of the debt.
			debt_asset: T::AssetId,
			/// Debt repaid, in the debt asset's smallest units.
			repaid: Balance,
			/// The asset of the collateral.
			collateral_asset: T::AssetId,
			/// Collateral seized, in its smallest units.
			seized: Balance,
			/// Penalty paid to insurance: in the collateral for a keeper, in the debt asset for a
			/// flash sale or when the collateral was handed over as a deposit.
			to_insurance: Balance,
			/// The liquidator's reward (his part of the penalty), in the collateral for a keeper,
			/// in the debt asset for a flash sale.
			reward: Balance,
			/// The collateral's pool had lent out its cash: the keeper received the deposit
			/// position itself in his margin account (withdrawable as cash returns), and paid
			/// the insurance share of the penalty in the debt asset.
			as_deposit: bool,
		},
		/// (Part of) `who`'s derivative position in `underlying` was closed out at the oracle
		/// price moved against it by the liquidation fee (see [`crate::positions`]).
		PositionLiquidated {
			/// The liquidated account.
			who: T::AccountId,
			/// The market's underlying.
			underlying: T::AssetId,
			/// Whole units closed.
			units: sp_runtime::FixedU128,
			/// Whether the whole position was closed.
			whole: bool,
			/// The notional closed, USD at the oracle.
			notional: UsdValue,
			/// The liquidation fee, USD, insurance's share included.
			fee: UsdValue,
			/// Insurance's share of the fee, in the settlement asset's smallest units.
			to_insurance: Balance,
			/// Who took the units over: the keeper, or the vault's account (the backstop).
			taker: T::AccountId,
			/// Whether a keeper took them over.
			keeper: bool,
		},
		/// An insolvent account's position was closed out: `shortfall` of its loss (what it owed
		/// beyond all it held) was left with the vault; the insurance fund covered `covered` of it
		/// at once, `queued` waits in [`PendingShortfalls`] (for insurance in later blocks, then
		/// auto-deleveraging, then the LPs), and the LPs bore `to_lps` at once when the queue was
		/// full (see [`crate::shortfall`]).
		PositionShortfall {
			/// The insolvent account.
			who: T::AccountId,
			/// The market's underlying.
			underlying: T::AssetId,
			/// The shortfall, USD.
			shortfall: UsdValue,
			/// Paid by insurance into the vault, in the settlement asset's smallest units.
			covered: Balance,
			/// Left waiting in the queue, USD.
			queued: UsdValue,
			/// Borne by the vault's LPs at once (the queue full), USD.
			to_lps: UsdValue,
		},
		/// A block's turn (in `on_idle`) of a shortfall waiting in [`PendingShortfalls`]:
		/// insurance paid `covered` into the vault, auto-deleveraging took `deleveraged` from the
		/// opposite positions' profit (each [`liquidation_primitives::PositionLiquidation`]'s
		/// own event names them), the LPs bore `to_lps` (no opposite profit left after a whole
		/// pass over the market's traders), and `left` still waits.
		ShortfallWorked {
			/// The market's underlying.
			underlying: T::AssetId,
			/// Paid by insurance, in the settlement asset's smallest units.
			covered: Balance,
			/// Taken by auto-deleveraging, USD.
			deleveraged: UsdValue,
			/// Borne by the vault's LPs, USD.
			to_lps: UsdValue,
			/// Still waiting, USD.
			left: UsdValue,
			/// Traders read by auto-deleveraging's scan.
			read: u32,
		},
		/// With no liquidator, `lot` of `who`'s collateral went to auction `auction` to raise
		/// `to_raise` of the debt asset (debt plus penalty).
		AuctionStarted {
			/// The liquidated account.
			who: T::AccountId,
			/// The auction.
			auction: u32,
			/// The asset of the collateral.
			collateral_asset: T::AssetId,
			/// Collateral put up, in its smallest units.
			lot: Balance,
			/// The asset of the debt.
			debt_asset: T::AssetId,
			/// Most the proceeds may be, in the debt asset's smallest units.
			to_raise: Balance,
		},
		/// Auction `auction`'s proceeds repaid `repaid` of `owner`'s debt; `penalty` (due on what
		/// was repaid, never more) went to insurance; `returned` (what the owner no longer owed)
		/// went back to him. While the owner is insolvent the penalty repays debt instead (it is
		/// then part of `repaid`).
		AuctionProceeds {
			/// The account whose collateral was at auction.
			owner: T::AccountId,
			/// The auction.
			auction: u32,
			/// The asset of the debt.
			debt_asset: T::AssetId,
			/// Debt repaid, in the debt asset's smallest units.
			repaid: Balance,
			/// Paid to insurance as penalty.
			penalty: Balance,
			/// Returned to the owner.
			returned: Balance,
		},
		/// Auction `auction` ended `shortfall` short of what it still wanted.
		AuctionShortfall {
			/// The account whose collateral was at auction.
			owner: T::AccountId,
			/// The auction.
			auction: u32,
			/// The asset of the debt.
			debt_asset: T::AssetId,
			/// Not raised, in the debt asset's smallest units.
			shortfall: Balance,
		},
		/// A bankrupt account's debt went down the waterfall: `bad_debt` written off; then, for
		/// the asset's bad debt as a whole (this account's and any earlier still waiting),
		/// `covered` by the fund in the asset in this block, `socialized` over the lenders (what
		/// the funds cannot pay before the delay ends, or all once it has), `queued` now waiting
		/// for insurance.
		BadDebtSettled {
			/// The liquidated account.
			who: T::AccountId,
			/// The asset of the debt.
			asset: T::AssetId,
			/// Written off for this account.
			bad_debt: Balance,
			/// Paid by insurance in this block.
			covered: Balance,
			/// Spread over the lenders in this block.
			socialized: Balance,
			/// Still waiting for insurance.
			queued: Balance,
		},
		/// A block's turn of `asset`'s bad-debt queue: `covered` by insurance, `socialized` (the
		/// delay passed, or beyond the fund), `queued` still waiting.
		BadDebtQueueWorked {
			/// The asset.
			asset: T::AssetId,
			/// Paid by insurance in this block.
			covered: Balance,
			/// Spread over the lenders in this block.
			socialized: Balance,
			/// Still waiting for insurance.
			queued: Balance,
		},
		/// Governance set the parameters.
		ParamsSet {
			/// The parameters now in force.
			params: EngineParams,
		},
		/// Governance set (or with `None` removed) an asset's limits.
		AssetLimitsSet {
			/// The asset.
			asset: T::AssetId,
			/// The limits now in force (`None`: removed).
			limits: Option<AssetLimits>,
		},
		/// Governance paused or resumed the engine.
		PausedSet {
			/// Whether the engine is now paused.
			paused: bool,
		},
		/// The worker's batch passed over `who`: the block's check refused it, or its
		/// liquidation failed and changed nothing. `code` says why, as validation would
		/// ([`crate::invalid`]: 1 not liquidatable, 2 the engine paused, 4 every auction slot
		/// taken, 5 the liquidation failed, 7 the block's caps full).
		WorkerSkipped {
			/// The account passed over.
			who: T::AccountId,
			/// Why, an [`crate::invalid`] code.
			code: u8,
		},
		/// The worker's batch ran: `liquidated` of its accounts liquidated, `skipped` passed over.
		WorkerBatch {
			/// Accounts liquidated.
			liquidated: u32,
			/// Accounts passed over ([`Event::WorkerSkipped`]).
			skipped: u32,
		},
		/// No worker liquidation was included for `waited` blocks while accounts were
		/// liquidatable: `on_idle` checked `checked` accounts at risk and liquidated
		/// `liquidated` of them itself.
		FallbackLiquidations {
			/// Blocks without a worker liquidation.
			waited: BlockNumberFor<T>,
			/// Accounts at risk checked.
			checked: u32,
			/// Accounts liquidated.
			liquidated: u32,
		},
		/// `who`, not liquidatable but with a value at risk above its buffer, was de-risked by
		/// `keeper`: one slice ([`crate::derisk`]).
		Derisked {
			/// The account de-risked.
			who: T::AccountId,
			/// The keeper, paid the fee (`None`: the off-chain worker's slice, sold on the DEX
			/// or taken over by the vault).
			keeper: Option<T::AccountId>,
			/// What was repaid and paid, or taken over.
			action: DeriskAction<T::AssetId>,
			/// Its value at risk before and after, USD.
			value_at_risk: (UsdValue, UsdValue),
			/// Its buffer (maintenance collateral less maintenance debt) before and after, USD.
			buffer: (UsdValue, UsdValue),
		},
		/// Predictive de-risking's parameters were set (`None`: switched off).
		DeriskParamsSet {
			/// The new parameters.
			params: Option<DeriskParams>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The engine has no parameters.
		NotConfigured,
		/// The engine is paused.
		EnginePaused,
		/// The debt or collateral asset is paused.
		AssetPaused,
		/// The account's maintenance health is not below zero.
		NotLiquidatable,
		/// All of the account's remaining debt is being raised at auction: the waterfall waits
		/// for the auctions to end.
		InAuction,
		/// The account has no debt in the named asset.
		NoDebt,
		/// The account holds no derivative position (in the named market) with a usable price.
		NoPosition,
		/// The account has no deposit in the named asset.
		NoCollateral,
		/// The account has collateral: it is not bankrupt.
		NotBankrupt,
		/// Nothing would be repaid or seized (a zero limit, or dust).
		NothingToLiquidate,
		/// A price the liquidation needs is not usable (missing, stale or halted by the circuit
		/// breaker: [`PriceError`]); nothing is liquidated at a price no one can check.
		Price(PriceError),
		/// This block's cap on liquidated value over all assets is reached.
		BlockCapReached,
		/// This block's cap on liquidated value in the debt asset is reached.
		AssetCapReached,
		/// The DEX sale failed: no pool, or it would bring less than the slippage bound allows.
		SaleFailed,
		/// The DEX sale brought less than the debt to repay.
		SaleShortOfDebt,
		/// The liquidation would break the no-harm rule: a partial one would lower the account's
		/// health factor, or one that closes out no position would raise its shortfall.
		WouldWorsenHealth,
		/// The account has as many running auctions as allowed.
		TooManyAuctions,
		/// The liquidation penalty is above 50%.
		PenaltyTooHigh,
		/// The close factor is zero.
		CloseFactorZero,
		/// The target health factor is not above 1 and at most 3.
		TargetHealthOutOfRange,
		/// The full-liquidation health factor is not above 0 and below 1.
		FullLiquidationThresholdOutOfRange,
		/// The slippage bound is above 50%.
		SlippageTooHigh,
		/// A per-block cap is zero.
		CapZero,
		/// The collateral's pool has lent out all its cash: a flash sale needs tokens. A keeper
		/// takes the deposit position instead, or the worker auctions it.
		CollateralIlliquid,
		/// The delay before uncovered bad debt is socialized is above
		/// [`crate::MAX_SOCIALIZE_DELAY_BLOCKS`].
		SocializeDelayTooLong,
		/// The dust value is above [`crate::MAX_DUST_VALUE_USD`].
		DustValueTooHigh,
		/// At this penalty a liquidation of some pair of listed assets would lower the account's
		/// health: `(1 + penalty)` times the largest maintenance collateral weight must stay
		/// below the smallest maintenance liability weight
		/// ([`liquidation_primitives::ledger::Inspect::penalty_limit`]).
		PenaltyUnsound,
		/// A stress test names more shocks, or a cascade more falls, than
		/// [`crate::stress::MAX_SHOCKS`].
		TooManyShocks,
		/// A shock's change is below -99.99 % or above +1 000 %, or a cascade's fall is not
		/// from 1 to 99 percent.
		ShockOutOfRange,
		/// A shocked asset has no price.
		NoPriceToShock,
		/// Predictive de-risking is switched off.
		DeriskDisabled,
		/// The de-risking parameters are out of range: a horizon from a minute to a week, a
		/// confidence from 80 % to 99.9 %, a slice above zero and at most the close factor, a
		/// fee below the liquidation penalty (and the engine configured).
		DeriskParamsInvalid,
		/// The account's buffer covers its value at risk (or it is liquidatable, or has
		/// collateral at auction: a liquidation's): nothing to de-risk.
		NotDue,
		/// A keeper may not de-risk his own account.
		OwnAccount,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn offchain_worker(now: BlockNumberFor<T>) {
			Self::run_worker(now);
		}

		/// Works the bad-debt queue: insurance pays what its per-block cap allows of the bad
		/// debt still waiting, and what is due is socialized (see [`crate::bad_debt`]).
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::work_bad_debt_queue(now)
		}

		/// The fallback: when liquidatable accounts have waited [`Config::WorkerGraceBlocks`]
		/// with no worker liquidation included, liquidate them here, within the same caps, as
		/// far as half of the block's spare weight goes (waiting shortfalls keep the rest).
		///
		/// Then, with what weight is left, the shortfalls of insolvent accounts' positions
		/// waiting in [`PendingShortfalls`]: insurance, auto-deleveraging, the LPs (see
		/// [`crate::shortfall`]).
		fn on_idle(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
			// The fallback may take half of the spare weight: waiting shortfalls keep the rest
			// (and what the fallback leaves), however many accounts wait.
			let used = Self::idle_fallback(now, remaining.checked_div(2).unwrap_or_default());
			used.saturating_add(Self::work_position_shortfalls(remaining.saturating_sub(used)))
		}

		fn integrity_test() {
			assert!(T::MaxPositions::get() > 0, "MaxPositions must be positive");
			assert!(T::ScanBatch::get() > 0, "ScanBatch must be positive");
			assert!(!T::WorkerGraceBlocks::get().is_zero(), "WorkerGraceBlocks must be positive");
			assert!(T::MaxUnsignedPerBlock::get() > 0, "MaxUnsignedPerBlock must be positive");
			assert!(T::MaxUnsignedBatch::get() > 0, "MaxUnsignedBatch must be positive");
			// A batch of the costliest accounts must fit one transaction of the normal class, or
			// no block could take the worker's full batches.
			let full_batch = Self::unsigned_weight()
				.saturating_add(T::DbWeight::get().reads(5))
				.saturating_add(Self::unsigned_check_weight())
				.saturating_mul(T::MaxUnsignedBatch::get().into())
				.saturating_add(Self::batch_base_weight());
			let max_extrinsic = <T as frame_system::Config>::BlockWeights::get()
				.get(frame_support::dispatch::DispatchClass::Normal)
				.max_extrinsic;
			assert!(
				max_extrinsic.is_none_or(|max| full_batch.all_lte(max)),
				"MaxUnsignedBatch accounts declare more than one transaction may"
			);
			// A de-risking's priority is zero: a liquidation's must be above it to replace it.
			assert!(T::UnsignedPriority::get() > 0, "UnsignedPriority must be positive");
			// Keepers' liquidations go into a block before the worker's (see `extension`).
			assert!(
				T::KeeperPriority::get() > T::UnsignedPriority::get(),
				"KeeperPriority must be above UnsignedPriority"
			);
			assert!(T::UnsignedLongevity::get() > 0, "UnsignedLongevity must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Liquidates `who` as a keeper: repays up to `max_repay` of its `debt_asset` debt (as
		/// sized by the engine) from the caller, and pays the caller the seized `collateral_asset`
		/// less the insurance share of the penalty. A bankrupt remainder goes down the waterfall.
		#[pallet::call_index(0)]
		#[pallet::weight(
			<T as Config>::WeightInfo::liquidate()
				.saturating_add(<T as Config>::WeightInfo::settle_bankrupt(T::MaxPositions::get()))
		)]
		pub fn liquidate(
			origin: OriginFor<T>,
			who: T::AccountId,
			debt_asset: T::AssetId,
			collateral_asset: T::AssetId,
			#[pallet::compact] max_repay: Balance,
		) -> DispatchResultWithPostInfo {
			let liquidator = ensure_signed(origin)?;
			let bankrupt_debts = Self::do_liquidate_keeper(
				liquidator,
				who,
				debt_asset,
				collateral_asset,
				max_repay,
			)?;
			Ok(Some(Self::with_waterfall(T::WeightInfo::liquidate(), bankrupt_debts)).into())
		}

		/// Liquidates `who` through the DEX: seizes collateral as for a keeper, sells it for the
		/// debt asset within this call, repays the debt and pays the caller its share of what
		/// the sale brought beyond the debt. Refused, changing nothing, if the sale would bring
		/// less than the oracle value minus the slippage bound, or less than the debt.
		#[pallet::call_index(1)]
		#[pallet::weight(
			<T as Config>::WeightInfo::flash_liquidate()
				.saturating_add(<T as Config>::WeightInfo::settle_bankrupt(T::MaxPositions::get()))
		)]
		pub fn flash_liquidate(
			origin: OriginFor<T>,
			who: T::AccountId,
			debt_asset: T::AssetId,
			collateral_asset: T::AssetId,
			#[pallet::compact] max_repay: Balance,
		) -> DispatchResultWithPostInfo {
			let caller = ensure_signed(origin)?;
			let bankrupt_debts =
				Self::do_flash_liquidate(caller, who, debt_asset, collateral_asset, max_repay)?;
			Ok(Some(Self::with_waterfall(T::WeightInfo::flash_liquidate(), bankrupt_debts)).into())
		}

		/// The off-chain worker's liquidation of `who`: an account with derivative positions has
		/// the one with the largest maintenance requirement closed out against the vault (the
		/// backstop, [`crate::positions`]); else a bankrupt account goes down the waterfall;
		/// otherwise its largest debt is covered by its largest collateral through a Dutch
		/// auction. Only valid from the local node (see `ValidateUnsigned`).
		///
		/// `found_at` is the block whose state the worker read. It is not checked (the
		/// liquidation is valid whenever validation finds it so); it makes each run's
		/// transaction for `who` new bytes. Without it every worker liquidation of one account is
		/// the same transaction, which a node's pool refuses for a while once a block included
		/// it (the fork-aware pool until that block is final, the single-state pool bans it for
		/// 30 minutes), so an account liquidated again soon after (the next slice under the
		/// caps, a further fall) would wait for keepers.
		///
		/// It is validated once: the pool runs it and undoes it (so that one that would fail
		/// does not enter it), and a block only checks it against what the block's earlier
		/// transactions changed (`pre_dispatch`, [`Pallet::check_unsigned_in_block`]). Its weight
		/// is the path's and that check's. It reads whether `who` holds derivative positions (one
		/// storage value) to choose its bound: the close-outs', or the spot paths' (an auction, a
		/// bankruptcy's waterfall); it refunds to the path taken.
		#[pallet::call_index(2)]
		#[pallet::weight(Pallet::<T>::liquidate_unsigned_weight(who))]
		pub fn liquidate_unsigned(
			origin: OriginFor<T>,
			who: T::AccountId,
			found_at: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			// Only the transaction's bytes need it (see the call's docs).
			let _ = found_at;
			LastWorkerLiquidation::<T>::put(frame_system::Pallet::<T>::block_number());
			let weight = Self::unsigned_path_weight(&Self::do_liquidate_unsigned(who)?);
			// The block's check of the account too, and the read that chose the bound (see
			// `liquidate_unsigned_weight`).
			Ok(Some(Self::with_unsigned_check(weight)).into())
		}

		/// The off-chain worker's liquidations of `accounts`, in order, each as
		/// [`Pallet::liquidate_unsigned`] liquidates one. Only valid from the local node (see
		/// `ValidateUnsigned`: the pool runs the batch and undoes it, and takes it only if every
		/// account's liquidation succeeds after those before it). The block checks each account
		/// before liquidating it ([`Pallet::check_unsigned_in_block`]) and passes over, changing
		/// nothing for it, one its earlier transactions made safe, or whose liquidation fails
		/// ([`Event::WorkerSkipped`]); the batch itself succeeds ([`Event::WorkerBatch`]).
		///
		/// Why a batch: one block holds far more liquidations in batches than one by one. A
		/// transaction's weight counts every storage key it reads and writes, while accounts
		/// liquidated alike share most of them (the engine's parameters, the caps, and for each
		/// asset its market, prices, pool and insurance fund): in one transaction the first
		/// account pays for those keys and the next only for its own (see
		/// [`Pallet::liquidate_unsigned_batch_weight`]).
		///
		/// It declares each account's bound as [`Pallet::liquidate_unsigned`] does, and refunds
		/// to what was done: an account auctioned after another auction of the same two assets
		/// in the batch, holding no asset the batch had not read before and no derivative
		/// position, is charged its share of the batch as benchmarked for its shape
		/// (`WeightInfo::liquidate_unsigned_batch_one_debt` for one deposit and one debt,
		/// `WeightInfo::liquidate_unsigned_batch` for more; [`batch::ShareClass`]); any other
		/// its path alone; one passed over,
		/// the block's check (or its bound, when its liquidation failed).
		#[pallet::call_index(7)]
		#[pallet::weight(Pallet::<T>::liquidate_unsigned_batch_weight(accounts))]
		pub fn liquidate_unsigned_batch(
			origin: OriginFor<T>,
			accounts: BoundedVec<T::AccountId, T::MaxUnsignedBatch>,
			found_at: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			// Only the transaction's bytes need it (see [`Pallet::liquidate_unsigned`]).
			let _ = found_at;
			let (weight, liquidated) = Self::do_liquidate_batch(accounts.into_inner());
			// The fallback waits for the worker only while its batches liquidate.
			if liquidated > 0 {
				LastWorkerLiquidation::<T>::put(frame_system::Pallet::<T>::block_number());
			}
			Ok(Some(weight).into())
		}

		/// Closes out (part of) `who`'s derivative position in `underlying` as a keeper: the caller
		/// takes over the units the engine sizes (at most `max_units`, whole units of the
		/// underlying) at the oracle price moved against `who` by the liquidation fee, so he
		/// holds the fee as unrealised profit, and pays insurance's share of the fee in the
		/// settlement asset. Refused if the caller is liquidatable, or if the takeover adds to
		/// his risk and leaves him below initial health or is in a paused market. An account
		/// left with debt and nothing else goes down the waterfall.
		///
		/// A partial takeover the no-harm guard refuses is made whole when `max_units` covers the
		/// whole position (the close-out then runs twice), refused otherwise.
		#[pallet::call_index(4)]
		#[pallet::weight(
			<T as Config>::WeightInfo::liquidate_position()
				.saturating_mul(2)
				.saturating_add(<T as Config>::WeightInfo::settle_bankrupt(T::MaxPositions::get()))
		)]
		pub fn liquidate_position(
			origin: OriginFor<T>,
			who: T::AccountId,
			underlying: T::AssetId,
			max_units: sp_runtime::FixedU128,
		) -> DispatchResultWithPostInfo {
			let keeper = ensure_signed(origin)?;
			let (done, debts) =
				Self::do_close_position(&who, Some(underlying), Some(&keeper), max_units)?;
			let close_outs = T::WeightInfo::liquidate_position().saturating_mul(done.runs.into());
			Ok(Some(Self::with_waterfall(close_outs, debts)).into())
		}

		/// De-risks `who` by one slice: an account not liquidatable whose value at risk over the
		/// governed horizon exceeds its maintenance buffer ([`crate::derisk`]). The caller, a
		/// keeper, repays part of its debt and receives collateral worth the repayment plus the
		/// de-risking fee, or takes over part of its perpetual position at the oracle moved by
		/// the fee; never more than brings the value at risk back to the buffer, at most the
		/// governed slice, within half the block's caps. Refused when the switch is off, the account
		/// is not due, its buffer would fall, or the slice would not lower the excess of its
		/// value at risk over its buffer.
		///
		/// A perpetual slice that would pass the buffer is undone and made again, scaled (see
		/// [`crate::derisk`]): its bound counts every trial's close-out and report.
		#[pallet::call_index(5)]
		#[pallet::weight(
			<T as Config>::WeightInfo::derisk_spot().max(
				<T as Config>::WeightInfo::derisk_perpetual().saturating_add(
					<T as Config>::WeightInfo::liquidate_position()
						.saturating_add(<T as Config>::WeightInfo::check_account())
						.saturating_mul(derisk::PERPETUAL_TRIALS.saturating_sub(1).into())
				)
			)
		)]
		pub fn derisk(origin: OriginFor<T>, who: T::AccountId) -> DispatchResultWithPostInfo {
			let keeper = ensure_signed(origin)?;
			// No refund by path: the perpetual slice's benchmark holds one spot position, and an
			// account with the most spot positions whose largest term is a perpetual reads as
			// much as the spot slice's.
			Self::do_derisk(Some(keeper), who)?;
			Ok(().into())
		}

		/// The off-chain worker's de-risking of `who` by one slice, as [`Pallet::derisk`] sizes
		/// it, with no keeper: a spot slice's collateral is sold on the DEX (within the engine's
		/// slippage bound, and for at least the debt it repays plus half the fee), the debt
		/// repaid from the sale and the rest paid to insurance (the owner pays the fee at the
		/// oracle whatever the sale brings); a perpetual slice is taken over by the vault at the
		/// discounted fee. Only valid from the local node, at the lowest priority (see
		/// `ValidateUnsigned`), within half of each per-block cap.
		///
		/// Its weight counts the slice twice and an account's check once: the block's
		/// `pre_dispatch` validation reads the account's report and runs the slice once and
		/// undoes it. No refund by path (see [`Pallet::derisk`]).
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::derisk_unsigned_weight())]
		pub fn derisk_unsigned(
			origin: OriginFor<T>,
			who: T::AccountId,
			found_at: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			ensure_none(origin)?;
			// Only the transaction's bytes need it (see [`Pallet::liquidate_unsigned`]).
			let _ = found_at;
			Self::do_derisk(None, who)?;
			Ok(().into())
		}

		/// Sends a bankrupt account (no collateral, or only dust) down the waterfall: dust
		/// collateral forfeited to its pool, every debt written off, covered by insurance as far as
		/// it can, the rest socialized over the lenders. Anyone may call it.
		#[pallet::call_index(3)]
		#[pallet::weight(<T as Config>::WeightInfo::settle_bankrupt(T::MaxPositions::get()))]
		pub fn settle_bankrupt(
			origin: OriginFor<T>,
			who: T::AccountId,
		) -> DispatchResultWithPostInfo {
			ensure_signed(origin)?;
			let debts = Self::do_settle_bankrupt(&who)?;
			Ok(Some(T::WeightInfo::settle_bankrupt(debts)).into())
		}

		/// Sets the engine's parameters (governance), range-checked: penalty at most 50%, close
		/// factor above zero, target health factor in (1, 3], full-liquidation health factor in
		/// (0, 1), slippage bound at most 50%, block cap above zero.
		#[pallet::call_index(10)]
		pub fn set_params(origin: OriginFor<T>, params: EngineParams) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_params(params)
		}

		/// Sets (or with `None` removes) a debt asset's per-block cap and pause (governance).
		#[pallet::call_index(11)]
		pub fn set_asset_limits(
			origin: OriginFor<T>,
			asset: T::AssetId,
			limits: Option<AssetLimits>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_asset_limits(asset, limits)
		}

		/// Sets predictive de-risking's parameters, or with `None` switches it off
		/// (governance): a horizon from a minute to a week, a confidence from 80 % to 99.9 %, a
		/// slice above zero and at most the close factor, a fee below the liquidation penalty.
		#[pallet::call_index(13)]
		pub fn set_derisk_params(
			origin: OriginFor<T>,
			params: Option<DeriskParams>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_derisk_params(params)
		}

		/// Pauses or resumes the whole engine (governance).
		#[pallet::call_index(12)]
		pub fn set_paused(origin: OriginFor<T>, paused: bool) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Paused::<T>::put(paused);
			Self::deposit_event(Event::PausedSet { paused });
			Ok(())
		}
	}

	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		/// Only the local worker's transactions (or a block that includes them), each checked
		/// by running it and undoing it. A liquidation's priority is `UnsignedPriority` plus its
		/// shortfall in whole USD; a de-risking's is zero, the lowest: it goes into a block after
		/// every liquidation and every signed transaction (a keeper's liquidation among them),
		/// with the room they leave. Both provide the account as their tag, so the pool holds one
		/// of them per account, and a liquidation (of a higher priority) replaces a de-risking.
		fn validate_unsigned(source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			if !matches!(source, TransactionSource::Local | TransactionSource::InBlock) {
				return InvalidTransaction::Call.into();
			}
			let (who, priority) = match call {
				Call::liquidate_unsigned { who, .. } => {
					let shortfall = Self::check_unsigned(who).map_err(invalid::to_invalid)?;
					(who, T::UnsignedPriority::get().saturating_add(whole_usd(shortfall)))
				},
				Call::liquidate_unsigned_batch { accounts, .. } => {
					let worst =
						Self::check_unsigned_batch(accounts).map_err(invalid::to_invalid)?;
					let priority = T::UnsignedPriority::get().saturating_add(whole_usd(worst));
					// One tag per account: the pool holds one transaction liquidating each.
					let mut valid = ValidTransaction::with_tag_prefix("LiquidationEngine")
						.priority(priority)
						.longevity(T::UnsignedLongevity::get())
						.propagate(false);
					for who in accounts.iter() {
						valid = valid.and_provides(who);
					}
					return valid.build();
				},
				Call::derisk_unsigned { who, .. } => {
					Self::check_derisk_unsigned(who).map_err(invalid::to_invalid)?;
					(who, 0)
				},
				_ => return InvalidTransaction::Call.into(),
			};
			ValidTransaction::with_tag_prefix("LiquidationEngine")
				.priority(priority)
				.and_provides(who)
				.longevity(T::UnsignedLongevity::get())
				.propagate(false)
				.build()
		}

		/// What a block checks before it dispatches one: a liquidation is validated once, by
		/// the pool, which ran it; the block checks only what its earlier transactions may
		/// have changed, without running it again
		/// ([`Pallet::check_unsigned_in_block`]), so that the block is charged for one run, not
		/// two. A de-risking is checked as in the pool (run and undone).
		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			match call {
				Call::liquidate_unsigned { who, .. } => Self::check_unsigned_in_block(who)
					.map(|_| ())
					.map_err(|code| invalid::to_invalid(code).into()),
				// Each account is checked in dispatch (and passed over when the check refuses
				// it); here only its shape (some accounts, none twice) and what would refuse
				// them all: the engine paused, or the block's cap with less than the dust left
				// (kept in the pool for the next block).
				Call::liquidate_unsigned_batch { accounts, .. } => {
					Self::check_batch_in_block(accounts)
						.map_err(|code| invalid::to_invalid(code).into())
				},
				_ => Self::validate_unsigned(TransactionSource::InBlock, call).map(|_| ()),
			}
		}
	}
}
