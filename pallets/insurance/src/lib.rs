//! # Insurance pallet
//!
//! The insurance treasury that stands between bad debt and the lenders.
//!
//! ## Goals
//!
//! - **A known order of loss**: stakers' vesting income first, then their stake, then the
//!   protocol-owned value; only what the fund cannot pay reaches the lenders.
//! - **No free ride**: income vests over a period, unstaking waits a cooldown, the first stake
//!   locks shares: a stake cannot take income it did not stand behind.
//! - **Cover in the asset owed**: a fund in one asset buys the bad debt's asset on a DEX, within a
//!   slippage bound and a per-block cap.
//!
//! Terms are those of the [glossary](liquidation_primitives#glossary).
//!
//! ## Overview
//!
//! The fund holds, in the pallet's own account, any asset the engine lends. Money comes in as
//! *income* (the insurance share of liquidation penalties, margin's reserve share of interest: both
//! through [`liquidation_primitives::FundIncome`]) and as *stakes* from insurance stakers. Money
//! goes out as *cover* of bad debt (through [`liquidation_primitives::DeficitHandler`]), as
//! stakers' withdrawals, and as surplus moved to the treasury by governance. What the fund cannot
//! cover it reports back, and the caller socializes it over that asset's lenders.
//!
//! ## Terminology
//!
//! - **Staked value / protocol-owned value**: the fund in one asset is two parts. The *staked value* belongs to
//!   stakers, in proportion to their *shares*; the *protocol-owned value* belongs to the protocol.
//! - **Income split**: while there are stakers, `staker_income_share` of income raises the staked
//!   value (every share gains pro rata); the rest, or all of it without stakers, goes to the protocol-owned value.
//! - **Vesting**: the stakers' part of income does not raise the staked value at once: it
//!   *vests* into it linearly over [`Config::IncomeVestingPeriod`] (a new income restarts the
//!   period for all that is still vesting). A share's value never jumps, so a stake placed just
//!   before a margin reserve collection or a large penalty gains nothing from it at once, and only what
//!   vests while the stake is at risk (unstaking takes the cooldown). What has not vested when
//!   the last staker leaves goes to the protocol-owned value; losses take it first.
//!
//!   ```text
//!     vested(now) = vesting * (now - last) / (end - last),  all of it from `end` on
//!   ```
//! - **Cover**: bad debt is paid from the staked value first (stakers bear losses first, every share
//!   losing pro rata) and from the protocol-owned value only when the staked value is gone; at most
//!   `max_cover_per_block` per block. The part not paid is *handed on* for socialization.
//! - **Cooldown**: a staker asks to unstake, waits `cooldown` blocks (shares still at risk), then has
//!   `unstake_window` blocks to withdraw; afterwards the request lapses. So no one can leave the
//!   moment a crash starts.
//! - **Generation**: if losses take the whole staked value while shares are outstanding, those shares
//!   are worth nothing; the next stake starts a new generation.
//! - **Locked shares**: the first stake into an empty fund (or a new generation) leaves
//!   [`Config::MinimumShares`] of its shares to no one. Without them the first staker could
//!   hold a single share, raise its value with income (or a donation of income), and make every
//!   later stake round down to nothing or to a fraction of its value (the share-inflation
//!   attack on ERC-4626 vaults): with them, any such raise goes mostly to shares no one can
//!   redeem. `stake` also takes a `min_shares` floor, so a staker never receives fewer shares
//!   than he asked for.
//!
//! Shares are minted and redeemed rounding down: rounding never favours a staker over the fund.
//!
//! ## Interface
//!
//! Anyone (signed): [`Pallet::stake`], [`Pallet::request_unstake`], [`Pallet::cancel_unstake`],
//! [`Pallet::withdraw`].
//! Governance ([`Config::GovernanceOrigin`]): [`Pallet::set_fund_params`],
//! [`Pallet::set_cooldown`], [`Pallet::withdraw_surplus`].
//! Other pallets: [`liquidation_primitives::DeficitHandler`], [`liquidation_primitives::FundIncome`].
//! Clients: the `InsuranceApi` runtime API (`pallet-insurance-runtime-api`).
//!
//! ## Usage
//!
//! Two stakers; income raises every share's value, a cover lowers it, and a later staker buys in
//! at the current value (from the pallet's tests):
//!
#![doc = docify::embed!("src/tests.rs", shares_gain_from_income_and_lose_from_cover_pro_rata)]
//!
//! ## Implementor's guide
//!
//! - Give the pallets that earn for the fund this pallet as their
//!   [`liquidation_primitives::FundIncome`] (penalties, interest reserve), and the one that
//!   writes off bad debt this pallet as its [`liquidation_primitives::DeficitHandler`].
//! - **Swap** ([`liquidation_primitives::CollateralSwap`]) and **MaxConversionSlippage**: how a
//!   fund in one asset buys another (our runtime's `DexSwap` over `pallet-asset-conversion`);
//!   `()` disables conversion. **Prices** and **Decimals** value what it buys.
//! - **QueuedBadDebt**: bad debt waiting for the fund (`pallet-liquidation`), so that a staker
//!   leaving while it waits leaves his part behind; `()` if nothing queues.
//! - **IncomeVestingPeriod** should be at least the cooldown; **MinimumShares** (the shares a
//!   fund's first stake locks) makes share inflation cost its attacker a thousand times what a
//!   later staker could lose to rounding.
//! - **WeightInfo** from your runtime's benchmarks, with `BenchmarkHelper` (with the `runtime-benchmarks` feature).
//! - Storage versions: a runtime upgrade from version 0 runs [`migrations::v1::MigrateToV1`].
//!
//! ## Invariants (checked by `try_state`)
//!
//! 1. For every insured asset, the fund account holds at least `staked + protocol_owned + vesting`
//!    (exactly that, unless someone transferred to it directly).
//! 2. The shares of the current generation held by stakers and the locked shares add up to the
//!    fund's shares.
//! 3. A fund with no shares has no staked or vesting value; a fund with vesting value has its
//!    schedule ([`IncomeVesting`]).
//! 4. No unstake request asks for more shares than its staker holds.
//! 5. Nothing is negative (balances are unsigned; every subtraction is checked).
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod convert;
mod functions;
mod impl_fund;
pub mod migrations;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use types::*;
pub use weights::WeightInfo;

