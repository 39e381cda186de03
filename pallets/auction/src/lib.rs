//! # Auction pallet
//!
//! Dutch (descending-price) auctions of collateral that no liquidator took.
//!
//! ## Goals
//!
//! - **Settle at the first acceptable price**: a falling price that anyone may take, in any
//!   part, so that a lot sells in minutes, not in an English auction's hours.
//! - **Never raise more than is owed**: the handler caps every take at what the owner still owes,
//!   and the rest of the lot goes back to him.
//! - **Never sell under the market**: a floor against the live oracle price, a restart when the
//!   oracle moved or the auction aged.
//!
//! Terms are those of the [glossary](liquidation_primitives#glossary).
//!
//! ## Overview
//!
//! English auctions ran for hours and were won with zero bids on Black Thursday. A Dutch auction
//! settles at the first price someone accepts, lets anyone buy any part of a lot, and never sells
//! under a floor set against the oracle.
//!
//! The liquidation engine starts an auction through [`liquidation_primitives::CollateralAuction`]:
//! it moves a *lot* of collateral into the pallet's custody account and names the amount *to raise*: what the
//! sale should raise in a *debt asset* on behalf of the lot's *owner*. The price starts at the
//! oracle's price times a premium and falls block by block along a curve. Anyone may
//! [`Pallet::take`] part or all of the lot at the current price. Proceeds go straight to the
//! [`Config::Handler`] (which repays the owner's debt and pays the penalty due on what it
//! repaid); once that is raised the rest of the lot goes back to the owner through the
//! handler; when the lot is gone with some left to raise the shortfall is reported to the handler as
//! bad debt.
//!
//! The owner may act while his lot is at auction. Before every take the handler caps what it has to raise
//! at what the owner still needs ([`liquidation_primitives::AuctionHandler::wanted`]): debt he
//! repaid meanwhile is not raised again, and an auction no longer needed sells nothing; anyone
//! may [`Pallet::close`] it, which returns the whole lot.
//!
//! ## Terminology
//!
//! - **Price**: whole units of the debt asset per whole unit of collateral. The *oracle price*
//!   is the collateral's USD price over the debt asset's, from [`Config::Prices`].
//! - **Curve**: *linear* (to zero over a duration) or *stepped exponential* (a cut every few
//!   blocks), see [`PriceCurve`].
//! - **Floor**: a share of the oracle price. Nothing sells below it.
//! - **Re-pricing band**: a share around the oracle price at the (re)start. Once the oracle
//!   leaves it (either way) the lot must re-price: nothing sells until it is restarted at the new
//!   level, so a lot neither waits above a fallen market nor sells far under a risen one. After
//!   a fall the restart only lowers the price (to the new oracle times the premium, if that is
//!   below where the curve is), so a long slide never lifts a lot back above the market.
//! - **Restart** (`redo`): an auction older than its maximum duration, priced under its floor or
//!   outside its re-pricing band starts again at the oracle price times the premium; whoever
//!   restarts a due auction earns a small share of the lot. Restarting an auction that is not
//!   due is refused.
//! - **Wanted**: what an auction may still raise: its amount to raise, capped by the handler at what the
//!   owner still owes for it (with the penalty on that). Zero: the auction is no longer needed.
//! - **Minimum lot**: a partial take may not leave less collateral than this.
//!
//! Rounding favours the owner: a buyer pays rounded up and receives collateral rounded down.
//!
//! ## Interface
//!
//! Anyone (signed): [`Pallet::take`], [`Pallet::redo`], [`Pallet::close`].
//! Governance ([`Config::GovernanceOrigin`]): [`Pallet::set_auction_params`],
//! [`Pallet::remove_auction_params`].
//! The liquidation engine: [`liquidation_primitives::CollateralAuction`].
//! Clients: the `AuctionApi` runtime API (`pallet-auction-runtime-api`).
//!
//! The pallet has no hooks: restarts are made by whoever calls `redo` for the incentive, so no
//! block carries unbounded auction work.
//!
//! ## Usage
//!
//! An auction of one bitcoin to raise 30 000 USD: Bob takes part of it, Charlie the rest of
//! what is wanted, and the remainder of the lot returns to its owner (from the pallet's tests):
//!
#![doc = docify::embed!("src/tests.rs", partial_takes_reduce_lot_and_amount_to_raise_exactly_then_the_rest_returns)]
//!
//! ## Implementor's guide
//!
//! - **Handler** ([`liquidation_primitives::AuctionHandler`]): the pallet that starts auctions
//!   decides what each may still raise (`wanted`) and where proceeds, returned collateral and
//!   shortfalls go. `pallet-liquidation` is one; start auctions through
//!   [`liquidation_primitives::CollateralAuction`], after moving the lot into
//!   [`Pallet::custody_account`].
//! - **Custody** ([`liquidation_primitives::LotCustody`]):
//!   [`liquidation_primitives::TokensOnly`] when lots are tokens,
//!   [`liquidation_primitives::TokensThenPositions`] when a lot may be a deposit position of a
//!   margin ledger (collateral whose pool has lent its cash out).
//! - **Prices** and **Decimals**: the oracle price the floor and restarts are judged against,
//!   and each asset's decimals (`pallet-margin` implements
//!   [`liquidation_primitives::AssetDecimals`] for listed assets).
//! - **MaxAuctions** bounds the running auctions (and the runtime API's reads of them);
//!   **MaxDurationBlocks** bounds every governed duration.
//! - **WeightInfo** from your runtime's benchmarks, with `BenchmarkHelper` (with the `runtime-benchmarks` feature).
//!
//! ## Invariants (checked by `try_state`)
//!
//! 1. Per collateral asset, the lots of running auctions add up to [`LotTotals`], and the custody
//!    account holds at least that ([`Config::Custody`]: tokens and deposit positions).
//! 2. Every running auction has a lot and an amount to raise above zero.
//! 3. No more than [`Config::MaxAuctions`] auctions run.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod functions;
mod impl_auction;
#[cfg(test)]
mod mock;
pub mod pricing;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

