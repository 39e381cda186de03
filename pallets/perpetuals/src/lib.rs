//! # Perpetuals pallet
//!
//! Perpetual futures on any priced underlying, traded against one liquidity vault, in the same
//! cross-margin account as the trader's spot deposits and debts: the derivatives the liquidation
//! engine exists to liquidate.
//!
//! ## Goals
//!
//! - **One account, one health**: a trader's positions are margined by everything in his margin
//!   account, and count in its one health ([`liquidation_primitives::Exposure`], read by the
//!   margin ledger): unrealised profit at a governed weight, loss in full, each position's
//!   requirement. The engine sees and closes them as it does spot debt.
//! - **No loop over positions**: funding accrues through a cumulative index per market; the
//!   vault's value through two sums per market. Every call reads one market and one account.
//! - **The vault cannot be drained by one trade**: open interest caps per side, a cap on the
//!   vault's net exposure against its value, price impact from the skew.
//!
//! Terms are those of the [glossary](liquidation_primitives#glossary).
//!
//! ## Terminology
//!
//! - **Underlying**: the asset a market follows; its price is the oracle's
//!   ([`Config::Prices`]). A market is keyed by its underlying (one market each).
//! - **Size** `s`: signed, in whole units of the underlying (`+` long, `-` short), a
//!   `FixedI128`. **Notional**: `|s| P` in USD at the oracle price `P`.
//! - **Open interest**: the sum of the longs' sizes, and of the shorts'. **Skew** `k`: long minus
//!   short open interest; **skew scale** `S`: the skew at which the price premium is 100%.
//! - **Vault**: one USD vault for all markets takes the other side of every trade (GMX's and
//!   Synthetix's model; one vault rather than one per market, so that one pool of liquidity and
//!   one LP share back every market, and a loss in one market is met by the profit of all).
//!   Its *value* (NAV) is its USD, less the profit it owes traders ([`ProfitOwed`]), plus what
//!   the traders owe it unrealised:
//!
//!   ```text
//!     NAV = vault USD - owed - Σ_markets (k P - Σ s e) + Σ_markets (k F - Σ s F_0) - Σ_markets P k² / 2S
//!   ```
//!
//!   the second term the traders' unrealised profit (entry prices `e`), the third the funding
//!   they owe (index `F`, settled at `F_0`); the sums are kept per market
//!   ([`types::MarketState::entry_sum`], [`types::MarketState::funding_sum`]); less, per market,
//!   what flattening the skew would cost beyond the oracle price, `P k² / 2S`. With it a trade
//!   moves the value by its fee only (its premium raises both terms alike), so no one moves the
//!   share price with a trade around a deposit or withdrawal. LPs deposit and withdraw only
//!   while every market with positions has a usable price.
//! - **Utilisation**: `Σ_markets |k| P / NAV`, the vault's net exposure against its value;
//!   governed bound [`types::VaultParams::max_utilisation`].
//! - **Settlement asset** ([`Config::SettlementAsset`]): the USD stablecoin profit, loss,
//!   funding and fees settle in, one smallest unit for `10^-decimals` USD (a stablecoin at its
//!   face value, as every perp DEX settles).
//!
//! ## Formulas
//!
//! See [`math`] for each with its source: the fill price
//! `P (1 + (2k + Δs) / 2S)` (Synthetix v3), velocity funding `r' = clamp(k / S, -1, 1) V_max`,
//! the funding index `F += (r_0 + r_1) / 2 · t · P`, the initial margin fraction
//! `IMF = min(1, IMF_min + |s| / S · slope)` and `MMF = IMF · share`, weighted entry on
//! increases and realised profit on reductions.
//!
//! A trade of `Δs` settles, in the settlement asset:
//!
//! ```text
//!   net = realised - funding owed - fee,   fee = |Δs| fill · taker_fee
//! ```
//!
//! paid from the vault's margin deposit to the trader when positive (rounded down; what the
//! deposit cannot pay is owed to him, see [`profit_owed`]), charged to the trader in favour of
//! the vault when negative (rounded up): from profit owed to him first, then his USD deposit,
//! the rest lent to him, his debt in the same ledger ([`liquidation_primitives::ledger::Settle`]).
//!
//! A position's part of its account's health, at the oracle price:
//!
//! ```text
//!   pnl = s (P - e) - s (F - F_0)
//!   collateral += pnl · w_profit   (pnl > 0; w_profit initial or maintenance)
//!   debt       += -pnl             (pnl < 0)
//!   debt       += IMF |s| P  (opening risk)   or   MMF |s| P  (liquidation)
//! ```
//!
//! For opening risk a long is valued at the lower of the price and the stable price, a short at
//! the higher, and the requirement at the higher: a price pumped in minutes lends nothing.
//!
//! ## Rules
//!
//! - Opening, increasing or flipping a position needs the whole account's initial health after
//!   it; reducing or closing never does (a trader can always get out, even while the market is
//!   paused, and a reduction never needs the vault's room). Withdrawing collateral or
//!   borrowing in margin sees the positions too.
//! - A liquidatable account does not trade: a loss realised beyond its collateral would be
//!   lent at the lenders' risk. Its positions are the liquidation engine's to close.
//! - A position is at least [`types::MarketParams::min_position_usd`] of notional or closed.
//! - A trade that adds to a side's open interest beyond
//!   [`types::MarketParams::max_open_interest_usd`], or to a market's skew beyond the vault's
//!   utilisation bound, is refused.
//! - LPs deposit USD for shares; a withdrawal waits [`types::VaultParams::withdrawal_delay_blocks`]
//!   (its shares still bearing profit and loss), and is refused while it would leave the vault
//!   beyond its utilisation bound, or take USD the vault owes traders. The first deposit locks [`Config::MinimumShares`] of its
//!   shares to no one (the share-inflation attack, as the insurance fund).
//!
//! - A liquidatable account's positions are closed out by the liquidation engine through
//!   [`liquidation_primitives::PositionLiquidation`] (see [`close_out`]): taken over by a keeper
//!   at the fill of the reduction moved against the trader by the liquidation fee, or closed by
//!   the vault at that price (the backstop). An insolvent trader is charged all he has and no
//!   more: the vault holds his shortfall, which the engine's waterfall covers (insurance, then
//!   auto-deleveraging, then the vault's LPs).
//! - Auto-deleveraging (see [`deleverage`]): the engine reads a market's traders
//!   ([`MarketTraders`]) in windows and ranks the profitable positions opposite a bankrupt one
//!   by profit times leverage; each is reduced at the bankrupt position's bankruptcy price (or
//!   its own entry, whichever is nearer the oracle) by just the units whose haircut covers
//!   what is left of the shortfall ([`Event::Deleveraged`]).
//! - A profit the vault's deposit cannot pay at once is owed to the trader, never refused (see
//!   [`profit_owed`]): counted in his health as a deposit, set against his next loss, paid by
//!   [`Pallet::claim_profit`]; while the vault owes more than it holds, anyone may realise a
//!   loser's loss at the oracle price ([`Pallet::realise_loss`]) to bring the cash in.
//!
//! ## Interface
//!
//! Governance: [`Pallet::list_market`], [`Pallet::set_market_params`],
//! [`Pallet::set_market_status`], [`Pallet::set_vault_params`]. Traders:
//! [`Pallet::modify_position`], [`Pallet::close_position`], [`Pallet::claim_profit`]. LPs:
//! [`Pallet::deposit_to_vault`], [`Pallet::request_withdrawal`], [`Pallet::withdraw_from_vault`].
//! Anyone: [`Pallet::realise_loss`]. Queries (runtime API): [`Pallet::market_report`],
//! [`Pallet::position_reports`], [`Pallet::vault_report`], [`Pallet::positions_at_loss`].

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub use pallet::*;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
pub mod close_out;
pub mod deleverage;
mod functions;
mod impl_exposure;
pub mod math;
#[cfg(test)]
mod mock;
pub mod profit_owed;
mod reports;
#[cfg(test)]
mod tests;
pub mod types;
mod vault;
pub mod weights;

