//! Runtime API of `pallet-liquidation`: what is liquidatable now and what a liquidation would do.
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::Codec;
use liquidation_primitives::UsdValue;
pub use pallet_liquidation::{
	CascadeStep, DeleverageRank, LiquidationTotals, PendingShortfall, Plan, PositionCloseOut,
	PositionTotals, RiskReport, RiskTerm, StressReport, StressValue,
};
use sp_runtime::DispatchError;

sp_api::decl_runtime_apis! {
	/// The liquidation engine.
	///
	/// `RiskCursor` is the margin ledger's opaque cursor over its risk index
	/// (`pallet_margin::RiskCursor` in our runtime): pass back what a call returned.
	///
	/// Version 2 adds the stress test (`stress_test`, `stress_cascade`) and predictive
	/// de-risking's queries (`risk_report`, `derisk_candidates`).
	#[api_version(2)]
	pub trait LiquidationApi<AccountId, AssetId, RiskCursor>
	where
		AccountId: Codec,
		AssetId: Codec,
		RiskCursor: Codec,
	{
		/// Liquidatable accounts among up to `limit` indebted ones after `start_after`, worst
		/// shortfall (USD) first, and the account to continue after (`None`: the end).
		fn liquidatable_accounts(
			start_after: Option<AccountId>,
			limit: u32,
		) -> (Vec<(AccountId, UsdValue)>, Option<AccountId>);
		/// The same accounts found the way the off-chain worker finds them: among the accounts
		/// of up to `limit` entries of the margin ledger's risk index after `start_after` (it
		/// returns only those the price moves since its reference could have pushed under, and
		/// an account filed under several assets once); and where to continue (`None`: the walk
		/// is complete). Cheap: what a keeper should poll.
		fn liquidatable_accounts_at_risk(
			start_after: Option<RiskCursor>,
			limit: u32,
		) -> (Vec<(AccountId, UsdValue)>, Option<RiskCursor>);
		/// What a liquidation of `who` would repay, seize and pay as reward now: for the named
		/// `(debt asset, collateral asset)`, or the largest of each; or why it would be refused.
		fn preview(who: AccountId, assets: Option<(AssetId, AssetId)>) -> Result<Plan<AssetId>, DispatchError>;
		/// Running totals of an asset: liquidations, repaid, seized, penalties, bad debt covered
		/// and socialized.
		fn totals(asset: AssetId) -> LiquidationTotals;
		/// What the worker's close-out of `who`'s position in `underlying` (or the one it
		/// would choose) would do now, against the vault: units, fee, insurance's share, an
		/// insolvent account's shortfall and its waterfall; or why it would be refused.
		fn preview_position(who: AccountId, underlying: Option<AssetId>) -> Result<PositionCloseOut<AssetId>, DispatchError>;
		/// Running totals of a derivative market's close-outs: how many, by keepers, notional,
		/// fees, insurance's share; shortfalls: insurance's cover, auto-deleveraging's haircuts,
		/// the LPs' part and what still waits.
		fn position_totals(underlying: AssetId) -> PositionTotals;
		/// The shortfalls of insolvent positions waiting for insurance and auto-deleveraging,
		/// oldest first: market, bankrupt side, bankruptcy price, what is left, the block it was
		/// queued in (a block number), where the scan of the market's traders resumes.
		fn pending_shortfalls() -> Vec<PendingShortfall<AssetId, AccountId, u32>>;
		/// Auto-deleveraging's ranking of the positions on the `long` side (or short) of
		/// `underlying`'s market, best first (profit times leverage), with what deleveraging
		/// would take from each now for the shortfalls waiting opposite it.
		fn deleveraging(underlying: AssetId, long: bool) -> Vec<DeleverageRank<AccountId>>;
		/// What the price `shocks` (asset, change in basis points: `-2000` for a fall of 20 %)
		/// would liquidate among the accounts of up to `limit` entries of the risk index after
		/// `start_after` (at most 1 000), computed by the engine's own code over the current
		/// state and undone: accounts made liquidatable, per asset and per market the changes
		/// of the engine's totals (repaid, seized, written off, covered, socialized; notional,
		/// shortfall, insurance, auto-deleveraging, the LPs), their value in USD, and where to
		/// continue. See `pallet_liquidation::stress`.
		#[api_version(2)]
		fn stress_test(
			shocks: Vec<(AssetId, i32)>,
			start_after: Option<RiskCursor>,
			limit: u32,
		) -> Result<StressReport<AssetId, RiskCursor>, DispatchError>;
		/// `who`'s value at risk over the governed horizon at the governed confidence, its
		/// buffer (maintenance collateral less maintenance debt), each asset's term, and whether
		/// a keeper may de-risk it now; or why not (the switch off, a price unusable). See
		/// `pallet_liquidation::derisk`.
		#[api_version(2)]
		fn risk_report(who: AccountId) -> Result<RiskReport<AssetId>, DispatchError>;
		/// The accounts a keeper may de-risk now (`liquidation.derisk`) among up to `limit`
		/// indebted ones after `start_after` (at most 1 000), with how far their value at risk
		/// exceeds their buffer (USD), the largest first, and the account to continue after.
		#[api_version(2)]
		fn derisk_candidates(
			start_after: Option<AccountId>,
			limit: u32,
		) -> (Vec<(AccountId, UsdValue)>, Option<AccountId>);
		/// The stress test for each fall of `drops_percent` (1 to 99, at most 64 of them) of
		/// every oracle-priced asset at once, over up to `limit` risk-index entries from the
		/// start: the cascade map (falls of 1 % to 50 %, say). The falls times `limit` at most
		/// 1 000.
		#[api_version(2)]
		fn stress_cascade(
			drops_percent: Vec<u8>,
			limit: u32,
		) -> Result<Vec<CascadeStep<AssetId, RiskCursor>>, DispatchError>;
	}
}
