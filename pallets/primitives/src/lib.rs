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
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

mod auction;
mod insurance;
pub mod ledger;
mod margin;
mod prices;
pub use auction::*;
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
