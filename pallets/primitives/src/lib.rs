//! # Liquidation primitives
//!
//! The types every pallet of the liquidation engine agrees on, and the traits through which they
//! meet. This crate has no storage and no pallet: a parachain team can
//! depend on it together with any single pallet of ours and wire that pallet to its own ledger,
//! oracle or treasury by implementing these traits.
//!
//! ## Units
//!
//! - **Amounts** ([`Balance`]) are always in the smallest unit of their asset (planck for the
//!   native token, satoshi-like units for BTC, and so on): the asset's `decimals` say how many
//!   smallest units make one whole unit.
//! - **Prices** ([`Price`]) are US dollars per **whole unit** of an asset, as a [`FixedU128`]
//!   (18 decimal places): BTC at 60 000 USD is `Price::from_u32(60_000)`. That is what oracle
//!   operators feed and what people read. To value an amount, use [`value_in_usd`], which applies
//!   the asset's decimals; nowhere else are the two units mixed.
//! - **Values** ([`UsdValue`]) are US dollars in the same 18-decimal fixed point.
//! - **Time** ([`Moment`]) is milliseconds since the Unix epoch, as `pallet-timestamp` keeps it.
//!   A duration is in blocks when its type is a block number or its name ends in `_blocks`, and
//!   in milliseconds when its name ends in `_ms`.
//! - **Shares** that governance sets (a penalty, a collateral weight, the insurance share, a
//!   close factor) are [`Permill`](sp_arithmetic::Permill)s; ratios computed or compared with
//!   prices (liability weights, health factors, a price move) are [`FixedU128`].
//!
//! ## Glossary
//!
//! One word, one meaning, in every pallet's docs, calls, events and errors.
//!
//! *Accounts and health*
//! - **Margin account**: one account's deposits and debts across every listed asset, judged
//!   together (cross-margin). A **position** is its deposit or its debt in one asset (never both).
//! - **Collateral weight** (at most 1) and **liability weight** (at least 1): what a deposit's and
//!   a debt's value count for. *Initial* weights gate new risk; *maintenance* weights, less
//!   demanding, decide liquidation.
//! - **Health**: weighted collateral minus weighted debt, in USD. **Health factor**: maintenance
//!   collateral over maintenance debt. **Shortfall**: how far maintenance debt exceeds maintenance
//!   collateral. **Liquidatable**: maintenance health below zero.
//! - **Insolvent**: what an account holds (and has at auction) is worth less than it owes,
//!   unweighted. **Bankrupt**: it owes and holds no collateral, or only dust no liquidation can
//!   seize.
//!
//! *Liquidation*
//! - **Keeper** (signed `liquidate`: repays, takes collateral), **flash** liquidator (signed
//!   `flash_liquidate`: the engine sells the collateral on a DEX), the **worker** (the off-chain
//!   worker's unsigned liquidations, which start auctions) and the **fallback** (`on_idle`, when no
//!   worker liquidation was included for a while).
//! - **Penalty** (`liquidation_penalty`, `b`): collateral worth the repaid debt times `1 + b` is
//!   seized. Its **insurance share** (`s`) goes to the insurance fund; the rest, `b (1 - s)` of the
//!   repaid value, is the liquidator's **reward**. The penalty is junior to the debt: an insolvent
//!   account pays the reward only.
//! - **Close factor**: the most of one debt position a partial liquidation repays. **Target health
//!   factor**: what a partial liquidation aims to restore. **Dust value**: a position left worth
//!   less is liquidated whole. **Close-out**: a liquidation that repays a whole debt position or
//!   takes a whole collateral position.
//! - **Auction**: a Dutch auction of a **lot** of collateral whose price falls from a premium over
//!   the oracle; it raises at most its **amount to raise** (`to_raise`: the debt plus the penalty
//!   on it), capped at each take by what its owner still owes (**wanted**).
//!
//! *Foresight* (`pallet-liquidation`)
//! - **Stress test**: what a set of price **shocks** would liquidate and who would bear the
//!   losses, the engine's own code run over the state and undone; a **cascade map** runs it for
//!   uniform falls.
//! - **Buffer**: maintenance collateral less maintenance debt. **Value at risk**: what the
//!   buffer could lose over a governed **horizon** at a governed **confidence**, from the prices'
//!   volatility. **De-risking**: a keeper's reduction, in **slices** at a **fee** below the
//!   penalty, of an account not liquidatable whose value at risk exceeds its buffer (not to be
//!   confused with auto-deleveraging, which takes winners' profit for an insolvent position).
//! - **Widening** (`pallet-margin`): how far an asset's weights (and its perpetual market's
//!   margin fractions) are widened by its volatility now, moved by at most a governed step a
//!   day towards what a governed **volatility policy** calls for.
//!
//! *Losses*
//! - **Bad debt**: what a bankrupt account still owes, **written off** into its pool. The
//!   **waterfall** pays it: insurance **covers** what it can (a per-block cap; the rest **queues**
//!   for it), and what remains after the delay is **socialized**: spread over the pool's lenders
//!   by lowering its deposit index.
//!
//! *Insurance and interest*
//! - **Insurance fund** (one per asset): the **staked value** (stakers', in **shares**), the
//!   **protocol-owned value** (income not paid to stakers) and income still **vesting** to
//!   stakers. A **generation** of shares ends when losses take the whole staked value. The
//!   **target size** is what governance aims the fund at; what the fund holds above it, out of
//!   the protocol-owned value only, may go to the treasury.
//! - **Reserve** (margin only): the share of borrowers' interest the protocol keeps (the *reserve
//!   factor*), collected as income of the insurance fund.
//!
//! *Prices*
//! - **Usable price**: fresh and not halted; needed to open risk. **Valuation price**: the price
//!   a position already held is judged at for liquidation (the usable one, else the last
//!   accepted). **Stable price**: a slow follower of the price, used where a pumped price could
//!   be abused (borrowing, caps). **Mark price**: the smoothed price. **Stale**, **halted** (by
//!   the circuit breaker) and **missing**: why a price is not usable ([`PriceError`]).
//!
//! *Risk index* (`pallet-margin`)
//! - **Distance to liquidation**: the smallest move against an account that brings its
//!   maintenance health to zero, filed as a **bucket**. An **epoch** fixes the **reference**
//!   values distances are measured from; its **slot** is its parity. A move's **reach** is the
//!   last bucket it could have pushed under.
//!
//! ## Traits
//!
//! A service other pallets build on in several calls (the margin ledger in [`ledger`]'s layers,
//! the auction house, [`CollateralAuction`]) takes the account type as its parameter and names
//! its asset and balance types as associated types, as `frame_support`'s `fungibles` does. Every
//! single hook or handler (a price source, a swap, custody of lots, the loss socializer, the
//! insurance fund's hooks: [`PriceProvider`], [`CollateralSwap`], [`LotCustody`],
//! [`LossSocializer`], [`DeficitHandler`], [`FundIncome`], [`QueuedBadDebt`], [`AuctionHandler`])
//! takes every type as a parameter, so that `()`, tuples and adapters implement it for any
//! runtime.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

