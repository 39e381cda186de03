//! The arbitrageur: after each feed, trades each DEX pool of a scenario asset against USD to the
//! oracle price, as arbitrage does on a live chain (the worker's de-risking sells collateral
//! there; a pool left at the dev chain's genesis prices would pay it from a stale market).

use super::*;
use frame_support::traits::fungibles::Inspect as _;
use liquidation_primitives::CollateralSwap as _;
use liquidation_runtime::configs::DexSwap;

/// The arbitrageur's account (minted what each trade needs).
fn arbitrageur() -> AccountId {
	AccountId::from([0xE7; 32])
}

/// The pools' fee, per thousand (the runtime's `LPFee`).
const POOL_FEE_PER_MILLE: f64 = 3.0;

/// Moves each pool of `assets` against USD to the oracle price (within a twentieth of a
/// percent), by one swap each on the constant product: to reserves `x' = √(k / p)` of the asset
/// and `y' = √(k p)` of USD. Pools without a price or reserves are left alone.
pub(crate) fn follow_oracle(assets: &[AssetId]) {
	for asset in assets {
		let Some(price) = price_now(*asset) else { continue };
		let Ok((x, y)) =
			pallet_asset_conversion::Pallet::<Runtime>::get_reserves((*asset).into(), USD.into())
		else {
			continue;
		};
		if x == 0 || y == 0 {
			continue;
		}
		// USD units per asset unit at the oracle.
		let p = price.to_float() * DOLLAR / whole(*asset);
		let (x, y) = (x as f64, y as f64);
		let k = x * y;
		let pool_price = y / x;
		let gross = 1.0 / (1.0 - POOL_FEE_PER_MILLE / 1_000.0);
		let (asset_in, asset_out, amount) = if pool_price > p * 1.0005 {
			// The pool prices the asset too high: sell the asset into it.
			(*asset, USD, ((k / p).sqrt() - x) * gross)
		} else if pool_price < p * 0.9995 {
			(USD, *asset, ((k * p).sqrt() - y) * gross)
		} else {
			continue;
		};
		let amount = amount.max(0.0) as Balance;
		if amount == 0 {
			continue;
		}
		let who = arbitrageur();
		let held = AllAssets::balance(asset_in, &who);
		if held < amount {
			let _ = AllAssets::mint_into(asset_in, &who, amount - held);
		}
		// A trade the pool refuses (too small for its minimum) leaves it as it is.
		let _ = DexSwap::sell(&who, asset_in, asset_out, amount, 0);
	}
}
