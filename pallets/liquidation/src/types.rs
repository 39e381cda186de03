//! Stored and reported types of the liquidation pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::ConstU32, BoundedVec};
use liquidation_primitives::{Balance, UsdValue};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{FixedU128, Permill, RuntimeDebug};

/// Governance parameters of the engine.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
	Serialize,
	Deserialize,
)]
pub struct EngineParams {
	/// The liquidation penalty rate: collateral worth the repaid debt times
	/// `1 + liquidation_penalty` is seized. At most 50%.
	pub liquidation_penalty: Permill,
	/// Share of the penalty that goes to the insurance fund; the rest is the liquidator's
	/// reward (in an auction, all of it goes to insurance: the buyer's incentive is the price).
	/// None from an insolvent account: the penalty is junior to its debt (see [`crate::sizing`]).
	pub insurance_share: Permill,
	/// Most of one debt position a partial liquidation repays; above zero.
	pub close_factor: Permill,
	/// Health factor a partial liquidation aims to restore; above 1, at most 3.
	pub target_health_factor: FixedU128,
	/// Below this health factor the whole debt position is liquidated at once; above zero and
	/// below 1.
	pub full_liquidation_health_factor: FixedU128,
	/// A debt position left worth less than this (USD) is liquidated whole instead; at most
	/// [`crate::MAX_DUST_VALUE_USD`].
	pub dust_value: UsdValue,
	/// A flash liquidation's sale may bring at most this much less than the oracle value; at
	/// most 50%.
	pub max_slippage: Permill,
	/// Most debt value (USD) liquidated in one block, over all assets; above zero.
	pub max_value_per_block: UsdValue,
	/// Blocks bad debt may wait for the insurance fund (covered block by block within its
	/// per-block cap) before what is left is socialized over the lenders; at most
	/// [`crate::MAX_SOCIALIZE_DELAY_BLOCKS`]. Zero socializes what the fund does not cover in
	/// the block of the write-off. Bad debt beyond all the fund holds never waits.
	pub socialize_after_blocks: u32,
}

/// Governance limits of one debt asset.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
	Serialize,
	Deserialize,
)]
pub struct AssetLimits {
	/// Most debt value (USD) in this asset liquidated in one block.
	pub max_value_per_block: UsdValue,
	/// No liquidation repays or seizes this asset while set.
	pub paused: bool,
}

/// How a liquidation is carried out.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub enum LiquidationPath {
	/// A keeper paid the debt and took the collateral.
	#[codec(index = 0)]
	Keeper,
	/// The collateral was sold on the DEX within the call.
	#[codec(index = 1)]
	Flash,
	/// The collateral went to a Dutch auction (no liquidator).
	#[codec(index = 2)]
	Auction,
}

/// What a liquidation of an account would do now.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct Plan<AssetId> {
	/// The debt repaid.
	pub debt_asset: AssetId,
	/// The collateral seized.
	pub collateral_asset: AssetId,
	/// Debt repaid, in the debt asset's smallest units.
	pub repay: Balance,
	/// Collateral seized, in its smallest units: the repaid value plus the penalty.
	pub seize: Balance,
	/// Of `seize`, the penalty share that goes to insurance (a keeper's path).
	pub to_insurance: Balance,
	/// Of `seize`, the liquidator's reward: the penalty less insurance's share.
	pub reward: Balance,
	/// Whether the whole debt position is repaid (health too low, dust, or no partial helps).
	pub full: bool,
	/// Whether all of the collateral position is seized: it cannot cover the repayment with its
	/// penalty (a close-out of that collateral, see the no-harm rule in the crate docs).
	pub takes_all_collateral: bool,
	/// USD value of the repaid debt (what the per-block caps count).
	pub repay_value: UsdValue,
	/// The penalty rate the plan applies: the liquidation penalty, or for an insolvent account
	/// only the liquidator's part of it (see [`crate::sizing`]).
	pub penalty_rate: sp_runtime::Permill,
	/// Insurance's share of the penalty: the engine's, or none for an insolvent account.
	pub insurance_share: sp_runtime::Permill,
}

