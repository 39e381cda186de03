//! Health of a portfolio at current prices.

use crate::{
	pool::{mul_fixed, to_amount},
	AccountHealth, Config, Error, Market, Markets, Pallet, PortfolioOf, Portfolios, Position,
};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{
	value_in_usd, value_in_usd_rounded_up, Exposure, HealthError, HealthReport, PriceProvider,
};
use sp_runtime::{traits::CheckedAdd, ArithmeticError, DispatchError, FixedU128, Rounding};

pub use liquidation_primitives::Pricing;

impl<T: Config> Pallet<T> {
	/// The health of `who`'s portfolio as liquidation judges it ([`Pricing::Held`]), with
	/// interest accrued to this block.
	pub fn health_of(who: &T::AccountId) -> Result<HealthReport, HealthError<T::AssetId>> {
		Self::health_of_account(who, &Portfolios::<T>::get(who), Pricing::Held)
	}

	/// The health of `who` with `portfolio` as its spot positions and its derivative positions
	/// ([`Config::Derivatives`]) counted in, prices read as `pricing` says.
	pub(crate) fn health_of_account(
		who: &T::AccountId,
		portfolio: &PortfolioOf<T>,
		pricing: Pricing,
	) -> Result<HealthReport, HealthError<T::AssetId>> {
		let spot = Self::health_of_portfolio(portfolio, pricing)?;
		let derivatives = T::Derivatives::exposure(who, pricing)?;
		if derivatives == Default::default() {
			return Ok(spot);
		}
		let settlement = Self::settlement_weights();
		spot.with_derivatives(derivatives, settlement.as_ref()).ok_or(HealthError::Overflow)
	}

	/// The risk weights of the asset derivative positions settle in: their profit and loss are
	/// weighted as a deposit or a debt of it ([`HealthReport::with_derivatives`]).
	pub(crate) fn settlement_weights() -> Option<liquidation_primitives::RiskWeights> {
		let asset = T::Derivatives::settlement_asset()?;
		Markets::<T>::get(asset)
			.map(|market| Self::params_in_force(market.params, asset).risk_weights(market.decimals))
	}

	/// The health of a portfolio with prices read as `pricing` says.
	pub(crate) fn health_of_portfolio(
		portfolio: &PortfolioOf<T>,
		pricing: Pricing,
	) -> Result<HealthReport, HealthError<T::AssetId>> {
		let mut report = HealthReport::default();
		for (asset, position) in portfolio.iter() {
			// A portfolio only ever holds listed assets (invariant 4).
			let Some(market) = Self::market_now(*asset) else { continue };
			let price = match (pricing, T::Prices::price(asset)) {
				// Opening risk reads the conservative side of the stable price: a deposit at
				// the lower, a debt at the higher (a price pumped in minutes lends nothing).
				(Pricing::Usable, Ok(info)) => match position {
					Position::Deposit(_) => info.for_collateral(),
					Position::Borrow(_) => info.for_debt(),
				},
				(Pricing::Held, Ok(info)) => info.price,
				(Pricing::Usable, Err(error)) => return Err(HealthError::Price(*asset, error)),
				(Pricing::Held, Err(error)) => match T::Prices::valuation_price(asset) {
					Some(price) => price,
					// Never priced: a deposit counts for nothing, a debt cannot be judged
					// (none can exist: borrowing needs a usable price, and a price source
					// is not removed while positions hold its asset).
					None if matches!(position, Position::Deposit(_)) => continue,
					None => return Err(HealthError::Price(*asset, error)),
				},
			};
			// The listed weights as widened by volatility now.
			let params = &Self::params_in_force(market.params, *asset);
			match position {
				Position::Deposit(scaled) => {
					let amount = to_amount(*scaled, market.pool.deposit_index, Rounding::Down)
						.ok_or(HealthError::Overflow)?;
					let value = value_in_usd(amount, market.decimals, price)
						.ok_or(HealthError::Overflow)?;
					let initial =
						mul_fixed(value, params.initial_collateral_weight.into(), Rounding::Down);
					let maintenance = mul_fixed(
						value,
						params.maintenance_collateral_weight.into(),
						Rounding::Down,
					);
					report.collateral_value = add(report.collateral_value, Some(value))?;
					report.initial_collateral = add(report.initial_collateral, initial)?;
					report.maintenance_collateral =
						add(report.maintenance_collateral, maintenance)?;
				},
				Position::Borrow(scaled) => {
					let amount = to_amount(*scaled, market.pool.borrow_index, Rounding::Up)
						.ok_or(HealthError::Overflow)?;
					let value = value_in_usd_rounded_up(amount, market.decimals, price)
						.ok_or(HealthError::Overflow)?;
					let initial = mul_fixed(value, params.initial_liability_weight, Rounding::Up);
					let maintenance =
						mul_fixed(value, params.maintenance_liability_weight, Rounding::Up);
					report.debt_value = add(report.debt_value, Some(value))?;
					report.initial_debt = add(report.initial_debt, initial)?;
					report.maintenance_debt = add(report.maintenance_debt, maintenance)?;
				},
			}
		}
		Ok(report)
	}

	/// `who`'s health as clients see it.
	pub fn account_health(who: &T::AccountId) -> Result<AccountHealth, HealthError<T::AssetId>> {
		let report = Self::health_of(who)?;
		Ok(AccountHealth {
			report,
			initial_margin: report.initial_surplus(),
			maintenance_margin: report.maintenance_surplus(),
			maintenance_shortfall: report.maintenance_shortfall(),
			health_factor: report.health_factor(),
		})
	}

	/// Refuses a portfolio with debt whose initial health is below zero, or whose health cannot
	/// be computed. A portfolio without debt is healthy at any prices and needs none.
	pub(crate) fn ensure_initial_health(
		who: &T::AccountId,
		portfolio: &PortfolioOf<T>,
	) -> Result<(), DispatchError> {
		let owes = portfolio.iter().any(|(_, position)| matches!(position, Position::Borrow(_)));
		if !owes && !T::Derivatives::has_exposure(who) {
			return Ok(());
		}
		let report =
			Self::health_of_account(who, portfolio, Pricing::Usable).map_err(Self::health_error)?;
		if report.initial_health_ok() {
			Ok(())
		} else {
			Err(Error::<T>::InsufficientMargin.into())
		}
	}

	/// The pallet error for a health that cannot be computed.
	pub(crate) fn health_error(error: HealthError<T::AssetId>) -> DispatchError {
		match error {
			HealthError::Price(_, error) => Error::<T>::Price(error).into(),
			HealthError::Overflow => ArithmeticError::Overflow.into(),
		}
	}

	/// A listed asset's market with interest accrued to this block, not written back.
	pub fn market_now(asset: T::AssetId) -> Option<Market<BlockNumberFor<T>>> {
		let mut market = Markets::<T>::get(asset)?;
		Self::accrue_market(&mut market);
		Some(market)
	}
}

fn add<A>(total: FixedU128, part: Option<FixedU128>) -> Result<FixedU128, HealthError<A>> {
	part.and_then(|part| total.checked_add(&part)).ok_or(HealthError::Overflow)
}
