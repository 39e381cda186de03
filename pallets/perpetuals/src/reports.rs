//! What the runtime API reports: markets, an account's positions, the vault.

use crate::{
	math::{self, signed, Signed},
	types::{Market, MarketParams, MarketStatus, Position},
	Config, Markets, Pallet, Positions, TotalShares,
};
use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::traits::Get;
use liquidation_primitives::{
	ledger::Inspect, Balance, Price, PriceProvider, Pricing, RiskWeights, UsdValue,
};
use scale_info::TypeInfo;
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, One, Saturating, Zero},
	FixedPointNumber, FixedU128, Permill, RuntimeDebug,
};

/// A market as clients see it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, RuntimeDebug)]
pub struct MarketReport<AssetId> {
	/// The underlying.
	pub underlying: AssetId,
	/// Governance parameters, the margin fractions as in force: widened by the underlying's
	/// volatility (`pallet-margin`'s widening), what every requirement is computed with.
	pub params: MarketParams,
	/// Whether it takes new risk.
	pub status: MarketStatus,
	/// The usable oracle price, if any.
	pub oracle_price: Option<Price>,
	/// Open interest of the longs and of the shorts, whole units.
	pub long_interest: FixedU128,
	/// Open interest of the shorts, whole units.
	pub short_interest: FixedU128,
	/// Long minus short open interest, whole units.
	pub skew: Signed,
	/// The funding rate per day now (`+`: longs pay shorts).
	pub funding_rate: Signed,
	/// The funding index now: USD one unit of long size has paid since the market opened.
	pub funding_index: Signed,
}

/// One position as clients see it, valued at the held oracle price.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, RuntimeDebug)]
pub struct PositionReport<AssetId> {
	/// The market.
	pub underlying: AssetId,
	/// Signed size, whole units.
	pub size: Signed,
	/// Entry price (cost basis).
	pub entry_price: Price,
	/// The price it is valued at (the held oracle price).
	pub mark_price: Price,
	/// Unrealised profit (negative: loss), funding deducted, USD.
	pub unrealised_pnl: Signed,
	/// Funding owed since it last settled (negative: owed to it), USD; in `unrealised_pnl`.
	pub accrued_funding: Signed,
	/// Margin to open or increase it, USD.
	pub initial_requirement: UsdValue,
	/// Margin to keep it, USD.
	pub maintenance_requirement: UsdValue,
	/// The price of the underlying at which the account becomes liquidatable, everything else
	/// unchanged; `None` if no price above zero does (or the account's health is unknown).
	pub liquidation_price: Option<Price>,
	/// The bankruptcy price: where the account's equity (all it holds less all it owes,
	/// unweighted) reaches zero, this position's price alone moving, `p - E / s`. Beyond it a
	/// close-out leaves a shortfall (see the liquidation engine's `positions`); `None` if no
	/// price above zero does (or the account's health is unknown).
	pub bankruptcy_price: Option<Price>,
}

/// The vault as clients see it.
#[derive(Clone, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, RuntimeDebug)]
pub struct VaultReport {
	/// Its USD in the ledger less the profit it owes traders, USD.
	pub cash: Signed,
	/// What the traders owe it unrealised (their loss and funding less their profit), USD.
	pub unrealised: Signed,
	/// What flattening every market's skew would cost it beyond the oracle price,
	/// `Σ P k² / 2S`, USD.
	pub skew_cost: Signed,
	/// Net asset value, `cash + unrealised - skew_cost`, USD.
	pub nav: Signed,
	/// Net exposure `Σ |skew| × price`, USD.
	pub exposure: FixedU128,
	/// `exposure / nav`; `None` while the value is zero or less.
	pub utilisation: Option<FixedU128>,
	/// Shares outstanding.
	pub total_shares: Balance,
	/// Profit it owes traders beyond what it could pay ([`crate::TotalProfitOwed`]), in the
	/// settlement asset's smallest units (counted in `cash`).
	pub profit_owed: Balance,
}

impl<T: Config> Pallet<T> {
	/// A market's report, funding accrued to now; `None` if not listed.
	pub fn market_report(underlying: T::AssetId) -> Option<MarketReport<T::AssetId>> {
		let market = Markets::<T>::get(underlying)?;
		let oracle_price = T::Prices::price(&underlying).ok().map(|info| info.price);
		let state = Self::held_price(underlying)
			.ok()
			.and_then(|price| Self::accrued(&market, price).ok())
			.unwrap_or(market.state);
		Some(MarketReport {
			underlying,
			params: Self::params_in_force(&market.params, underlying),
			status: market.status,
			oracle_price,
			long_interest: state.long_interest,
			short_interest: state.short_interest,
			skew: state.skew().unwrap_or_default(),
			funding_rate: state.funding_rate,
			funding_index: state.funding_index,
		})
	}

	/// Every listed market's report.
	pub fn market_reports() -> alloc::vec::Vec<MarketReport<T::AssetId>> {
		Markets::<T>::iter_keys().filter_map(Self::market_report).collect()
	}

