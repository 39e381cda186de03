//! Derivative positions (perpetual futures) as the margin ledger sees them: what they add to an
//! account's health. The pallet that holds the positions implements [`Exposure`]; the margin
//! ledger adds it to the account's spot collateral and debt, so that one health covers both
//! (cross-margin). `()` has none, for a runtime without derivatives.

use crate::{HealthError, Price, UsdValue};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::RuntimeDebug;

/// How a health report reads prices.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pricing {
	/// Every asset of the portfolio at a usable price, or no report: what opening risk
	/// (borrowing, withdrawing) needs. A deposit is valued at the lower of the price and the
	/// stable price, a debt at the higher ([`crate::PriceInfo::stable`]).
	Usable,
	/// Positions held valued under the valuation rule
	/// ([`crate::PriceProvider::valuation_price`]): an unusable price at its
	/// last accepted level, a deposit of an asset never priced at zero. What judges liquidation: a stale or
	/// halted price neither makes an account liquidatable nor lets it escape.
	Held,
}

/// What an account's derivative positions add to its health, in USD, at the prices a
/// [`Pricing`] names. Unrealised profit and loss include the funding each position owes or is
/// owed.
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
pub struct DerivativeHealth {
	/// Unrealised profit of the positions that have one, before any weight.
	pub gain: UsdValue,
	/// Of `gain`, what counts as collateral for opening risk (each market's initial weight of
	/// positive profit).
	pub initial_gain: UsdValue,
	/// Of `gain`, what counts as collateral against liquidation (each market's maintenance weight
	/// of positive profit).
	pub maintenance_gain: UsdValue,
	/// Unrealised loss of the positions that have one.
	pub loss: UsdValue,
	/// The margin the positions need to be opened or increased.
	pub initial_requirement: UsdValue,
	/// The margin the positions need to be kept: below it, the account is liquidatable.
	pub maintenance_requirement: UsdValue,
}

/// What an account's positions add to its maintenance health at a risk-index reference, and how
/// fast a move can take it away: what the margin ledger's risk index files the account by.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct ReferenceExposure<AssetId> {
	/// Of the positions' unrealised profit, what counts against liquidation (weighted).
	pub maintenance_gain: UsdValue,
	/// The positions' unrealised loss.
	pub loss: UsdValue,
	/// The margin the positions need to be kept.
	pub maintenance_requirement: UsdValue,
	/// Per underlying, the most a relative move `r` of its price, or a funding drift of `r`
	/// times its reference price, can take from the account's health, per unit of `r`:
	/// `Σ |s| P_ref (1 + MMF)` over its positions there.
	pub sensitivities: Vec<(AssetId, UsdValue)>,
}

impl<AssetId> Default for ReferenceExposure<AssetId> {
	fn default() -> Self {
		Self {
			maintenance_gain: Default::default(),
			loss: Default::default(),
			maintenance_requirement: Default::default(),
			sensitivities: Vec::new(),
		}
	}
}

/// The derivative positions of accounts, as their margin sees them.
pub trait Exposure<AccountId, AssetId> {
	/// What `who`'s positions add to its health, at prices read as `pricing` says.
	fn exposure(
		who: &AccountId,
		pricing: Pricing,
	) -> Result<DerivativeHealth, HealthError<AssetId>>;

	/// Whether `who` holds any position (and so may be liquidatable without any spot debt).
	fn has_exposure(who: &AccountId) -> bool;

	/// The asset profit, loss, funding and fees settle in (a USD stablecoin): an account with
	/// positions and no spot position at all is filed in its risk list. `None` without
	/// derivatives.
	fn settlement_asset() -> Option<AssetId>;

	/// `who`'s positions at the risk index's reference of `slot`: each underlying at
	/// `price_of`'s price, funding owed to the funding index recorded for the slot
	/// ([`Exposure::on_new_reference`]). `None` when they cannot be placed (an underlying
	/// without a reference price or funding index): the account is then read by every walk.
	fn reference_exposure(
		who: &AccountId,
		slot: u8,
		price_of: &dyn Fn(&AssetId) -> Option<Price>,
	) -> Option<ReferenceExposure<AssetId>>;

