//! The calls' inner functions and the auctions' bookkeeping.

use crate::{
	pricing::{collateral_for, floor_of, oracle_price, outside_band, payment_for},
	Auction, AuctionId, AuctionParams, AuctionPrice, AuctionReport, Auctions, Config, Error, Event,
	LotTotals, NextAuctionId, Pallet, Params, PriceCurve,
};
use frame_support::{
	ensure,
	pallet_prelude::{DispatchResult, Get},
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::Preservation,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::{
	AssetDecimals, AuctionHandler, Balance, Decimals, LotCustody, PriceProvider,
};
use sp_runtime::{
	traits::{AccountIdConversion, CheckedMul, One, Saturating, UniqueSaturatedInto, Zero},
	ArithmeticError, DispatchError, FixedPointNumber, FixedU128, Permill,
};

/// The pallet's view of one auction at the current block.
pub(crate) struct Quote {
	/// The curve's price now.
	pub price: AuctionPrice,
	/// The oracle's price now.
	pub oracle: AuctionPrice,
	/// Too old, under the floor, or outside the re-pricing band.
	pub needs_restart: bool,
}

type AuctionOf<T> =
	Auction<<T as frame_system::Config>::AccountId, <T as Config>::AssetId, BlockNumberFor<T>>;

impl<T: Config> Pallet<T> {
	/// The account that holds every lot.
	pub fn custody_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// The oracle's price of `collateral` in `debt_asset`; an error on an unusable price.
	pub(crate) fn oracle_price_of(
		collateral: T::AssetId,
		debt_asset: T::AssetId,
	) -> Result<AuctionPrice, DispatchError> {
		let collateral_usd = T::Prices::price(&collateral).map_err(Error::<T>::Price)?.price;
		let debt_usd = T::Prices::price(&debt_asset).map_err(Error::<T>::Price)?.price;
		oracle_price(collateral_usd, debt_usd).ok_or_else(|| ArithmeticError::Overflow.into())
	}

	fn decimals(asset: T::AssetId) -> Result<Decimals, DispatchError> {
		T::Decimals::decimals(asset).ok_or_else(|| Error::<T>::UnknownDecimals.into())
	}

	fn elapsed(auction: &AuctionOf<T>) -> u32 {
		let now = frame_system::Pallet::<T>::block_number();
		now.saturating_sub(auction.started_at).unique_saturated_into()
	}

	/// The auction's price and whether it is due for a restart, at current oracle prices.
	pub(crate) fn quote(
		auction: &AuctionOf<T>,
		params: &AuctionParams,
	) -> Result<Quote, DispatchError> {
		let oracle = Self::oracle_price_of(auction.collateral, auction.debt_asset)?;
		let elapsed = Self::elapsed(auction);
		let price = params.curve.price_at(auction.start_price, elapsed);
		let needs_restart = elapsed > params.max_duration_blocks
			|| price < floor_of(oracle, params.floor)
			|| outside_band(oracle, auction.oracle_at_start, params.reprice_band);
		Ok(Quote { price, oracle, needs_restart })
	}

	/// What auction `id` may still raise now: its amount to raise, capped by the handler
	/// ([`AuctionHandler::wanted`]); zero when it is no longer needed.
	pub(crate) fn wanted(id: AuctionId, auction: &AuctionOf<T>) -> Balance {
		auction.to_raise.min(T::Handler::wanted(id, &auction.owner, auction.debt_asset))
	}

	/// The curve's price of auction `id` now, without the oracle (for display).
	pub fn current_price(id: AuctionId) -> Option<AuctionPrice> {
		let auction = Auctions::<T>::get(id)?;
		let params = Params::<T>::get(auction.collateral)?;
		Some(params.curve.price_at(auction.start_price, Self::elapsed(&auction)))
	}

	/// Every running auction with its price now.
	pub fn auction_reports(
	) -> alloc::vec::Vec<AuctionReport<T::AccountId, T::AssetId, BlockNumberFor<T>>> {
		Auctions::<T>::iter().filter_map(|(id, auction)| Self::report_of(id, auction)).collect()
	}

	/// One running auction with its price now.
	pub fn auction_report(
		id: AuctionId,
	) -> Option<AuctionReport<T::AccountId, T::AssetId, BlockNumberFor<T>>> {
		Self::report_of(id, Auctions::<T>::get(id)?)
	}

	fn report_of(
		id: AuctionId,
		auction: AuctionOf<T>,
	) -> Option<AuctionReport<T::AccountId, T::AssetId, BlockNumberFor<T>>> {
		let params = Params::<T>::get(auction.collateral)?;
		let price = params.curve.price_at(auction.start_price, Self::elapsed(&auction));
		let quote = Self::quote(&auction, &params).ok();
		Some(AuctionReport {
			id,
			price,
			oracle_price: quote.as_ref().map(|q| q.oracle),
			needs_restart: quote.is_some_and(|q| q.needs_restart),
			wanted: Self::wanted(id, &auction),
			auction,
		})
	}

	/// Starts an auction (see `CollateralAuction::start`).
	pub(crate) fn do_start(
		owner: &T::AccountId,
		collateral: T::AssetId,
		lot: Balance,
		debt_asset: T::AssetId,
		to_raise: Balance,
	) -> Result<AuctionId, DispatchError> {
		ensure!(!lot.is_zero() && !to_raise.is_zero(), Error::<T>::ZeroAmount);
		let params = Params::<T>::get(collateral).ok_or(Error::<T>::NotConfigured)?;
		ensure!(Auctions::<T>::count() < T::MaxAuctions::get(), Error::<T>::TooManyAuctions);
		Self::decimals(collateral)?;
		Self::decimals(debt_asset)?;
		let custody = Self::custody_account();
		let held = T::Custody::held(collateral, &custody);
		let lots =
			LotTotals::<T>::get(collateral).checked_add(lot).ok_or(ArithmeticError::Overflow)?;
		ensure!(held >= lots, Error::<T>::LotNotInCustody);
		// The custody keeps the minimum balance beyond its lots (outgoing transfers preserve it),
		// so it is never reaped and never loses dust that lots account for.
		let minimum = T::Assets::minimum_balance(collateral);
		let spare = held.saturating_sub(lots);
		if spare < minimum {
			let endowment = minimum.saturating_sub(spare);
			T::Assets::mint_into(collateral, &custody, endowment)?;
			Self::deposit_event(Event::CustodyEndowed { asset: collateral, amount: endowment });
		}
		let oracle = Self::oracle_price_of(collateral, debt_asset)?;
		let start_price =
			oracle.checked_mul(&params.start_premium).ok_or(ArithmeticError::Overflow)?;
		let id = NextAuctionId::<T>::get();
		NextAuctionId::<T>::put(id.wrapping_add(1));
		let auction = Auction {
			owner: owner.clone(),
			collateral,
			lot,
			debt_asset,
			to_raise,
			start_price,
			oracle_at_start: oracle,
			started_at: frame_system::Pallet::<T>::block_number(),
			restarts: 0,
		};
		Auctions::<T>::insert(id, auction);
		LotTotals::<T>::insert(collateral, lots);
		Self::deposit_event(Event::Started {
			id,
			owner: owner.clone(),
			collateral,
			lot,
			debt_asset,
			to_raise,
			start_price,
		});
		Ok(id)
	}

	/// Returns whether the auction ended.
	pub(crate) fn do_take(
		buyer: T::AccountId,
		id: AuctionId,
		max_collateral: Balance,
		max_price: AuctionPrice,
	) -> Result<bool, DispatchError> {
		let mut auction = Auctions::<T>::get(id).ok_or(Error::<T>::UnknownAuction)?;
		let params = Params::<T>::get(auction.collateral).ok_or(Error::<T>::NotConfigured)?;
		let quote = Self::quote(&auction, &params)?;
		ensure!(!quote.needs_restart, Error::<T>::NeedsRestart);
		// Never more than the owner still needs: what he repaid meanwhile is not raised again.
		auction.to_raise = Self::wanted(id, &auction);
		ensure!(!auction.to_raise.is_zero(), Error::<T>::NotNeeded);
		let price = quote.price;
		ensure!(price <= max_price, Error::<T>::PriceAboveLimit);
		let collateral_decimals = Self::decimals(auction.collateral)?;
		let debt_decimals = Self::decimals(auction.debt_asset)?;

		let mut bought = max_collateral.min(auction.lot);
		let mut paid = payment_for(bought, price, collateral_decimals, debt_decimals)
			.ok_or(ArithmeticError::Overflow)?;
		if paid > auction.to_raise {
			// Buy only what is left to raise: the buyer pays that and gets what it buys
			// (at least one smallest unit, so that an amount to raise left below the price of one unit can
			// still be met and the auction end).
			paid = auction.to_raise;
			bought = collateral_for(paid, price, collateral_decimals, debt_decimals)
				.ok_or(ArithmeticError::Overflow)?
				.max(1)
				.min(auction.lot);
		}
		ensure!(!bought.is_zero() && !paid.is_zero(), Error::<T>::ZeroAmount);
		let lot_left = auction.lot.saturating_sub(bought);
		let left_to_raise = auction.to_raise.saturating_sub(paid);
		ensure!(
			left_to_raise.is_zero() || lot_left.is_zero() || lot_left >= params.min_lot,
			Error::<T>::WouldLeaveDust
		);

		let custody = Self::custody_account();
		T::Assets::transfer(auction.debt_asset, &buyer, &custody, paid, Preservation::Expendable)?;
		T::Custody::pay(auction.collateral, &custody, &buyer, bought)?;
		let ended = left_to_raise.is_zero() || lot_left.is_zero();
		auction.lot = lot_left;
		auction.to_raise = left_to_raise;
		// The handler sees the lot as the sale left it (what the owner may still get back).
		Auctions::<T>::insert(id, &auction);
		T::Handler::on_proceeds(id, &auction.owner, auction.debt_asset, paid, bought, &custody)?;
		Self::deposit_event(Event::Taken {
			id,
			buyer,
			bought,
			paid,
			price,
			lot_left,
			left_to_raise,
		});
		if ended {
			// All raised (the rest of the lot returns) or lot gone (the rest is a shortfall).
			Self::end(id, auction, bought)?;
		} else {
			LotTotals::<T>::mutate(auction.collateral, |total| {
				*total = total.saturating_sub(bought)
			});
		}
		Ok(ended)
	}

	/// Ends auction `id`: `sold` of its collateral just left custody with a buyer; what is left
	/// of its lot returns to the owner, what is left to raise is a shortfall (none when
	/// the lot is returned whole). The handler is told.
	fn end(id: AuctionId, auction: AuctionOf<T>, sold: Balance) -> DispatchResult {
		let returned = auction.lot;
		let shortfall = if returned.is_zero() { auction.to_raise } else { 0 };
		LotTotals::<T>::mutate(auction.collateral, |total| {
			*total = total.saturating_sub(sold.saturating_add(returned))
		});
		Auctions::<T>::remove(id);
		T::Handler::on_end(
			id,
			&auction.owner,
			auction.collateral,
			returned,
			auction.debt_asset,
			shortfall,
			&Self::custody_account(),
		)?;
		Self::deposit_event(Event::Ended { id, returned, shortfall });
		Ok(())
	}

	/// Ends an auction no longer needed, returning its whole lot.
	pub(crate) fn do_close(id: AuctionId) -> DispatchResult {
		let auction = Auctions::<T>::get(id).ok_or(Error::<T>::UnknownAuction)?;
		ensure!(Self::wanted(id, &auction).is_zero(), Error::<T>::StillNeeded);
		Self::end(id, auction, 0)
	}

	pub(crate) fn do_redo(caller: T::AccountId, id: AuctionId) -> DispatchResult {
		let mut auction = Auctions::<T>::get(id).ok_or(Error::<T>::UnknownAuction)?;
		let params = Params::<T>::get(auction.collateral).ok_or(Error::<T>::NotConfigured)?;
		let quote = Self::quote(&auction, &params)?;
		ensure!(quote.needs_restart, Error::<T>::RestartNotDue);
		// An auction no one needs is closed, not restarted (and earns no incentive).
		ensure!(!Self::wanted(id, &auction).is_zero(), Error::<T>::NotNeeded);
		let mut incentive = params.restart_incentive.mul_floor(auction.lot);
		if incentive >= auction.lot {
			incentive = 0;
		}
		let fresh =
			quote.oracle.checked_mul(&params.start_premium).ok_or(ArithmeticError::Overflow)?;
		// After a fall the lot re-prices down, never up: its price is at most where its curve
		// already is (else, in a long slide, every re-centring would lift it back above the
		// market and it would never sell). After a rise, under the floor or when too old it
		// starts afresh above the oracle, which protects the owner. (As MakerDAO's `redo`
		// resets a lot to the oracle times `buf`; keeping the lot's place on its curve relative
		// to the market instead sold faster into the bottom: 711 000 USD of bad debt against
		// 277 000 in the May 19 2021 replay at 10 000 accounts, 183 000 against 102 000 in
		// Black Thursday's.)
		let under_floor = quote.price < floor_of(quote.oracle, params.floor);
		let start_price = if quote.oracle < auction.oracle_at_start && !under_floor {
			fresh.min(quote.price)
		} else {
			fresh
		};
		if !incentive.is_zero() {
			T::Custody::pay(auction.collateral, &Self::custody_account(), &caller, incentive)?;
			LotTotals::<T>::mutate(auction.collateral, |total| {
				*total = total.saturating_sub(incentive)
			});
		}
		auction.lot = auction.lot.saturating_sub(incentive);
		auction.start_price = start_price;
		auction.oracle_at_start = quote.oracle;
		auction.started_at = frame_system::Pallet::<T>::block_number();
		auction.restarts = auction.restarts.saturating_add(1);
		Auctions::<T>::insert(id, auction);
		Self::deposit_event(Event::Restarted { id, caller, start_price, incentive });
		Ok(())
	}

	pub(crate) fn do_set_auction_params(
		asset: T::AssetId,
		params: AuctionParams,
	) -> DispatchResult {
		Self::ensure_valid(&params)?;
		Params::<T>::insert(asset, params);
		Self::deposit_event(Event::ParamsSet { asset, params });
		Ok(())
	}

	pub(crate) fn do_remove_auction_params(asset: T::AssetId) -> DispatchResult {
		ensure!(Params::<T>::contains_key(asset), Error::<T>::NotConfigured);
		ensure!(LotTotals::<T>::get(asset).is_zero(), Error::<T>::AuctionsRunning);
		Params::<T>::remove(asset);
		Self::deposit_event(Event::ParamsRemoved { asset });
		Ok(())
	}

	/// The range checks of auction parameters.
	pub fn ensure_valid(params: &AuctionParams) -> DispatchResult {
		let premium = params.start_premium;
		ensure!(
			premium >= FixedU128::one() && premium <= FixedU128::saturating_from_integer(2),
			Error::<T>::PremiumOutOfRange
		);
		let max = T::MaxDurationBlocks::get();
		let in_range = |blocks: u32| blocks >= 1 && blocks <= max;
		match params.curve {
			PriceCurve::Linear { duration_blocks } => {
				ensure!(in_range(duration_blocks), Error::<T>::DurationOutOfRange)
			},
			PriceCurve::StepExponential { step_blocks, cut } => {
				ensure!(in_range(step_blocks), Error::<T>::DurationOutOfRange);
				ensure!(
					!cut.is_zero() && cut <= Permill::from_percent(50),
					Error::<T>::CutOutOfRange
				);
			},
		}
		ensure!(in_range(params.max_duration_blocks), Error::<T>::DurationOutOfRange);
		ensure!(
			!params.floor.is_zero() && params.floor < Permill::one(),
			Error::<T>::FloorOutOfRange
		);
		ensure!(params.restart_incentive <= Permill::from_percent(1), Error::<T>::IncentiveTooHigh);
		ensure!(
			!params.reprice_band.is_zero() && params.reprice_band <= Permill::from_percent(50),
			Error::<T>::BandOutOfRange
		);
		// Without a smallest lot a take could leave a lot of one unit, which no one would
		// ever buy or restart.
		ensure!(!params.min_lot.is_zero(), Error::<T>::ZeroMinLot);
		Ok(())
	}

	/// Checks the invariants listed in the crate docs.
	/// Available natively (`std`) so that integration tests and replays can check it after
	/// every block, and in `try-runtime` builds.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		let mut lots: BTreeMap<T::AssetId, Balance> = BTreeMap::new();
		for (_, auction) in Auctions::<T>::iter() {
			ensure!(
				!auction.lot.is_zero() && !auction.to_raise.is_zero(),
				"an empty auction runs (2)"
			);
			let total = lots.entry(auction.collateral).or_default();
			*total = total.checked_add(auction.lot).ok_or("lots overflow")?;
		}
		ensure!(Auctions::<T>::count() <= T::MaxAuctions::get(), "too many auctions (3)");
		for (asset, total) in LotTotals::<T>::iter() {
			ensure!(lots.get(&asset).copied().unwrap_or(0) == total, "lot totals out of step (1)");
			ensure!(
				T::Custody::held(asset, &Self::custody_account()) >= total,
				"custody holds less than the lots (1)"
			);
		}
		for (asset, total) in lots {
			ensure!(LotTotals::<T>::get(asset) == total, "lot totals out of step (1)");
		}
		Ok(())
	}
}
