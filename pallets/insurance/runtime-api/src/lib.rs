//! Runtime API of `pallet-insurance`: what the fund holds and owes, without decoding storage.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

use codec::Codec;
use liquidation_primitives::Balance;
pub use pallet_insurance::{Fund, FundParams, FundReport, FundTotals};

sp_api::decl_runtime_apis! {
	/// The insurance fund.
	pub trait InsuranceApi<AssetId, AccountId> where AssetId: Codec, AccountId: Codec {
		/// The fund in `asset`: parameters, staked value, protocol-owned value, shares, custody, cover left in
		/// this block, running totals.
		fn fund(asset: AssetId) -> FundReport;
		/// The shares `who` holds in `asset`'s fund and what they are worth now.
		fn stake_of(asset: AssetId, who: AccountId) -> (Balance, Balance);
		/// How much of a bad debt of `amount` in `asset` the fund would pay now.
		fn coverage_of(asset: AssetId, amount: Balance) -> Balance;
	}
}