/// Sets up what the benchmarks need: an insured asset and funded accounts.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetId, AccountId> {
	/// An asset the runtime can hold (it must exist).
	fn asset() -> AssetId;
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
	use liquidation_primitives::Balance;

	/// The storage layout's version; [`crate::migrations`] moves storage from the older ones.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Identifies an asset.
		type AssetId: Parameter + Member + MaxEncodedLen + Ord + Copy + MaybeSerializeDeserialize;

		/// Every asset the fund may hold (the native token and `pallet-assets` assets alike).
		type Assets: fungibles::Mutate<Self::AccountId, AssetId = Self::AssetId, Balance = Balance>;

		/// Who sets parameters and moves surplus.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The fund's account is derived from this id.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Where surplus above its target size goes.
		type TreasuryAccount: Get<Self::AccountId>;

		/// Most assets that may be insured.
		#[pallet::constant]
		type MaxAssets: Get<u32>;

		/// Longest cooldown or unstake window governance may set, in blocks.
		#[pallet::constant]
		type MaxCooldown: Get<BlockNumberFor<Self>>;

		/// Shares the first stake into an empty fund leaves to no one (see *locked shares*);
		/// that stake must be larger.
		#[pallet::constant]
		type MinimumShares: Get<Balance>;

		/// Prices that value one fund's asset against another's for a conversion.
		type Prices: liquidation_primitives::PriceProvider<Self::AssetId>;

		/// Decimals of the assets, for the same.
		type Decimals: liquidation_primitives::AssetDecimals<Self::AssetId>;

		/// The exchange a fund sells through to pay bad debt in another asset (the runtime's
		/// DEX); `()` for none.
		type Swap: liquidation_primitives::CollateralSwap<Self::AccountId, Self::AssetId, Balance>;

		/// Most a conversion may lose against the oracle: a fund pays at most the debt's oracle
		/// value plus this for what it buys (see [`crate::convert`]).
		#[pallet::constant]
		type MaxConversionSlippage: Get<sp_runtime::Permill>;

		/// Bad debt waiting for the fund (the engine's queue): a staker who leaves meanwhile
		/// bears his part of what waits in the fund's own asset. `()` for none.
		type QueuedBadDebt: liquidation_primitives::QueuedBadDebt<Self::AssetId, Balance>;

		/// Blocks over which stakers' income vests into the staked value (see *vesting*): at
		/// least the cooldown, so that a stake placed just before an income and withdrawn as
		/// soon as allowed takes at most its pro-rata part of what vested while it was at risk.
		#[pallet::constant]
		type IncomeVestingPeriod: Get<BlockNumberFor<Self>>;

		/// Weights of the calls, from this pallet's benchmarks.
		type WeightInfo: WeightInfo;

		/// Benchmark set-up.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AssetId, Self::AccountId>;
	}

	/// Parameters of each insured asset.
	#[pallet::storage]
	pub type Params<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AssetId, FundParams>;

	/// The fund in each asset.
	#[pallet::storage]
	pub type Funds<T: Config> = StorageMap<_, Blake2_128Concat, T::AssetId, Fund, ValueQuery>;

	/// Stakers' shares, by asset and staker.
	#[pallet::storage]
	pub type Stakes<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AssetId,
		Blake2_128Concat,
		T::AccountId,
		Stake,
		OptionQuery,
	>;

	/// Pending unstake requests, by asset and staker.
	#[pallet::storage]
	pub type UnstakeRequests<T: Config> = StorageDoubleMap<
		_,
		Blake2_128Concat,
		T::AssetId,
		Blake2_128Concat,
		T::AccountId,
		UnstakeRequest<BlockNumberFor<T>>,
		OptionQuery,
	>;

	/// Until governance sets them, the cooldown and the window are the longest allowed: the safe
	/// side for the fund.
	#[pallet::type_value]
	pub fn LongestCooldown<T: Config>() -> BlockNumberFor<T> {
		T::MaxCooldown::get()
	}

	/// Blocks between an unstake request and the first block it may be withdrawn in.
	#[pallet::storage]
	pub type Cooldown<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, LongestCooldown<T>>;

	/// Blocks after the cooldown during which the withdrawal may be made.
	#[pallet::storage]
	pub type UnstakeWindow<T: Config> =
		StorageValue<_, BlockNumberFor<T>, ValueQuery, LongestCooldown<T>>;

	/// Cover paid in the block named, per asset (older blocks count as nothing paid).
	#[pallet::storage]
	pub type CoveredInBlock<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, (BlockNumberFor<T>, Balance), ValueQuery>;

	/// Per asset with income vesting: the block vesting was last counted in and the block by
	/// which all of [`Fund::vesting`] has vested.
	#[pallet::storage]
	pub type IncomeVesting<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, (BlockNumberFor<T>, BlockNumberFor<T>)>;

	/// Running totals per asset.
	#[pallet::storage]
	pub type Totals<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AssetId, FundTotals, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Insured assets and their parameters.
		pub assets: alloc::vec::Vec<(T::AssetId, FundParams)>,
		/// The unstaking cooldown, in blocks; zero for both this and `unstake_window` leaves
		/// them at `MaxCooldown`.
		pub cooldown: BlockNumberFor<T>,
		/// Blocks after the cooldown in which the withdrawal may be made.
		pub unstake_window: BlockNumberFor<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// Checked like the governance calls: a bad preset must not build.
			for (asset, params) in &self.assets {
				if let Err(error) = Pallet::<T>::do_set_fund_params(*asset, *params) {
					panic!("invalid insurance parameters in genesis for {asset:?}: {error:?}");
				}
			}
			let unset = self.cooldown.is_zero() && self.unstake_window.is_zero();
			if !unset {
				if let Err(error) = Pallet::<T>::do_set_cooldown(self.cooldown, self.unstake_window)
				{
					panic!("invalid insurance cooldown in genesis: {error:?}");
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// `who` staked `amount` of `asset` for `shares`.
		Staked {
			/// The staker.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// Staked, in the asset's smallest units.
			amount: Balance,
			/// Shares of the fund.
			shares: Balance,
		},
		/// `who` asked to withdraw `shares`, from block `ready_at`.
		UnstakeRequested {
			/// The staker.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// Shares of the fund.
			shares: Balance,
			/// The first block the withdrawal may be made in.
			ready_at: BlockNumberFor<T>,
		},
		/// `who` withdrew its request.
		UnstakeCancelled {
			/// The staker.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
		},
		/// `who` redeemed `shares` for `amount`.
		Withdrawn {
			/// The staker.
			who: T::AccountId,
			/// The asset.
			asset: T::AssetId,
			/// Shares of the fund.
			shares: Balance,
			/// Paid out, in the asset's smallest units.
			amount: Balance,
		},
		/// The fund in `sold_asset` paid `sold` of it through the DEX for `paid` of `asset`,
		/// paid as cover of bad debt in `asset`.
		CoverConverted {
			/// The asset of the fund that sold.
			sold_asset: T::AssetId,
			/// Sold, in the sold asset's smallest units.
			sold: Balance,
			/// The asset of the bad debt covered.
			asset: T::AssetId,
			/// Bought and paid as cover, in the covered asset's smallest units.
			paid: Balance,
		},
		/// Income arrived: `to_stakers` vests into the staked value over the vesting period, the
		/// rest went to the protocol-owned value.
		IncomeReceived {
			/// The asset.
			asset: T::AssetId,
			/// Who paid the income.
			from: T::AccountId,
			/// The whole income, in the asset's smallest units.
			amount: Balance,
			/// The stakers' part, vesting.
			to_stakers: Balance,
		},
		/// Bad debt of `requested` was presented; the fund paid `covered` to `beneficiary` and
		/// handed `handed_on` on for socialization.
		DeficitCovered {
			/// The asset.
			asset: T::AssetId,
			/// Who received the cover (the engine, for the pool).
			beneficiary: T::AccountId,
			/// Bad debt presented.
			requested: Balance,
			/// Paid by the fund.
			covered: Balance,
			/// Not paid: handed on for socialization.
			handed_on: Balance,
		},
		/// Losses took the whole staked value with shares outstanding: they are void.
		StakesWipedOut {
			/// The asset.
			asset: T::AssetId,
			/// The new generation.
			generation: u32,
		},
		/// Governance set the parameters of `asset`.
		FundParamsSet {
			/// The asset.
			asset: T::AssetId,
			/// The parameters now in force.
			params: FundParams,
		},
		/// Governance set the cooldown and the unstake window.
		CooldownSet {
			/// In blocks.
			cooldown: BlockNumberFor<T>,
			/// In blocks.
			unstake_window: BlockNumberFor<T>,
		},
		/// Surplus (the total above the target size, out of the protocol-owned value) moved to
		/// the treasury.
		SurplusWithdrawn {
			/// The asset.
			asset: T::AssetId,
			/// Moved, in the asset's smallest units.
			amount: Balance,
			/// The treasury.
			to: T::AccountId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The asset is not insured.
		AssetNotInsured,
		/// `MaxAssets` assets are insured already.
		TooManyAssets,
		/// A per-block cover cap of zero would hand every loss on.
		ZeroCoverCap,
		/// The target size is below the per-block cover cap: the fund would give away its protocol-owned value
		/// while unable to pay one block's bad debt.
		TargetSizeBelowCover,
		/// The cooldown is zero.
		ZeroCooldown,
		/// The unstake window is zero.
		ZeroUnstakeWindow,
		/// The cooldown or the window is over `MaxCooldown`.
		CooldownTooLong,
		/// An amount or a number of shares is zero.
		ZeroAmount,
		/// The stake is worth less than one share (the first stake into an empty fund: no more
		/// than the locked shares).
		StakeTooSmall,
		/// The stake would mint fewer shares than the staker's `min_shares`.
		TooFewShares,
		/// More shares than the staker holds.
		InsufficientShares,
		/// No unstake request is pending.
		NoUnstakeRequest,
		/// The cooldown has not passed yet.
		CooldownNotOver,
		/// The window to withdraw has passed: request again.
		UnstakeWindowPassed,
		/// The fund's total is not above its target size (or its protocol-owned value is
		/// nothing): there is no surplus to move.
		NoSurplus,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxAssets::get() > 0, "MaxAssets must be positive");
			assert!(!T::MaxCooldown::get().is_zero(), "MaxCooldown must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call(weight(<T as Config>::WeightInfo))]
	impl<T: Config> Pallet<T> {
		/// Stake `amount` of `asset` into its fund for shares, refused (`TooFewShares`) if it
		/// would mint fewer than `min_shares`.
		///
		/// Shares are minted at the current value of a share, rounded down. The staked value earns
		/// its part of income and bears losses first. The first stake into an empty fund leaves
		/// `MinimumShares` of its shares locked (see *locked shares* in the pallet docs).
		///
		/// Emits `Staked` (and `StakesWipedOut` if it starts a new generation).
		#[pallet::call_index(0)]
		pub fn stake(
			origin: OriginFor<T>,
			asset: T::AssetId,
			amount: Balance,
			min_shares: Balance,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_stake(who, asset, amount, min_shares)
		}

		/// Ask to withdraw `shares` of `asset` after the cooldown. Replaces any pending request
		/// (and restarts its cooldown). The shares stay at risk until withdrawn.
		///
		/// Emits `UnstakeRequested`.
		#[pallet::call_index(1)]
		pub fn request_unstake(
			origin: OriginFor<T>,
			asset: T::AssetId,
			shares: Balance,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_unstake(who, asset, shares)
		}

		/// Withdraw a pending unstake request.
		///
		/// Emits `UnstakeCancelled`.
		#[pallet::call_index(2)]
		pub fn cancel_unstake(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			ensure!(
				UnstakeRequests::<T>::take(asset, &who).is_some(),
				Error::<T>::NoUnstakeRequest
			);
			Self::deposit_event(Event::UnstakeCancelled { who, asset });
			Ok(())
		}

		/// Redeem the shares of a request whose cooldown has passed, at the current share value
		/// (rounded down).
		///
		/// Emits `Withdrawn`.
		#[pallet::call_index(3)]
		pub fn withdraw(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw(who, asset)
		}

		/// Insure `asset` with `params`, or change them (governance).
		///
		/// Emits `FundParamsSet`.
		#[pallet::call_index(4)]
		pub fn set_fund_params(
			origin: OriginFor<T>,
			asset: T::AssetId,
			params: FundParams,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_fund_params(asset, params)
		}

		/// Set the cooldown and the unstake window, in blocks (governance). Applies to requests
		/// made from now on.
		///
		/// Emits `CooldownSet`.
		#[pallet::call_index(5)]
		pub fn set_cooldown(
			origin: OriginFor<T>,
			cooldown: BlockNumberFor<T>,
			unstake_window: BlockNumberFor<T>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_cooldown(cooldown, unstake_window)
		}

		/// Move the fund's surplus to the treasury (governance): what its total holds above its
		/// target size, at most its protocol-owned value (stakers' value never moves).
		/// Stakers' value is never moved.
		///
		/// Emits `SurplusWithdrawn`.
		#[pallet::call_index(6)]
		pub fn withdraw_surplus(origin: OriginFor<T>, asset: T::AssetId) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_withdraw_surplus(asset)
		}
	}
}