mod auction;
mod derivatives;
mod insurance;
pub mod ledger;
mod margin;
mod prices;
pub use auction::*;
pub use derivatives::*;
pub use insurance::*;
pub use ledger::MarginLedger;
pub use margin::*;
pub use prices::*;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::RuntimeDebug;

use sp_arithmetic::traits::{CheckedAdd, CheckedDiv, CheckedMul, Zero};
pub use sp_arithmetic::{fixed_point::FixedU128, traits::Saturating, FixedPointNumber};

/// Identifier of an asset of the `pallet-assets` instance (BTC, ETH, USD stable, ...).
pub type LocalAssetId = u32;

/// Any asset the engine can hold, lend or price: the chain's native token, or an asset of
/// `pallet-assets` by its id. One id names an asset in our pallets, the oracle and genesis
/// configs (it is serializable, unlike `NativeOrWithId`, into which it converts).
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	RuntimeDebug,
	Serialize,
	Deserialize,
)]
pub enum AssetId {
	/// The chain's native token.
	#[codec(index = 0)]
	Native,
	/// An asset of `pallet-assets`.
	#[codec(index = 1)]
	Asset(LocalAssetId),
}

/// Routes an [`AssetId`] to the native token (left) or `pallet-assets` (right), for the
/// `fungible::UnionOf` adapter that makes both one `fungibles` implementation.
pub struct NativeOrLocal;
impl sp_runtime::traits::Convert<AssetId, sp_runtime::Either<(), LocalAssetId>> for NativeOrLocal {
	fn convert(asset: AssetId) -> sp_runtime::Either<(), LocalAssetId> {
		match asset {
			AssetId::Native => sp_runtime::Either::Left(()),
			AssetId::Asset(id) => sp_runtime::Either::Right(id),
		}
	}
}

