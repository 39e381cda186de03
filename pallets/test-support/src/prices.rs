//! A [`PriceProvider`] whose prices the test sets.

use liquidation_primitives::{AssetId, Price, PriceError, PriceInfo, PriceProvider};
use sp_arithmetic::traits::Zero;
use std::{cell::RefCell, collections::BTreeMap};

std::thread_local! {
	static PRICES: RefCell<BTreeMap<AssetId, Result<Price, PriceError>>> =
		RefCell::new(BTreeMap::new());
	static LAST: RefCell<BTreeMap<AssetId, Price>> = RefCell::new(BTreeMap::new());
	static STABLE: RefCell<BTreeMap<AssetId, Price>> = RefCell::new(BTreeMap::new());
	static VOLATILITY: RefCell<BTreeMap<AssetId, Price>> = RefCell::new(BTreeMap::new());
}

/// A [`PriceProvider`] whose prices the test sets, per thread: [`set_price`],
/// [`set_price_error`], [`clear_prices`]. An asset never set is `Missing`; an asset made
/// unusable keeps its last price for [`PriceProvider::valuation_price`].
pub struct TestPrices;
impl PriceProvider<AssetId> for TestPrices {
	fn price(asset: &AssetId) -> Result<PriceInfo, PriceError> {
		let price = PRICES.with(|prices| prices.borrow().get(asset).copied());
		let price = price.unwrap_or(Err(PriceError::Missing))?;
		let stable = STABLE.with(|stable| stable.borrow().get(asset).copied());
		Ok(PriceInfo {
			price,
			mark: price,
			stable: stable.unwrap_or(price),
			volatility: VOLATILITY
				.with(|volatility| volatility.borrow().get(asset).copied())
				.unwrap_or_else(Zero::zero),
			updated_at: 0,
		})
	}

	fn valuation_price(asset: &AssetId) -> Option<Price> {
		LAST.with(|last| last.borrow().get(asset).copied())
	}
}

/// `asset` is priced at `price` (its stable price too).
pub fn set_price(asset: AssetId, price: Price) {
	PRICES.with(|prices| prices.borrow_mut().insert(asset, Ok(price)));
	LAST.with(|last| last.borrow_mut().insert(asset, price));
	STABLE.with(|stable| stable.borrow_mut().remove(&asset));
}

/// `asset`'s volatility is `volatility` (zero until set), whatever its price.
pub fn set_volatility(asset: AssetId, volatility: Price) {
	VOLATILITY.with(|volatilities| volatilities.borrow_mut().insert(asset, volatility));
}

/// `asset`'s stable price is `stable` until its price is set again.
pub fn set_stable_price(asset: AssetId, stable: Price) {
	STABLE.with(|prices| prices.borrow_mut().insert(asset, stable));
}

/// `asset`'s price is unusable with `error` (its last price, if any, stays for valuation;
/// `Missing` forgets it).
pub fn set_price_error(asset: AssetId, error: PriceError) {
	PRICES.with(|prices| prices.borrow_mut().insert(asset, Err(error)));
	if error == PriceError::Missing {
		LAST.with(|last| last.borrow_mut().remove(&asset));
	}
}

/// No asset has a price.
pub fn clear_prices() {
	PRICES.with(|prices| prices.borrow_mut().clear());
	LAST.with(|last| last.borrow_mut().clear());
	STABLE.with(|stable| stable.borrow_mut().clear());
	VOLATILITY.with(|volatility| volatility.borrow_mut().clear());
}