/// Sets up what the benchmarks need.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId, AccountId> {
	/// A collateral and a debt asset that exist, each with a usable price of 1 USD per whole unit,
	/// both with the decimals that [`Config::Decimals`] reports.
	fn assets() -> (AssetId, AssetId);
	/// An owner whose debt in `debt_asset` the handler can repay (`amount` of it), as a
	/// liquidation would leave one.
	fn indebted_owner(debt_asset: AssetId, amount: liquidation_primitives::Balance) -> AccountId;
	/// Repays everything `owner` owes, so that his auctions are no longer needed.
	fn repay_all(owner: &AccountId);
}

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
		AssetDecimals, AuctionHandler, Balance, PriceError, PriceProvider,
	};

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

		/// Every asset that may be sold or paid (the native token and `pallet-assets` alike).
		type Assets: fungibles::Mutate<Self::AccountId, AssetId = Self::AssetId, Balance = Balance>;

		/// Oracle prices: the start price and the floor. No take or restart on a Missing, Stale
		/// or Halted price.
		type Prices: PriceProvider<Self::AssetId>;

		/// Decimal places of assets, to convert prices per whole unit into amounts.
		type Decimals: AssetDecimals<Self::AssetId>;

		/// Where lots are held: tokens in the custody account and, when a collateral's lending
		/// pool had lent out its cash, deposit positions of that account
		/// (`liquidation_primitives::TokensThenPositions` over the margin ledger;
		/// `liquidation_primitives::TokensOnly` without one).
		type Custody: liquidation_primitives::LotCustody<Self::AccountId, Self::AssetId, Balance>;

		/// Receives proceeds, remainders and shortfalls (the liquidation engine).
		type Handler: AuctionHandler<AuctionId, Self::AccountId, Self::AssetId, Balance>;

		/// Who sets auction parameters.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The custody account of every lot is derived from this id.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Most auctions running at once.
		#[pallet::constant]
		type MaxAuctions: Get<u32>;

		/// Longest curve duration or maximum auction age governance may set, in blocks.
		#[pallet::constant]
		type MaxDurationBlocks: Get<u32>;

		/// Weights of the calls, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;

		/// Benchmark set-up.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AssetId, Self::AccountId>;
	}

	/// Auction parameters per collateral asset; an asset without them cannot be auctioned.
	#[pallet::storage]
	pub type Params<T: Config> = StorageMap<_, Blake2_128Concat, T::AssetId, AuctionParams>;

	/// Running auctions.
	#[pallet::storage]
	pub type Auctions<T: Config> = CountedStorageMap<
		_,
		Twox64Concat,
		AuctionId,
		Auction<T::AccountId, T::AssetId, BlockNumberFor<T>>,
	>;

	/// The id the next auction gets.
	#[pallet::storage]
	pub type NextAuctionId<T: Config> = StorageValue<_, AuctionId, ValueQuery>;

	/// Collateral held for running auctions, per asset.
	#[pallet::storage]
	pub type LotTotals<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, Balance, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Auction parameters per collateral asset.
		pub params: alloc::vec::Vec<(T::AssetId, AuctionParams)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// Checked like the governance call: a bad preset must not build a chain.
			for (asset, params) in &self.params {
				if let Err(error) = Pallet::<T>::do_set_auction_params(*asset, *params) {
					panic!("invalid auction parameters in genesis for {asset:?}: {error:?}");
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An auction started.
		Started {
			/// The auction.
			id: AuctionId,
			/// The account whose collateral is sold.
			owner: T::AccountId,
			/// The asset sold.
			collateral: T::AssetId,
			/// Collateral for sale, in its smallest units.
			lot: Balance,
			/// The asset of the debt.
			debt_asset: T::AssetId,
			/// Most the proceeds may be, in the debt asset's smallest units.
			to_raise: Balance,
			/// The price at the (re)start, debt asset per collateral unit.
			start_price: AuctionPrice,
		},
		/// `buyer` bought `bought` collateral for `paid` of the debt asset at `price`.
		Taken {
			/// The auction.
			id: AuctionId,
			/// Who bought.
			buyer: T::AccountId,
			/// Collateral bought, in its smallest units.
			bought: Balance,
			/// Paid, in the debt asset's smallest units.
			paid: Balance,
			/// The price paid, debt asset per collateral unit.
			price: AuctionPrice,
			/// Collateral still for sale.
			lot_left: Balance,
			/// What the auction may still raise.
			left_to_raise: Balance,
		},
		/// A due auction started again at `start_price`; `caller` earned `incentive` collateral.
		Restarted {
			/// The auction.
			id: AuctionId,
			/// Who restarted it.
			caller: T::AccountId,
			/// The price at the (re)start, debt asset per collateral unit.
			start_price: AuctionPrice,
			/// Collateral paid to the caller, in its smallest units.
			incentive: Balance,
		},
		/// An auction ended: `returned` collateral went back to the owner, `shortfall` of the
		/// amount to raise was not all raised (bad debt, reported to the handler).
		Ended {
			/// The auction.
			id: AuctionId,
			/// Collateral returned to the owner, in its smallest units.
			returned: Balance,
			/// Of the amount to raise, what was not raised, in the debt asset's smallest units.
			shortfall: Balance,
		},
		/// The custody account was given the asset's minimum balance, so that it is never reaped.
		CustodyEndowed {
			/// The asset.
			asset: T::AssetId,
			/// The minimum balance, in the asset's smallest units.
			amount: Balance,
		},
		/// Governance set an asset's auction parameters.
		ParamsSet {
			/// The asset.
			asset: T::AssetId,
			/// The parameters now in force.
			params: AuctionParams,
		},
		/// Governance removed an asset's auction parameters: no new auctions of it.
		ParamsRemoved {
			/// The asset.
			asset: T::AssetId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No auction with this id is running.
		UnknownAuction,
		/// The collateral asset has no auction parameters.
		NotConfigured,
		/// As many auctions as allowed are running.
		TooManyAuctions,
		/// The lot or the amount to raise is zero, or a take would buy or pay nothing.
		ZeroAmount,
		/// The custody account does not hold the lot.
		LotNotInCustody,
		/// The current price is above the buyer's limit.
		PriceAboveLimit,
		/// The auction is too old or under its floor: it must be restarted before anything sells.
		NeedsRestart,
		/// The auction is neither too old nor under its floor: a restart is not due.
		RestartNotDue,
		/// The take would leave a lot below the minimum: take all of it, or less.
		WouldLeaveDust,
		/// The lot's or the debt asset's price is not usable (missing, stale or halted by the
		/// circuit breaker: [`PriceError`]); nothing sells without it.
		Price(PriceError),
		/// An asset's decimals are unknown.
		UnknownDecimals,
		/// The start premium is below 1 or above 2.
		PremiumOutOfRange,
		/// A duration or step is zero or above the maximum.
		DurationOutOfRange,
		/// A step cut is zero or above 50%.
		CutOutOfRange,
		/// The floor is not strictly between 0 and 100%.
		FloorOutOfRange,
		/// The restart incentive is above 1%.
		IncentiveTooHigh,
		/// Auctions of the asset are running.
		AuctionsRunning,
		/// The auction is no longer needed (its owner repaid, or would be healthy with the lot
		/// back): nothing sells; `close` returns the lot.
		NotNeeded,
		/// The auction is still needed: it cannot be closed.
		StillNeeded,
		/// The re-pricing band is zero or above 50%.
		BandOutOfRange,
		/// The smallest lot is zero.
		ZeroMinLot,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxAuctions::get() > 0, "MaxAuctions must be positive");
			assert!(T::MaxDurationBlocks::get() > 0, "MaxDurationBlocks must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Buys up to `max_collateral` of auction `id`'s lot at the current price, paying in the
		/// debt asset, if the price is at most `max_price` (whole debt units per whole
		/// collateral unit). Buys less when less raises what is left to raise.
		///
		/// Refused on an unusable oracle price, or when the auction is due for a restart (too old
		/// or under its floor), or when it would leave a lot below the minimum.
		#[pallet::call_index(0)]
		#[pallet::weight(<T as Config>::WeightInfo::take_and_end())]
		pub fn take(
			origin: OriginFor<T>,
			id: AuctionId,
			#[pallet::compact] max_collateral: Balance,
			max_price: AuctionPrice,
		) -> DispatchResultWithPostInfo {
			let buyer = ensure_signed(origin)?;
			let ended = Self::do_take(buyer, id, max_collateral, max_price)?;
			let weight = if ended { T::WeightInfo::take_and_end() } else { T::WeightInfo::take() };
			Ok(Some(weight).into())
		}

		/// Restarts auction `id` at the oracle price times the premium, if it is too old, its
		/// price fell under the floor, or the oracle left the re-pricing band around its level
		/// at the start; the caller earns the restart incentive. Refused (`NotNeeded`) for an
		/// auction no longer needed: `close` it instead.
		#[pallet::call_index(1)]
		pub fn redo(origin: OriginFor<T>, id: AuctionId) -> DispatchResult {
			let caller = ensure_signed(origin)?;
			Self::do_redo(caller, id)
		}

		/// Ends auction `id` when it is no longer needed, returning its whole lot to its owner:
		/// the owner repaid what it was raising (or would be healthy with the lot back, see
		/// [`liquidation_primitives::AuctionHandler::wanted`]). Anyone may call it (the owner
		/// would). Refused with `StillNeeded` otherwise.
		///
		/// Emits `Ended { returned: lot, shortfall: 0 }`.
		#[pallet::call_index(2)]
		pub fn close(origin: OriginFor<T>, id: AuctionId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_close(id)
		}

		/// Sets the auction parameters of a collateral asset (governance). Running auctions
		/// follow the new curve from now on.
		///
		/// Range checks: premium in [1, 2]; durations, steps and maximum age in
		/// [1, `MaxDurationBlocks`]; a step cut in (0, 50%]; floor strictly between 0 and 100%;
		/// restart incentive at most 1%; re-pricing band in (0, 50%].
		#[pallet::call_index(10)]
		pub fn set_auction_params(
			origin: OriginFor<T>,
			asset: T::AssetId,
			params: AuctionParams,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_auction_params(asset, params)
		}

		/// Removes an asset's auction parameters (governance): no auction of it may start.
		/// Refused while auctions of it run, since they are priced by these parameters.
		#[pallet::call_index(11)]
		pub fn remove_auction_params(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_remove_auction_params(asset)
		}
	}
}