	/// `who`'s positions.
	pub fn position_reports(who: &T::AccountId) -> alloc::vec::Vec<PositionReport<T::AssetId>> {
		let maintenance_health = T::Ledger::health(who).ok().and_then(|report| {
			signed(report.maintenance_collateral)?.checked_sub(&signed(report.maintenance_debt)?)
		});
		let equity = T::Ledger::health(who).ok().and_then(|report| {
			signed(report.collateral_value)?.checked_sub(&signed(report.debt_value)?)
		});
		let settlement = T::Ledger::risk_weights(T::SettlementAsset::get());
		Positions::<T>::iter_prefix(who)
			.filter_map(|(underlying, position)| {
				let market = Markets::<T>::get(underlying)?;
				let part =
					Self::position_health(underlying, &market, &position, Pricing::Held).ok()?;
				let liquidation_price = maintenance_health.and_then(|health| {
					liquidation_price(&market, &position, &part, health, settlement)
				});
				let bankruptcy_price = equity.and_then(|equity| {
					let price =
						signed(part.price)?.checked_sub(&equity.checked_div(&position.size)?)?;
					price.is_positive().then(|| math::unsigned(price)).flatten()
				});
				Some(PositionReport {
					underlying,
					size: position.size,
					entry_price: position.entry_price,
					mark_price: part.price,
					unrealised_pnl: part.pnl,
					accrued_funding: part.funding,
					initial_requirement: part.initial_requirement,
					maintenance_requirement: part.maintenance_requirement,
					liquidation_price,
					bankruptcy_price,
				})
			})
			.collect()
	}

	/// The vault's report; `None` if its value cannot be computed (a price missing).
	pub fn vault_report() -> Option<VaultReport> {
		let value = Self::vault_value().ok()?;
		let nav = value.nav()?;
		let utilisation = math::unsigned(nav)
			.filter(|nav| !nav.is_zero())
			.and_then(|nav| value.exposure.checked_div(&nav));
		Some(VaultReport {
			cash: value.cash,
			unrealised: value.unrealised,
			skew_cost: value.skew_cost,
			nav,
			exposure: value.exposure,
			utilisation,
			total_shares: TotalShares::<T>::get(),
			profit_owed: crate::TotalProfitOwed::<T>::get(),
		})
	}
}

/// The underlying's price at which the account's maintenance health reaches zero, this
/// position's price alone moving (its requirement fraction fixed, profit weighted above its
/// break-even price): health is linear in the price on each side of the break-even
/// `p0 = entry + funding / size`,
///
/// ```text
///   H(p) = H_other + w (s (p - e) - f) - m |s| p
/// ```
///
/// with `H_other` the rest of the account's maintenance health, `w` the profit's weight on the
/// profit side (the market's times the settlement asset's collateral weight) and the settlement
/// asset's liability weight on the loss side (as margin weighs them); the root on the side it
/// lies in.
fn liquidation_price(
	market: &Market,
	position: &Position,
	part: &crate::impl_exposure::PositionHealth,
	maintenance_health: Signed,
	settlement: Option<RiskWeights>,
) -> Option<Price> {
	let size = position.size;
	let price = signed(part.price)?;
	let (collateral_weight, liability_weight) = match settlement {
		Some(weights) => {
			(weights.maintenance_collateral_weight, signed(weights.maintenance_liability_weight)?)
		},
		None => (Permill::one(), Signed::one()),
	};
	let weight = Signed::from(market.params.maintenance_profit_weight)
		.checked_mul(&Signed::from(collateral_weight))?;
	let weighted =
		|pnl: Signed| pnl.saturating_mul(if pnl.is_positive() { weight } else { liability_weight });
	let requirement = signed(part.maintenance_requirement)?;
	// The rest of the account: its health without this position's part.
	let other = maintenance_health.checked_sub(&weighted(part.pnl))?.checked_add(&requirement)?;
	// m |s|: the requirement per unit of price.
	let per_price =
		if price.is_zero() { Signed::zero() } else { requirement.checked_div(&price)? };
	let entry = signed(position.entry_price)?;
	let cost = size.checked_mul(&entry)?.checked_add(&part.funding)?;
	let break_even = cost.checked_div(&size)?;
	// H(p) = a + b p on each side.
	let root = |w: Signed| -> Option<Signed> {
		let a = other.checked_sub(&cost.checked_mul(&w)?)?;
		let b = size.checked_mul(&w)?.checked_sub(&per_price)?;
		if b.is_zero() {
			return None;
		}
		Signed::zero().checked_sub(&a)?.checked_div(&b)
	};
	let profit_side =
		|p: Signed| if size.is_positive() { p >= break_even } else { p <= break_even };
	let candidates = [
		root(weight).filter(|p| profit_side(*p)),
		root(liability_weight).filter(|p| !profit_side(*p)),
	];
	candidates.into_iter().flatten().find(|p| p.is_positive()).and_then(math::unsigned)
}
