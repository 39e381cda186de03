//! The liquidation paths, the loss waterfall, the breakers and the parameters.

use crate::WeightInfo;
use crate::{
	invalid,
	sizing::{amount_worth, plan, Side},
	AssetBlockUsage, AssetLimits, AssetLimitsOf, AuctionDue, AuctionDues, BlockUsage, Config,
	CursorOf, EngineParams, Error, Event, IdleCursor, LastWorkerLiquidation, LiquidationPath,
	OwnerAuctions, Pallet, Params, Paused, Plan, Totals, UnhandledSince, UnsignedOutcome,
	AUCTION_LOT_COVER,
};
use alloc::vec::Vec;
use frame_support::{
	ensure,
	pallet_prelude::{DispatchResult, Get, Weight},
	traits::{fungibles::Mutate, tokens::Preservation},
};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{
	ledger::{BadDebt as _, Inspect as _, Mutate as _, RiskScan as _},
	value_in_usd, Balance, CollateralAuction, CollateralSwap, FundIncome, HealthError,
	HealthReport, PositionLiquidation as _, PriceProvider, UsdValue,
};
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{AccountIdConversion, One, Saturating, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, PerThing, Permill,
};

impl<T: Config> Pallet<T> {
	/// The engine's account: seized collateral and insurance cover pass through it.
	pub fn engine_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	pub(crate) fn params() -> Result<EngineParams, DispatchError> {
		Params::<T>::get().ok_or_else(|| Error::<T>::NotConfigured.into())
	}

	pub(crate) fn health(who: &T::AccountId) -> Result<HealthReport, DispatchError> {
		T::Ledger::health(who).map_err(|error| match error {
			HealthError::Price(_, error) => Error::<T>::Price(error).into(),
			HealthError::Overflow => ArithmeticError::Overflow.into(),
		})
	}

	pub(crate) fn is_paused(asset: T::AssetId) -> bool {
		AssetLimitsOf::<T>::get(asset).is_some_and(|limits| limits.paused)
	}

	/// Whether `who` has a running auction (the auctions' end removes them from the list).
	pub fn in_auction(who: &T::AccountId) -> bool {
		!OwnerAuctions::<T>::get(who).is_empty()
	}

	/// Whether `who` is bankrupt: it has debt and, counting what its running auctions would
	/// return ([`Self::effective_report`]), no collateral, or it is liquidatable with only
	/// collateral worth less than the dust value (too little to seize in any liquidation; a
	/// healthy small account is never bankrupt). Also returns its number of positions.
	pub(crate) fn is_bankrupt(who: &T::AccountId) -> (bool, u32) {
		let positions = T::Ledger::positions_of(who);
		let count = positions.len() as u32;
		let has_debt = positions.iter().any(|(_, _, debt)| !debt.is_zero());
		let has_collateral = positions.iter().any(|(_, deposit, _)| !deposit.is_zero());
		if !has_debt {
			return (false, count);
		}
		// An account with derivative positions is not settled as bankrupt (its debt written
		// off) while they stand: they are closed out first (see `positions`).
		if T::Derivatives::holds_positions(who) {
			return (false, count);
		}
		// Nor while the vault owes it profit (landed by anyone once the vault holds it).
		if T::Derivatives::is_owed_profit(who) {
			return (false, count);
		}
		if !has_collateral && !Self::in_auction(who) {
			return (true, count);
		}
		let dust = Params::<T>::get().map(|params| params.dust_value).unwrap_or_default();
		let dust_only = Self::effective_report(who)
			.is_ok_and(|report| report.is_liquidatable() && report.collateral_value < dust);
		(dust_only, count)
	}

	/// Whether the engine, or an asset `who` holds or owes, is paused: its waterfall waits.
	fn waterfall_paused(who: &T::AccountId) -> bool {
		Paused::<T>::get()
			|| T::Ledger::positions_of(who).iter().any(|(asset, _, _)| Self::is_paused(*asset))
	}

	/// A position valued for sizing.
	pub(crate) fn side(
		who: &T::AccountId,
		asset: T::AssetId,
		debt: bool,
	) -> Result<Side<T::AssetId>, DispatchError> {
		let amount =
			if debt { T::Ledger::debt_of(who, asset) } else { T::Ledger::deposit_of(who, asset) };
		ensure!(
			!amount.is_zero(),
			if debt { Error::<T>::NoDebt } else { Error::<T>::NoCollateral }
		);
		let weights = T::Ledger::risk_weights(asset).ok_or(if debt {
			Error::<T>::NoDebt
		} else {
			Error::<T>::NoCollateral
		})?;
		let price = T::Prices::price(&asset).map_err(Error::<T>::Price)?.price;
		let weight = if debt {
			weights.maintenance_liability_weight
		} else {
			FixedU128::from(weights.maintenance_collateral_weight)
		};
		Ok(Side { asset, amount, price, decimals: weights.decimals, weight })
	}

	/// `amount` of `from` in `to` at the oracle prices, rounded up (in the payee's favour).
	fn convert(
		from: T::AssetId,
		to: T::AssetId,
		amount: Balance,
	) -> Result<Balance, DispatchError> {
		let price_of =
			|asset| T::Prices::price(&asset).map(|info| info.price).map_err(Error::<T>::Price);
		let decimals_of = |asset| {
			T::Ledger::risk_weights(asset)
				.map(|weights| weights.decimals)
				.ok_or(ArithmeticError::Overflow)
		};
		let value = value_in_usd(amount, decimals_of(from)?, price_of(from)?)
			.ok_or(ArithmeticError::Overflow)?;
		let side = Side {
			asset: to,
			amount: 0,
			price: price_of(to)?,
			decimals: decimals_of(to)?,
			weight: FixedU128::one(),
		};
		Ok(crate::sizing::amount_worth_rounded_up(value, &side).ok_or(ArithmeticError::Overflow)?)
	}

	/// The checks every liquidation makes, then its plan.
	pub(crate) fn prepare(
		who: &T::AccountId,
		debt_asset: T::AssetId,
		collateral_asset: T::AssetId,
		max_repay: Balance,
	) -> Result<(EngineParams, HealthReport, Plan<T::AssetId>), DispatchError> {
		let params = Self::params()?;
		ensure!(!Paused::<T>::get(), Error::<T>::EnginePaused);
		ensure!(
			!Self::is_paused(debt_asset) && !Self::is_paused(collateral_asset),
			Error::<T>::AssetPaused
		);
		// Collateral at auction is judged as sold: only the rest of the account is liquidated.
		let report = Self::effective_report(who)?;
		ensure!(report.is_liquidatable(), Error::<T>::NotLiquidatable);
		let debt = Self::side(who, debt_asset, true)?;
		let collateral = Self::side(who, collateral_asset, false)?;
		let plan = plan(&report, debt, collateral, &params, max_repay)
			.ok_or(Error::<T>::NothingToLiquidate)?;
		Ok((params, report, plan))
	}

