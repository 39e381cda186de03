//! Margin accounts as the liquidation engine and the auctions see them.

use crate::{Decimals, PriceError, UsdValue};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::pallet_prelude::DispatchError;
use scale_info::TypeInfo;
use sp_arithmetic::{
	traits::{CheckedDiv, Saturating, Zero},
	FixedU128, Permill,
};
use sp_runtime::RuntimeDebug;

/// An account's margin at current prices, in USD.
///
/// Collateral is valued rounded down and debt rounded up, so rounding never makes an account look
/// healthier than it is. *Weighted* collateral is each deposit's value times its collateral weight
/// (at most 1); *weighted* debt is each borrow's value times its liability weight (at least 1).
/// The *initial* weights gate new borrows and withdrawals; the *maintenance* weights, less
/// demanding, are the liquidation threshold.
#[derive(
	Clone,
	Copy,
	Default,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
)]
pub struct HealthReport {
	/// Value of all deposits, unweighted.
	pub collateral_value: UsdValue,
	/// Value of all debt, unweighted.
	pub debt_value: UsdValue,
	/// Collateral under the initial collateral weights.
	pub initial_collateral: UsdValue,
	/// Debt under the initial liability weights.
	pub initial_debt: UsdValue,
	/// Collateral under the maintenance collateral weights.
	pub maintenance_collateral: UsdValue,
	/// Debt under the maintenance liability weights.
	pub maintenance_debt: UsdValue,
}

impl HealthReport {
	/// Whether the account may take more risk: initial health (weighted collateral minus weighted
	/// debt) is at least zero.
	pub fn initial_health_ok(&self) -> bool {
		self.initial_collateral >= self.initial_debt
	}

	/// Whether the account may be liquidated: maintenance health is below zero.
	pub fn is_liquidatable(&self) -> bool {
		self.maintenance_debt > self.maintenance_collateral
	}

	/// How far maintenance health is below zero (zero for a healthy account).
	pub fn maintenance_shortfall(&self) -> UsdValue {
		self.maintenance_debt.saturating_sub(self.maintenance_collateral)
	}

	/// Maintenance health when positive: weighted collateral minus weighted debt, else zero.
	pub fn maintenance_surplus(&self) -> UsdValue {
		self.maintenance_collateral.saturating_sub(self.maintenance_debt)
	}

	/// Initial health when positive (what still may be borrowed, in weighted USD), else zero.
	pub fn initial_surplus(&self) -> UsdValue {
		self.initial_collateral.saturating_sub(self.initial_debt)
	}

	/// Maintenance-weighted collateral over maintenance-weighted debt; below one means
	/// liquidatable. `None` for an account without debt (infinitely healthy).
	pub fn health_factor(&self) -> Option<FixedU128> {
		if self.maintenance_debt.is_zero() {
			return None;
		}
		self.maintenance_collateral.checked_div(&self.maintenance_debt)
	}
}

/// Why an account's health cannot be computed.
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
pub enum HealthError<AssetId> {
	/// The price of an asset the account holds or owes is not usable.
	#[codec(index = 0)]
	Price(AssetId, PriceError),
	/// A value does not fit in the fixed-point range (an absurd position or price).
	#[codec(index = 1)]
	Overflow,
}

/// The risk weights of a listed asset and its decimals: what a liquidation needs to size itself.
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
pub struct RiskWeights {
	/// Share of a deposit's value that counts as collateral for new risk.
	pub initial_collateral_weight: Permill,
	/// Share of a deposit's value that counts as collateral against liquidation.
	pub maintenance_collateral_weight: Permill,
	/// Multiple of a debt's value that counts against new risk.
	pub initial_liability_weight: FixedU128,
	/// Multiple of a debt's value that counts towards liquidation.
	pub maintenance_liability_weight: FixedU128,
	/// Decimal places of the asset.
	pub decimals: Decimals,
}

/// Where a walk over a risk index stopped: the distance bucket, the index slot and the last
/// account returned. Opaque to callers: pass it back to continue.
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
pub struct RiskCursor<AccountId> {
	/// Distance bucket of the last account returned.
	pub bucket: u16,
	/// Index slot (reference epoch parity) of the last account returned.
	pub slot: u8,
	/// The last account returned.
	pub account: AccountId,
}

/// The margin ledger: accounts, their health, and the moves a liquidation makes.
///
/// Every move leaves the ledger consistent (custody matches positions) and either completes or
/// changes nothing. The moves do not check health: the caller (the liquidation engine) decides
/// whether an account may be liquidated and by how much.
pub trait MarginLedger<AccountId> {
	/// Identifies an asset.
	type AssetId;
	/// An amount of an asset.
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
		start_after: Option<&RiskCursor<AccountId>>,
		limit: u32,
	) -> (Vec<AccountId>, Option<RiskCursor<AccountId>>);

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

	/// What the pool of `asset` can pay out now: deposits not lent out. A seizure of more than
	/// this cannot be paid in tokens; [`MarginLedger::transfer_deposit`] hands over the deposit
	/// position instead.
	fn cash(asset: Self::AssetId) -> Self::Balance;

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

	/// Removes the remaining debt in `asset` of an account that has no deposit left (bankrupt)
	/// and records it as the pool's bad debt; returns the amount written off. The bad debt is
	/// then settled from insurance ([`MarginLedger::settle_bad_debt`]) and the rest socialized
	/// ([`LossSocializer`]).
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

/// Spreads a loss over the lenders of an asset.
pub trait LossSocializer<AssetId, Balance> {
	/// Lowers every lender's claim in `asset`, pro rata, so that together they lose at least
	/// `amount` (rounding is against the lenders, never against the pool), and returns what was
	/// socialized: at most the asset's recorded bad debt, and never so much that the lenders'
	/// claims vanish entirely (what remains stays recorded as bad debt).
	fn socialize(asset: AssetId, amount: Balance) -> Result<Balance, DispatchError>;
}
