//! # Margin pallet
//!
//! Cross-margin accounts over lending pools: every account may deposit several assets as
//! collateral and borrow several others against all of them at once.
//!
//! ## Goals
//!
//! - **One account, many assets**: deposits and debts in every listed asset judged together, as
//!   a trader's margin account is, so that the liquidation engine closes one account, not many
//!   loans.
//! - **Never in the account's favour by accident**: rounding favours the pool; no risk is opened
//!   on a price that is not usable; no position is left that a liquidation could not close
//!   (minimum position value, caps judged at the stable price).
//! - **Detection at the cost of the move**: the risk index reads only the accounts a price move
//!   could have pushed under ([`risk_index`]).
//! - **Any engine**: other pallets reach the ledger only through the layers of
//!   [`liquidation_primitives::ledger`].
//!
//! Terms are those of the [glossary](liquidation_primitives#glossary).
//!
//! ## Overview
//!
//! Governance *lists* an asset with its risk parameters; the asset then has a *lending pool*.
//! Lenders deposit into the pool and earn interest; borrowers take from it and pay interest. An
//! account's deposits and debts across all assets form one *portfolio*, whose *health* decides
//! what it may borrow or withdraw and when it may be liquidated. The pallet's own account
//! ([`Config::PalletId`]) holds every deposited token, through the `fungibles` traits, so the
//! native token and `pallet-assets` assets work alike.
//!
//! The liquidation engine and the auctions use the ledger through the layers of
//! [`liquidation_primitives::ledger`]: `Inspect` (health, positions), `RiskScan` (indebted
//! accounts, the risk index's walk with its opaque [`RiskCursor`]), `Mutate` (repay, seize) and
//! `BadDebt` (write off, settle); and through [`liquidation_primitives::LossSocializer`].
//!
//! ## Terminology
//!
//! - **Index units / index**: a position is stored in index units. A deposit of `s` units is worth
//!   `s * deposit_index` smallest units, a debt of `s` units `s * borrow_index`. Interest raises the
//!   indices, so every position earns or pays interest without being touched.
//! - **Utilization**: total debt over total deposits, at most 1.
//! - **Interest curve**: the annual borrow rate as a function of utilization, with a *kink*
//!   ([`InterestCurve`]). Interest accrues lazily: the first action on an asset in a block applies
//!   the interest of the blocks since the last one (simple interest over that span,
//!   `rate * blocks / BlocksPerYear`), at most once per block.
//! - **Reserve factor**: the share of interest kept by the protocol. It accrues as a deposit of the
//!   pool's own (the *reserve*), which anyone may send to the insurance fund with
//!   [`Pallet::collect_reserve`].
//! - **Collateral weight** (at most 1) and **liability weight** (at least 1): a deposit counts
//!   as its value times its collateral weight, a debt as its value times its liability weight.
//!   Each asset has an *initial* and a *maintenance* pair; maintenance is less demanding.
//! - **Health**: weighted collateral minus weighted debt, in USD at the prices of
//!   [`Config::Prices`]. *Initial health* must stay at or above zero after a borrow or a
//!   withdrawal; below-zero *maintenance health* makes the account liquidatable. The *health
//!   factor* is maintenance collateral over maintenance debt.
//! - **Bankrupt**: an account with debt and no deposit left. Its debt is *written off* into the
//!   pool's *bad debt*, which insurance settles and the rest of which is *socialized*: the deposit
//!   index falls, so every lender loses the same fraction.
//! - **Caps and debt ceiling** (all in whole USD, judged at the higher of the price and the
//!   stable price): the *supply cap* bounds an asset's deposits, the *borrow cap* its debt, the
//!   *debt ceiling* the debt owed by the accounts holding a deposit of it (isolation of a risky
//!   listing). Only what adds exposure is refused; see [`caps`].
//! - **Status**: *Active* (everything), *ReduceOnly* (withdraw and repay only), *Frozen* (repay
//!   only). Liquidations work in every status.
//!
//! An account holds either a deposit or a debt in one asset: depositing into an asset it owes
//! first repays the debt, borrowing an asset it has deposited first withdraws the deposit.
//!
//! - **Valuation rule**: health that judges liquidation values a position whose price is not
//!   usable (stale, or halted by the circuit breaker) at its last accepted price, and counts a
//!   deposit of an asset that was never priced as worth nothing ([`health::Pricing::Held`]); opening risk (borrowing, withdrawing)
//!   needs a usable price of every asset held ([`health::Pricing::Usable`]). An account with
//!   debt cannot deposit an asset without a usable price, and the price source of an asset
//!   held cannot be removed ([`liquidation_primitives::PriceUsers`]), so a stale or halted price
//!   never makes an account liquidatable and never lets one escape.
//!
//! Rounding always favours the pool: deposits are credited and valued rounded down, debts
//! charged and valued rounded up, socialized losses rounded against the lenders.
//!
//! ## Interface
//!
//! Account owners (signed): [`Pallet::deposit`], [`Pallet::withdraw`], [`Pallet::borrow`],
//! [`Pallet::repay`]. Anyone: [`Pallet::collect_reserve`].
//! Governance ([`Config::GovernanceOrigin`]): [`Pallet::list_asset`],
//! [`Pallet::set_asset_params`], [`Pallet::set_asset_status`], [`Pallet::set_risk_change_delay`],
//! [`Pallet::set_volatility_policy`] (weights that follow volatility: [`volatility`]).
//! Other pallets: every layer of [`liquidation_primitives::ledger`],
//! [`liquidation_primitives::LossSocializer`], [`liquidation_primitives::MarginWidening`].
//! Clients: the `MarginApi` runtime API (`pallet-margin-runtime-api`).
//!
//! ## Risk index
//!
//! Indebted accounts are filed by their *distance to liquidation* (the smallest uniform move
//! against them that brings maintenance health to zero, at an epoch's reference values), in
//! the list of each asset they hold, so that [`Pallet::accounts_at_risk`] reads only the
//! accounts that each asset's move since could have pushed under; `on_idle` starts new epochs
//! and re-files. The bound and its upkeep are in
//! [`risk_index`].
//!
//! ## Usage
//!
//! Bob deposits bitcoin and borrows against it; a deposit in an asset he owes repays first, and a
//! borrow of an asset he has deposited withdraws first (from the pallet's tests):
//!
#![doc = docify::embed!("src/tests.rs", one_position_per_asset_nets_deposits_against_debt)]
//!
//! ## Implementor's guide
//!
//! For a parachain team importing this pallet alone:
//! - **Assets** (`fungibles::Mutate`, keyed by [`Config::AssetId`]): every asset that may be
//!   listed, the native token included if it is to be lent (`fungible::UnionOf` joins
//!   `pallet-balances` and `pallet-assets`, as our runtime's `AllAssets`).
//! - **Prices** ([`liquidation_primitives::PriceProvider`]): `pallet-prices` or your oracle; it
//!   must answer `Err` rather than a stale or halted price. Give your price pallet this pallet as
//!   a [`liquidation_primitives::PriceUsers`] so that no held asset loses its price source.
//! - **ReserveIncome** ([`liquidation_primitives::FundIncome`]): where collected reserve goes
//!   (`pallet-insurance`, or an account of yours).
//! - **LiquidationPenalty**: the penalty your liquidation engine applies, read at every listing
//!   and parameter change (a listing under which a liquidation would lower an account's health
//!   is refused). A constant if your engine's is fixed.
//! - **MaxPositions** bounds the cost of every health computation, and every weight is charged
//!   for it; **MaxAssets** bounds the listings; **RebaseMove** and **MaxReindexPerBlock** tune the
//!   risk index's upkeep in `on_idle`.
//! - **NativeBalance**, **RuntimeHoldReason** and **AccountDeposit**: the refundable deposit that
//!   pays for a margin account's storage. **MinPositionValue**: the smallest position an
//!   indebted account may hold (a floor for governance's per-asset minimum).
//! - **WeightInfo**: generate it on your runtime with the `runtime-benchmarks` feature and a
//!   `BenchmarkHelper` (assets with prices); our weights are for our runtime.
//! - Run `try_state` in your try-runtime checks: the invariants below are what the engine relies
//!   on.
//!
//! ## Invariants (checked by `try_state`)
//!
//! 1. Per asset, the pool is solvent: custody + total debt + bad debt >= total deposits (with the
//!    indices; the difference is rounding in the pool's favour and the custody's endowment).
//! 2. Per asset, the pool's deposit units equal the accounts' deposit units plus the reserve's,
//!    and its borrow units equal the accounts' borrow units.
//! 3. The set of indebted accounts is exactly the accounts with a debt position.
//! 4. Portfolios hold only listed assets and no empty positions; indices are positive.
//! 5. The risk index files exactly the indebted accounts, each in one slot (the current or the
//!    previous epoch's), in the list of exactly the assets it holds, at the bucket its
//!    portfolio has at that slot's reference; the slot sizes are the counts of accounts.
//! 6. Every liquidatable account is in a bucket that the move since its slot's reference of
//!    one of the assets it holds reaches: [`Pallet::accounts_at_risk`] finds every account a
//!    full scan finds.
//! 7. [`BackedDebt`] of a collateral asset and a debt asset is the sum of the debt units in
//!    the debt asset of the accounts holding a deposit of the collateral asset.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod caps;
mod functions;
pub mod health;
mod impl_ledger;
#[cfg(test)]
mod mock;
pub mod pool;
pub mod risk_index;
#[cfg(test)]
mod tests;
pub mod types;
pub mod volatility;
pub mod weights;