	/// [`Self::prepare`], the plan cut to what this block's caps have left (over all assets, and
	/// the debt asset's): an account whose liquidation is worth more than a block's cap is
	/// liquidated in slices, one a block, rather than refused until a block could take it whole
	/// (which no block ever could). Refused (`BlockCapReached`, `AssetCapReached`) when the caps
	/// have no room left.
	pub(crate) fn prepare_within_caps(
		who: &T::AccountId,
		debt_asset: T::AssetId,
		collateral_asset: T::AssetId,
		max_repay: Balance,
	) -> Result<(EngineParams, HealthReport, Plan<T::AssetId>), DispatchError> {
		let (params, report, plan) = Self::prepare(who, debt_asset, collateral_asset, max_repay)?;
		let (room, cap_error) = Self::cap_room(&params, debt_asset);
		if plan.repay_value <= room {
			return Ok((params, report, plan));
		}
		// No dust slices: each costs a transaction (and for the worker an auction slot of the
		// account's) for next to nothing; the next block's caps take a real one.
		ensure!(!room.is_zero() && room >= params.dust_value, cap_error);
		// Rounded down, so the slice's value stays within the room.
		let debt = Self::side(who, debt_asset, true)?;
		let fitted = amount_worth(room, &debt).unwrap_or(0).min(max_repay);
		ensure!(!fitted.is_zero(), cap_error);
		let (params, report, plan) = Self::prepare(who, debt_asset, collateral_asset, fitted)
			.map_err(|error| {
				if error == Error::<T>::NothingToLiquidate.into() {
					cap_error
				} else {
					error
				}
			})?;
		ensure!(plan.repay_value <= room, cap_error);
		Ok((params, report, plan))
	}

	/// What this block's caps have left for liquidations of `asset` (the smaller of the room
	/// under the cap over all assets and under the asset's own), with the error naming the cap
	/// that binds.
	pub(crate) fn cap_room(params: &EngineParams, asset: T::AssetId) -> (UsdValue, DispatchError) {
		let room = params.max_value_per_block.saturating_sub(Self::block_used());
		match AssetLimitsOf::<T>::get(asset) {
			Some(limits) => {
				let asset_room = limits.max_value_per_block.saturating_sub(Self::asset_used(asset));
				if asset_room < room {
					(asset_room, Error::<T>::AssetCapReached.into())
				} else {
					(room, Error::<T>::BlockCapReached.into())
				}
			},
			None => (room, Error::<T>::BlockCapReached.into()),
		}
	}

	/// The value liquidated in this block so far, over all assets.
	pub(crate) fn block_used() -> UsdValue {
		let (block, used) = BlockUsage::<T>::get();
		if block == frame_system::Pallet::<T>::block_number() {
			used
		} else {
			UsdValue::zero()
		}
	}

	/// The value liquidated in this block so far in `asset`.
	pub(crate) fn asset_used(asset: T::AssetId) -> UsdValue {
		let (block, used) = AssetBlockUsage::<T>::get(asset);
		if block == frame_system::Pallet::<T>::block_number() {
			used
		} else {
			UsdValue::zero()
		}
	}

	/// Counts `value` against this block's caps, refusing what would exceed one.
	pub(crate) fn consume_caps(
		params: &EngineParams,
		debt_asset: T::AssetId,
		value: UsdValue,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let used = Self::block_used().saturating_add(value);
		ensure!(used <= params.max_value_per_block, Error::<T>::BlockCapReached);
		if let Some(limits) = AssetLimitsOf::<T>::get(debt_asset) {
			let asset_used = Self::asset_used(debt_asset).saturating_add(value);
			ensure!(asset_used <= limits.max_value_per_block, Error::<T>::AssetCapReached);
			AssetBlockUsage::<T>::insert(debt_asset, (now, asset_used));
		}
		BlockUsage::<T>::put((now, used));
		Ok(())
	}

	fn record(
		plan: &Plan<T::AssetId>,
		repaid: Balance,
		to_insurance_of: Option<(T::AssetId, Balance)>,
	) {
		Totals::<T>::mutate(plan.debt_asset, |totals| {
			totals.liquidations = totals.liquidations.saturating_add(1);
			totals.repaid = totals.repaid.saturating_add(repaid);
		});
		Totals::<T>::mutate(plan.collateral_asset, |totals| {
			totals.seized = totals.seized.saturating_add(plan.seize)
		});
		if let Some((asset, amount)) = to_insurance_of {
			Totals::<T>::mutate(asset, |totals| {
				totals.penalty_to_insurance = totals.penalty_to_insurance.saturating_add(amount)
			});
		}
	}

	/// The no-harm rule (see the crate docs): a liquidation that closes out no position (it
	/// leaves both the debt it repaid and the collateral it seized) never raises the account's
	/// maintenance shortfall, and never lowers its health factor while the account is shallow
	/// enough for one to raise it (`h l > (1 + b) w`). The sizing keeps the rule; this is its
	/// guard.
	pub(crate) fn ensure_no_harm(
		who: &T::AccountId,
		before: &HealthReport,
		plan: &Plan<T::AssetId>,
		params: &EngineParams,
	) -> DispatchResult {
		if plan.full || plan.takes_all_collateral {
			return Ok(());
		}
		let after = Self::effective_report(who)?;
		ensure!(
			after.maintenance_shortfall() <= before.maintenance_shortfall(),
			Error::<T>::WouldWorsenHealth
		);
		let (Some(debt), Some(collateral)) = (
			T::Ledger::risk_weights(plan.debt_asset),
			T::Ledger::risk_weights(plan.collateral_asset),
		) else {
			return Ok(());
		};
		let one_plus_penalty = FixedU128::one().saturating_add(params.liquidation_penalty.into());
		let seized_weight =
			one_plus_penalty.saturating_mul(collateral.maintenance_collateral_weight.into());
		let shallow = before.health_factor().is_some_and(|factor| {
			factor.saturating_mul(debt.maintenance_liability_weight) > seized_weight
		});
		let factor_after = after.health_factor();
		ensure!(
			!shallow || factor_after.is_none() || factor_after >= before.health_factor(),
			Error::<T>::WouldWorsenHealth
		);
		Ok(())
	}

