//! Prices as the engine consumes them: [`PriceProvider`] and what it answers.

use crate::{Moment, Price};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_arithmetic::FixedU128;
use sp_runtime::RuntimeDebug;

/// Volatility of an asset's price: the standard deviation of its log returns over the period the
/// provider states (see its docs), as a fraction (`0.05` = 5%).
pub type Volatility = FixedU128;

/// A usable price of an asset: fresh, not halted.
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
pub struct PriceInfo {
	/// The last combined price, USD per whole unit.
	pub price: Price,
	/// The smoothed price (EMA or TWAP of the combined prices), USD per whole unit.
	pub mark: Price,
	/// The stable price: follows `price` but moves at most a governed fraction an hour, USD per
	/// whole unit (as Mango v4's stable price). Opening risk (borrowing, withdrawing) values
	/// collateral at `min(price, stable)` and debt at `max(price, stable)`, so a price pumped
	/// in minutes lends nothing against the pump; liquidation uses `price`. Equal to `price`
	/// for a fixed price.
	pub stable: Price,
	/// Estimated volatility of the price over the provider's stated period.
	pub volatility: Volatility,
	/// When the price was formed (ms since the Unix epoch): the time of the oldest operator value
	/// it was combined from, so its age bounds the age of everything in it.
	pub updated_at: Moment,
}

impl PriceInfo {
	/// The price at which opening risk values a deposit: the lower of the price and the stable
	/// price.
	pub fn for_collateral(&self) -> Price {
		self.price.min(self.stable)
	}

	/// The price at which opening risk values a debt: the higher of the price and the stable
	/// price.
	pub fn for_debt(&self) -> Price {
		self.price.max(self.stable)
	}
}

/// Why there is no usable price for an asset.
///
/// Every pallet that needs a price reports it as its `Error::Price(PriceError)` (as
/// nomination-pools nests its `DefensiveError`), so a client matches one error in any pallet.
#[derive(
	frame_support::PalletError,
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
pub enum PriceError {
	/// The asset has never had a price (or is not priced at all).
	#[codec(index = 0)]
	Missing,
	/// The last price is older than the asset's maximum age.
	#[codec(index = 1)]
	Stale,
	/// The circuit breaker halted the asset after an implausible move; no price is served until
	/// the new level is confirmed or governance resumes it.
	#[codec(index = 2)]
	Halted,
}

/// Source of prices for lending, margin and liquidation. Nothing may be borrowed, withdrawn or
/// liquidated on anything but an `Ok` answer.
pub trait PriceProvider<AssetId> {
	/// The current usable price of `asset`, or why there is none.
	fn price(asset: &AssetId) -> Result<PriceInfo, PriceError>;

	/// The price at which a position already held is valued when judging whether its account
	/// may be liquidated: the usable price, else the last accepted one (a stale or halted price
	/// is judged at its last level), else `None` (never priced).
	///
	/// This is the *valuation rule* of the engine: an unusable price neither makes an account
	/// liquidatable (it is not valued at zero) nor lets it escape (it is not left out). What is
	/// repaid or seized still needs a usable [`PriceProvider::price`].
	fn valuation_price(asset: &AssetId) -> Option<Price> {
		Self::price(asset).ok().map(|info| info.price)
	}
}

/// Moves prices inside a simulation: what a stress test shocks before it runs the engine over
/// the state and undoes everything (`pallet-liquidation`'s `stress_test`). Never called by
/// anything whose changes are kept: a shocked price skips the oracle, its operators and its
/// breaker.
pub trait PriceShock<AssetId> {
	/// Multiplies `asset`'s price by `factor` (`0.8` for a fall of 20 %), as if the oracle had
	/// formed the new level now and the breaker had accepted it: the price, its mark and its
	/// stable price alike, its age and its halt unchanged (a halted or stale price stays so: a
	/// shock does not make a price usable). Returns whether the asset has a price to shock;
	/// an implementation refuses (returns `false`) outside a storage transaction.
	fn shock(asset: &AssetId, factor: FixedU128) -> bool;

	/// The assets whose price an oracle feeds and has fed (what a uniform shock moves; a fixed
	/// price, a USD stable at 1 say, is left alone, and an asset never priced has nothing to
	/// move).
	fn oracle_assets() -> alloc::vec::Vec<AssetId>;
}

impl<AssetId> PriceShock<AssetId> for () {
	fn shock(_: &AssetId, _: FixedU128) -> bool {
		false
	}

	fn oracle_assets() -> alloc::vec::Vec<AssetId> {
		alloc::vec::Vec::new()
	}
}

/// Tells whether positions still depend on an asset's price: a price source may not be removed
/// while they do (their accounts could no longer be judged).
pub trait PriceUsers<AssetId> {
	/// Whether something is still held, owed or at auction in `asset`.
	fn in_use(asset: &AssetId) -> bool;
}

impl<AssetId> PriceUsers<AssetId> for () {
	fn in_use(_: &AssetId) -> bool {
		false
	}
}

impl<AssetId, A: PriceUsers<AssetId>, B: PriceUsers<AssetId>> PriceUsers<AssetId> for (A, B) {
	fn in_use(asset: &AssetId) -> bool {
		A::in_use(asset) || B::in_use(asset)
	}
}

/// Everything known of an asset's price, as the runtime API reports it.
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
pub struct PriceReport {
	/// What a [`PriceProvider`] consumer gets now.
	pub usable: Result<PriceInfo, PriceError>,
	/// The last accepted price even when it is not usable (stale or halted), for display.
	pub last: Option<PriceInfo>,
	/// While halted: the level awaiting confirmation.
	pub halted_candidate: Option<Price>,
	/// Whether the price is a constant set by governance.
	pub fixed: bool,
}
