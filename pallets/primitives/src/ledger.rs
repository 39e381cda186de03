//! The margin ledger as the liquidation engine sees it, in layers as `frame_support`'s
//! `fungibles` splits `Inspect` from `Mutate`:
//!
//! - [`Inspect`]: reads: health, positions, risk weights, the pools' cash.
//! - [`RiskScan`]: the scans that find accounts to liquidate, with an opaque [`RiskScan::Cursor`].
//! - [`Mutate`]: the moves a liquidation makes (repay, seize, hand over a deposit, forfeit dust).
//! - [`BadDebt`]: writing off what a bankrupt account still owes, and settling it.
//! - [`Settle`]: what a derivatives pallet needs: profit and loss paid between an account and
//!   a counterparty, the whole account's initial health, and re-judging an account whose
//!   positions changed.
//!
//! [`MarginLedger`] is all four, what the engine needs; a pallet that only reads (a risk monitor,
//! a stress test) bounds its ledger by [`Inspect`] alone. `pallet-margin` implements every layer;
//! a parachain with its own lending ledger implements them over it and the engine runs unchanged.
//!
//! Every move leaves the ledger consistent (custody matches positions) and either completes or
//! changes nothing. The moves do not check health: the caller (the liquidation engine) decides
//! whether an account may be liquidated and by how much.

use crate::{HealthError, HealthReport, RiskWeights};
use alloc::vec::Vec;
use codec::{DecodeWithMemTracking, FullCodec, MaxEncodedLen};
use core::fmt::Debug;
use frame_support::pallet_prelude::DispatchError;
use scale_info::TypeInfo;

/// Reads of the margin ledger: what accounts hold and owe, and what that is worth.
pub trait Inspect<AccountId> {
	/// Identifies an asset.
	type AssetId;
	/// An amount of an asset, in its smallest units.
	type Balance;

	/// The account's health at current prices.
	fn health(who: &AccountId) -> Result<HealthReport, HealthError<Self::AssetId>>;

	/// What `who` has deposited of `asset` (zero if nothing).
	fn deposit_of(who: &AccountId, asset: Self::AssetId) -> Self::Balance;

	/// What `who` owes of `asset` (zero if nothing).
	fn debt_of(who: &AccountId, asset: Self::AssetId) -> Self::Balance;

	/// Every non-zero position of `who`: `(asset, deposit, debt)`, one of the two zero.
	fn positions_of(who: &AccountId) -> Vec<(Self::AssetId, Self::Balance, Self::Balance)>;

	/// The risk weights of a listed asset.
	fn risk_weights(asset: Self::AssetId) -> Option<RiskWeights>;

	/// The liquidation penalty every liquidation must stay strictly below for each pair of
	/// listed assets to gain health: `min l / max c - 1` over the maintenance liability weights
	/// `l` and collateral weights `c` of the listed assets, since repaying `R` of debt and
	/// seizing `R (1 + penalty)` of collateral changes health by `R (l - (1 + penalty) c)`.
	/// `None` while no listed asset counts as collateral.
	fn penalty_limit() -> Option<sp_arithmetic::FixedU128>;

	/// What the pool of `asset` can pay out now: deposits not lent out. A seizure of more than
	/// this cannot be paid in tokens; [`Mutate::transfer_deposit`] hands over the deposit
	/// position instead.
	fn cash(asset: Self::AssetId) -> Self::Balance;
}

/// The scans that find accounts to liquidate.
pub trait RiskScan<AccountId>: Inspect<AccountId> {
	/// Where a walk over the risk index stopped. Opaque: its layout is the ledger's own; a caller
	/// stores it (on chain, off chain, in a client) and passes it back to continue.
	type Cursor: FullCodec
		+ DecodeWithMemTracking
		+ MaxEncodedLen
		+ TypeInfo
		+ Clone
		+ PartialEq
		+ Debug;

	/// Up to `limit` accounts with debt, in storage order, starting after `start_after` (from the
	/// first when `None`). Call again with the last account returned to continue.
	fn indebted_accounts(start_after: Option<&AccountId>, limit: u32) -> Vec<AccountId>;

	/// Indebted accounts that the ledger's risk index cannot rule out as liquidatable at
	/// current prices, in the index's order (for `pallet-margin`: closest to liquidation first
	/// within each reference epoch, the current one first), from at most `limit` entries read
	/// after `start_after` (so at most `limit` accounts); and where to continue (`None` once
	/// every such account was returned).
	///
	/// Every liquidatable account is among them (the set is a superset, not an estimate), but
	/// the walk reads only the accounts the price moves since the index's reference could have
	/// pushed under, judged per asset: detection costs what a move put at risk, not what is
	/// open, and a move of one asset reads none of the accounts that do not hold it.
	fn accounts_at_risk(
		start_after: Option<&Self::Cursor>,
		limit: u32,
	) -> (Vec<AccountId>, Option<Self::Cursor>);

	/// `who`'s entry in the risk index, encoded, or `None` when it is not filed (or the ledger
	/// does not say). Comparing it before and after an operation tells whether the operation
	/// re-filed the account (a re-filing writes the index: a caller charging by what an
	/// operation touched must know). `None` by default: nothing to compare.
	fn risk_filing(_who: &AccountId) -> Option<Vec<u8>> {
		None
	}
}