	/// How far funding has moved against positions in `underlying` since `slot`'s reference,
	/// relative to the reference price `reference_price`: `|F_now - F_ref| / P_ref`. Zero for an
	/// asset no position is in; `None` when unbounded (the market's parameters changed since:
	/// read every bucket of its list).
	fn drift_since_reference(
		slot: u8,
		underlying: &AssetId,
		reference_price: Price,
	) -> Option<sp_arithmetic::FixedU128>;

	/// The risk index starts a new reference in `slot` now: record each market's funding index
	/// for [`Exposure::drift_since_reference`].
	fn on_new_reference(slot: u8);

	/// `underlying`'s margins were widened or relaxed by volatility (see
	/// [`MarginWidening`]): the requirements of its positions moved with no price move, so
	/// [`Exposure::drift_since_reference`] must be unbounded for it until the next reference.
	fn on_margins_widened(_underlying: &AssetId) {}

	/// Whether positions are open on `underlying`: only then does its price's move either way
	/// (not only its units' adverse move) bound what a walk of its list must read.
	fn is_traded(underlying: &AssetId) -> bool;
}

/// No derivatives: nothing to add.
impl<AccountId, AssetId> Exposure<AccountId, AssetId> for () {
	fn exposure(_: &AccountId, _: Pricing) -> Result<DerivativeHealth, HealthError<AssetId>> {
		Ok(DerivativeHealth::default())
	}

	fn has_exposure(_: &AccountId) -> bool {
		false
	}

	fn settlement_asset() -> Option<AssetId> {
		None
	}

	fn reference_exposure(
		_: &AccountId,
		_: u8,
		_: &dyn Fn(&AssetId) -> Option<Price>,
	) -> Option<ReferenceExposure<AssetId>> {
		Some(ReferenceExposure::default())
	}

	fn drift_since_reference(_: u8, _: &AssetId, _: Price) -> Option<sp_arithmetic::FixedU128> {
		Some(Default::default())
	}

	fn on_new_reference(_: u8) {}

	fn is_traded(_: &AssetId) -> bool {
		false
	}
}

/// How far an asset's margins are widened by its volatility now (`pallet-margin`'s
/// volatility-driven weights): a derivative market on it divides its margin fractions by
/// `1 - widening`. `()` widens nothing.
pub trait MarginWidening<AssetId> {
	/// The widening in force for `asset`.
	fn widening(asset: &AssetId) -> sp_arithmetic::Permill;
}

impl<AssetId> MarginWidening<AssetId> for () {
	fn widening(_: &AssetId) -> sp_arithmetic::Permill {
		sp_arithmetic::Permill::zero()
	}
}

/// One derivative position of an account, as the liquidation engine sizes its close-out.
#[derive(Clone, PartialEq, Eq, RuntimeDebug)]
pub struct PositionAtRisk<AssetId> {
	/// The market's underlying.
	pub underlying: AssetId,
	/// The position's size in whole units of the underlying, its sign dropped.
	pub units: sp_arithmetic::FixedU128,
	/// Whether it is long.
	pub long: bool,
	/// Its notional at the oracle price (USD): `units × price`.
	pub notional: UsdValue,
	/// The maintenance margin it needs (USD), what closing it releases from its account's
	/// weighted debt.
	pub maintenance_requirement: UsdValue,
	/// The smallest notional the position may be left at (USD): a close-out leaving less
	/// closes it whole.
	pub min_notional: UsdValue,
}

/// What a close-out of (part of) a position did.
#[derive(Clone, PartialEq, Eq, RuntimeDebug)]
pub struct ClosedOut<AccountId> {
	/// The units closed (all of the position when `whole`).
	pub units: sp_arithmetic::FixedU128,
	/// Whether the whole position was closed.
	pub whole: bool,
	/// The notional closed at the oracle price (USD).
	pub notional: UsdValue,
	/// The liquidation fee (USD): how far the close-out price sits from the oracle against the
	/// liquidated trader, times the units. Already paid to the taker (the keeper holds it as
	/// unrealised profit, the vault in its books); insurance's share is the engine's to collect.
	pub fee: UsdValue,
	/// Who took the position over: the keeper, or the vault as backstop.
	pub taker: AccountId,
	/// Of the trader's realised loss, what was not charged to him (USD): the shortfall of an
	/// insolvent account, left with the vault for the engine's waterfall.
	pub forgiven: UsdValue,
}