	/// Runs the waterfall if `who` is left bankrupt with debt outside its auctions and nothing
	/// it holds is paused; returns how many positions it settled.
	pub(crate) fn waterfall_if_bankrupt(who: &T::AccountId) -> Result<u32, DispatchError> {
		let (bankrupt, _) = Self::is_bankrupt(who);
		if !bankrupt || Self::waterfall_paused(who) || !Self::debt_outside_auctions(who) {
			return Ok(0);
		}
		Self::do_settle_bankrupt(who)
	}

	/// Whether a liquidation can act on `who` beyond its running auctions: it has none; or,
	/// bankrupt, it owes debt they are not raising (the waterfall's); or, not bankrupt, it holds
	/// collateral outside them. Otherwise what is left to do is its auctions' (a bankrupt
	/// account whose debt is all at auction waits for their end, when the waterfall takes what
	/// they did not raise).
	pub fn actionable(who: &T::AccountId) -> bool {
		// Its positions come first, whatever its auctions.
		if !T::Derivatives::positions_at_risk(who).is_empty() {
			return true;
		}
		if !T::Ledger::positions_of(who).iter().any(|(_, _, debt)| !debt.is_zero()) {
			return false;
		}
		if !Self::in_auction(who) {
			return true;
		}
		if Self::is_bankrupt(who).0 {
			return Self::debt_outside_auctions(who);
		}
		T::Ledger::positions_of(who).iter().any(|(_, deposit, _)| !deposit.is_zero())
	}

	/// Whether `who` owes something no running auction of his is raising.
	fn debt_outside_auctions(who: &T::AccountId) -> bool {
		T::Ledger::positions_of(who)
			.iter()
			.any(|(asset, _, owed)| !owed.is_zero() && !Self::at_auction(who, *asset))
	}

	/// Returns the number of positions the waterfall settled afterwards (zero if none).
	#[frame_support::transactional]
	pub(crate) fn do_liquidate_keeper(
		liquidator: T::AccountId,
		who: T::AccountId,
		debt_asset: T::AssetId,
		collateral_asset: T::AssetId,
		max_repay: Balance,
	) -> Result<u32, DispatchError> {
		let (params, report, plan) =
			Self::prepare_within_caps(&who, debt_asset, collateral_asset, max_repay)?;
		Self::consume_caps(&params, debt_asset, plan.repay_value)?;
		let engine = Self::engine_account();
		let repaid = T::Ledger::repay_debt(&liquidator, &who, debt_asset, plan.repay)?;
		let as_deposit = plan.seize > T::Ledger::cash(collateral_asset);
		let (insurance_asset, to_insurance) = if as_deposit {
			// The pool has lent out the tokens: the keeper gets the deposit position itself,
			// and pays the insurance share of the penalty in the debt asset (its value at the
			// oracle, rounded up), so the fund still receives liquid income.
			T::Ledger::transfer_deposit(&who, collateral_asset, plan.seize, &liquidator)?;
			let to_insurance = Self::convert(collateral_asset, debt_asset, plan.to_insurance)?;
			T::Income::deposit_income(debt_asset, &liquidator, to_insurance)?;
			(debt_asset, to_insurance)
		} else {
			T::Ledger::seize_collateral(&who, collateral_asset, plan.seize, &engine)?;
			let to_liquidator = plan.seize.saturating_sub(plan.to_insurance);
			T::Assets::transfer(
				collateral_asset,
				&engine,
				&liquidator,
				to_liquidator,
				Preservation::Expendable,
			)?;
			T::Income::deposit_income(collateral_asset, &engine, plan.to_insurance)?;
			(collateral_asset, plan.to_insurance)
		};
		Self::ensure_no_harm(&who, &report, &plan, &params)?;
		Self::record(&plan, repaid, Some((insurance_asset, to_insurance)));
		Self::deposit_event(Event::Liquidated {
			who: who.clone(),
			path: LiquidationPath::Keeper,
			liquidator: Some(liquidator),
			debt_asset,
			repaid,
			collateral_asset,
			seized: plan.seize,
			to_insurance,
			reward: plan.reward,
			as_deposit,
		});
		Self::waterfall_if_bankrupt(&who)
	}

	/// Returns the number of positions the waterfall settled afterwards (zero if none).
	#[frame_support::transactional]
	pub(crate) fn do_flash_liquidate(
		caller: T::AccountId,
		who: T::AccountId,
		debt_asset: T::AssetId,
		collateral_asset: T::AssetId,
		max_repay: Balance,
	) -> Result<u32, DispatchError> {
		let (params, report, mut plan) =
			Self::prepare_within_caps(&who, debt_asset, collateral_asset, max_repay)?;
		let cash = T::Ledger::cash(collateral_asset);
		if plan.seize > cash {
			// A sale needs tokens and the pool has lent most of them out: the slice the cash
			// pays for (the rest is a keeper's, as a deposit position, or an auction's).
			let smaller = flash_repay_within_cash(plan.repay, plan.seize, cash)
				.ok_or(Error::<T>::CollateralIlliquid)?;
			plan = Self::prepare(&who, debt_asset, collateral_asset, smaller)?.2;
			ensure!(plan.seize <= cash, Error::<T>::CollateralIlliquid);
		}
		Self::consume_caps(&params, debt_asset, plan.repay_value)?;
		let engine = Self::engine_account();
		T::Ledger::seize_collateral(&who, collateral_asset, plan.seize, &engine)?;
		// What the seized collateral is worth in the debt asset at the oracle, less the bound.
		let debt_side = Self::side(&who, debt_asset, true)?;
		let collateral_price =
			T::Prices::price(&collateral_asset).map_err(Error::<T>::Price)?.price;
		let collateral_decimals =
			T::Ledger::risk_weights(collateral_asset).ok_or(Error::<T>::NoCollateral)?.decimals;
		let seized_value = value_in_usd(plan.seize, collateral_decimals, collateral_price)
			.ok_or(ArithmeticError::Overflow)?;
		let oracle_out = amount_worth(seized_value, &debt_side).ok_or(ArithmeticError::Overflow)?;
		let min_out = params.max_slippage.left_from_one().mul_ceil(oracle_out);
		let out = T::Swap::sell(&engine, collateral_asset, debt_asset, plan.seize, min_out)
			.map_err(|_| Error::<T>::SaleFailed)?;
		ensure!(out >= plan.repay, Error::<T>::SaleShortOfDebt);
		let repaid = T::Ledger::repay_debt(&engine, &who, debt_asset, plan.repay)?;
		let surplus = out.saturating_sub(repaid);
		// Insurance's share as the plan has it (none from an insolvent account).
		let to_insurance = plan.insurance_share.mul_floor(surplus);
		let reward = surplus.saturating_sub(to_insurance);
		T::Assets::transfer(debt_asset, &engine, &caller, reward, Preservation::Expendable)?;
		T::Income::deposit_income(debt_asset, &engine, to_insurance)?;
		Self::ensure_no_harm(&who, &report, &plan, &params)?;
		Self::record(&plan, repaid, Some((debt_asset, to_insurance)));
		Self::deposit_event(Event::Liquidated {
			who: who.clone(),
			path: LiquidationPath::Flash,
			liquidator: Some(caller),
			debt_asset,
			repaid,
			collateral_asset,
			seized: plan.seize,
			to_insurance,
			reward,
			as_deposit: false,
		});
		Self::waterfall_if_bankrupt(&who)
	}

