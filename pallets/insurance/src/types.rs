//! Stored types of the insurance pallet.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use liquidation_primitives::Balance;
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_runtime::{Permill, RuntimeDebug};

/// Governance parameters of the fund in one asset.
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
pub struct FundParams {
	/// Most bad debt the fund pays in one block, in the asset's smallest unit. Greater than zero.
	pub max_cover_per_block: Balance,
	/// The fund size governance aims for; what the protocol-owned value holds beyond it may be moved
	/// to the treasury. At least `max_cover_per_block`.
	pub target_size: Balance,
	/// Share of income that goes to stakers while there are any (the rest to the protocol-owned value).
	pub staker_income_share: Permill,
}

/// The fund in one asset: what stakers own, what the protocol owns.
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
pub struct Fund {
	/// Value owned by stakers, shared by `shares`. Losses are taken from here first.
	pub staked: Balance,
	/// Value owned by the protocol: income not paid to stakers. Losses reach it only when the
	/// staked value is gone.
	pub protocol_owned: Balance,
	/// Stakers' income not yet earned: it moves into `staked` linearly over
	/// [`crate::Config::IncomeVestingPeriod`] from its arrival, so that a stake placed just before
	/// an income (a margin reserve collection, a large penalty) gains nothing from it at once, only
	/// what vests while the stake is at risk. Losses take it first.
	pub vesting: Balance,
	/// Shares outstanding in the current `generation`, the locked ones included.
	pub shares: Balance,
	/// Of `shares`, those the generation's first stake left to no one.
	pub locked_shares: Balance,
	/// Increases when losses wiped out the staked value while shares were outstanding: those
	/// shares are then worth nothing, and staking starts afresh.
	pub generation: u32,
}

impl Fund {
	/// What the fund accounts for in total.
	pub fn total(&self) -> Balance {
		self.staked.saturating_add(self.protocol_owned).saturating_add(self.vesting)
	}

	/// Takes a loss of `amount`: stakers bear it first (their income still vesting, then their
	/// stake), the protocol-owned value only once both are gone.
	pub fn take_loss(&mut self, amount: Balance) {
		let from_vesting = amount.min(self.vesting);
		self.vesting = self.vesting.saturating_sub(from_vesting);
		let rest = amount.saturating_sub(from_vesting);
		let from_staked = rest.min(self.staked);
		self.staked = self.staked.saturating_sub(from_staked);
		self.protocol_owned = self.protocol_owned.saturating_sub(rest.saturating_sub(from_staked));
	}
}

/// A staker's shares in one asset's fund.
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
pub struct Stake {
	/// The fund generation the shares belong to; shares of an earlier generation are worth nothing.
	pub generation: u32,
	/// Shares held.
	pub shares: Balance,
}

/// A request to withdraw shares, which may be carried out in `[ready_at, ready_at + window)`.
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
pub struct UnstakeRequest<BlockNumber> {
	/// Shares to withdraw. They stay at risk until withdrawn.
	pub shares: Balance,
	/// First block at which they may be withdrawn.
	pub ready_at: BlockNumber,
}

/// Running totals of the fund in one asset.
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
pub struct FundTotals {
	/// Income received (penalties, margin's reserve share of interest).
	pub income: Balance,
	/// Bad debt paid.
	pub covered: Balance,
	/// Bad debt asked for that the fund could not pay when asked (its cap or its size): the
	/// engine queues it for later blocks or socializes it.
	pub handed_on: Balance,
	/// Moved to the treasury as surplus.
	pub surplus_withdrawn: Balance,
	/// Sold through the DEX to pay bad debt in other assets (see [`crate::convert`]).
	pub sold_for_cover: Balance,
}

/// The fund in one asset as the runtime API reports it.
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
pub struct FundReport {
	/// Parameters, if the asset is insured.
	pub params: Option<FundParams>,
	/// Staked value, protocol-owned value, shares, generation.
	pub fund: Fund,
	/// What the fund's account holds of the asset.
	pub custody: Balance,
	/// Bad debt the fund may still pay in the current block.
	pub cover_left_this_block: Balance,
	/// Running totals.
	pub totals: FundTotals,
}