/// A position auto-deleveraging may reduce, ranked by its score.
#[derive(Clone, PartialEq, Eq, RuntimeDebug)]
pub struct DeleverageCandidate<AccountId> {
	/// Its trader.
	pub who: AccountId,
	/// Profit times leverage (Hyperliquid's ranking): its unrealised profit at the oracle
	/// (USD) times its notional over its account's equity (all it holds less all it owes).
	pub score: sp_arithmetic::FixedU128,
	/// Its unrealised profit at the oracle, USD.
	pub profit: UsdValue,
}

/// One window of auto-deleveraging's scan of a market's traders.
#[derive(Clone, PartialEq, Eq, RuntimeDebug)]
pub struct DeleverageScan<AccountId> {
	/// The positions of the window on the side asked, in profit, held by accounts of positive
	/// equity: the highest score first.
	pub candidates: Vec<DeleverageCandidate<AccountId>>,
	/// Accounts read.
	pub read: u32,
	/// The last account read, where the next window starts; `None` when the market's traders
	/// ended in this window.
	pub next: Option<AccountId>,
}

/// Closing out derivative positions: what the liquidation engine needs from the pallet that
/// holds them. `()` holds none.
///
/// A close-out reduces a position at the oracle price moved against its trader by the
/// liquidation fee, a governed share `φ` of the maintenance margin `ΔM` the reduction releases:
/// the account's weighted debt falls by that margin and its health by the fee, weighed as a debt
/// of the settlement asset at most (`l φ ΔM`), so a close-out raises its maintenance health by
/// `ΔM (1 - l φ)` before the re-weighting of what it realises (the perpetual form of the
/// engine's no-harm rule, which the engine guards). A keeper takes the units over at that price (Drift's liquidator); without one the
/// vault, every trade's counterparty already, closes them (the backstop).
pub trait PositionLiquidation<AccountId, AssetId> {
	/// `who`'s positions whose oracle price is usable, the largest maintenance requirement first
	/// (what a close-out does most for its account). Empty when it has none.
	fn positions_at_risk(who: &AccountId) -> Vec<PositionAtRisk<AssetId>>;

	/// Whether `who` holds any position (usable price or not).
	fn holds_positions(who: &AccountId) -> bool;

	/// Whether the vault owes `who` profit it could not pay yet: such an account is not
	/// settled as bankrupt (its debt written off) while the money is owed to it; the profit
	/// is landed in its account first, by anyone, once the vault holds it.
	fn is_owed_profit(_who: &AccountId) -> bool {
		false
	}

	/// The asset positions settle in (one USD a whole unit), and the vault's account, where
	/// a backstop close-out's fee stays: `None` for a runtime without derivatives.
	fn settlement() -> Option<(AssetId, AccountId)>;

	/// The fewest units of `who`'s position in `underlying` whose close-out releases at least
	/// `requirement` USD of maintenance margin (the whole position when even all of it
	/// releases less). `None` when it holds none there or its price is not usable.
	fn units_releasing(
		who: &AccountId,
		underlying: AssetId,
		requirement: UsdValue,
	) -> Option<sp_arithmetic::FixedU128>;

	/// The liquidation fee as a share of the margin released, in `underlying`'s market.
	fn fee_share(underlying: AssetId) -> Option<sp_arithmetic::Permill>;

	/// Up to `scan` accounts with a position in `underlying`'s market, in storage order, from
	/// after `after` (from the first when `None`), and of those the positions on the `long` side
	/// (or short) in profit at the oracle held by an account of positive equity, the highest
	/// score first. An error when the market's price cannot be used now (nothing is ranked).
	fn deleverage_candidates(
		underlying: AssetId,
		long: bool,
		after: Option<&AccountId>,
		scan: u32,
	) -> Result<DeleverageScan<AccountId>, sp_runtime::DispatchError>;