	/// The largest debt and the largest collateral of `who` by value, among assets not paused.
	pub(crate) fn largest_positions(who: &T::AccountId) -> Option<(T::AssetId, T::AssetId)> {
		let mut debt: Option<(T::AssetId, UsdValue)> = None;
		let mut collateral: Option<(T::AssetId, UsdValue)> = None;
		for (asset, deposit, owed) in T::Ledger::positions_of(who) {
			if Self::is_paused(asset) {
				continue;
			}
			let Ok(info) = T::Prices::price(&asset) else { continue };
			let Some(weights) = T::Ledger::risk_weights(asset) else { continue };
			let amount = deposit.max(owed);
			let value = value_in_usd(amount, weights.decimals, info.price).unwrap_or_default();
			let slot = if owed.is_zero() { &mut collateral } else { &mut debt };
			if slot.is_none_or(|(_, best)| value > best) {
				*slot = Some((asset, value));
			}
		}
		Some((debt?.0, collateral?.0))
	}

	/// What the worker (and the fallback) does to a liquidatable account: see
	/// [`Pallet::liquidate_unsigned`].
	#[frame_support::transactional]
	pub(crate) fn do_liquidate_unsigned(
		who: T::AccountId,
	) -> Result<UnsignedOutcome<T::AssetId>, DispatchError> {
		ensure!(!Paused::<T>::get(), Error::<T>::EnginePaused);
		// Positions first (see `positions`), the vault the backstop: the largest requirement
		// first, passing over one whose close-out fails (its market paused, the vault unable to
		// pay its profit) to the next (at most `POSITIONS_TRIED`), then to the spot debt.
		let mut failed = None;
		let mut close_outs = 0u32;
		let tried = T::Derivatives::positions_at_risk(&who)
			.into_iter()
			.take(crate::positions::POSITIONS_TRIED as usize);
		for position in tried {
			let all = FixedU128::from_inner(u128::MAX);
			match Self::do_close_position(&who, Some(position.underlying), None, all) {
				Ok((done, debts)) => {
					let close_outs = close_outs.saturating_add(done.runs);
					return Ok(UnsignedOutcome::PositionClosed { close_outs, debts });
				},
				// The block's caps stop this close-out; the positions go first, so nothing else
				// of the account is liquidated in this block either.
				Err(error) if Self::is_cap_error(&error) => return Err(error),
				Err(error) => {
					close_outs = close_outs.saturating_add(2);
					failed = Some(error);
				},
			}
		}
		if let Some(error) = failed {
			if !T::Ledger::positions_of(&who).iter().any(|(_, _, debt)| !debt.is_zero()) {
				return Err(error);
			}
		}
		let (bankrupt, _) = Self::is_bankrupt(&who);
		if bankrupt {
			return Self::do_settle_bankrupt(&who).map(UnsignedOutcome::Settled);
		}
		let (debt_asset, collateral_asset) =
			Self::largest_positions(&who).ok_or(Error::<T>::NothingToLiquidate)?;
		let (params, _, plan) =
			Self::prepare_within_caps(&who, debt_asset, collateral_asset, Balance::MAX)?;
		Self::consume_caps(&params, debt_asset, plan.repay_value)?;

		// To raise: the debt repaid plus the penalty (at the plan's rate), in the debt asset.
		let debt_side = Self::side(&who, debt_asset, true)?;
		let one_plus_penalty = FixedU128::one().saturating_add(plan.penalty_rate.into());
		let to_raise = amount_worth(plan.repay_value.saturating_mul(one_plus_penalty), &debt_side)
			.ok_or(ArithmeticError::Overflow)?
			.max(plan.repay);
		let deposit = T::Ledger::deposit_of(&who, collateral_asset);
		let mut lot = plan.seize.saturating_mul(AUCTION_LOT_COVER).min(deposit);
		let custody = T::Auctions::custody_account();
		let in_tokens = lot <= T::Ledger::cash(collateral_asset);
		let whole_deposit = lot >= deposit;
		if lot > T::Ledger::cash(collateral_asset) {
			// The pool has lent out the tokens: the lot is the deposit position itself, which
			// the auction hands to its buyers (tokens first, as the pool's cash returns). The
			// lot is what the custody's claim grew by (index units round down).
			let held = T::Ledger::deposit_of(&custody, collateral_asset);
			T::Ledger::transfer_deposit(&who, collateral_asset, lot, &custody)?;
			lot = T::Ledger::deposit_of(&custody, collateral_asset).saturating_sub(held);
		} else {
			T::Ledger::seize_collateral(&who, collateral_asset, lot, &custody)?;
		}
		let auction = T::Auctions::start(&who, collateral_asset, lot, debt_asset, to_raise)?;
		OwnerAuctions::<T>::try_mutate(&who, |ids| ids.try_push(auction))
			.map_err(|_| Error::<T>::TooManyAuctions)?;
		AuctionDue::<T>::insert(
			auction,
			AuctionDues {
				debt: plan.repay,
				penalty: to_raise.saturating_sub(plan.repay),
				..Default::default()
			},
		);
		Totals::<T>::mutate(debt_asset, |totals| {
			totals.liquidations = totals.liquidations.saturating_add(1)
		});
		Totals::<T>::mutate(collateral_asset, |totals| {
			totals.seized = totals.seized.saturating_add(lot)
		});
		Self::deposit_event(Event::AuctionStarted {
			who,
			auction,
			collateral_asset,
			lot,
			debt_asset,
			to_raise,
		});
		Ok(UnsignedOutcome::Auctioned { debt_asset, collateral_asset, in_tokens, whole_deposit })
	}