/// Running totals of one asset, for transparency.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct LiquidationTotals {
	/// Liquidations that repaid this asset.
	pub liquidations: u32,
	/// Debt in this asset repaid by keepers, flash sales and auction proceeds.
	pub repaid: Balance,
	/// This asset seized as collateral (to keepers, the DEX or auctions).
	pub seized: Balance,
	/// This asset paid to the insurance fund as penalty.
	pub penalty_to_insurance: Balance,
	/// Bad debt in this asset written off bankrupt accounts.
	pub written_off: Balance,
	/// Of that, what insurance covered.
	pub covered: Balance,
	/// Of that, what was socialized over lenders.
	pub socialized: Balance,
	/// Of that, what insurance covered in a later block than the write-off (queued first).
	pub covered_later: Balance,
	/// The most bad debt that waited for insurance at once.
	pub most_queued: Balance,
}

/// What an unsigned (or fallback) liquidation did.
#[derive(Clone, Copy, PartialEq, Eq, RuntimeDebug)]
pub enum UnsignedOutcome<AssetId> {
	/// The account was bankrupt: the waterfall settled this many positions.
	Settled(u32),
	/// Its collateral went to auction for its debt.
	Auctioned {
		/// The debt the auction raises.
		debt_asset: AssetId,
		/// The collateral it sells.
		collateral_asset: AssetId,
		/// Whether the lot was seized in tokens from the pool's cash (else the deposit position
		/// itself went to the custody, whose portfolio is then written).
		in_tokens: bool,
		/// Whether the lot was the whole deposit (the debts it backed are then re-counted).
		whole_deposit: bool,
	},
	/// One of its derivative positions was closed out against the vault: the close-outs run
	/// (a partial one undone and made whole counts two, a position passed over two), and the
	/// positions the waterfall then settled (zero unless nothing but debt was left).
	PositionClosed {
		/// Close-outs run.
		close_outs: u32,
		/// Positions the waterfall settled.
		debts: u32,
	},
}

/// What a close-out of (part of) a derivative position did, or would do (the runtime API's
/// preview).
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, RuntimeDebug)]
pub struct PositionCloseOut<AssetId> {
	/// The market's underlying.
	pub underlying: AssetId,
	/// Whole units closed.
	pub units: FixedU128,
	/// Whether the whole position was closed.
	pub whole: bool,
	/// The notional closed, USD at the oracle.
	pub notional: UsdValue,
	/// The liquidation fee, USD (insurance's share included).
	pub fee: UsdValue,
	/// Insurance's share of the fee, in the settlement asset's smallest units.
	pub to_insurance: Balance,
	/// An insolvent account's shortfall left with the vault, USD (zero for a solvent one).
	pub shortfall: UsdValue,
	/// Of the shortfall, what insurance paid into the vault, in smallest units.
	pub covered: Balance,
	/// Of the shortfall, what waits for insurance's later blocks and auto-deleveraging
	/// ([`crate::PendingShortfalls`]), USD.
	pub queued: UsdValue,
	/// Of the shortfall, what the vault's LPs bore at once (the queue was full), USD.
	pub to_lps: UsdValue,
	/// Close-outs run: two when a partial one was undone (the no-harm guard) and made whole.
	pub runs: u32,
}