pub use liquidation_primitives::UsdValue;
pub use reports::{MarketReport, PositionReport, VaultReport};
pub use types::{
	Market, MarketParams, MarketState, MarketStatus, Position, VaultParams, Withdrawal,
};
pub use weights::WeightInfo;

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId, AssetId> {
	/// `n` distinct underlyings with a usable price of 1 000 USD per whole unit (not listed as
	/// perpetual markets yet).
	fn underlyings(n: u32) -> alloc::vec::Vec<AssetId>;
	/// Gives `who` `usd` whole USD of the settlement asset in its margin account, as a deposit
	/// (collateral for trading).
	fn fund_margin(who: &AccountId, usd: u128);
	/// Gives `who` `usd` whole USD of the settlement asset as tokens (to deposit into the vault).
	fn fund_tokens(who: &AccountId, usd: u128);
	/// Gives `who` collateral worth `usd` whole USD in its margin account in an asset other than
	/// the settlement asset, and no settlement asset: what it is charged is lent to it (the
	/// costlier settlement).
	fn fund_collateral(who: &AccountId, usd: u128);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use crate::math::Signed;
	use frame_support::{
		pallet_prelude::*,
		traits::{Get, Time},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use liquidation_primitives::{ledger, AssetDecimals, Balance, Moment, Price, PriceError};

	/// The storage layout's version.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// Identifies an asset: a market's underlying, and the settlement asset.
		type AssetId: Parameter + Member + MaxEncodedLen + Ord + Copy + MaybeSerializeDeserialize;

		/// The margin ledger trades settle through (`pallet-margin`): it holds the traders' and
		/// the vault's USD, and judges the whole account's health.
		type Ledger: ledger::Settle<Self::AccountId, AssetId = Self::AssetId, Balance = Balance>;

		/// The settlement asset's decimals.
		type Decimals: AssetDecimals<Self::AssetId>;

		/// Prices of the underlyings.
		type Prices: liquidation_primitives::PriceProvider<Self::AssetId>;

		/// How far each underlying's margins are widened by its volatility (`pallet-margin`'s
		/// volatility-driven weights): a market divides its margin fractions by `1 - widening`.
		/// `()` widens nothing.
		type Widening: liquidation_primitives::MarginWidening<Self::AssetId>;

		/// The current time, in ms since the Unix epoch (funding accrues with it).
		type Time: Time<Moment = Moment>;

		/// Who lists markets and sets parameters.
		type GovernanceOrigin: EnsureOrigin<Self::RuntimeOrigin>;

		/// The USD stablecoin everything settles in. Must be listed in the ledger.
		#[pallet::constant]
		type SettlementAsset: Get<Self::AssetId>;

		/// The vault's account is derived from it.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// Most markets (bounds the vault's valuation, which reads every market).
		#[pallet::constant]
		type MaxMarkets: Get<u32>;

		/// Most positions one account may hold (bounds its health's reads).
		#[pallet::constant]
		type MaxPositionsPerAccount: Get<u32>;

		/// Shares the first deposit into an empty vault locks to no one.
		#[pallet::constant]
		type MinimumShares: Get<Balance>;

		/// What the vault is owed, USD, for shortfalls of insolvent traders it holds that the
		/// liquidation engine's waterfall has yet to settle (insurance, auto-deleveraging):
		/// counted in the vault's value, so that LPs depositing meanwhile pay for what will be
		/// recovered and those who bore the loss get it back; written off when the waterfall
		/// leaves it to the LPs. `GetDefault` without such a waterfall.
		type ShortfallReceivable: Get<liquidation_primitives::UsdValue>;

		/// The longest withdrawal delay governance may set.
		#[pallet::constant]
		type MaxWithdrawalDelay: Get<BlockNumberFor<Self>>;

		/// Weights of the calls.
		type WeightInfo: WeightInfo;

		/// Sets up the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId, Self::AssetId>;
	}

	/// Listed markets, by underlying.
	#[pallet::storage]
	pub type Markets<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AssetId, Market>;

	/// Open positions: account, underlying.
	#[pallet::storage]
	pub type Positions<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AccountId, Blake2_128Concat, T::AssetId, Position>;

	/// How many positions each account holds.
	#[pallet::storage]
	pub type PositionCount<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, u32, ValueQuery>;

	/// The accounts with a position in each market (its underlying first): what
	/// auto-deleveraging scans for the positions opposite a bankrupt one, in storage order
	/// (the hash of the account: no one chooses his place).
	#[pallet::storage]
	pub type MarketTraders<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, T::AssetId, Blake2_128Concat, T::AccountId, ()>;

	/// Each market's funding index when the margin ledger's risk index started the reference
	/// of a slot: its distances count funding owed to it, and its walks the drift since
	/// ([`liquidation_primitives::Exposure::drift_since_reference`]). Removed for a market whose
	/// parameters changed (its drift is then unbounded until the next reference).
	#[pallet::storage]
	pub type ReferenceFunding<T: Config> =
		StorageDoubleMap<_, Twox64Concat, u8, Blake2_128Concat, T::AssetId, Signed>;

	/// The vault's parameters; no deposit before they are set.
	#[pallet::storage]
	pub type Vault<T: Config> = StorageValue<_, VaultParams<BlockNumberFor<T>>>;

	/// Vault shares outstanding, including those locked and those awaiting withdrawal.
	#[pallet::storage]
	pub type TotalShares<T: Config> = StorageValue<_, Balance, ValueQuery>;

	/// Each LP's vault shares (not counting those awaiting withdrawal).
	#[pallet::storage]
	pub type Shares<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, Balance, ValueQuery>;

	/// Pending withdrawals from the vault.
	#[pallet::storage]
	pub type Withdrawals<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Withdrawal<BlockNumberFor<T>>>;

	/// Profit the vault owes each trader beyond what its deposit could pay when his position
	/// settled, in the settlement asset's smallest units (see [`crate::profit_owed`]). Counted
	/// against liquidation as his deposit of the settlement asset would be (not for opening
	/// risk); paid by [`Pallet::claim_profit`], or set against his next loss.
	#[pallet::storage]
	pub type ProfitOwed<T: Config> =
		StorageMap<_, Blake2_128Concat, T::AccountId, Balance, ValueQuery>;

	/// The sum of [`ProfitOwed`]: of the vault's deposit, what is the traders' before the LPs'.
	#[pallet::storage]
	pub type TotalProfitOwed<T: Config> = StorageValue<_, Balance, ValueQuery>;

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Listed markets.
		pub markets: alloc::vec::Vec<(T::AssetId, MarketParams)>,
		/// The vault's parameters.
		pub vault: Option<VaultParams<BlockNumberFor<T>>>,
		/// Deposits into the vault at genesis, in the settlement asset's smallest units, from
		/// accounts that hold it as tokens.
		pub vault_deposits: alloc::vec::Vec<(T::AccountId, Balance)>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			// Checked like the governance calls: a bad preset must not build.
			for (underlying, params) in &self.markets {
				if let Err(error) = Pallet::<T>::do_list_market(*underlying, *params) {
					panic!("invalid perpetual market {underlying:?} in genesis: {error:?}");
				}
			}
			if let Some(params) = self.vault {
				if let Err(error) = Pallet::<T>::do_set_vault_params(params) {
					panic!("invalid vault parameters in genesis: {error:?}");
				}
			}
			for (who, amount) in &self.vault_deposits {
				if let Err(error) = Pallet::<T>::do_deposit_to_vault(who, *amount) {
					panic!("genesis vault deposit of {who:?} failed: {error:?}");
				}
			}
		}
	}

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A market was listed.
		MarketListed {
			/// Its underlying.
			underlying: T::AssetId,
			/// Its parameters.
			params: MarketParams,
		},
		/// A market's parameters changed (funding accrued to now under the old ones first).
		MarketParamsSet {
			/// Its underlying.
			underlying: T::AssetId,
			/// The new parameters.
			params: MarketParams,
		},
		/// A market was paused or resumed.
		MarketStatusSet {
			/// Its underlying.
			underlying: T::AssetId,
			/// The new status.
			status: MarketStatus,
		},
		/// The vault's parameters changed.
		VaultParamsSet {
			/// The new parameters.
			params: VaultParams<BlockNumberFor<T>>,
		},
		/// A position was opened, changed or closed. The settlement moved `paid` from the vault
		/// to the trader, or `charged` from the trader to the vault (the other zero).
		PositionModified {
			/// The trader.
			who: T::AccountId,
			/// The market.
			underlying: T::AssetId,
			/// The trade, in whole units (`+` buy, `-` sell).
			size_delta: Signed,
			/// The price it filled at, USD per unit (the oracle price moved by the skew).
			fill_price: Price,
			/// The oracle price.
			oracle_price: Price,
			/// The position after it (zero: closed).
			size: Signed,
			/// The position's entry price after it (zero: closed).
			entry_price: Price,
			/// Profit (negative: loss) the trade realised, USD.
			realised_pnl: Signed,
			/// Funding the position paid since it last settled (negative: received), USD.
			funding: Signed,
			/// The fee, USD.
			fee: Price,
			/// Settled to the trader, in the settlement asset's smallest units.
			paid: Balance,
			/// Settled from the trader, in the settlement asset's smallest units.
			charged: Balance,
		},
		/// The liquidation engine closed out (part of) a liquidatable trader's position at the
		/// oracle price moved against him by the liquidation fee: taken over by `keeper`, or by
		/// the vault when `None` (see [`close_out`]). The settlement moved `paid` from the vault
		/// to the trader, or `charged` from the trader to the vault.
		PositionClosedOut {
			/// The liquidated trader.
			who: T::AccountId,
			/// The market.
			underlying: T::AssetId,
			/// Whole units closed.
			units: sp_runtime::FixedU128,
			/// The oracle price.
			oracle_price: Price,
			/// The price the units closed at: the oracle's moved by the fee per unit.
			close_price: Price,
			/// The trader's position after it (zero: closed).
			size: Signed,
			/// Profit (negative: loss) the close-out realised for the trader, USD.
			realised_pnl: Signed,
			/// Funding the position paid since it last settled (negative: received), USD.
			funding: Signed,
			/// The liquidation fee, USD: held by the keeper as unrealised profit, or by the vault.
			fee: sp_runtime::FixedU128,
			/// The keeper who took the units over (`None`: the vault).
			keeper: Option<T::AccountId>,
			/// Of the realised loss, what was not charged to the insolvent trader (USD): the
			/// vault holds it for the engine's waterfall.
			forgiven: sp_runtime::FixedU128,
			/// Settled to the trader, in the settlement asset's smallest units.
			paid: Balance,
			/// Settled from the trader, in the settlement asset's smallest units.
			charged: Balance,
		},
		/// Auto-deleveraging reduced a profitable position opposite a bankrupt one at the
		/// bankrupt position's bankruptcy price (or its own entry, whichever is nearer the
		/// oracle): its profit is lower by `haircut`, which stays with the vault.
		Deleveraged {
			/// The trader.
			who: T::AccountId,
			/// The market.
			underlying: T::AssetId,
			/// Whole units closed.
			units: sp_runtime::FixedU128,
			/// The price they closed at.
			price: Price,
			/// The oracle price.
			oracle_price: Price,
			/// What closing there rather than at the oracle took from his profit, USD.
			haircut: sp_runtime::FixedU128,
			/// His position after it (zero: closed).
			size: Signed,
		},
		/// The vault's deposit (beyond the profit it already owed) could not pay all of a
		/// trader's profit: the rest is owed to him ([`ProfitOwed`]).
		ProfitDeferred {
			/// The trader.
			who: T::AccountId,
			/// Owed beyond what was paid, in the settlement asset's smallest units.
			amount: Balance,
			/// All the vault owes him now.
			owed: Balance,
		},
		/// Profit the vault owed a trader was paid: in cash, or set against a loss he settled.
		OwedProfitSettled {
			/// The trader.
			who: T::AccountId,
			/// Paid into his margin account as a deposit of the settlement asset, in its
			/// smallest units.
			paid: Balance,
			/// Set against a loss he owed the vault, in the same units.
			offset: Balance,
			/// What the vault still owes him.
			owed: Balance,
		},
		/// A position's loss was realised while the vault owed more profit than it held
		/// ([`Pallet::realise_loss`]), no more than it lacked: its funding settled, its entry
		/// price moved towards the oracle price, and what was realised was charged to the
		/// trader in the vault's favour.
		LossRealised {
			/// The trader.
			who: T::AccountId,
			/// The market.
			underlying: T::AssetId,
			/// The oracle price.
			price: Price,
			/// His entry price now (the oracle price when the whole loss was realised).
			entry_price: Price,
			/// The loss realised (funding owed first), USD.
			loss: sp_runtime::FixedU128,
			/// Charged to him (his owed profit first), in the settlement asset's smallest units.
			charged: Balance,
		},
		/// An LP deposited into the vault.
		VaultDeposited {
			/// The LP.
			who: T::AccountId,
			/// In the settlement asset's smallest units.
			amount: Balance,
			/// Shares minted to him.
			shares: Balance,
		},
		/// An LP asked to withdraw; the shares bear profit and loss until withdrawn.
		WithdrawalRequested {
			/// The LP.
			who: T::AccountId,
			/// All his shares now awaiting withdrawal.
			shares: Balance,
			/// The first block the withdrawal can be made in.
			unlocks_at: BlockNumberFor<T>,
		},
		/// An LP withdrew: the value of his shares moved into his margin account as a deposit.
		VaultWithdrawn {
			/// The LP.
			who: T::AccountId,
			/// Shares redeemed.
			shares: Balance,
			/// In the settlement asset's smallest units.
			amount: Balance,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No market is listed for this underlying.
		MarketNotListed,
		/// A market is already listed for this underlying.
		MarketAlreadyListed,
		/// [`Config::MaxMarkets`] markets are listed.
		TooManyMarkets,
		/// The skew scale is zero.
		SkewScaleZero,
		/// A margin fraction is zero, or the maintenance share is 100%.
		MarginFractionOutOfRange,
		/// The funding bound or velocity is above its limit ([`types::MAX_FUNDING_RATE_PER_DAY`],
		/// [`types::MAX_FUNDING_VELOCITY_PER_DAY`]).
		FundingOutOfRange,
		/// The taker fee is above [`types::MAX_TAKER_FEE`].
		FeeTooHigh,
		/// Profit would count more for opening risk than against liquidation.
		ProfitWeightOutOfRange,
		/// The liquidation fee share is above [`types::MAX_LIQUIDATION_FEE_SHARE`].
		LiquidationFeeTooHigh,
		/// The withdrawal delay is above [`Config::MaxWithdrawalDelay`], or the utilisation bound
		/// is zero.
		VaultParamsOutOfRange,
		/// The underlying's price is not usable.
		Price(PriceError),
		/// A trade of size zero.
		ZeroSize,
		/// The market is paused: only trades that reduce a position.
		MarketPaused,
		/// The fill price is beyond the trader's limit.
		PriceLimitExceeded,
		/// The trade is too large for the market: its fill price would be zero or less.
		TradeTooLarge,
		/// The trade would leave a position below the market's minimum notional.
		PositionTooSmall,
		/// The trade would take a side's open interest beyond the market's cap.
		OpenInterestCapExceeded,
		/// The trade (or withdrawal) would take the vault's net exposure beyond its utilisation
		/// bound.
		VaultUtilisationExceeded,
		/// The account holds [`Config::MaxPositionsPerAccount`] positions.
		TooManyPositions,
		/// No position in this market.
		NoPosition,
		/// A keeper may not take over his own position.
		KeeperIsTrader,
		/// The position is not on the side auto-deleveraging reduces, or not in profit at the
		/// oracle beyond the bankruptcy price.
		NotDeleverageable,
		/// Deleveraging the position would leave its account liquidatable (it is passed over).
		DeleverageWouldLiquidate,
		/// The account is liquidatable (or its health cannot be judged): it may not trade until
		/// it adds collateral; its positions are the liquidation engine's to close.
		AccountLiquidatable,
		/// The vault's deposit cannot pay this: a withdrawal comes after the profit the vault owes
		/// traders ([`TotalProfitOwed`]), and a claim waits until the deposit holds all of it.
		VaultCannotPay,
		/// The vault owes this account no profit.
		NoProfitOwed,
		/// The vault's deposit pays all the profit it owes: no loss needs realising early.
		VaultPaysInFull,
		/// The position is not at a loss at the oracle price, funding included.
		NotInLoss,
		/// Realising the loss would leave the account liquidatable: it is the liquidation
		/// engine's to close instead.
		RealiseWouldLiquidate,
		/// The vault's value is zero or less: no deposit can be priced.
		VaultInsolvent,
		/// The vault's parameters are not set.
		VaultNotConfigured,
		/// An amount of zero.
		ZeroAmount,
		/// The deposit would mint no share, or the first deposit not more than the locked shares.
		DepositTooSmall,
		/// More shares than the LP holds.
		InsufficientShares,
		/// No withdrawal was requested.
		NoWithdrawal,
		/// The withdrawal delay has not passed.
		WithdrawalLocked,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		#[cfg(feature = "try-runtime")]
		fn try_state(_: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Lists a market on `underlying` with `params` (ranges: [`MarketParams::check`]).
		/// Funding starts now, at rate zero. Governance only.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::list_market())]
		pub fn list_market(
			origin: OriginFor<T>,
			underlying: T::AssetId,
			params: MarketParams,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_list_market(underlying, params)
		}

		/// Sets a market's parameters (ranges: [`MarketParams::check`]); funding accrues to now
		/// under the old ones first. Open positions keep their size; their requirement follows
		/// the new fractions at once. Governance only.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::set_market_params())]
		pub fn set_market_params(
			origin: OriginFor<T>,
			underlying: T::AssetId,
			params: MarketParams,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_market_params(underlying, params)
		}

		/// Pauses a market (only reductions and closes) or resumes it. Governance only.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::set_market_status())]
		pub fn set_market_status(
			origin: OriginFor<T>,
			underlying: T::AssetId,
			status: MarketStatus,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Markets::<T>::try_mutate(underlying, |market| -> DispatchResult {
				let market = market.as_mut().ok_or(Error::<T>::MarketNotListed)?;
				market.status = status;
				Ok(())
			})?;
			Self::deposit_event(Event::MarketStatusSet { underlying, status });
			Ok(())
		}

		/// Sets the vault's withdrawal delay (at most [`Config::MaxWithdrawalDelay`]) and
		/// utilisation bound (above zero). Governance only.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::set_vault_params())]
		pub fn set_vault_params(
			origin: OriginFor<T>,
			params: VaultParams<BlockNumberFor<T>>,
		) -> DispatchResult {
			T::GovernanceOrigin::ensure_origin(origin)?;
			Self::do_set_vault_params(params)
		}

		/// Trades `size_delta` whole units of `underlying` (`+` buys, `-` sells) at the oracle
		/// price moved by the skew, refused if the fill is beyond `limit_price` (above it for a
		/// buy, below it for a sell). Opens, increases, reduces, closes or flips the caller's
		/// position; settles its funding, the realised profit or loss and the fee through the
		/// margin ledger. A trade that adds risk needs the whole account's initial health after
		/// it; see the crate docs for the rules.
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::modify_position())]
		pub fn modify_position(
			origin: OriginFor<T>,
			underlying: T::AssetId,
			size_delta: Signed,
			limit_price: Price,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_trade(&who, underlying, size_delta, limit_price)
		}

		/// Closes the caller's whole position in `underlying`, refused if the fill is beyond
		/// `limit_price`. Allowed while the market is paused.
		#[pallet::call_index(5)]
		#[pallet::weight(T::WeightInfo::modify_position())]
		pub fn close_position(
			origin: OriginFor<T>,
			underlying: T::AssetId,
			limit_price: Price,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let position = Positions::<T>::get(&who, underlying).ok_or(Error::<T>::NoPosition)?;
			Self::do_trade(&who, underlying, -position.size, limit_price)
		}

		/// Deposits `amount` of the settlement asset (smallest units, from the caller's tokens)
		/// into the vault for shares at its current value, rounded down.
		#[pallet::call_index(6)]
		#[pallet::weight(T::WeightInfo::deposit_to_vault())]
		pub fn deposit_to_vault(origin: OriginFor<T>, amount: Balance) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_deposit_to_vault(&who, amount)
		}

		/// Asks to withdraw `shares` from the vault (added to any pending request, whose delay
		/// restarts). The shares keep bearing the vault's profit and loss until withdrawn.
		#[pallet::call_index(7)]
		#[pallet::weight(T::WeightInfo::request_withdrawal())]
		pub fn request_withdrawal(origin: OriginFor<T>, shares: Balance) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_request_withdrawal(&who, shares)
		}

		/// Withdraws the caller's pending shares once their delay has passed: their value at
		/// the vault's current value, rounded down, moves into his margin account as a deposit
		/// of the settlement asset (withdrawable from there). Refused while it would leave the
		/// vault beyond its utilisation bound.
		#[pallet::call_index(8)]
		#[pallet::weight(T::WeightInfo::withdraw_from_vault())]
		pub fn withdraw_from_vault(origin: OriginFor<T>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Self::do_withdraw_from_vault(&who)
		}

		/// Pays `who` the profit the vault owes him ([`ProfitOwed`]) into his margin account as
		/// a deposit of the settlement asset (repaying any debt of it first), once the vault's
		/// deposit holds all it owes ([`TotalProfitOwed`]; until then no one is paid, so no one
		/// gains by claiming first: [`Pallet::realise_loss`] brings the cash). Anyone may call it: the money goes
		/// to its owner only, and a keeper may need it landed to judge a bankrupt account.
		#[pallet::call_index(9)]
		#[pallet::weight(T::WeightInfo::claim_profit())]
		pub fn claim_profit(origin: OriginFor<T>, who: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim_profit(&who)
		}

		/// Realises `who`'s loss in `underlying` at the oracle price, no more of it than the
		/// vault lacks to pay the profit it owes ([`TotalProfitOwed`] beyond its deposit): his
		/// funding settles, his entry price moves towards the oracle price (to it when the whole
		/// loss is realised), and what is realised is charged to him in the vault's favour, his
		/// USD first, the rest lent to him in the same ledger (his health does not fall but by
		/// rounding: USD lost weighs its collateral weight, USD lent its liability weight, as
		/// the loss did). Allowed only while the vault lacks it: the
		/// losers' unrealised losses are the vault's cash to be, and anyone (a trader owed
		/// profit, a keeper) may bring it in. Refused if the account would be liquidatable.
		#[pallet::call_index(10)]
		#[pallet::weight(T::WeightInfo::realise_loss())]
		pub fn realise_loss(
			origin: OriginFor<T>,
			who: T::AccountId,
			underlying: T::AssetId,
		) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_realise_loss(&who, underlying)
		}
	}

	impl<T: Config> Pallet<T> {
		/// The vault's account (its USD is a deposit in the margin ledger).
		pub fn vault_account() -> T::AccountId {
			use sp_runtime::traits::AccountIdConversion;
			T::PalletId::get().into_account_truncating()
		}

		/// Now, in ms.
		pub(crate) fn now() -> Moment {
			T::Time::now()
		}
	}
}