	/// The waterfall for a bankrupt account: dust collateral forfeited to its pool, then every
	/// debt that no running auction of its owner is raising written off, covered by insurance as
	/// far as it can, the rest socialized (debt at auction waits for the auction's end). Refused
	/// while the engine or an asset the account holds is paused. Returns the number of
	/// positions settled.
	#[frame_support::transactional]
	pub(crate) fn do_settle_bankrupt(who: &T::AccountId) -> Result<u32, DispatchError> {
		ensure!(!Paused::<T>::get(), Error::<T>::EnginePaused);
		let positions = T::Ledger::positions_of(who);
		ensure!(positions.iter().any(|(_, _, debt)| !debt.is_zero()), Error::<T>::NoDebt);
		ensure!(
			!positions.iter().any(|(asset, _, _)| Self::is_paused(*asset)),
			Error::<T>::AssetPaused
		);
		let (bankrupt, count) = Self::is_bankrupt(who);
		ensure!(bankrupt, Error::<T>::NotBankrupt);
		ensure!(Self::debt_outside_auctions(who), Error::<T>::InAuction);
		// Collateral too small to liquidate (or even to send) stays with its pool.
		for (asset, deposit, _) in positions.iter() {
			if !deposit.is_zero() {
				let forfeited = T::Ledger::forfeit_collateral(who, *asset)?;
				Totals::<T>::mutate(asset, |totals| {
					totals.seized = totals.seized.saturating_add(forfeited)
				});
			}
		}
		for (asset, _, owed) in positions {
			if owed.is_zero() || Self::at_auction(who, asset) {
				continue;
			}
			let bad_debt = T::Ledger::write_off(who, asset)?;
			Totals::<T>::mutate(asset, |totals| {
				totals.written_off = totals.written_off.saturating_add(bad_debt);
			});
			// The other funds' purchases wait for the start of the next block (no transaction
			// can wrap a DEX purchase it triggered).
			let step = Self::run_waterfall(asset, false)?;
			Self::deposit_event(Event::BadDebtSettled {
				who: who.clone(),
				asset,
				bad_debt,
				covered: step.covered,
				socialized: step.socialized,
				queued: step.queued,
			});
		}
		Ok(count)
	}

	/// The shortfall of an account the worker may liquidate, or why not (an
	/// `InvalidTransaction::Custom` code, see [`crate::invalid`]): what `ValidateUnsigned`
	/// checks, public so that tools can model the worker.
	///
	/// Beyond the cheap checks it runs the liquidation itself and undoes it: whatever would make
	/// dispatch fail (the collateral pool, the sizing, debt all at auction) refuses the
	/// transaction here (`WOULD_FAIL`), so no failing unsigned liquidation enters a block; the
	/// block's caps full (less room than the engine's dust) refuse it with `CAPS_FULL`, which
	/// keeps it in the pool for the next block (see [`crate::invalid::to_invalid`]).
	pub fn check_unsigned(who: &T::AccountId) -> Result<UsdValue, u8> {
		Self::check_unsigned_then(who, false)
	}

	/// [`Self::check_unsigned`], keeping the liquidation's effects when it succeeds: what the
	/// worker plans a block with (see [`Self::planning_next_block`]), each account checked
	/// against what those before it leave (the caps' room, auction slots, the pools' cash).
	/// Public so that tools can model the worker.
	pub fn check_unsigned_kept(who: &T::AccountId) -> Result<UsdValue, u8> {
		Self::check_unsigned_then(who, true)
	}

	fn check_unsigned_then(who: &T::AccountId, keep: bool) -> Result<UsdValue, u8> {
		let shortfall = Self::check_unsigned_in_block(who)?;
		let liquidate = || Self::do_liquidate_unsigned(who.clone()).map(|_| ());
		if keep {
			Self::kept_if_ok(liquidate)?;
		} else {
			Self::dry_run(liquidate)?;
		}
		Ok(shortfall)
	}

	/// What a block checks before it dispatches the worker's liquidation of `who` (its
	/// `pre_dispatch`): [`Self::check_unsigned`] without running the liquidation. The engine
	/// runs, `who` is liquidatable, an auction can start for it (or it needs none), and this
	/// block's cap on liquidated value has at least the engine's dust left. The pool ran the
	/// liquidation when it took the transaction (and again whenever it re-validated it), so
	/// running it once more here would only double its cost to the block: what the pool's run
	/// cannot foresee is what the block's earlier transactions changed, and that is the
	/// account's health (a keeper got there first), the auction slots and the caps, all checked
	/// here. A liquidation that still fails in dispatch (a pool's cash taken by an earlier
	/// transaction of the block) is included as failed and charged its declared weight.
	pub fn check_unsigned_in_block(who: &T::AccountId) -> Result<UsdValue, u8> {
		let params = Params::<T>::get().ok_or(invalid::PAUSED)?;
		if Paused::<T>::get() {
			return Err(invalid::PAUSED);
		}
		let report = Self::effective_report(who).map_err(|_| invalid::NOT_LIQUIDATABLE)?;
		if !report.is_liquidatable() {
			return Err(invalid::NOT_LIQUIDATABLE);
		}
		// A close-out and an auction count the value they liquidate against the block's cap (an
		// auction also against its debt asset's own) and take no slice below the dust (see
		// `prepare_within_caps`); the waterfall of a bankrupt account takes neither a cap nor an
		// auction slot.
		if !T::Derivatives::positions_at_risk(who).is_empty() {
			if !Self::block_cap_has_room(&params) {
				return Err(invalid::CAPS_FULL);
			}
		} else {
			let caps_room = match Self::largest_positions(who) {
				Some((debt_asset, _)) => {
					let (room, _) = Self::cap_room(&params, debt_asset);
					!room.is_zero() && room >= params.dust_value
				},
				None => Self::block_cap_has_room(&params),
			};
			let auction = Self::auction_can_start(who, T::Auctions::has_capacity());
			if !(auction && caps_room) && !Self::is_bankrupt(who).0 {
				return Err(if auction { invalid::CAPS_FULL } else { invalid::AUCTIONS_FULL });
			}
		}
		Ok(report.maintenance_shortfall())
	}

