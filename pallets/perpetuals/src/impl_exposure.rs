//! What an account's positions add to its health, as the margin ledger reads it.

use crate::{
	math::{self, funding_owed, requirement, signed, unrealised_pnl, Signed},
	types::{Market, Position},
	Config, Markets, Pallet, PositionCount, Positions, ReferenceFunding,
};
use frame_support::traits::Get;
use liquidation_primitives::{
	DerivativeHealth, Exposure, HealthError, Price, PriceProvider, Pricing, ReferenceExposure,
	UsdValue,
};
use sp_runtime::{
	traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub, Saturating, Zero},
	FixedPointNumber, FixedU128,
};

/// One position's part of its account's health, USD.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PositionHealth {
	/// The price it was valued at.
	pub price: Price,
	/// Unrealised profit (negative: loss) at `price`, funding owed since it settled deducted.
	pub pnl: Signed,
	/// The funding it owes since it settled (negative: is owed), included in `pnl`.
	pub funding: Signed,
	/// The margin it needs to be opened or increased.
	pub initial_requirement: UsdValue,
	/// The margin it needs to be kept.
	pub maintenance_requirement: UsdValue,
}

impl<T: Config> Pallet<T> {
	/// `position`'s part of its account's health in `market`, prices read as `pricing` says:
	/// for opening risk a long at the lower of the price and the stable price, a short at the
	/// higher, the requirement at the higher; for liquidation at the held price.
	pub fn position_health(
		underlying: T::AssetId,
		market: &Market,
		position: &Position,
		pricing: Pricing,
	) -> Result<PositionHealth, HealthError<T::AssetId>> {
		let (pnl_price, requirement_price, held_price) =
			match (pricing, T::Prices::price(&underlying)) {
				(Pricing::Usable, Ok(info)) => {
					let pnl_price = if position.size.is_positive() {
						info.for_collateral()
					} else {
						info.for_debt()
					};
					(pnl_price, info.for_debt(), info.price)
				},
				(Pricing::Usable, Err(error)) => return Err(HealthError::Price(underlying, error)),
				(Pricing::Held, Ok(info)) => (info.price, info.price, info.price),
				(Pricing::Held, Err(error)) => {
					let price = T::Prices::valuation_price(&underlying)
						.ok_or(HealthError::Price(underlying, error))?;
					(price, price, price)
				},
			};
		let state = market
			.state
			.accrued(&market.params, held_price, Self::now())
			.ok_or(HealthError::Overflow)?;
		let funding = funding_owed(position.size, position.funding_index, state.funding_index)
			.ok_or(HealthError::Overflow)?;
		let pnl = unrealised_pnl(position.size, position.entry_price, pnl_price)
			.and_then(|pnl| pnl.checked_sub(&funding))
			.ok_or(HealthError::Overflow)?;
		let params = &Self::params_in_force(&market.params, underlying);
		let needs = requirement(
			position.size,
			requirement_price,
			signed(params.skew_scale).ok_or(HealthError::Overflow)?,
			params.min_initial_margin,
			signed(params.initial_margin_slope).ok_or(HealthError::Overflow)?,
			params.maintenance_share,
		)
		.ok_or(HealthError::Overflow)?;
		Ok(PositionHealth {
			price: pnl_price,
			pnl,
			funding,
			initial_requirement: math::unsigned(needs.initial).ok_or(HealthError::Overflow)?,
			maintenance_requirement: math::unsigned(needs.maintenance)
				.ok_or(HealthError::Overflow)?,
		})
	}
}

impl<T: Config> Exposure<T::AccountId, T::AssetId> for Pallet<T> {
	fn exposure(
		who: &T::AccountId,
		pricing: Pricing,
	) -> Result<DerivativeHealth, HealthError<T::AssetId>> {
		let mut health = DerivativeHealth::default();
		for (underlying, position) in Positions::<T>::iter_prefix(who) {
			// Every position is in a listed market (`try_state`); a market is never delisted.
			let Some(market) = Markets::<T>::get(underlying) else { continue };
			let part = Self::position_health(underlying, &market, &position, pricing)?;
			let add = |total: UsdValue, part: UsdValue| {
				total.checked_add(&part).ok_or(HealthError::<T::AssetId>::Overflow)
			};
			if part.pnl.is_positive() {
				let gain = math::unsigned(part.pnl).ok_or(HealthError::Overflow)?;
				// Weighted profit rounds down (it is collateral).
				let initial = gain.saturating_mul(market.params.initial_profit_weight.into());
				let maintenance =
					gain.saturating_mul(market.params.maintenance_profit_weight.into());
				health.gain = add(health.gain, gain)?;
				health.initial_gain = add(health.initial_gain, initial)?;
				health.maintenance_gain = add(health.maintenance_gain, maintenance)?;
			} else if !part.pnl.is_zero() {
				let loss =
					math::unsigned(part.pnl.saturating_abs()).ok_or(HealthError::Overflow)?;
				health.loss = add(health.loss, loss)?;
			}
			health.initial_requirement = add(health.initial_requirement, part.initial_requirement)?;
			health.maintenance_requirement =
				add(health.maintenance_requirement, part.maintenance_requirement)?;
		}
		// Profit the vault owes him counts against liquidation as his deposit of the settlement
		// asset would (the margin ledger weighs the gain by its collateral weight), and nothing
		// for opening risk: no one borrows against a profit the vault has not paid.
		let owed = Self::profit_owed_usd(who).map_err(|_| HealthError::Overflow)?;
		if !owed.is_zero() {
			let add = |total: UsdValue| total.checked_add(&owed).ok_or(HealthError::Overflow);
			health.gain = add(health.gain)?;
			health.maintenance_gain = add(health.maintenance_gain)?;
		}
		Ok(health)
	}