	/// `who`'s position in `underlying` as a candidate on the `long` side (or short) now, its
	/// score recomputed: `None` when it no longer is one (closed, flipped, out of profit, its
	/// account's equity gone, or the price unusable).
	fn deleverage_candidate(
		who: &AccountId,
		underlying: AssetId,
		long: bool,
	) -> Option<DeleverageCandidate<AccountId>>;

	/// Reduces `who`'s position in `underlying` (on the `long` side, or short, in profit) at
	/// the bankruptcy price of the opposite bankrupt units, the oracle moved by `gap` against
	/// them (up for a bankrupt long, down for a bankrupt short), or at its own entry price
	/// whichever is nearer the oracle, by the units whose haircut (what closing there rather
	/// than at the oracle takes from its profit) reaches `max_haircut` (rounded down: never
	/// more), or all of it. Returns the haircut, which stays with the vault, and the units
	/// closed. Refuses, changing nothing, a position no longer on that side or in profit, or
	/// whose account it would leave liquidatable.
	fn deleverage(
		who: &AccountId,
		underlying: AssetId,
		long: bool,
		gap: Price,
		max_haircut: UsdValue,
	) -> Result<(UsdValue, sp_arithmetic::FixedU128), sp_runtime::DispatchError>;

	/// Closes out `units` of `who`'s position in `underlying` (all of it when `units` reaches
	/// its size or would leave less than its minimum) at the oracle price moved against him by
	/// `fee_share` of the maintenance margin released: to `keeper` at that price, or, when
	/// `None`, against the vault. Settles his realised profit or loss and funding through the
	/// margin ledger (a loss beyond his deposit becomes debt), except up to `forgive` USD of
	/// his loss and, when `forgive` is not zero, what the close price costs him against the
	/// oracle (an insolvent account's shortfall: what he cannot pay stays with the vault, the
	/// engine's waterfall covers it); refuses a keeper whose initial health the takeover would
	/// break, a keeper that is `who`, and an unusable price.
	fn close_out(
		who: &AccountId,
		underlying: AssetId,
		units: sp_arithmetic::FixedU128,
		fee_share: sp_arithmetic::Permill,
		keeper: Option<&AccountId>,
		forgive: UsdValue,
	) -> Result<ClosedOut<AccountId>, sp_runtime::DispatchError>;
}

impl<AccountId, AssetId> PositionLiquidation<AccountId, AssetId> for () {
	fn positions_at_risk(_: &AccountId) -> Vec<PositionAtRisk<AssetId>> {
		Vec::new()
	}

	fn holds_positions(_: &AccountId) -> bool {
		false
	}

	fn settlement() -> Option<(AssetId, AccountId)> {
		None
	}

	fn units_releasing(_: &AccountId, _: AssetId, _: UsdValue) -> Option<sp_arithmetic::FixedU128> {
		None
	}

	fn fee_share(_: AssetId) -> Option<sp_arithmetic::Permill> {
		None
	}

	fn deleverage_candidates(
		_: AssetId,
		_: bool,
		_: Option<&AccountId>,
		_: u32,
	) -> Result<DeleverageScan<AccountId>, sp_runtime::DispatchError> {
		Ok(DeleverageScan { candidates: Vec::new(), read: 0, next: None })
	}

	fn deleverage_candidate(
		_: &AccountId,
		_: AssetId,
		_: bool,
	) -> Option<DeleverageCandidate<AccountId>> {
		None
	}

	fn deleverage(
		_: &AccountId,
		_: AssetId,
		_: bool,
		_: Price,
		_: UsdValue,
	) -> Result<(UsdValue, sp_arithmetic::FixedU128), sp_runtime::DispatchError> {
		Err(sp_runtime::DispatchError::Other("no derivative positions"))
	}

	fn close_out(
		_: &AccountId,
		_: AssetId,
		_: sp_arithmetic::FixedU128,
		_: sp_arithmetic::Permill,
		_: Option<&AccountId>,
		_: UsdValue,
	) -> Result<ClosedOut<AccountId>, sp_runtime::DispatchError> {
		Err(sp_runtime::DispatchError::Other("no derivative positions"))
	}
}