	/// `plan` run on this block's state as the next block's caps would see it, and undone: in a
	/// storage transaction rolled back afterwards, with this block's use of the caps on
	/// liquidated value cleared (the next block's start empty; validation in the pool sees them
	/// so too, as it runs at the next block's number; the plan itself still runs at this
	/// block's number, for interest and auction start blocks). The worker plans its
	/// submissions in it with [`Self::check_unsigned_kept`], so that it submits no more than
	/// the next block's caps take (keepers' calls, which go first, are not counted: it cannot
	/// know them). Public so that tools can model the worker.
	pub fn planning_next_block<R>(plan: impl FnOnce() -> R) -> Option<R> {
		frame_support::storage::with_transaction(|| {
			BlockUsage::<T>::kill();
			// One entry per asset ever liquidated: bounded by the listed assets.
			let _ = AssetBlockUsage::<T>::clear(u32::MAX, None);
			frame_support::storage::TransactionOutcome::Rollback(Ok::<_, DispatchError>(plan()))
		})
		.ok()
	}

	/// Runs `action` and undoes it: what validation does with an unsigned call. The pool's code
	/// when it fails: `CAPS_FULL` for this block's caps (the next block takes it), else
	/// `WOULD_FAIL`.
	pub(crate) fn dry_run(action: impl FnOnce() -> DispatchResult) -> Result<(), u8> {
		Self::run_then(action, false)
	}

	/// Runs `action`, keeping what it did when it succeeds and undoing it when it fails (codes
	/// as [`Self::dry_run`]'s).
	fn kept_if_ok(action: impl FnOnce() -> DispatchResult) -> Result<(), u8> {
		Self::run_then(action, true)
	}

	/// Runs `action` in a storage layer, kept when it succeeds and `keep`, else undone; the
	/// pool's code when it fails: `CAPS_FULL` for this block's caps, else `WOULD_FAIL`.
	fn run_then(action: impl FnOnce() -> DispatchResult, keep: bool) -> Result<(), u8> {
		use frame_support::storage::{with_transaction, TransactionOutcome};
		with_transaction(|| {
			let outcome = action();
			if keep && outcome.is_ok() {
				TransactionOutcome::Commit(Ok::<_, DispatchError>(outcome))
			} else {
				TransactionOutcome::Rollback(Ok::<_, DispatchError>(outcome))
			}
		})
		.map_err(|_| invalid::WOULD_FAIL)?
		.map_err(|error| {
			if Self::is_cap_error(&error) {
				invalid::CAPS_FULL
			} else {
				invalid::WOULD_FAIL
			}
		})
	}

	/// Whether `error` is a refusal by this block's caps (the next block's may take the call).
	pub(crate) fn is_cap_error(error: &DispatchError) -> bool {
		*error == Error::<T>::BlockCapReached.into() || *error == Error::<T>::AssetCapReached.into()
	}

	/// Whether an unsigned (or fallback) liquidation of a liquidatable `who` can succeed as far
	/// as auctions go: one can start (`auction_room`), or `who` is bankrupt and goes down the
	/// waterfall, which needs none. When every slot is taken, this keeps the worker's bounded
	/// submissions (and the fallback's) for what can act instead of spending them on failures.
	pub(crate) fn unsigned_can_act(who: &T::AccountId, auction_room: bool) -> bool {
		Self::auction_can_start(who, auction_room)
			|| !T::Derivatives::positions_at_risk(who).is_empty()
			|| Self::is_bankrupt(who).0
	}

	/// Whether an auction of `who`'s collateral can start: a slot in the engine's
	/// (`auction_room`) and one in the account's own list (a large account liquidated in
	/// slices, one a block under the caps, can fill its list).
	fn auction_can_start(who: &T::AccountId, auction_room: bool) -> bool {
		auction_room
			&& OwnerAuctions::<T>::decode_len(who).unwrap_or(0)
				< T::MaxAuctionsPerAccount::get() as usize
	}

	/// Whether the engine is configured and not paused.
	pub(crate) fn engine_running() -> bool {
		Params::<T>::get().is_some() && !Paused::<T>::get()
	}

	/// Liquidatable accounts among up to `limit` indebted ones after `start_after`, worst
	/// shortfall first, and where to continue (`None`: the end was reached). A full scan: it
	/// reads every indebted account (the runtime API's complete answer; detection uses
	/// [`Self::liquidatable_accounts_at_risk`]).
	pub fn liquidatable_accounts(
		start_after: Option<T::AccountId>,
		limit: u32,
	) -> (Vec<(T::AccountId, UsdValue)>, Option<T::AccountId>) {
		let batch = T::Ledger::indebted_accounts(start_after.as_ref(), limit);
		let next = if (batch.len() as u32) < limit { None } else { batch.last().cloned() };
		(Self::keep_liquidatable(batch), next)
	}

	/// Liquidatable accounts among those the ledger's risk index returns from up to `limit`
	/// entries after `start_after`, worst shortfall first, and where to continue (`None`: the walk is
	/// complete). Finds what [`Self::liquidatable_accounts`] finds, reading only the accounts
	/// the price moves could have pushed under.
	pub fn liquidatable_accounts_at_risk(
		start_after: Option<&CursorOf<T>>,
		limit: u32,
	) -> (Vec<(T::AccountId, UsdValue)>, Option<CursorOf<T>>) {
		let (batch, next) = T::Ledger::accounts_at_risk(start_after, limit);
		(Self::keep_liquidatable(batch), next)
	}

	/// What the worker and the fallback act on: among the accounts at risk from up to `limit`
	/// index entries after `start_after`, those liquidatable by their effective health (collateral at auction
	/// judged as sold) that a liquidation can act on, worst shortfall first; and where to
	/// continue.
	pub fn due_accounts(
		start_after: Option<&CursorOf<T>>,
		limit: u32,
	) -> (Vec<(T::AccountId, UsdValue)>, Option<CursorOf<T>>) {
		let (batch, next) = T::Ledger::accounts_at_risk(start_after, limit);
		(Self::keep_due(batch), next)
	}