	/// Positions, or profit the vault owes: while it is owed, the account is not bankrupt
	/// (its debt is not written off while the vault still owes it money).
	fn has_exposure(who: &T::AccountId) -> bool {
		!PositionCount::<T>::get(who).is_zero() || crate::ProfitOwed::<T>::contains_key(who)
	}

	fn settlement_asset() -> Option<T::AssetId> {
		Some(T::SettlementAsset::get())
	}

	fn reference_exposure(
		who: &T::AccountId,
		slot: u8,
		price_of: &dyn Fn(&T::AssetId) -> Option<Price>,
	) -> Option<ReferenceExposure<T::AssetId>> {
		let mut exposure = ReferenceExposure::default();
		// Owed profit moves with no price.
		exposure.maintenance_gain = Self::profit_owed_usd(who).ok()?;
		for (underlying, position) in Positions::<T>::iter_prefix(who) {
			let market = Markets::<T>::get(underlying)?;
			let price = price_of(&underlying)?;
			let index = ReferenceFunding::<T>::get(slot, underlying)?;
			// Funding owed to the reference index (the walk bounds its drift since).
			let funding = funding_owed(position.size, position.funding_index, index)?;
			let pnl = unrealised_pnl(position.size, position.entry_price, price)?
				.checked_sub(&funding)?;
			let params = &Self::params_in_force(&market.params, underlying);
			let needs = requirement(
				position.size,
				price,
				signed(params.skew_scale)?,
				params.min_initial_margin,
				signed(params.initial_margin_slope)?,
				params.maintenance_share,
			)?;
			let maintenance = math::unsigned(needs.maintenance)?;
			if pnl.is_positive() {
				let gain = math::unsigned(pnl)?;
				exposure.maintenance_gain = exposure
					.maintenance_gain
					.checked_add(&gain.saturating_mul(params.maintenance_profit_weight.into()))?;
			} else {
				exposure.loss =
					exposure.loss.checked_add(&math::unsigned(pnl.saturating_abs())?)?;
			}
			exposure.maintenance_requirement =
				exposure.maintenance_requirement.checked_add(&maintenance)?;
			// |s| P (1 + MMF): the notional and the requirement, rounded up.
			let notional = math::unsigned(position.size.saturating_abs())?.checked_mul(&price)?;
			let part =
				notional.checked_add(&maintenance)?.checked_add(&FixedU128::from_inner(1))?;
			match exposure.sensitivities.iter_mut().find(|(asset, _)| *asset == underlying) {
				Some((_, total)) => *total = total.checked_add(&part)?,
				None => exposure.sensitivities.push((underlying, part)),
			}
		}
		Some(exposure)
	}

	fn drift_since_reference(
		slot: u8,
		underlying: &T::AssetId,
		reference_price: Price,
	) -> Option<FixedU128> {
		let Some(market) = Markets::<T>::get(underlying) else { return Some(FixedU128::zero()) };
		let open = !market.state.long_interest.is_zero() || !market.state.short_interest.is_zero();
		let Some(index) = ReferenceFunding::<T>::get(slot, underlying) else {
			// Not recorded (parameters changed, or listed since): unbounded while positions
			// are open.
			return if open { None } else { Some(FixedU128::zero()) };
		};
		let price = Self::held_price(*underlying).ok()?;
		let now = Self::accrued(&market, price).ok()?.funding_index;
		let moved = math::unsigned(now.checked_sub(&index)?.saturating_abs())?;
		// Rounded up, so the bound holds to the last unit.
		let drift = moved.checked_div(&reference_price)?;
		drift.checked_add(&FixedU128::from_inner(1))
	}

	fn is_traded(underlying: &T::AssetId) -> bool {
		<Self as liquidation_primitives::PriceUsers<T::AssetId>>::in_use(underlying)
	}

	fn on_margins_widened(underlying: &T::AssetId) {
		// Its requirements moved with no price move: unbounded until the next reference.
		for slot in [0u8, 1] {
			ReferenceFunding::<T>::remove(slot, underlying);
		}
	}

	fn on_new_reference(slot: u8) {
		let _ = ReferenceFunding::<T>::clear_prefix(slot, T::MaxMarkets::get(), None);
		for (underlying, market) in Markets::<T>::iter() {
			let Ok(price) = Self::held_price(underlying) else { continue };
			let Ok(state) = Self::accrued(&market, price) else { continue };
			ReferenceFunding::<T>::insert(slot, underlying, state.funding_index);
		}
	}
}

/// An underlying is in use while positions are open in its market: its price source may not be
/// removed (they could no longer be judged).
impl<T: Config> liquidation_primitives::PriceUsers<T::AssetId> for Pallet<T> {
	fn in_use(asset: &T::AssetId) -> bool {
		Markets::<T>::get(asset).is_some_and(|market| {
			!market.state.long_interest.is_zero() || !market.state.short_interest.is_zero()
		})
	}
}