/// Running totals of the close-outs of derivative positions, per market (its underlying).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct PositionTotals {
	/// Close-outs in this market.
	pub close_outs: u32,
	/// Of those, the ones a keeper took over (the rest: the vault's backstop).
	pub taken_over: u32,
	/// Notional closed out, USD at the oracle.
	pub notional: UsdValue,
	/// Liquidation fees, USD (to keepers or the vault, and insurance).
	pub fees: UsdValue,
	/// Of the fees, what went to the insurance fund, in the settlement asset's smallest units.
	pub fee_to_insurance: Balance,
	/// Shortfalls of insolvent accounts (USD): their loss beyond all they held, left with the
	/// vault at their close-out.
	pub shortfall: UsdValue,
	/// Of it, what the insurance fund paid into the vault (USD).
	pub covered: UsdValue,
	/// Of it, what auto-deleveraging took from the opposite positions' profit (USD).
	pub deleveraged: UsdValue,
	/// Of it, what the vault's LPs bore (USD).
	pub to_lps: UsdValue,
	/// Of it, what still waits in [`crate::PendingShortfalls`] (USD).
	/// `shortfall = covered + deleveraged + to_lps + pending`.
	pub pending: UsdValue,
}

/// A shortfall of an insolvent account's position that insurance had not covered at its
/// close-out, waiting in [`crate::PendingShortfalls`]: for insurance in later blocks, then for
/// auto-deleveraging of the opposite positions at its bankruptcy price, then the vault's LPs
/// (see [`crate::shortfall`]).
#[derive(
	Clone,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct PendingShortfall<AssetId, AccountId, BlockNumber> {
	/// The market's underlying.
	pub underlying: AssetId,
	/// Whether the bankrupt positions were longs (the shorts are deleveraged) or shorts.
	pub bankrupt_long: bool,
	/// Their units whose shortfall is still left: the bankruptcy price is the oracle moved by
	/// `left / units` against them, and deleveraging reduces at most as many opposite units.
	pub units: FixedU128,
	/// What is left of the shortfall, USD.
	pub left: UsdValue,
	/// Of it, what was already due for deleveraging when a later shortfall joined (its delay
	/// restarted then), USD.
	pub overdue: UsdValue,
	/// The block the last shortfall joined in: the engine's `socialize_after_blocks` runs from
	/// it.
	pub since: BlockNumber,
	/// Where auto-deleveraging's pass over the market's traders resumes (`None`: from the
	/// first).
	pub cursor: Option<AccountId>,
	/// The best candidates of the pass so far, by the score they had when read: the pass ranks
	/// the whole market before any of them is deleveraged.
	pub finalists:
		BoundedVec<(AccountId, FixedU128), ConstU32<{ crate::shortfall::MAX_FINALISTS }>>,
	/// Whether the pass has read any candidate.
	pub seen: bool,
	/// Candidates whose haircut was refused (it would have left their account liquidatable,
	/// or the vault could not pay them): later passes leave them out.
	pub passed_over: BoundedVec<AccountId, ConstU32<{ crate::shortfall::MAX_PASSED_OVER }>>,
}

/// What a running auction the engine started is raising for its owner's side: the debt it was
/// started to repay and the penalty on that debt (for the insurance fund), and what it has paid
/// of each so far. Proceeds repay the debt first; the penalty due at any time is the penalty's
/// share of the debt actually repaid (`penalty * repaid / (debt + repaid)`), never more.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Default,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct AuctionDues {
	/// Debt still to repay, in the debt asset's smallest units (less once the owner owes less).
	pub debt: Balance,
	/// The penalty on all of the debt the auction was started for, same unit.
	pub penalty: Balance,
	/// Debt the auction's proceeds repaid so far.
	pub repaid: Balance,
	/// Penalty its proceeds paid so far: to insurance, or (the owner insolvent) towards more of
	/// his debt.
	pub penalty_paid: Balance,
}

/// A position in auto-deleveraging's ranking, and what deleveraging would take from it now
/// (the runtime API's `deleveraging`).
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, RuntimeDebug)]
pub struct DeleverageRank<AccountId> {
	/// Its trader.
	pub who: AccountId,
	/// Profit times leverage: its unrealised profit (USD) times its notional over its
	/// account's equity.
	pub score: FixedU128,
	/// Its unrealised profit at the oracle, USD.
	pub profit: UsdValue,
	/// What deleveraging would take from its profit now for the shortfalls waiting opposite
	/// it, USD (zero when none waits, or those ranked before it would cover them).
	pub haircut: UsdValue,
}
