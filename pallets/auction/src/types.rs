//! Stored and reported types of the auction pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use liquidation_primitives::Balance;
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{FixedU128, Permill, RuntimeDebug};

/// Identifies an auction.
pub type AuctionId = u32;

/// An auction price: whole units of the debt asset per whole unit of collateral.
pub type AuctionPrice = FixedU128;

/// How the price falls from its start.
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
	Serialize,
	Deserialize,
)]
pub enum PriceCurve {
	/// Falls in a straight line from the start price to zero over `duration_blocks` (`d`):
	/// `price(n) = start * (d - n) / d`.
	#[codec(index = 0)]
	Linear {
		/// Blocks from the start price to zero.
		duration_blocks: u32,
	},
	/// Falls by `cut` every `step_blocks` (`s`): `price(n) = start * (1 - cut)^floor(n / s)`.
	#[codec(index = 1)]
	StepExponential {
		/// Blocks between cuts.
		step_blocks: u32,
		/// Share of the price taken off at each step.
		cut: Permill,
	},
}

impl Default for PriceCurve {
	fn default() -> Self {
		Self::Linear { duration_blocks: 1 }
	}
}

/// Governance parameters of auctions of one collateral asset.
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
pub struct AuctionParams {
	/// The start price is the oracle's price times this; in [1, 2].
	pub start_premium: FixedU128,
	/// How the price falls.
	pub curve: PriceCurve,
	/// Blocks after which an auction is too old and may be restarted.
	pub max_duration_blocks: u32,
	/// Share of the oracle's price below which nothing sells and the auction may be restarted;
	/// strictly between 0 and 1.
	pub floor: Permill,
	/// How far the oracle may move from its level at the (re)start, either way, before the lot
	/// must re-price (restart at the new oracle level); in (0, 50%]. Without it a lot would
	/// keep its start price after a fall (no one buys above the market) or sell far under the
	/// market after a rise, until its floor or its maximum age.
	pub reprice_band: Permill,
	/// Share of the remaining lot paid, in collateral, to whoever restarts a due auction; at
	/// most 1%.
	pub restart_incentive: Permill,
	/// Smallest lot a partial take may leave, in the collateral's smallest units (take all of it
	/// instead): no auction is left with a lot too small to be worth a buyer's fee.
	pub min_lot: Balance,
}

/// A running auction.
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
pub struct Auction<AccountId, AssetId, BlockNumber> {
	/// On whose behalf the collateral is sold (whose debt the proceeds repay).
	pub owner: AccountId,
	/// What is sold.
	pub collateral: AssetId,
	/// Collateral left to sell, in smallest units.
	pub lot: Balance,
	/// What the proceeds are paid in.
	pub debt_asset: AssetId,
	/// Proceeds still wanted, in the debt asset's smallest units.
	pub to_raise: Balance,
	/// Price at the (re)start.
	pub start_price: AuctionPrice,
	/// The oracle's price at the (re)start: the centre of the re-pricing band.
	pub oracle_at_start: AuctionPrice,
	/// Block of the (re)start.
	pub started_at: BlockNumber,
	/// How many times it was restarted.
	pub restarts: u32,
}

/// An auction as clients see it, priced at the current block.
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
pub struct AuctionReport<AccountId, AssetId, BlockNumber> {
	/// Its id.
	pub id: AuctionId,
	/// Its state.
	pub auction: Auction<AccountId, AssetId, BlockNumber>,
	/// The price a take pays now.
	pub price: AuctionPrice,
	/// The oracle's price of collateral in debt asset now (`None` if unusable: no take now).
	pub oracle_price: Option<AuctionPrice>,
	/// Whether it is too old, under its floor or outside its re-pricing band, so that `redo`
	/// would restart it now.
	pub needs_restart: bool,
	/// What it may still raise now: its amount to raise, capped by what its owner still owes (with the
	/// penalty on it); zero when it is no longer needed and `close` would return its lot.
	pub wanted: Balance,
}