	/// The accounts of `batch` a liquidation can act on now, worst first: liquidatable by their
	/// effective health, and holding collateral outside their auctions (else bankrupt with debt
	/// outside them). An account whose only collateral and debt are at auction waits for it.
	fn keep_due(batch: Vec<T::AccountId>) -> Vec<(T::AccountId, UsdValue)> {
		let mut found: Vec<(T::AccountId, UsdValue)> = batch
			.into_iter()
			.filter_map(|who| {
				let report = Self::effective_report(&who).ok()?;
				(report.is_liquidatable() && Self::actionable(&who))
					.then(|| (who, report.maintenance_shortfall()))
			})
			.collect();
		found.sort_by(|a, b| b.1.cmp(&a.1));
		found
	}

	/// The liquidatable accounts of `batch` with their shortfall, worst first.
	fn keep_liquidatable(batch: Vec<T::AccountId>) -> Vec<(T::AccountId, UsdValue)> {
		let mut found: Vec<(T::AccountId, UsdValue)> = batch
			.into_iter()
			.filter_map(|who| {
				let report = Self::effective_report(&who).ok()?;
				report.is_liquidatable().then(|| (who, report.maintenance_shortfall()))
			})
			.collect();
		found.sort_by(|a, b| b.1.cmp(&a.1));
		found
	}

	/// The `on_idle` fallback (see the hook's docs). Returns the weight used.
	pub(crate) fn idle_fallback(now: BlockNumberFor<T>, remaining: Weight) -> Weight {
		let db = T::DbWeight::get();
		let mut used = db.reads(4);
		if remaining.any_lt(used) {
			return Weight::zero();
		}
		if Params::<T>::get().is_none() || Paused::<T>::get() {
			return db.reads(2);
		}
		// A worker liquidation within the grace period: nothing here could act, so nothing is
		// read (during a crash the worker is busy and this saves the block a second walk).
		let last_worker = LastWorkerLiquidation::<T>::get();
		if now.saturating_sub(last_worker) < T::WorkerGraceBlocks::get() && !last_worker.is_zero() {
			return db.reads(3);
		}
		let per_check = T::WeightInfo::check_account();
		// Every index entry read (an account filed in several moved assets' lists is read once
		// per list): a key read besides the check of each account returned.
		let per_entry = db.reads(1);
		let per_liquidation = Self::unsigned_weight();
		// Room for at least one liquidation after the checks.
		let checks = remaining
			.saturating_sub(used)
			.saturating_sub(per_liquidation)
			.checked_div_per_component(&per_check.saturating_add(per_entry))
			.unwrap_or(0)
			.min(T::ScanBatch::get().into()) as u32;
		if checks == 0 {
			return used;
		}
		let cursor = IdleCursor::<T>::get();
		let whole_walk = cursor.is_none();
		let (batch, next) = T::Ledger::accounts_at_risk(cursor.as_ref(), checks);
		// Each account returned is checked; every entry read (at most `checks`) is charged too.
		used = used
			.saturating_add(per_check.saturating_mul(batch.len().max(1) as u64))
			.saturating_add(per_entry.saturating_mul(checks.into()))
			.saturating_add(db.writes(2));
		match &next {
			Some(next) => IdleCursor::<T>::put(next),
			None => IdleCursor::<T>::kill(),
		}
		let checked = batch.len() as u32;
		let found = Self::keep_due(batch);
		if found.is_empty() {
			if whole_walk && next.is_none() {
				UnhandledSince::<T>::kill();
			}
			return used;
		}
		let since = match UnhandledSince::<T>::get() {
			Some(since) => since,
			None => {
				UnhandledSince::<T>::put(now);
				now
			},
		};
		let waited = now.saturating_sub(since.max(LastWorkerLiquidation::<T>::get()));
		if waited < T::WorkerGraceBlocks::get() {
			return used;
		}
		let mut liquidated = 0u32;
		for (who, _) in found {
			if liquidated >= T::MaxUnsignedPerBlock::get()
				|| remaining.any_lt(used.saturating_add(per_liquidation))
			{
				break;
			}
			// Every auction slot taken: only bankrupt accounts (the waterfall) can be acted on;
			// telling them apart costs about one more health check.
			let auction_room = T::Auctions::has_capacity();
			if !auction_room {
				used = used.saturating_add(per_check);
				if !Self::unsigned_can_act(&who, auction_room) {
					continue;
				}
			}
			// As the unsigned call would: all of it or nothing.
			let result = frame_support::storage::with_storage_layer(|| {
				Self::do_liquidate_unsigned(who.clone())
			});
			used = used.saturating_add(per_liquidation);
			match result {
				Ok(_) => liquidated = liquidated.saturating_add(1),
				// The block's cap stops every later one too; any other failure is this
				// account's own (its asset's cap, its pool, its sizing): pass over it.
				Err(error) if error == Error::<T>::BlockCapReached.into() => break,
				Err(_) => continue,
			}
		}
		if liquidated > 0 {
			Self::deposit_event(Event::FallbackLiquidations { waited, checked, liquidated });
		}
		used
	}

	/// What a keeper liquidation of `who` repaying `debt_asset` against `collateral_asset` would
	/// do now (or, without assets named, the worker's choice of the largest positions), before
	/// the block's caps: dispatch cuts a liquidation worth more than the caps have left to what
	/// they have left.
	pub fn preview(
		who: &T::AccountId,
		assets: Option<(T::AssetId, T::AssetId)>,
	) -> Result<Plan<T::AssetId>, DispatchError> {
		let (debt_asset, collateral_asset) = match assets {
			Some(assets) => assets,
			None => Self::largest_positions(who).ok_or(Error::<T>::NothingToLiquidate)?,
		};
		Self::prepare(who, debt_asset, collateral_asset, Balance::MAX).map(|(_, _, plan)| plan)
	}

	/// The weight of a liquidation that may have ended in the waterfall.
	pub(crate) fn with_waterfall(base: Weight, bankrupt_debts: u32) -> Weight {
		if bankrupt_debts == 0 {
			base
		} else {
			base.saturating_add(T::WeightInfo::settle_bankrupt(bankrupt_debts))
		}
	}