pub use risk_index::{AccountRiskEntry, ReferencePoint, RiskCursor, RiskEntry, Slot};
pub use types::*;
pub use weights::WeightInfo;

/// Sets up what the benchmarks need: two listed-to-be assets with prices, and funded accounts.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId, AccountId> {
	/// `n` distinct assets that exist in the runtime's `fungibles` (not necessarily listed yet),
	/// each with a usable price of 1 USD per whole unit; `n` is at most `MaxPositions`.
	fn assets(n: u32) -> alloc::vec::Vec<AssetId>;

	/// Gives `who` (healthy, with collateral) a small derivative position on each of
	/// `underlyings` it can (the settlement asset aside, at most as many as an account may
	/// hold), so that the benchmarks read them with its health; on the assets it holds, so that
	/// its index entry still fits them. Returns how many. A runtime without derivatives has
	/// none (the default).
	fn derivative_positions(_who: &AccountId, _underlyings: &[AssetId]) -> u32 {
		0
	}

	/// Gives `asset`'s price a volatility of `daily` (over the price provider's period), so
	/// that its weights widen. A runtime whose prices cannot be made volatile does nothing (the
	/// default): the benchmark then measures no widening.
	fn volatile(_asset: AssetId, _daily: sp_runtime::FixedU128) {}
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, fungibles, Get},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use liquidation_primitives::{Balance, Decimals, FundIncome, PriceError, PriceProvider};
	use sp_runtime::Permill;

	/// The storage layout's version: 0, the layout since genesis. A change of what is stored
	/// bumps it and comes with a migration in a `migrations` module (as `pallet-insurance`'s
	/// `v1`), listed in the runtime's `Executive`.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Identifies an asset.
		type AssetId: Parameter + Member + MaxEncodedLen + Ord + Copy + MaybeSerializeDeserialize;

		/// Every asset that may be listed (the native token and `pallet-assets` assets alike).
		type Assets: fungibles::Mutate<Self::AccountId, AssetId = Self::AssetId, Balance = Balance>;

		/// Prices for health; a Missing, Stale or Halted price refuses borrows and withdrawals of
		/// indebted accounts.
		type Prices: PriceProvider<Self::AssetId>;

		/// Where the reserve goes when collected (the insurance fund).
		type ReserveIncome: FundIncome<Self::AccountId, Self::AssetId, Balance>;

		/// Who lists assets and sets their parameters and status.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The custody account of every pool is derived from this id.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Blocks in a year: converts annual rates to rates per block.
		#[pallet::constant]
		type BlocksPerYear: Get<u32>;

		/// Most assets that may be listed.
		#[pallet::constant]
		type MaxAssets: Get<u32>;

		/// Most assets one account may hold a position in (bounds the cost of health).
		#[pallet::constant]
		type MaxPositions: Get<u32>;

		/// The adverse move of any asset since the risk index's reference at which `on_idle`
		/// starts a new epoch (new reference values, accounts re-filed). Smaller keeps detection
		/// reading fewer accounts; larger re-files less often.
		#[pallet::constant]
		type RebaseMove: Get<Permill>;

		/// Most accounts `on_idle` re-files into a new epoch in one block (also bounded by the
		/// block's remaining weight).
		#[pallet::constant]
		type MaxReindexPerBlock: Get<u32>;

		/// The longest governance may make a tightening of maintenance weights wait
		/// ([`RiskChangeDelay`]).
		#[pallet::constant]
		type MaxRiskChangeDelay: Get<BlockNumberFor<Self>>;

		/// The native token, from which the account deposit is held.
		type NativeBalance: fungible::MutateHold<
				Self::AccountId,
				Reason = Self::RuntimeHoldReason,
				Balance = Balance,
			> + fungible::Mutate<Self::AccountId, Balance = Balance>;

		/// The runtime's hold reasons, of which [`HoldReason`] is part.
		type RuntimeHoldReason: From<HoldReason>;

		/// Native tokens held from an account when a deposit opens its margin account, and
		/// released when its last position closes: the storage a margin account takes (its
		/// portfolio, its entries in the borrower set, the risk index and the backed debt) is
		/// paid for, so a million accounts cost their creator a million deposits. Accounts the
		/// engine opens (a keeper receiving a deposit position) pay none.
		#[pallet::constant]
		type AccountDeposit: Get<Balance>;

		/// Least value, in whole USD, of a position that a deposit, a withdrawal or a borrow
		/// leaves in an account with debt (the flooding bound; see
		/// [`crate::caps`]). Repaying and liquidations may leave less.
		#[pallet::constant]
		type MinPositionValue: Get<Balance>;

		/// The liquidation penalty now in force: listings are refused that would let a
		/// liquidation lower an account's health (`(1 + penalty) c >= l` for a listed pair).
		type LiquidationPenalty: Get<Permill>;

		/// The account's derivative positions (perpetual futures), counted into its health:
		/// `pallet-perpetuals`, or `()` for none.
		type Derivatives: liquidation_primitives::Exposure<Self::AccountId, Self::AssetId>;

		/// Weights of the calls, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;

		/// Benchmark set-up.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AssetId, Self::AccountId>;
	}

	/// Why the pallet holds native tokens.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// The deposit for a margin account's storage ([`Config::AccountDeposit`]).
		#[codec(index = 0)]
		AccountDeposit,
	}

	/// The positions of an account, at most one per asset.
	pub type PortfolioOf<T> =
		BoundedVec<(<T as Config>::AssetId, Position), <T as Config>::MaxPositions>;

	/// Listed assets: parameters, status and lending pool.
	#[pallet::storage]
	pub type Markets<T: Config> =
		CountedStorageMap<_, Blake2_128Concat, T::AssetId, Market<BlockNumberFor<T>>>;

	/// Each account's positions.
	#[pallet::storage]
	pub type Portfolios<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, PortfolioOf<T>, ValueQuery>;

	/// The accounts that can become liquidatable: those that owe something, and those that hold
	/// derivative positions ([`Config::Derivatives`]) even without spot debt. What the liquidation
	/// engine scans, and exactly the accounts filed in the risk index. (Stored under its first
	/// name, `Borrowers`, from before derivatives.)
	#[pallet::storage]
	#[pallet::storage_prefix = "Borrowers"]
	pub type LiableAccounts<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AccountId, ()>;

	/// The risk index's epoch: its parity is the slot new entries are filed in, against that
	/// slot's [`References`]. See [`crate::risk_index`].
	#[pallet::storage]
	pub type RiskEpoch<T: Config> = StorageValue<_, u32, ValueQuery>;

	/// Per slot and asset: what one index unit counted for when the slot's epoch started.
	#[pallet::storage]
	pub type References<T: Config> =
		StorageDoubleMap<_, Twox64Concat, Slot, Blake2_128Concat, T::AssetId, ReferencePoint>;

	/// Indebted accounts by slot, asset held and distance bucket: each account is filed in the
	/// list of every asset it holds (see [`crate::risk_index`]). The bucket key is
	/// [`risk_index::bucket_key`], unhashed, so that an asset's list iterates in bucket order.
	#[pallet::storage]
	pub type RiskIndex<T: Config> = StorageNMap<
		_,
		(
			NMapKey<Twox64Concat, Slot>,
			NMapKey<Blake2_128Concat, T::AssetId>,
			NMapKey<Identity, u16>,
			NMapKey<Blake2_128Concat, T::AccountId>,
		),
		(),
	>;

	/// Where each indebted account is filed in [`RiskIndex`].
	#[pallet::storage]
	pub type RiskEntryOf<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, AccountRiskEntry<T>>;

	/// How many accounts each slot of [`RiskIndex`] holds (an account counts once, whatever the
	/// number of lists it is filed in).
	#[pallet::storage]
	pub type SlotSize<T: Config> = StorageMap<_, Twox64Concat, Slot, u32, ValueQuery>;

	/// Running totals of losses and reserve collected, per asset.
	#[pallet::storage]
	pub type Losses<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, LossTotals, ValueQuery>;

	/// Per collateral asset and debt asset: the debt units (of the debt asset's borrow index)
	/// owed by accounts holding a deposit of the collateral asset. Kept for every listed asset
	/// so that a debt ceiling set later counts the debt already owed; valued against
	/// [`AssetParams::debt_ceiling_usd`].
	#[pallet::storage]
	pub type BackedDebt<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AssetId,
		Blake2_128Concat,
		T::AssetId,
		Balance,
		ValueQuery,
	>;

	/// Blocks a change of an asset's parameters that tightens its maintenance weights (a lower
	/// collateral weight, a higher liability weight) waits before it takes effect, so that one
	/// call cannot make accounts liquidatable at once: their owners see it scheduled and may add
	/// collateral or repay. Any other change takes effect at once.
	#[pallet::storage]
	pub type RiskChangeDelay<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// How each asset's weights follow its volatility ([`crate::volatility`]), and the block from
	/// which it may widen them (a new policy waits [`RiskChangeDelay`], as a governance
	/// tightening does); an asset without one keeps its listed weights.
	#[pallet::storage]
	pub type VolatilityPolicies<T: Config> = StorageMap<
		_,
		Blake2_128Concat,
		T::AssetId,
		(crate::volatility::VolatilityPolicy, BlockNumberFor<T>),
	>;

	/// How far each asset's weights are widened now ([`crate::volatility`]): collateral weights
	/// times `1 - widening`, liability weights divided by it.
	#[pallet::storage]
	pub type Widenings<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, Permill, ValueQuery>;

	/// The block the widenings were last moved in.
	#[pallet::storage]
	pub type LastWideningBlock<T: Config> = StorageValue<_, BlockNumberFor<T>, ValueQuery>;

	/// Parameter changes waiting for [`RiskChangeDelay`]: the parameters and the block they take
	/// effect in (at its start). A later change of the asset replaces a scheduled one.
	#[pallet::storage]
	pub type ScheduledParams<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, (AssetParams, BlockNumberFor<T>)>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Listed assets: id, decimals, parameters.
		pub assets: alloc::vec::Vec<(T::AssetId, Decimals, AssetParams)>,
		/// Blocks a tightening of maintenance weights waits ([`RiskChangeDelay`]).
		pub risk_change_delay: BlockNumberFor<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// Checked like the governance call: a bad preset must not build a chain.
			for (asset, decimals, params) in &self.assets {
				if let Err(error) = Pallet::<T>::do_list_asset(*asset, *decimals, *params) {
					panic!("invalid margin listing in genesis for {asset:?}: {error:?}");
				}
			}
			if let Err(error) = Pallet::<T>::do_set_risk_change_delay(self.risk_change_delay) {
				panic!("invalid margin risk change delay in genesis: {error:?}");
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// Governance listed an asset.
		AssetListed {
			/// The asset.
			asset: T::AssetId,
			/// The asset's decimal places.
			decimals: Decimals,
			/// The parameters now in force.
			params: AssetParams,
		},
		/// Governance changed an asset's parameters (at once, or a scheduled change took effect).
		AssetParamsUpdated {
			/// The asset.
			asset: T::AssetId,
			/// The parameters now in force.
			params: AssetParams,
		},
		/// Governance tightened an asset's maintenance weights: `params` take effect at the start
		/// of block `effective_at`.
		AssetParamsScheduled {
			/// The asset.
			asset: T::AssetId,
			/// The parameters now in force.
			params: AssetParams,
			/// The block at whose start the change takes effect.
			effective_at: BlockNumberFor<T>,
		},
		/// A scheduled change no longer passed the range checks when due (a penalty or another
		/// listing changed meanwhile) and was dropped.
		ScheduledParamsDropped {
			/// The asset.
			asset: T::AssetId,
			/// Why the change no longer passed.
			error: DispatchError,
		},
		/// A change scheduled for `asset` was replaced by one that took effect at once.
		ScheduledParamsReplaced {
			/// The asset.
			asset: T::AssetId,
		},
		/// Governance set how long a tightening of maintenance weights waits.
		RiskChangeDelaySet {
			/// In blocks.
			delay: BlockNumberFor<T>,
		},
		/// Governance set (or with `None` removed) how an asset's weights follow its
		/// volatility ([`crate::volatility`]).
		VolatilityPolicySet {
			/// The asset.
			asset: T::AssetId,
			/// The policy (`None`: removed, the listed weights hold again at once).
			policy: Option<crate::volatility::VolatilityPolicy>,
			/// The block from which it may widen the weights (relaxing them is never delayed).
			widens_from: BlockNumberFor<T>,
		},
		/// An asset's weights widened (or relaxed) towards what its volatility calls for, by at
		/// most the policy's step a day.
		WeightsWidened {
			/// The asset.
			asset: T::AssetId,
			/// The widening in force now: collateral weights times `1 - widening`.
			widening: Permill,
			/// What the volatility calls for.
			target: Permill,
			/// The volatility read (over the prices pallet's period).
			volatility: sp_runtime::FixedU128,
		},
		/// Governance changed an asset's status.
		AssetStatusChanged {
			/// The asset.
			asset: T::AssetId,
			/// The new status.
			status: AssetStatus,
		},
		/// The custody account was given the asset's minimum balance at listing, so that it can
		/// never be reaped and lose dust.
		CustodyEndowed {
			/// The asset.
			asset: T::AssetId,
			/// The minimum balance, in the asset's smallest units.
			amount: Balance,
		},
		/// `who` deposited `amount` of `asset`.
		Deposited {
			/// The margin account.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
		},
		/// `who` withdrew `amount` of `asset`.
		Withdrawn {
			/// The margin account.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
		},
		/// `who` borrowed `amount` of `asset`.
		Borrowed {
			/// The margin account.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
		},
		/// `payer` repaid `amount` of `who`'s debt in `asset`.
		Repaid {
			/// The account that paid (the owner, a liquidator or the engine).
			payer: T::AccountId,
			/// The account whose debt was repaid.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
		},
		/// `amount` of the reserve in `asset` went to the insurance fund.
		ReserveCollected {
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
		},
		/// A liquidation took `amount` of `who`'s deposit in `asset` and paid it to `to`.
		CollateralSeized {
			/// The margin account.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
			/// Who received it.
			to: T::AccountId,
		},
		/// A liquidation, or a derivative's profit paid out, moved `amount` of `from`'s deposit
		/// in `asset` into `to`'s margin account (the position itself: the pool's cash may be
		/// lent out).
		DepositTransferred {
			/// The account whose deposit moved.
			from: T::AccountId,
			/// Who received it.
			to: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
		},
		/// `who` was charged `amount` of `asset` in favour of `to` (a derivative position's loss,
		/// funding or fee): from his deposit first, `lent` of it lent to him from the pool (his
		/// debt rose by `lent`); `to`'s deposit rose by `amount`, no tokens moved.
		Charged {
			/// The account charged.
			who: T::AccountId,
			/// The asset (the settlement asset).
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
			/// Of `amount`, what his deposit did not cover and became his debt.
			lent: Balance,
			/// Whose deposit rose by `amount`.
			to: T::AccountId,
		},
		/// A bankrupt account's dust deposit was removed; its tokens stay with the pool.
		CollateralForfeited {
			/// The margin account.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
		},
		/// A bankrupt account's remaining debt was written off into the pool's bad debt.
		DebtWrittenOff {
			/// The margin account.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
		},
		/// `payer` (insurance) paid `amount` of the pool's bad debt.
		BadDebtSettled {
			/// The asset.
			asset: T::AssetId,
			/// The account that paid (the insurance fund).
			payer: T::AccountId,
			/// In the asset's smallest units.
			amount: Balance,
		},
		/// `amount` of `who`'s native tokens are held for its margin account's storage.
		AccountDepositHeld {
			/// The margin account.
			who: T::AccountId,
			/// Native tokens, in their smallest units.
			amount: Balance,
		},
		/// `who`'s margin account closed: the `amount` held for it is free again.
		AccountDepositReleased {
			/// The margin account.
			who: T::AccountId,
			/// Native tokens, in their smallest units.
			amount: Balance,
		},
		/// The risk index started epoch `epoch`: reference values for `assets_referenced`
		/// assets; accounts of the previous epoch are re-filed over the next blocks.
		RiskIndexRebased {
			/// The number of the new epoch.
			epoch: u32,
			/// Assets given a reference value (those with a usable price).
			assets_referenced: u32,
		},
		/// `amount` of bad debt was spread over the lenders: the deposit index fell.
		LossSocialized {
			/// The asset.
			asset: T::AssetId,
			/// In the asset's smallest units.
			amount: Balance,
			/// The deposit index before the loss.
			deposit_index_before: Index,
			/// The deposit index after the loss.
			deposit_index_after: Index,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The asset is not listed.
		AssetNotListed,
		/// The asset is listed already.
		AlreadyListed,
		/// The asset does not exist in the runtime's asset registry.
		UnknownAsset,
		/// As many assets as allowed are listed.
		TooManyAssets,
		/// More than 18 decimals: values would not fit the fixed-point precision.
		TooManyDecimals,
		/// A liability weight is below one or above the maximum (5).
		LiabilityWeightOutOfRange,
		/// A maintenance weight is not strictly less demanding than its initial weight.
		MaintenanceNotBelowInitial,
		/// The kink is not strictly between 0 and 100%.
		KinkOutOfRange,
		/// The borrow rate at full utilization would be above the maximum (1000% a year).
		RateTooHigh,
		/// A supply or borrow cap is zero.
		InvalidCaps,
		/// With these weights, some pair of listed assets would lose health in a liquidation at
		/// the current penalty: `(1 + penalty)` times the largest maintenance collateral weight
		/// must stay below the smallest maintenance liability weight.
		PenaltyUnsound,
		/// The delay is above [`Config::MaxRiskChangeDelay`].
		DelayTooLong,
		/// A volatility policy's reference volatility is zero, its widening above
		/// [`crate::volatility::MAX_WIDENING`], its step a day below
		/// [`crate::volatility::MIN_STEP_PER_DAY`] or above its widening, or its asset the
		/// derivatives' settlement asset (whose liability weight weighs every position's loss).
		PolicyOutOfRange,
		/// The caller cannot pay the account deposit ([`Config::AccountDeposit`]) that opening a
		/// margin account holds.
		AccountDepositUnpaid,
		/// In an account with debt, the position would be worth less than
		/// [`Config::MinPositionValue`].
		PositionTooSmall,
		/// The asset's status does not allow new deposits or borrows.
		AssetNotActive,
		/// The asset is frozen: only repaying is allowed.
		AssetFrozen,
		/// The amount is zero.
		ZeroAmount,
		/// The account has no deposit in this asset.
		NoDeposit,
		/// The account has no debt in this asset.
		NoDebt,
		/// The account's deposit is smaller than the amount.
		InsufficientDeposit,
		/// The pool does not hold enough of the asset now (it is lent out).
		InsufficientLiquidity,
		/// The asset's supply cap would be exceeded.
		SupplyCapExceeded,
		/// The asset's borrow cap would be exceeded.
		BorrowCapExceeded,
		/// The debt owed by accounts holding a deposit of an asset would exceed that asset's
		/// debt ceiling.
		DebtCeilingExceeded,
		/// The position left would be below the asset's minimum (withdraw or repay all instead).
		BelowMinimumPosition,
		/// The account holds positions in as many assets as allowed.
		TooManyPositions,
		/// Initial health would fall below zero.
		InsufficientMargin,
		/// An asset the call must value has no usable price (missing, stale or halted by the
		/// circuit breaker: [`PriceError`]), so health cannot be computed.
		Price(PriceError),
		/// The account still has a deposit: it is not bankrupt.
		NotBankrupt,
		/// There is no reserve that can be collected now.
		NothingToCollect,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::BlocksPerYear::get() > 0, "BlocksPerYear must be positive");
			assert!(T::MaxPositions::get() > 0, "MaxPositions must be positive");
			assert!(T::MaxAssets::get() > 0, "MaxAssets must be positive");
		}

		/// Applies the scheduled parameter changes that are due, and once an hour moves the
		/// weights' widenings towards what volatility calls for ([`crate::volatility`]).
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::apply_scheduled_params(now).saturating_add(Self::update_widenings(now))
		}

		/// Upkeep of the risk index with the block's spare weight: re-file accounts of the
		/// previous epoch, or start a new one when prices drifted (see [`crate::risk_index`]).
		fn on_idle(_n: BlockNumberFor<T>, remaining: Weight) -> Weight {
			Self::maintain_index(remaining)
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Deposits `amount` of `asset` from the caller into its margin account. If the caller
		/// owes `asset`, the deposit repays the debt first and only the rest becomes a deposit.
		///
		/// A new or larger deposit needs the asset Active, the supply cap and the minimum
		/// position respected and, if the account carries debt, a usable price of `asset`
		/// (`Price(Missing)`, `Price(Stale)`, `Price(Halted)`). Repaying needs no price.
		#[pallet::call_index(0)]
		pub fn deposit(
			origin: OriginFor<T>,
			asset: T::AssetId,
			#[pallet::compact] amount: Balance,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deposit(who, asset, amount)
		}

		/// Withdraws `amount` (or all) of the caller's deposit in `asset`.
		///
		/// If the caller has debt, initial health must stay at or above zero at fresh prices of
		/// every asset in its portfolio. Not allowed while the asset is Frozen.
		#[pallet::call_index(1)]
		#[pallet::weight(<T as Config>::WeightInfo::withdraw(T::MaxPositions::get()))]
		pub fn withdraw(
			origin: OriginFor<T>,
			asset: T::AssetId,
			amount: Amount,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let positions = Self::do_withdraw(who, asset, amount)?;
			Ok(Some(T::WeightInfo::withdraw(positions)).into())
		}

		/// Borrows `amount` of `asset` against the caller's whole portfolio. If the caller has a
		/// deposit in `asset`, the deposit is withdrawn first and only the rest is borrowed.
		///
		/// Initial health must stay at or above zero at fresh prices of every asset in the
		/// portfolio; the asset must be Active, the pool must hold the amount, and the borrow cap
		/// and the minimum position must be respected.
		#[pallet::call_index(2)]
		#[pallet::weight(<T as Config>::WeightInfo::borrow(T::MaxPositions::get()))]
		pub fn borrow(
			origin: OriginFor<T>,
			asset: T::AssetId,
			#[pallet::compact] amount: Balance,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			let positions = Self::do_borrow(who, asset, amount)?;
			Ok(Some(T::WeightInfo::borrow(positions)).into())
		}

		/// Repays `amount` (or all) of the caller's debt in `asset`; an amount above the debt
		/// repays the debt. Works in every status and needs no price.
		#[pallet::call_index(3)]
		pub fn repay(origin: OriginFor<T>, asset: T::AssetId, amount: Amount) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_repay(&who, &who, asset, amount).map(|_| ())
		}

		/// Sends the reserve of `asset`, as far as the pool holds it now, to the insurance fund.
		/// Anyone may call it.
		#[pallet::call_index(4)]
		pub fn collect_reserve(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_collect_reserve(asset)
		}

		/// Lists `asset` (with `decimals` decimal places) for deposits and borrows, with its risk
		/// and interest parameters, status Active. Range checks as in
		/// [`Pallet::set_asset_params`].
		#[pallet::call_index(10)]
		pub fn list_asset(
			origin: OriginFor<T>,
			asset: T::AssetId,
			decimals: Decimals,
			params: AssetParams,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_list_asset(asset, decimals, params)
		}

		/// Sets the parameters of a listed asset. Interest so far accrues at the old curve first.
		///
		/// A change that tightens the maintenance weights (a lower collateral weight or a higher
		/// liability weight) is scheduled [`RiskChangeDelay`] blocks ahead
		/// (`AssetParamsScheduled`), checked again when due; any other change takes effect at
		/// once. Either replaces a change already scheduled for the asset.
		///
		/// Range checks: collateral weights in [0, 1], maintenance above initial unless both
		/// are zero (a borrow-only asset; an initial weight of zero alone winds a listing
		/// down); liability weights in [1, 5], maintenance below initial; kink strictly between
		/// 0 and 1; borrow rate at full utilization at most 1000% a year; supply and borrow caps
		/// (USD) above zero; any debt ceiling (USD, zero: the asset backs no debt).
		#[pallet::call_index(11)]
		pub fn set_asset_params(
			origin: OriginFor<T>,
			asset: T::AssetId,
			params: AssetParams,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_asset_params(asset, params)
		}

		/// Sets how many blocks a tightening of maintenance weights waits before it takes effect;
		/// at most [`Config::MaxRiskChangeDelay`]. Changes already scheduled keep their block.
		#[pallet::call_index(13)]
		pub fn set_risk_change_delay(
			origin: OriginFor<T>,
			delay: BlockNumberFor<T>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_risk_change_delay(delay)
		}

		/// Sets how `asset`'s weights follow its price's volatility, or with `None` removes it
		/// (the listed weights hold again at once: relaxing harms no account). The weights widen
		/// towards `1 - reference_volatility / volatility`, at most `max_widening` (at most
		/// 50 %), by at most `max_step_per_day` a day ([`crate::volatility`]); a new policy
		/// widens them only after [`RiskChangeDelay`], as a governance tightening waits. Refused
		/// for the derivatives' settlement asset.
		#[pallet::call_index(14)]
		#[pallet::weight(
			// The benchmark sets a policy; a removal also takes the widening and reads the price
			// for its event: two reads and a write more.
			<T as Config>::WeightInfo::set_volatility_policy()
				.saturating_add(T::DbWeight::get().reads_writes(2, 1))
		)]
		pub fn set_volatility_policy(
			origin: OriginFor<T>,
			asset: T::AssetId,
			policy: Option<crate::volatility::VolatilityPolicy>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_volatility_policy(asset, policy)
		}

		/// Sets what users may do with a listed asset.
		#[pallet::call_index(12)]
		pub fn set_asset_status(
			origin: OriginFor<T>,
			asset: T::AssetId,
			status: AssetStatus,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_asset_status(asset, status)
		}
	}
}