impl From<AssetId> for frame_support::traits::tokens::fungible::NativeOrWithId<LocalAssetId> {
	fn from(asset: AssetId) -> Self {
		match asset {
			AssetId::Native => Self::Native,
			AssetId::Asset(id) => Self::WithId(id),
		}
	}
}

/// An amount in the smallest unit of its asset.
pub type Balance = u128;

/// US dollars per whole unit of an asset (see the crate docs on units).
pub type Price = FixedU128;

/// A value in US dollars.
pub type UsdValue = FixedU128;

/// Milliseconds since the Unix epoch.
pub type Moment = u64;

/// Number of decimal places of an asset: one whole unit is `10^decimals` smallest units.
pub type Decimals = u8;

/// Tells how many decimal places an asset has.
pub trait AssetDecimals<AssetId> {
	/// The asset's decimals, `None` if unknown.
	fn decimals(asset: AssetId) -> Option<Decimals>;
}

/// The USD value of `amount` smallest units of an asset with `decimals` decimal places at `price`
/// (USD per whole unit), rounded down; `None` if it does not fit in a [`UsdValue`].
///
/// `FixedU128` has 18 decimal places, so assets with more than 18 decimals are not supported
/// (`None`). Rounding down is the protocol-safe direction for collateral; callers valuing debt
/// round up with [`value_in_usd_rounded_up`].
pub fn value_in_usd(amount: Balance, decimals: Decimals, price: Price) -> Option<UsdValue> {
	let units = units_to_fixed(amount, decimals)?;
	units.checked_mul(&price)
}

/// As [`value_in_usd`], but rounded up to the next representable value: the safe direction for
/// debt, so that a borrower's debt is never under-valued by rounding.
pub fn value_in_usd_rounded_up(
	amount: Balance,
	decimals: Decimals,
	price: Price,
) -> Option<UsdValue> {
	let units = units_to_fixed(amount, decimals)?;
	let down = units.checked_mul(&price)?;
	// A product is exact when dividing back reproduces the factor; otherwise round up by one ulp.
	let exact = price.is_zero() || down.checked_div(&price) == Some(units);
	if exact {
		Some(down)
	} else {
		down.checked_add(&FixedU128::from_inner(1))
	}
}

/// `amount` smallest units as a fixed-point number of whole units.
fn units_to_fixed(amount: Balance, decimals: Decimals) -> Option<FixedU128> {
	if u32::from(decimals) > 18 {
		return None;
	}
	let scale = 10u128.checked_pow(18 - u32::from(decimals))?;
	amount.checked_mul(scale).map(FixedU128::from_inner)
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_arithmetic::traits::One;

	#[test]
	fn values_whole_units_at_their_price() {
		// 1.5 BTC (8 decimals) at 60 000 USD is 90 000 USD.
		let value = value_in_usd(150_000_000, 8, Price::from_u32(60_000)).unwrap();
		assert_eq!(value, UsdValue::from_u32(90_000));
		// 2 000 000 smallest units of a 6-decimal stable at 1 USD is 2 USD.
		let value = value_in_usd(2_000_000, 6, Price::one()).unwrap();
		assert_eq!(value, UsdValue::from_u32(2));
	}

	#[test]
	fn rounding_is_down_for_collateral_and_up_for_debt() {
		// One planck (12 decimals) at 1/3 USD: 0.333.. * 1e-12 USD is below one ulp (1e-18)
		// times 1e6, so it is not exact and the two directions differ by one ulp.
		let price = Price::saturating_from_rational(1, 3);
		let down = value_in_usd(1, 12, price).unwrap();
		let up = value_in_usd_rounded_up(1, 12, price).unwrap();
		assert_eq!(up.into_inner(), down.into_inner() + 1);
		// An exact product is not rounded up.
		let exact = value_in_usd_rounded_up(150_000_000, 8, Price::from_u32(60_000)).unwrap();
		assert_eq!(exact, UsdValue::from_u32(90_000));
	}

	#[test]
	fn refuses_what_does_not_fit() {
		assert_eq!(value_in_usd(1, 19, Price::one()), None);
		assert_eq!(value_in_usd(u128::MAX, 0, Price::one()), None);
	}
}