	pub(crate) fn do_set_params(params: EngineParams) -> DispatchResult {
		ensure!(
			params.liquidation_penalty <= Permill::from_percent(50),
			Error::<T>::PenaltyTooHigh
		);
		ensure!(!params.close_factor.is_zero(), Error::<T>::CloseFactorZero);
		ensure!(
			params.target_health_factor > FixedU128::one()
				&& params.target_health_factor <= FixedU128::saturating_from_integer(3),
			Error::<T>::TargetHealthOutOfRange
		);
		ensure!(
			!params.full_liquidation_health_factor.is_zero()
				&& params.full_liquidation_health_factor < FixedU128::one(),
			Error::<T>::FullLiquidationThresholdOutOfRange
		);
		ensure!(params.max_slippage <= Permill::from_percent(50), Error::<T>::SlippageTooHigh);
		ensure!(!params.max_value_per_block.is_zero(), Error::<T>::CapZero);
		ensure!(
			params.dust_value <= FixedU128::saturating_from_integer(crate::MAX_DUST_VALUE_USD),
			Error::<T>::DustValueTooHigh
		);
		ensure!(
			params.socialize_after_blocks <= crate::MAX_SOCIALIZE_DELAY_BLOCKS,
			Error::<T>::SocializeDelayTooLong
		);
		// Every listed pair must gain health from a liquidation: (1 + penalty) c < l.
		if let Some(limit) = T::Ledger::penalty_limit() {
			ensure!(
				FixedU128::from(params.liquidation_penalty) < limit,
				Error::<T>::PenaltyUnsound
			);
		}
		// De-risking stays cheaper and smaller than a liquidation.
		if let Some(derisk) = crate::DeriskParamsOf::<T>::get() {
			ensure!(crate::derisk::in_range(&derisk, &params), Error::<T>::DeriskParamsInvalid);
		}
		Params::<T>::put(params);
		Self::deposit_event(Event::ParamsSet { params });
		Ok(())
	}

	pub(crate) fn do_set_asset_limits(
		asset: T::AssetId,
		limits: Option<AssetLimits>,
	) -> DispatchResult {
		match limits {
			Some(limits) => {
				ensure!(!limits.max_value_per_block.is_zero(), Error::<T>::CapZero);
				AssetLimitsOf::<T>::insert(asset, limits);
			},
			None => AssetLimitsOf::<T>::remove(asset),
		}
		Self::deposit_event(Event::AssetLimitsSet { asset, limits });
		Ok(())
	}

	/// Checks the invariants listed in the crate docs.
	/// Available natively (`std`) so that integration tests and replays can check it after
	/// every block, and in `try-runtime` builds.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		if let Some(params) = Params::<T>::get() {
			ensure!(
				params.liquidation_penalty <= Permill::from_percent(50)
					&& !params.close_factor.is_zero()
					&& params.target_health_factor > FixedU128::one(),
				"parameters out of range (1)"
			);
			let (_, used) = BlockUsage::<T>::get();
			ensure!(used <= params.max_value_per_block, "block usage above its cap (2)");
		}
		if let Some(derisk) = crate::DeriskParamsOf::<T>::get() {
			let in_range =
				Params::<T>::get().is_some_and(|params| crate::derisk::in_range(&derisk, &params));
			ensure!(in_range, "de-risking parameters out of range (1)");
		}
		for (asset, (_, used)) in AssetBlockUsage::<T>::iter() {
			if let Some(limits) = AssetLimitsOf::<T>::get(asset) {
				ensure!(used <= limits.max_value_per_block, "asset usage above its cap (2)");
			}
		}
		let mut listed = 0usize;
		for ids in OwnerAuctions::<T>::iter_values() {
			ensure!(!ids.is_empty(), "an empty auction list is stored (3)");
			for id in ids.iter() {
				ensure!(T::Auctions::is_running(*id), "an ended auction is listed (3)");
				ensure!(AuctionDue::<T>::contains_key(id), "a listed auction has no dues (4)");
			}
			listed = listed.saturating_add(ids.len());
		}
		ensure!(
			AuctionDue::<T>::iter_keys().count() == listed,
			"dues of an auction no owner lists (4)"
		);
		for (asset, totals) in Totals::<T>::iter() {
			let queued = T::Ledger::bad_debt(asset);
			ensure!(
				totals.covered.saturating_add(totals.socialized).saturating_add(queued)
					== totals.written_off,
				"written off differs from covered + socialized + queued (5)"
			);
			ensure!(
				queued.is_zero() || crate::BadDebtQueuedSince::<T>::contains_key(asset),
				"bad debt waits outside the queue (5)"
			);
		}
		let mut waiting: alloc::collections::BTreeMap<T::AssetId, UsdValue> = Default::default();
		for entry in crate::PendingShortfalls::<T>::get() {
			ensure!(!entry.left.is_zero(), "an empty shortfall waits (6)");
			let sum = waiting.entry(entry.underlying).or_default();
			*sum = sum.saturating_add(entry.left);
		}
		for (underlying, totals) in crate::PositionCloseOuts::<T>::iter() {
			ensure!(
				totals
					.covered
					.saturating_add(totals.deleveraged)
					.saturating_add(totals.to_lps)
					.saturating_add(totals.pending)
					== totals.shortfall,
				"a shortfall differs from covered + deleveraged + borne by the LPs + waiting (6)"
			);
			ensure!(
				waiting.remove(&underlying).unwrap_or_default() == totals.pending,
				"a market's waiting shortfall differs from its queue (6)"
			);
			ensure!(totals.taken_over <= totals.close_outs, "more takeovers than close-outs (6)");
		}
		ensure!(waiting.is_empty(), "a shortfall waits in a market without close-outs (6)");
		let owed = crate::PendingShortfalls::<T>::get()
			.iter()
			.fold(UsdValue::zero(), |sum, entry| sum.saturating_add(entry.left));
		ensure!(
			crate::ShortfallsOwed::<T>::get() == owed,
			"what the vault is owed differs from the waiting shortfalls (6)"
		);
		Ok(())
	}
}

/// The repayment of a flash liquidation planned to repay `repay` against `seize` of the
/// collateral when the pool holds `cash` of it to sell: `repay` when the cash covers the
/// seizure, else the part the cash pays for (rounded down, so its seizure stays within the
/// cash). `None` when that is nothing: the sale has no tokens (`CollateralIlliquid`).
pub(crate) fn flash_repay_within_cash(
	repay: Balance,
	seize: Balance,
	cash: Balance,
) -> Option<Balance> {
	if seize <= cash {
		return Some(repay);
	}
	multiply_by_rational_with_rounding(repay, cash, seize, sp_runtime::Rounding::Down)
		.filter(|smaller| !smaller.is_zero())
}