/// The moves a liquidation makes in the ledger.
pub trait Mutate<AccountId>: Inspect<AccountId> {
	/// Repays up to `max_amount` of `who`'s debt in `asset` with `payer`'s funds; returns what was
	/// repaid (at most the debt).
	fn repay_debt(
		payer: &AccountId,
		who: &AccountId,
		asset: Self::AssetId,
		max_amount: Self::Balance,
	) -> Result<Self::Balance, DispatchError>;

	/// Moves `amount` of `asset` from `payer` into `who`'s margin account as a deposit (first
	/// repaying any debt `who` has in it): collateral an auction did not need going back to its
	/// owner. Unlike a user's deposit it works in every status and ignores the supply cap and
	/// the minimum position, since it returns what was the owner's.
	fn credit_collateral(
		payer: &AccountId,
		who: &AccountId,
		asset: Self::AssetId,
		amount: Self::Balance,
	) -> Result<(), DispatchError>;

	/// Takes `amount` of `who`'s deposit in `asset` out of the ledger and pays it to `to` (a
	/// liquidator, an auction's account, a DEX route).
	fn seize_collateral(
		who: &AccountId,
		asset: Self::AssetId,
		amount: Self::Balance,
		to: &AccountId,
	) -> Result<(), DispatchError>;

	/// Moves `amount` of `who`'s deposit in `asset` into `to`'s margin account: the position
	/// itself (a claim on the pool, as Aave hands over aTokens), which needs no cash, so a
	/// liquidator or an auction can take collateral whatever the pool has lent out. If `to` owes
	/// `asset`, the claim repays that debt first and only the rest becomes his deposit.
	fn transfer_deposit(
		who: &AccountId,
		asset: Self::AssetId,
		amount: Self::Balance,
		to: &AccountId,
	) -> Result<(), DispatchError>;

	/// Removes `who`'s whole deposit in `asset` without paying it out (dust a bankruptcy
	/// leaves, too small to move: below an asset's minimum balance it could not even be sent).
	/// Its tokens stay with the pool, to its lenders' benefit. Returns the amount.
	fn forfeit_collateral(
		who: &AccountId,
		asset: Self::AssetId,
	) -> Result<Self::Balance, DispatchError>;
}

/// Bad debt: what a bankrupt account still owes, written off, then settled by insurance or
/// socialized over the lenders ([`crate::LossSocializer`]).
pub trait BadDebt<AccountId>: Inspect<AccountId> {
	/// Removes the remaining debt in `asset` of an account that has no deposit left (bankrupt)
	/// and records it as the pool's bad debt; returns the amount written off.
	fn write_off(who: &AccountId, asset: Self::AssetId) -> Result<Self::Balance, DispatchError>;

	/// Pays up to `max_amount` of `asset`'s recorded bad debt with `payer`'s funds (insurance
	/// cover); returns what was paid.
	fn settle_bad_debt(
		asset: Self::AssetId,
		payer: &AccountId,
		max_amount: Self::Balance,
	) -> Result<Self::Balance, DispatchError>;

	/// The recorded bad debt of `asset` not yet settled or socialized.
	fn bad_debt(asset: Self::AssetId) -> Self::Balance;
}

/// Settling derivative positions through the margin ledger, for the pallet that holds them
/// (`pallet-perpetuals`): profit is paid to a trader with [`Mutate::transfer_deposit`] from the
/// counterparty's deposit; a loss is [`Settle::charge`]d. Amounts are in the settlement asset.
pub trait Settle<AccountId>: Mutate<AccountId> {
	/// Charges `amount` of `asset` to `who` in favour of `to`: taken from `who`'s deposit first;
	/// what the deposit does not cover is lent to `who` from the pool, so his debt and `to`'s
	/// deposit rise by it and no tokens move (a loss beyond the account's deposit becomes debt
	/// through the same ledger, judged by the same health). No health check: the caller decides.
	fn charge(
		who: &AccountId,
		asset: Self::AssetId,
		amount: Self::Balance,
		to: &AccountId,
	) -> Result<(), DispatchError>;

	/// Refuses `who` unless its initial health, every spot and derivative position counted at
	/// usable prices, is at least zero: what opening or increasing a derivative position needs.
	fn ensure_initial_health(who: &AccountId) -> Result<(), DispatchError>;

	/// Re-judges `who` after its derivative positions changed (opened, resized, closed): the
	/// ledger keeps the accounts that may become liquidatable, and its risk index, in step.
	fn exposure_changed(who: &AccountId);

	/// Whether the ledger counts `who` among the accounts that may become liquidatable and
	/// files it in its risk index: what every account with positions must be (a derivatives
	/// pallet's `try_state` checks it).
	fn watches(who: &AccountId) -> bool;
}

/// The whole margin ledger: every layer, what the liquidation engine needs. Implemented for
/// every type that implements the four.
pub trait MarginLedger<AccountId>:
	Inspect<AccountId> + RiskScan<AccountId> + Mutate<AccountId> + BadDebt<AccountId>
{
}

impl<AccountId, Ledger> MarginLedger<AccountId> for Ledger where
	Ledger: Inspect<AccountId> + RiskScan<AccountId> + Mutate<AccountId> + BadDebt<AccountId>
{
}
