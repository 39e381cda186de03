//! Tests of the margin pallet.

use crate::{mock::*, pool::MIN_DEPOSIT_INDEX, *};
use frame_support::{assert_noop, assert_ok};
use liquidation_primitives::{
	ledger::{BadDebt as _, Inspect as _, Mutate as _, RiskScan as _, Settle as _},
	AssetDecimals, Balance, LossSocializer, Price, PriceError,
};
use sp_runtime::{
	traits::{One, Zero},
	FixedPointNumber, FixedU128, Permill,
};

fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn usd(n: u128) -> Balance {
	units(n, 6)
}

fn fixed(n: u128, d: u128) -> FixedU128 {
	FixedU128::saturating_from_rational(n, d)
}

fn last_event() -> RuntimeEvent {
	liquidation_test_support::last_event::<Test>()
}

/// Solvency slack of a pool: custody + debt + bad debt - deposits.
fn slack(asset: liquidation_primitives::AssetId) -> Balance {
	let pool = Markets::<Test>::get(asset).unwrap().pool;
	Margin::custody(asset) + pool.total_borrows() + pool.bad_debt - pool.total_deposits()
}

mod listing {
	use super::*;

	#[test]
	fn genesis_lists_the_assets_and_endows_custody() {
		test(|| {
			assert_eq!(Markets::<Test>::count(), 4);
			let market = Markets::<Test>::get(BTC).unwrap();
			assert_eq!(market.decimals, 8);
			assert_eq!(market.status, AssetStatus::Active);
			assert_eq!(market.pool.deposit_index, FixedU128::one());
			// The custody holds each asset's minimum balance, so it can never be reaped.
			assert_eq!(Margin::custody(USD), 1);
			assert_eq!(Margin::custody(NATIVE), 5);
			assert_eq!(Margin::cash(NATIVE), 0);
		});
	}

	#[test]
	fn governance_lists_an_existing_asset_once() {
		test(|| {
			assert_noop!(
				Margin::list_asset(origin(ALICE), DOT, 10, usd_params()),
				sp_runtime::DispatchError::BadOrigin
			);
			assert_noop!(
				Margin::list_asset(RuntimeOrigin::root(), AssetId::Asset(9), 10, usd_params()),
				Error::<Test>::UnknownAsset
			);
			assert_noop!(
				Margin::list_asset(RuntimeOrigin::root(), DOT, 19, usd_params()),
				Error::<Test>::TooManyDecimals
			);
			assert_noop!(
				Margin::list_asset(RuntimeOrigin::root(), USD, 6, usd_params()),
				Error::<Test>::AlreadyListed
			);
			// MaxAssets is 4 and genesis listed 4.
			assert_noop!(
				Margin::list_asset(RuntimeOrigin::root(), DOT, 10, usd_params()),
				Error::<Test>::TooManyAssets
			);
		});
	}

	use liquidation_primitives::AssetId;

	#[test]
	fn parameters_are_range_checked() {
		test(|| {
			let set =
				|params: AssetParams| Margin::set_asset_params(RuntimeOrigin::root(), USD, params);
			// A zero maintenance weight under a non-zero initial one is refused.
			assert_noop!(
				set(params((10, 0), (110, 105))),
				Error::<Test>::MaintenanceNotBelowInitial
			);
			// Maintenance must be strictly less demanding: equal collateral weights are refused.
			assert_noop!(
				set(params((90, 90), (110, 105))),
				Error::<Test>::MaintenanceNotBelowInitial
			);
			assert_noop!(
				set(params((95, 90), (110, 105))),
				Error::<Test>::MaintenanceNotBelowInitial
			);
			assert_noop!(
				set(params((90, 95), (105, 105))),
				Error::<Test>::MaintenanceNotBelowInitial
			);
			assert_noop!(
				set(params((90, 95), (110, 99))),
				Error::<Test>::LiabilityWeightOutOfRange
			);
			assert_noop!(
				set(params((90, 95), (501, 105))),
				Error::<Test>::LiabilityWeightOutOfRange
			);
			let mut p = usd_params();
			p.interest.kink = Permill::one();
			assert_noop!(set(p), Error::<Test>::KinkOutOfRange);
			p.interest.kink = Permill::zero();
			assert_noop!(set(p), Error::<Test>::KinkOutOfRange);
			let mut p = usd_params();
			p.interest.slope_above_kink = FixedU128::from_u32(10);
			assert_noop!(set(p), Error::<Test>::RateTooHigh);
			let mut p = usd_params();
			p.borrow_cap_usd = 0;
			assert_noop!(set(p), Error::<Test>::InvalidCaps);
			let mut p = usd_params();
			p.supply_cap_usd = 0;
			assert_noop!(set(p), Error::<Test>::InvalidCaps);
			// A ceiling of zero is a collateral that may back no debt at all.
			let mut p = usd_params();
			p.debt_ceiling_usd = Some(0);
			assert_ok!(set(p));
			// Collateral weight 1 and liability weight 1 are in range, but at the 10% penalty a
			// liquidation of a pair of them would lower health: (1 + 10%) 1 >= 1.
			assert_noop!(set(params((99, 100), (500, 100))), Error::<Test>::PenaltyUnsound);
			// Against every listed asset too: BTC's liability weight 1.10 is below 1.1 x 1.0.
			assert_noop!(set(params((99, 100), (500, 125))), Error::<Test>::PenaltyUnsound);
			// 1.1 x 0.99 = 1.089: a liability weight of 1.08 is refused, 1.09 is the edge.
			assert_noop!(set(params((98, 99), (500, 108))), Error::<Test>::PenaltyUnsound);
			// At the edges of the ranges: liability weight 5, rate 1000%.
			let mut p = params((98, 99), (500, 109));
			p.interest.slope_above_kink = FixedU128::from_u32(10) - fixed(12, 100);
			assert_ok!(set(p));
			assert_eq!(Markets::<Test>::get(USD).unwrap().params, p);
			assert_eq!(last_event(), Event::AssetParamsUpdated { asset: USD, params: p }.into());
		});
	}
}

mod scheduled_changes {
	use super::*;
	use frame_support::traits::Hooks;

	fn next_block() {
		let now = System::block_number() + 1;
		run_to_block(now);
		Margin::on_initialize(now);
	}

	/// With a delay of 10 blocks, tightening BTC's maintenance collateral weight (90% to 70%)
	/// waits: Dave, healthy at the old weight and liquidatable at the new, has ten blocks to
	/// repay; loosening and changes that leave maintenance alone take effect at once, and a
	/// later change replaces a scheduled one.
	#[test]
	fn a_tightening_of_maintenance_weights_waits_for_the_delay() {
		test(|| {
			assert_noop!(
				Margin::set_risk_change_delay(RuntimeOrigin::root(), 101),
				Error::<Test>::DelayTooLong
			);
			assert_noop!(
				Margin::set_risk_change_delay(origin(ALICE), 10),
				sp_runtime::DispatchError::BadOrigin
			);
			assert_ok!(Margin::set_risk_change_delay(RuntimeOrigin::root(), 10));
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(100_000)));
			assert_ok!(Margin::deposit(origin(DAVE), BTC, units(1, 8)));
			// 43 000 USD against 1 BTC: maintenance 54 000 against 45 150 at weight 90%, 42 000
			// at 70%.
			assert_ok!(Margin::borrow(origin(DAVE), USD, usd(43_000)));
			let mut tighter = btc_params();
			tighter.initial_collateral_weight = Permill::from_percent(60);
			tighter.maintenance_collateral_weight = Permill::from_percent(70);
			assert_ok!(Margin::set_asset_params(RuntimeOrigin::root(), BTC, tighter));
			assert_eq!(
				last_event(),
				Event::AssetParamsScheduled { asset: BTC, params: tighter, effective_at: 11 }
					.into()
			);
			assert_eq!(Markets::<Test>::get(BTC).unwrap().params, btc_params());
			for _ in 2..=10 {
				next_block();
				assert!(!Margin::health_of(&DAVE).unwrap().is_liquidatable());
			}
			next_block();
			assert_eq!(Markets::<Test>::get(BTC).unwrap().params, tighter);
			assert_eq!(
				last_event(),
				Event::AssetParamsUpdated { asset: BTC, params: tighter }.into()
			);
			assert!(Margin::health_of(&DAVE).unwrap().is_liquidatable());
			assert!(ScheduledParams::<Test>::get(BTC).is_none());
			// Loosening back is at once, and replaces anything scheduled.
			let mut tightest = tighter;
			tightest.maintenance_collateral_weight = Permill::from_percent(65);
			assert_ok!(Margin::set_asset_params(RuntimeOrigin::root(), BTC, tightest));
			assert!(ScheduledParams::<Test>::get(BTC).is_some());
			assert_ok!(Margin::set_asset_params(RuntimeOrigin::root(), BTC, btc_params()));
			assert_eq!(Markets::<Test>::get(BTC).unwrap().params, btc_params());
			assert!(ScheduledParams::<Test>::get(BTC).is_none());
			// A change of anything but the maintenance weights is at once (here a tighter
			// initial weight and a lower cap).
			let mut other = btc_params();
			other.initial_collateral_weight = Permill::from_percent(60);
			other.supply_cap_usd = 1_000_000;
			assert_ok!(Margin::set_asset_params(RuntimeOrigin::root(), BTC, other));
			assert_eq!(Markets::<Test>::get(BTC).unwrap().params, other);
		});
	}
}

mod lending {
	use super::*;

	#[test]
	fn deposit_and_withdraw_move_tokens_through_custody() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(1_000)));
			assert_eq!(Margin::custody(USD), usd(1_000) + 1);
			assert_eq!(balance(USD, ALICE), ENDOWMENT - usd(1_000));
			assert_eq!(Margin::deposit_of(&ALICE, USD), usd(1_000));
			assert_eq!(
				last_event(),
				Event::Deposited { who: ALICE, asset: USD, amount: usd(1_000) }.into()
			);
			assert_ok!(Margin::withdraw(origin(ALICE), USD, Amount::Exact(usd(400))));
			assert_eq!(Margin::deposit_of(&ALICE, USD), usd(600));
			assert_ok!(Margin::withdraw(origin(ALICE), USD, Amount::All));
			assert_eq!(Margin::position(&ALICE, USD), None);
			assert!(!Portfolios::<Test>::contains_key(ALICE));
			assert_eq!(balance(USD, ALICE), ENDOWMENT);
			assert_eq!(Margin::custody(USD), 1);
		});
	}

	#[test]
	fn the_native_token_is_held_like_any_asset() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), NATIVE, 1_000));
			assert_eq!(Margin::custody(NATIVE), 1_005);
			assert_ok!(Margin::withdraw(origin(ALICE), NATIVE, Amount::All));
			// The endowment keeps the custody alive: nothing is lost as dust.
			assert_eq!(Margin::custody(NATIVE), 5);
			assert_eq!(balance(NATIVE, ALICE), ENDOWMENT);
		});
	}

	#[test]
	fn amounts_and_positions_are_checked() {
		test(|| {
			assert_noop!(Margin::deposit(origin(ALICE), USD, 0), Error::<Test>::ZeroAmount);
			assert_noop!(Margin::deposit(origin(ALICE), DOT, 100), Error::<Test>::AssetNotListed);
			assert_noop!(
				Margin::deposit(origin(ALICE), USD, 9),
				Error::<Test>::BelowMinimumPosition
			);
			assert_noop!(
				Margin::withdraw(origin(ALICE), USD, Amount::All),
				Error::<Test>::NoDeposit
			);
			assert_noop!(Margin::repay(origin(ALICE), USD, Amount::All), Error::<Test>::NoDebt);
			assert_ok!(Margin::deposit(origin(ALICE), USD, 100));
			assert_noop!(
				Margin::withdraw(origin(ALICE), USD, Amount::Exact(101)),
				Error::<Test>::InsufficientDeposit
			);
			// Leaving 5 (below the minimum of 10) is refused; all of it is fine.
			assert_noop!(
				Margin::withdraw(origin(ALICE), USD, Amount::Exact(95)),
				Error::<Test>::BelowMinimumPosition
			);
			assert_ok!(Margin::withdraw(origin(ALICE), USD, Amount::Exact(90)));
		});
	}

	#[test]
	fn caps_and_liquidity_bound_deposits_and_borrows() {
		test(|| {
			let mut p = usd_params();
			p.supply_cap_usd = 1_000;
			p.borrow_cap_usd = 300;
			assert_ok!(Margin::set_asset_params(RuntimeOrigin::root(), USD, p));
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(1_000)));
			assert_noop!(Margin::deposit(origin(BOB), USD, 10), Error::<Test>::SupplyCapExceeded);
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_noop!(
				Margin::borrow(origin(BOB), USD, usd(300) + 1),
				Error::<Test>::BorrowCapExceeded
			);
			assert_ok!(Margin::borrow(origin(BOB), USD, usd(300)));
			// ETH has no lenders: nothing to borrow.
			assert_noop!(
				Margin::borrow(origin(BOB), ETH, 100),
				Error::<Test>::InsufficientLiquidity
			);
			// Alice's deposit is lent out in part: she may take only the cash.
			assert_noop!(
				Margin::withdraw(origin(ALICE), USD, Amount::All),
				Error::<Test>::InsufficientLiquidity
			);
			assert_ok!(Margin::withdraw(origin(ALICE), USD, Amount::Exact(usd(700))));
		});
	}

	#[docify::export]
	#[test]
	fn one_position_per_asset_nets_deposits_against_debt() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(1_000)));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), USD, usd(100)));
			// Depositing 150 repays the 100 owed and deposits the other 50.
			assert_ok!(Margin::deposit(origin(BOB), USD, usd(150)));
			assert_eq!(Margin::debt_of(&BOB, USD), 0);
			assert_eq!(Margin::deposit_of(&BOB, USD), usd(50));
			assert!(!LiableAccounts::<Test>::contains_key(BOB));
			let events: Vec<_> =
				System::events().into_iter().rev().take(2).map(|r| r.event).collect();
			assert_eq!(
				events,
				vec![
					Event::Deposited { who: BOB, asset: USD, amount: usd(50) }.into(),
					Event::Repaid { payer: BOB, who: BOB, asset: USD, amount: usd(100) }.into(),
				]
			);
			// Borrowing 80 withdraws the 50 deposited and borrows 30.
			assert_ok!(Margin::borrow(origin(BOB), USD, usd(80)));
			assert_eq!(Margin::deposit_of(&BOB, USD), 0);
			assert_eq!(Margin::debt_of(&BOB, USD), usd(30));
			assert!(LiableAccounts::<Test>::contains_key(BOB));
			assert_eq!(balance(USD, BOB), ENDOWMENT - usd(150) + usd(100) + usd(80));
		});
	}

	#[test]
	fn repay_all_clears_the_debt_and_repay_more_takes_only_the_debt() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(1_000)));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), USD, usd(100)));
			run_to_block(101);
			let debt = Margin::debt_of(&BOB, USD);
			assert!(debt > usd(100), "interest accrued: {debt}");
			let before = balance(USD, BOB);
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::Exact(usd(40))));
			assert_eq!(balance(USD, BOB), before - usd(40));
			// A partial repayment burns the index units it buys, rounded down: the debt left is
			// the rest or at most one unit more.
			let left = Margin::debt_of(&BOB, USD);
			assert!(left >= debt - usd(40) && left <= debt - usd(40) + 1, "{left}");
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::Exact(usd(1_000))));
			assert_eq!(balance(USD, BOB), before - usd(40) - left);
			assert_eq!(Margin::position(&BOB, USD), None);
			assert!(!LiableAccounts::<Test>::contains_key(BOB));
		});
	}

	#[test]
	fn statuses_limit_what_users_may_do() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(1_000)));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), USD, usd(100)));
			assert_ok!(Margin::set_asset_status(
				RuntimeOrigin::root(),
				USD,
				AssetStatus::ReduceOnly
			));
			assert_eq!(
				last_event(),
				Event::AssetStatusChanged { asset: USD, status: AssetStatus::ReduceOnly }.into()
			);
			assert_noop!(
				Margin::deposit(origin(CHARLIE), USD, usd(1)),
				Error::<Test>::AssetNotActive
			);
			assert_noop!(Margin::borrow(origin(BOB), USD, usd(1)), Error::<Test>::AssetNotActive);
			assert_ok!(Margin::withdraw(origin(ALICE), USD, Amount::Exact(usd(1))));
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::Exact(usd(10))));
			// Depositing into a debt is a repayment: allowed while reducing.
			assert_ok!(Margin::deposit(origin(BOB), USD, usd(10)));
			assert_ok!(Margin::set_asset_status(RuntimeOrigin::root(), USD, AssetStatus::Frozen));
			assert_noop!(
				Margin::withdraw(origin(ALICE), USD, Amount::Exact(usd(1))),
				Error::<Test>::AssetFrozen
			);
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::All));
			assert_noop!(
				Margin::set_asset_status(origin(ALICE), USD, AssetStatus::Active),
				sp_runtime::DispatchError::BadOrigin
			);
		});
	}
}

mod caps {
	use super::*;

	fn set_params(asset: liquidation_primitives::AssetId, change: impl FnOnce(&mut AssetParams)) {
		let mut params = Markets::<Test>::get(asset).unwrap().params;
		change(&mut params);
		assert_ok!(Margin::set_asset_params(RuntimeOrigin::root(), asset, params));
	}

	/// With an account deposit of 100 native units: the first deposit holds it, a later one
	/// does not, closing the last position releases it; an account that cannot pay it opens
	/// nothing; an account the engine opens (a keeper's) pays none.
	#[test]
	fn a_margin_account_holds_a_refundable_deposit() {
		use frame_support::traits::fungible::InspectHold;
		test(|| {
			AccountDeposit::set(&100);
			let reason = RuntimeHoldReason::Margin(HoldReason::AccountDeposit);
			let held = |who| Balances::balance_on_hold(&reason, &who);
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(1_000)));
			assert_eq!(held(ALICE), 100);
			assert!(System::events().iter().any(|record| record.event
				== Event::AccountDepositHeld { who: ALICE, amount: 100 }.into()));
			assert_ok!(Margin::deposit(origin(ALICE), BTC, units(1, 8)));
			assert_eq!(held(ALICE), 100);
			assert_ok!(Margin::withdraw(origin(ALICE), USD, Amount::All));
			assert_eq!(held(ALICE), 100);
			assert_ok!(Margin::withdraw(origin(ALICE), BTC, Amount::All));
			assert_eq!(held(ALICE), 0);
			assert_eq!(balance(NATIVE, ALICE), ENDOWMENT);
			assert!(System::events().iter().any(|record| record.event
				== Event::AccountDepositReleased { who: ALICE, amount: 100 }.into()));
			// An account without native tokens opens nothing.
			let poor: AccountId = 77;
			assert_ok!(
				<AllAssets as frame_support::traits::fungibles::Mutate<AccountId>>::mint_into(
					USD,
					&poor,
					usd(10)
				)
			);
			assert_noop!(
				Margin::deposit(origin(poor), USD, usd(10)),
				Error::<Test>::AccountDepositUnpaid
			);
			// A keeper handed a deposit position by the engine pays nothing.
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::transfer_deposit(&BOB, BTC, 1_000, &KEEPER));
			assert_eq!(held(KEEPER), 0);
		});
	}

	/// With a least position value of 10 USD, an indebted account may not open, leave or add
	/// a position worth less, nor take its first debt beside one; an account without debt may
	/// hold one, and repaying may leave less.
	#[test]
	fn an_indebted_account_holds_no_position_worth_less_than_the_minimum() {
		test(|| {
			MinPositionValue::set(&10);
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(100_000)));
			// No debt: a deposit of 1 USD is fine.
			assert_ok!(Margin::deposit(origin(CHARLIE), USD, usd(1)));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_noop!(
				Margin::borrow(origin(BOB), USD, usd(10) - 1),
				Error::<Test>::PositionTooSmall
			);
			assert_ok!(Margin::borrow(origin(BOB), USD, usd(10)));
			// 0.001 ETH is 3 USD: too small beside a debt.
			assert_noop!(
				Margin::deposit(origin(BOB), ETH, units(1, 15)),
				Error::<Test>::PositionTooSmall
			);
			assert_ok!(Margin::deposit(origin(BOB), ETH, units(1, 16) / 3 * 10));
			// Leaving 0.0001 BTC (6 USD) is refused, 0.0002 (12 USD) is not.
			assert_noop!(
				Margin::withdraw(origin(BOB), BTC, Amount::Exact(units(1, 8) - 10_000)),
				Error::<Test>::PositionTooSmall
			);
			assert_ok!(Margin::withdraw(origin(BOB), BTC, Amount::Exact(units(1, 8) - 20_000)));
			// Repaying may leave a debt of 1 USD.
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::Exact(usd(9))));
			assert_eq!(Margin::debt_of(&BOB, USD), usd(1));
			// Small deposits made without debt are judged when the first debt comes.
			assert_ok!(Margin::deposit(origin(DAVE), BTC, units(1, 8)));
			assert_ok!(Margin::deposit(origin(DAVE), ETH, units(1, 15)));
			assert_noop!(
				Margin::borrow(origin(DAVE), USD, usd(100)),
				Error::<Test>::PositionTooSmall
			);
		});
	}

	/// A supply cap of 120 000 USD holds 2 BTC at 60 000 and 4 at 30 000; a stable price above
	/// the price values the pool at the stable price (a pump binds sooner); withdrawing is never
	/// refused by a cap.
	#[test]
	fn supply_caps_are_in_usd_at_the_higher_of_price_and_stable_price() {
		test(|| {
			set_params(BTC, |p| p.supply_cap_usd = 120_000);
			assert_ok!(Margin::deposit(origin(ALICE), BTC, units(2, 8)));
			assert_noop!(Margin::deposit(origin(ALICE), BTC, 1), Error::<Test>::SupplyCapExceeded);
			set_price(BTC, Price::from_u32(30_000));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(2, 8)));
			assert_noop!(Margin::deposit(origin(BOB), BTC, 1), Error::<Test>::SupplyCapExceeded);
			// The stable price lags above the price (30 001 after a fall): the 4 BTC are worth
			// 120 004 at the cap price; a cap never refuses a withdrawal.
			set_stable_price(BTC, Price::from_u32(30_001));
			assert_ok!(Margin::withdraw(origin(BOB), BTC, Amount::Exact(1_000)));
			// 4 BTC less 1 000 sat at 30 001 is still above 120 000: no room.
			assert_noop!(Margin::deposit(origin(BOB), BTC, 1), Error::<Test>::SupplyCapExceeded);
			assert_ok!(Margin::withdraw(origin(BOB), BTC, Amount::All));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
		});
	}

	/// A borrow cap of 3 000 USD lends 1 ETH at 3 000 and not a wei more; after ETH halves,
	/// another ETH.
	#[test]
	fn borrow_caps_are_in_usd() {
		test(|| {
			set_params(ETH, |p| p.borrow_cap_usd = 3_000);
			assert_ok!(Margin::deposit(origin(ALICE), ETH, units(10, 18)));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), ETH, units(1, 18)));
			assert_noop!(Margin::borrow(origin(BOB), ETH, 1), Error::<Test>::BorrowCapExceeded);
			set_price(ETH, Price::from_u32(1_500));
			assert_noop!(
				Margin::borrow(origin(BOB), ETH, units(1, 18) + 1),
				Error::<Test>::BorrowCapExceeded
			);
			assert_ok!(Margin::borrow(origin(BOB), ETH, units(1, 18)));
			// Above the cap after a rise: repaying is never refused.
			set_price(ETH, Price::from_u32(3_000));
			assert_ok!(Margin::repay(origin(BOB), ETH, Amount::Exact(units(1, 17))));
		});
	}

	/// The native token (5 USD, 50% initial weight) with a debt ceiling of 1 000 USD: accounts
	/// holding it may owe 1 000 USD between them, of any asset; an account that owes elsewhere
	/// cannot bring its debt under the ceiling by depositing it; repaying makes room; a ceiling
	/// set later counts the debt already owed; interest above the ceiling refuses new debt but
	/// never a repayment or a withdrawal.
	#[test]
	fn a_debt_ceiling_bounds_what_accounts_holding_the_collateral_owe() {
		test(|| {
			set_params(NATIVE, |p| p.debt_ceiling_usd = Some(1_000));
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(100_000)));
			assert_ok!(Margin::deposit(origin(ALICE), ETH, units(10, 18)));
			let native = |n: u128| units(n, 12);
			assert_ok!(Margin::deposit(origin(BOB), NATIVE, native(1_000)));
			assert_ok!(Margin::deposit(origin(CHARLIE), NATIVE, native(1_000)));
			assert_ok!(Margin::deposit(origin(CHARLIE), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), USD, usd(600)));
			// Charlie's ETH counts too, at 3 000 USD an ETH: 0.1 ETH is 300 USD.
			assert_ok!(Margin::borrow(origin(CHARLIE), ETH, units(1, 17)));
			assert_ok!(Margin::borrow(origin(CHARLIE), USD, usd(100)));
			assert_eq!(Margin::debt_backed_by(NATIVE), Some(FixedU128::from_u32(1_000)));
			assert_noop!(
				Margin::borrow(origin(CHARLIE), USD, 1),
				Error::<Test>::DebtCeilingExceeded
			);
			// Dave owes 5 000 USD against BTC: he cannot add the native token to his account.
			assert_ok!(Margin::deposit(origin(DAVE), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(DAVE), USD, usd(5_000)));
			assert_noop!(
				Margin::deposit(origin(DAVE), NATIVE, native(100)),
				Error::<Test>::DebtCeilingExceeded
			);
			// Bob repays 100: Charlie may borrow 100 more, and not 1 more than that.
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::Exact(usd(100))));
			assert_ok!(Margin::borrow(origin(CHARLIE), USD, usd(100)));
			assert_noop!(
				Margin::borrow(origin(CHARLIE), USD, 1),
				Error::<Test>::DebtCeilingExceeded
			);
			// Charlie leaves the native token: his 500 USD no longer count against it.
			assert_ok!(Margin::withdraw(origin(CHARLIE), NATIVE, Amount::All));
			assert_eq!(Margin::debt_backed_by(NATIVE), Some(FixedU128::from_u32(500)));
			// A ceiling set on BTC now counts the 5 500 USD already owed by its holders.
			set_params(BTC, |p| p.debt_ceiling_usd = Some(5_000));
			assert_eq!(Margin::debt_backed_by(BTC), Some(FixedU128::from_u32(5_500)));
			assert_noop!(
				Margin::borrow(origin(DAVE), USD, usd(1)),
				Error::<Test>::DebtCeilingExceeded
			);
			// A year of interest lifts Bob over the native ceiling's room: no new debt, but
			// repaying and leaving work.
			set_params(NATIVE, |p| p.debt_ceiling_usd = Some(500));
			run_to_block(
				1 + u64::from(<<Test as Config>::BlocksPerYear as frame_support::traits::Get<
					u32,
				>>::get()),
			);
			assert!(Margin::debt_backed_by(NATIVE).unwrap() > FixedU128::from_u32(500));
			assert_noop!(Margin::borrow(origin(BOB), USD, 1), Error::<Test>::DebtCeilingExceeded);
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::Exact(usd(10))));
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::All));
			assert_ok!(Margin::withdraw(origin(BOB), NATIVE, Amount::All));
			assert_eq!(Margin::debt_backed_by(NATIVE), Some(FixedU128::zero()));
			assert_eq!(BackedDebt::<Test>::iter_prefix(NATIVE).count(), 0);
		});
	}
}

mod interest {
	use super::*;

	#[test]
	fn the_curve_matches_hand_figures() {
		let curve = curve();
		assert_eq!(curve.borrow_rate(FixedU128::zero()), fixed(2, 100));
		// Below the kink: 2% + 10% * 0.5 / 0.8 = 8.25%.
		assert_eq!(curve.borrow_rate(fixed(1, 2)), fixed(825, 10_000));
		assert_eq!(curve.borrow_rate(fixed(8, 10)), fixed(12, 100));
		// Above: 2% + 10% + 100% * (0.9 - 0.8) / 0.2 = 62%.
		assert_eq!(curve.borrow_rate(fixed(9, 10)), fixed(62, 100));
		assert_eq!(curve.borrow_rate(FixedU128::one()), fixed(112, 100));
		assert_eq!(curve.max_rate(), fixed(112, 100));
		assert_eq!(crate::pool::utilization(0, 0), FixedU128::zero());
		assert_eq!(crate::pool::utilization(5, 0), FixedU128::one());
		assert_eq!(crate::pool::utilization(1, 4), fixed(1, 4));
	}

	#[test]
	fn interest_accrues_by_index_to_hand_figures() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, 1_000_000));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), USD, 500_000));
			let report = Margin::pool_report(USD).unwrap();
			assert_eq!(report.utilization, fixed(1, 2));
			assert_eq!(report.borrow_rate, fixed(825, 10_000));
			// Lenders earn 8.25% * 0.5 * (1 - 10%) = 3.7125%.
			assert_eq!(report.supply_rate, fixed(37_125, 1_000_000));

			// 10 blocks of 1 000 a year at 8.25%: the borrow index grows by 0.000825.
			run_to_block(11);
			let report = Margin::pool_report(USD).unwrap();
			assert_eq!(report.borrow_index, fixed(1_000_825, 1_000_000));
			// 500 000 * 1.000825 = 500 412.5, charged rounded up: interest 413.
			assert_eq!(report.total_borrows, 500_413);
			assert_eq!(Margin::debt_of(&BOB, USD), 500_413);
			// Reserve 10% of 413 = 41 (down); lenders 372 over 1 000 000 units: index 1.000372.
			assert_eq!(report.deposit_index, fixed(1_000_372, 1_000_000));
			assert_eq!(Margin::deposit_of(&ALICE, USD), 1_000_372);
			// The reserve's 41 is credited as floor(41 / 1.000372) = 40 units, worth 40.
			assert_eq!(report.reserve, 40);
			assert_eq!(report.total_deposits, 1_000_412);
			// The view did not write: storage still holds the indices of block 1.
			assert_eq!(Markets::<Test>::get(USD).unwrap().pool.borrow_index, FixedU128::one());
		});
	}

	#[test]
	fn interest_accrues_once_per_block() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, 1_000_000));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), USD, 500_000));
			run_to_block(11);
			assert_ok!(Margin::deposit(origin(CHARLIE), USD, 1_000));
			let pool = Markets::<Test>::get(USD).unwrap().pool;
			assert_eq!(pool.borrow_index, fixed(1_000_825, 1_000_000));
			assert_eq!(pool.last_accrued, 11);
			// More actions in the same block change no index.
			assert_ok!(Margin::deposit(origin(DAVE), USD, 1_000));
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::Exact(1_000)));
			let again = Markets::<Test>::get(USD).unwrap().pool;
			assert_eq!(
				(again.borrow_index, again.deposit_index),
				(pool.borrow_index, pool.deposit_index)
			);
		});
	}

	#[test]
	fn the_reserve_goes_to_insurance_as_far_as_cash_allows() {
		test(|| {
			assert_noop!(
				Margin::collect_reserve(origin(KEEPER), USD),
				Error::<Test>::NothingToCollect
			);
			assert_ok!(Margin::deposit(origin(ALICE), USD, 1_000_000));
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), USD, 500_000));
			run_to_block(11);
			let before = balance(USD, INSURANCE);
			assert_ok!(Margin::collect_reserve(origin(KEEPER), USD));
			assert_eq!(balance(USD, INSURANCE), before + 40);
			assert_eq!(last_event(), Event::ReserveCollected { asset: USD, amount: 40 }.into());
			assert_eq!(Margin::pool_report(USD).unwrap().reserve, 0);
			assert_eq!(Losses::<Test>::get(USD).reserve_collected, 40);
		});
	}
}

mod health {
	use super::*;

	/// Charlie: 1 BTC (60 000 USD) and 10 ETH (30 000 USD) deposited; 20 000 USD and 1 000
	/// native (5 000 USD) borrowed.
	fn two_collaterals_two_debts() {
		assert_ok!(Margin::deposit(origin(ALICE), USD, usd(100_000)));
		assert_ok!(Margin::deposit(origin(ALICE), NATIVE, units(10_000, 12)));
		assert_ok!(Margin::deposit(origin(CHARLIE), BTC, units(1, 8)));
		assert_ok!(Margin::deposit(origin(CHARLIE), ETH, units(10, 18)));
		assert_ok!(Margin::borrow(origin(CHARLIE), USD, usd(20_000)));
		assert_ok!(Margin::borrow(origin(CHARLIE), NATIVE, units(1_000, 12)));
	}

	#[test]
	fn a_portfolio_matches_the_hand_computation_under_both_weight_sets() {
		test(|| {
			two_collaterals_two_debts();
			let report = Margin::health_of(&CHARLIE).unwrap();
			assert_eq!(report.collateral_value, FixedU128::from_u32(90_000));
			assert_eq!(report.debt_value, FixedU128::from_u32(25_000));
			// Initial: 60 000 * 0.80 + 30 000 * 0.75 against 20 000 * 1.10 + 5 000 * 1.50.
			assert_eq!(report.initial_collateral, FixedU128::from_u32(70_500));
			assert_eq!(report.initial_debt, FixedU128::from_u32(29_500));
			// Maintenance: 60 000 * 0.90 + 30 000 * 0.85 against 20 000 * 1.05 + 5 000 * 1.30.
			assert_eq!(report.maintenance_collateral, FixedU128::from_u32(79_500));
			assert_eq!(report.maintenance_debt, FixedU128::from_u32(27_500));
			let health = Margin::account_health(&CHARLIE).unwrap();
			assert_eq!(health.initial_margin, FixedU128::from_u32(41_000));
			assert_eq!(health.maintenance_margin, FixedU128::from_u32(52_000));
			assert_eq!(health.health_factor, Some(fixed(79_500, 27_500)));
			assert!(!report.is_liquidatable());

			// A crash: BTC 20 000, ETH 1 000. Maintenance collateral 18 000 + 8 500 = 26 500.
			set_price(BTC, Price::from_u32(20_000));
			set_price(ETH, Price::from_u32(1_000));
			let report = Margin::health_of(&CHARLIE).unwrap();
			assert_eq!(report.maintenance_collateral, FixedU128::from_u32(26_500));
			assert!(report.is_liquidatable());
			assert_eq!(report.maintenance_shortfall(), FixedU128::from_u32(1_000));
			assert_eq!(Margin::indebted_accounts(None, 10), vec![CHARLIE]);
		});
	}

	/// Collateral weight 0: ETH listed borrow-only backs nothing, and a BTC listing wound down
	/// (initial weight 0, maintenance kept) stops new borrowing against BTC while the positions
	/// already held still count against liquidation.
	#[test]
	fn a_borrow_only_asset_backs_nothing_and_a_wound_down_one_no_new_risk() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(100_000)));
			let root = RuntimeOrigin::root();
			assert_ok!(Margin::set_asset_params(root.clone(), ETH, params((0, 0), (130, 115))));
			// 10 ETH at 3 000 (30 000 USD) back nothing, for borrowing or against liquidation.
			assert_ok!(Margin::deposit(origin(DAVE), ETH, units(10, 18)));
			assert_noop!(
				Margin::borrow(origin(DAVE), USD, usd(1)),
				Error::<Test>::InsufficientMargin
			);
			let report = Margin::health_of(&DAVE).unwrap();
			assert_eq!(report.maintenance_collateral, FixedU128::zero());

			// Bob borrows 20 000 USD against 1 BTC (60 000), then BTC is wound down.
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), USD, usd(20_000)));
			assert_ok!(Margin::set_asset_params(root, BTC, params((0, 90), (125, 110))));
			assert_noop!(
				Margin::borrow(origin(BOB), USD, usd(1)),
				Error::<Test>::InsufficientMargin
			);
			let report = Margin::health_of(&BOB).unwrap();
			assert_eq!(report.maintenance_collateral, FixedU128::from_u32(54_000));
			assert!(!report.is_liquidatable());
			// Repaying needs no margin.
			assert_ok!(Margin::repay(origin(BOB), USD, Amount::Exact(usd(5_000))));
		});
	}

	#[test]
	fn borrow_is_refused_just_past_the_initial_boundary() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(100_000)));
			// 0.55 BTC = 33 000 USD, initial weight 0.8: 26 400; USD liability weight 1.1, so
			// at most 24 000 USD may be borrowed.
			assert_ok!(Margin::deposit(origin(DAVE), BTC, 55_000_000));
			assert_noop!(
				Margin::borrow(origin(DAVE), USD, usd(24_000) + 1),
				Error::<Test>::InsufficientMargin
			);
			assert_ok!(Margin::borrow(origin(DAVE), USD, usd(24_000)));
			let report = Margin::health_of(&DAVE).unwrap();
			assert_eq!(report.initial_collateral, report.initial_debt);
			assert_noop!(Margin::borrow(origin(DAVE), USD, 10), Error::<Test>::InsufficientMargin);
		});
	}

	#[test]
	fn withdraw_is_refused_just_past_the_initial_boundary() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(100_000)));
			assert_ok!(Margin::deposit(origin(DAVE), BTC, 55_000_000));
			// 12 000 USD borrowed counts 13 200 initially: collateral must stay worth 16 500
			// USD (0.275 BTC), so 0.275 BTC may be withdrawn and not one satoshi more.
			assert_ok!(Margin::borrow(origin(DAVE), USD, usd(12_000)));
			assert_noop!(
				Margin::withdraw(origin(DAVE), BTC, Amount::Exact(27_500_001)),
				Error::<Test>::InsufficientMargin
			);
			assert_noop!(
				Margin::withdraw(origin(DAVE), BTC, Amount::All),
				Error::<Test>::InsufficientMargin
			);
			assert_ok!(Margin::withdraw(origin(DAVE), BTC, Amount::Exact(27_500_000)));
			let report = Margin::health_of(&DAVE).unwrap();
			assert_eq!(report.initial_collateral, report.initial_debt);
		});
	}

	/// Opening risk needs usable prices; an indebted account takes no collateral it cannot
	/// value, and no account a deposit of an asset never priced (its cap cannot be judged);
	/// repaying always works; and a position held is judged at its last price (never
	/// priced: at nothing), so an unusable price neither makes the account liquidatable nor
	/// lets it escape.
	#[test]
	fn unusable_prices_refuse_risk_and_new_collateral_but_never_repay() {
		for error in [PriceError::Missing, PriceError::Stale, PriceError::Halted] {
			test(|| {
				assert_ok!(Margin::deposit(origin(ALICE), USD, usd(100_000)));
				assert_ok!(Margin::deposit(origin(DAVE), BTC, units(1, 8)));
				assert_ok!(Margin::borrow(origin(DAVE), USD, usd(1_000)));
				let live = Margin::health_of(&DAVE).unwrap();
				set_price_error(BTC, error);
				let expected = || Error::<Test>::Price(error);
				assert_noop!(Margin::borrow(origin(DAVE), USD, usd(1)), expected());
				assert_noop!(Margin::withdraw(origin(DAVE), BTC, Amount::Exact(1_000)), expected());
				assert_noop!(Margin::deposit(origin(DAVE), BTC, 1_000), expected());
				let held = Margin::health_of(&DAVE).unwrap();
				if error == PriceError::Missing {
					// No price was ever known (the test forgets it): the deposit counts nothing.
					assert!(held.collateral_value.is_zero() && held.is_liquidatable());
				} else {
					assert_eq!(held, live);
				}
				assert_ok!(Margin::repay(origin(DAVE), USD, Amount::All));
				if error == PriceError::Missing {
					// Never priced: the supply cap cannot value a deposit, so none is taken.
					assert_noop!(
						Margin::deposit(origin(DAVE), BTC, 1_000),
						Error::<Test>::Price(PriceError::Missing)
					);
				} else {
					// Without debt the account may deposit at the last price (the cap's).
					assert_ok!(Margin::deposit(origin(DAVE), BTC, 1_000));
				}
				// Without debt the account is healthy at any price: it may leave.
				assert_ok!(Margin::withdraw(origin(DAVE), BTC, Amount::All));
				// Alice never borrowed: her withdrawal needs no price at all.
				set_price_error(USD, error);
				assert_ok!(Margin::withdraw(origin(ALICE), USD, Amount::All));
			});
		}
	}

	#[test]
	fn positions_per_account_are_bounded() {
		test(|| {
			for asset in [USD, BTC, ETH, NATIVE] {
				assert_ok!(Margin::deposit(origin(ALICE), asset, 1_000));
			}
			assert_eq!(Portfolios::<Test>::get(ALICE).len(), 4);
			assert_eq!(Margin::positions_of(&ALICE).len(), 4);
		});
	}
}

mod derivatives {
	use super::*;
	use liquidation_primitives::DerivativeHealth;
	use liquidation_test_support::set_exposure;

	fn usd_value(n: u32) -> FixedU128 {
		FixedU128::from_u32(n)
	}

	/// Perpetual positions count in the account's one health: weighted profit as collateral,
	/// loss and requirements as debt (profit and loss weighed as USD deposits and debt); an account without spot debt but with positions may not
	/// withdraw what they need, and becomes liquidatable when they lose.
	#[test]
	fn derivative_positions_count_in_the_one_health() {
		test(|| {
			// Bob deposits 1 BTC (60 000 USD: 48 000 initial, 54 000 maintenance collateral).
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			let spot = Margin::health_of(&BOB).unwrap();
			// His perps: 1 000 of profit (half of it counted for opening risk, all against
			// liquidation), 3 000 of loss, 20 000 initial and 10 000 maintenance requirement.
			let derivatives = DerivativeHealth {
				gain: usd_value(1_000),
				initial_gain: usd_value(500),
				maintenance_gain: usd_value(1_000),
				loss: usd_value(3_000),
				initial_requirement: usd_value(20_000),
				maintenance_requirement: usd_value(10_000),
			};
			set_exposure(&BOB, Some(derivatives));
			Margin::exposure_changed(&BOB);
			let report = Margin::health_of(&BOB).unwrap();
			// Profit and loss weigh as a USD deposit or debt would: profit at 90% (initial) and
			// 95% (maintenance), loss at 1.10 and 1.05.
			assert_eq!(report.collateral_value, spot.collateral_value + usd_value(1_000));
			assert_eq!(report.debt_value, usd_value(3_000));
			assert_eq!(report.initial_collateral, spot.initial_collateral + usd_value(450));
			assert_eq!(report.maintenance_collateral, spot.maintenance_collateral + usd_value(950));
			assert_eq!(report.initial_debt, usd_value(23_300));
			assert_eq!(report.maintenance_debt, usd_value(13_150));
			assert_eq!(report.derivatives, derivatives);
			// Without spot debt he still may not withdraw what his positions need: initial
			// 48 450 against 23 300 leaves 25 150 of initial surplus, 0.52 BTC at 0.8 weight.
			assert_noop!(
				Margin::withdraw(origin(BOB), BTC, Amount::Exact(units(60, 6))),
				Error::<Test>::InsufficientMargin
			);
			assert_ok!(Margin::withdraw(origin(BOB), BTC, Amount::Exact(units(50, 6))));
			// A loss beyond the maintenance collateral makes him liquidatable.
			set_exposure(&BOB, Some(DerivativeHealth { loss: usd_value(40_000), ..derivatives }));
			assert!(Margin::health_of(&BOB).unwrap().is_liquidatable());
			// Without positions, nothing of it counts.
			set_exposure(&BOB, None);
			Margin::exposure_changed(&BOB);
			assert_eq!(Margin::health_of(&BOB).unwrap().debt_value, FixedU128::zero());
		});
	}

	/// An account with derivative positions can become liquidatable without spot debt: it is
	/// liable, filed in bucket 0 of the lists of the assets it holds (read by every walk), and
	/// found once its positions lose; closing them removes it.
	#[test]
	fn an_account_with_positions_is_liable_and_always_read() {
		test(|| {
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert!(!LiableAccounts::<Test>::contains_key(BOB));
			let small = DerivativeHealth {
				loss: usd_value(1_000),
				maintenance_requirement: usd_value(5_000),
				initial_requirement: usd_value(10_000),
				..Default::default()
			};
			set_exposure(&BOB, Some(small));
			Margin::exposure_changed(&BOB);
			assert!(LiableAccounts::<Test>::contains_key(BOB));
			let entry = RiskEntryOf::<Test>::get(BOB).unwrap();
			assert_eq!((entry.bucket, entry.assets.to_vec()), (0, vec![BTC]));
			// Healthy: returned by the walk (bucket 0 is always read), not liquidatable.
			assert_eq!(Margin::accounts_at_risk(None, 10).0, vec![BOB]);
			assert!(!Margin::health_of(&BOB).unwrap().is_liquidatable());
			// 60 000 of loss against 54 000 of maintenance collateral: liquidatable, and found
			// without any price move.
			set_exposure(&BOB, Some(DerivativeHealth { loss: usd_value(60_000), ..small }));
			Margin::exposure_changed(&BOB);
			assert!(Margin::health_of(&BOB).unwrap().is_liquidatable());
			assert_eq!(Margin::accounts_at_risk(None, 10).0, vec![BOB]);
			Margin::do_try_state().expect("invariants hold while liquidatable");
			// Positions closed: no longer liable nor filed.
			set_exposure(&BOB, None);
			Margin::exposure_changed(&BOB);
			assert!(!LiableAccounts::<Test>::contains_key(BOB));
			assert_eq!(RiskEntryOf::<Test>::get(BOB), None);
			assert_eq!(Margin::accounts_at_risk(None, 10), (vec![], None));
		});
	}

	/// With positions and no spot position at all, an account is filed in the settlement
	/// asset's list, so a walk still reads it; `try_state` checks it as any liable account.
	#[test]
	fn an_account_with_positions_only_is_filed_in_the_settlement_list() {
		test(|| {
			set_exposure(
				&CHARLIE,
				Some(DerivativeHealth { loss: usd_value(1), ..Default::default() }),
			);
			Margin::exposure_changed(&CHARLIE);
			assert!(!Portfolios::<Test>::contains_key(CHARLIE));
			let entry = RiskEntryOf::<Test>::get(CHARLIE).unwrap();
			assert_eq!((entry.bucket, entry.assets.to_vec()), (0, vec![USD]));
			assert_eq!(Margin::accounts_at_risk(None, 10).0, vec![CHARLIE]);
			assert!(Margin::health_of(&CHARLIE).unwrap().is_liquidatable());
			Margin::do_try_state().expect("invariants hold");
			// Forgetting to re-file is what `try_state` reports.
			set_exposure(&CHARLIE, None);
			assert!(Margin::do_try_state().is_err());
			Margin::exposure_changed(&CHARLIE);
		});
	}

	/// A charge takes the deposit first and lends the rest (debt for the trader, an equal
	/// deposit for the counterparty, no tokens moving); a profit paid back repays that debt
	/// first.
	#[test]
	fn a_charge_beyond_the_deposit_becomes_debt() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, 2_000_000));
			assert_ok!(Margin::deposit(origin(BOB), USD, 1_000));
			let cash = Margin::cash(USD);
			assert_ok!(Margin::charge(&BOB, USD, 400, &CHARLIE));
			assert_eq!(
				(Margin::deposit_of(&BOB, USD), Margin::deposit_of(&CHARLIE, USD)),
				(600, 400)
			);
			assert_eq!(
				last_event(),
				Event::Charged { who: BOB, asset: USD, amount: 400, lent: 0, to: CHARLIE }.into()
			);
			assert_ok!(Margin::charge(&BOB, USD, 1_000, &CHARLIE));
			assert_eq!(Margin::deposit_of(&BOB, USD), 0);
			assert_eq!(Margin::debt_of(&BOB, USD), 400);
			assert_eq!(Margin::deposit_of(&CHARLIE, USD), 1_400);
			assert_eq!(
				last_event(),
				Event::Charged { who: BOB, asset: USD, amount: 1_000, lent: 400, to: CHARLIE }
					.into()
			);
			assert!(LiableAccounts::<Test>::contains_key(BOB));
			assert_eq!(Margin::cash(USD), cash, "no tokens moved");
			// His profit paid back from Charlie's deposit repays the debt, the rest a deposit.
			assert_ok!(Margin::transfer_deposit(&CHARLIE, USD, 500, &BOB));
			assert_eq!((Margin::debt_of(&BOB, USD), Margin::deposit_of(&BOB, USD)), (0, 100));
			assert!(!LiableAccounts::<Test>::contains_key(BOB));
			assert_noop!(Margin::charge(&BOB, USD, 0, &CHARLIE), Error::<Test>::ZeroAmount);
			assert_noop!(
				Margin::charge(&BOB, liquidation_primitives::AssetId::Asset(99), 1, &CHARLIE),
				Error::<Test>::AssetNotListed
			);
		});
	}
}

mod ledger {
	use super::*;

	/// Alice lends 2 000 000 and Charlie 1 000 000 USD units; Bob borrows 1 000 000 against
	/// 0.1 BTC.
	fn lenders_and_a_borrower() {
		assert_ok!(Margin::deposit(origin(ALICE), USD, 2_000_000));
		assert_ok!(Margin::deposit(origin(CHARLIE), USD, 1_000_000));
		assert_ok!(Margin::deposit(origin(BOB), BTC, 10_000_000));
		assert_ok!(Margin::borrow(origin(BOB), USD, 1_000_000));
	}

	#[test]
	fn a_liquidator_repays_and_seizes() {
		test(|| {
			lenders_and_a_borrower();
			let repaid = Margin::repay_debt(&KEEPER, &BOB, USD, 400_000).unwrap();
			assert_eq!(repaid, 400_000);
			assert_eq!(Margin::debt_of(&BOB, USD), 600_000);
			assert_eq!(
				last_event(),
				Event::Repaid { payer: KEEPER, who: BOB, asset: USD, amount: 400_000 }.into()
			);
			let before = balance(BTC, KEEPER);
			assert_ok!(Margin::seize_collateral(&BOB, BTC, 3_000_000, &KEEPER));
			assert_eq!(balance(BTC, KEEPER), before + 3_000_000);
			assert_eq!(Margin::deposit_of(&BOB, BTC), 7_000_000);
			assert_noop!(
				Margin::seize_collateral(&BOB, BTC, 7_000_001, &KEEPER),
				Error::<Test>::InsufficientDeposit
			);
			assert_noop!(Margin::write_off(&BOB, USD), Error::<Test>::NotBankrupt);
			let weights = Margin::risk_weights(BTC).unwrap();
			assert_eq!(weights.decimals, 8);
			assert_eq!(weights.maintenance_collateral_weight, Permill::from_percent(90));
		});
	}

	/// A deposit position changes hands without cash: into a fresh account as a deposit, into
	/// an account that owes the asset as a repayment first. The pool's books still add up.
	#[test]
	fn a_deposit_position_moves_without_cash() {
		test(|| {
			lenders_and_a_borrower();
			// Bob's 1 000 000 borrowed and 3 000 000 lent: 2 000 000 USD of cash left; Dave
			// borrows it all against bitcoin.
			assert_ok!(Margin::deposit(origin(DAVE), BTC, 100_000_000));
			assert_ok!(Margin::borrow(origin(DAVE), USD, Margin::cash(USD)));
			assert_eq!(Margin::cash(USD), 0);
			assert_noop!(
				Margin::seize_collateral(&CHARLIE, USD, 1_000, &KEEPER),
				Error::<Test>::InsufficientLiquidity
			);
			assert_ok!(Margin::transfer_deposit(&CHARLIE, USD, 400_000, &KEEPER));
			assert_eq!(Margin::deposit_of(&CHARLIE, USD), 600_000);
			assert_eq!(Margin::deposit_of(&KEEPER, USD), 400_000);
			// Into Bob's account: 1 000 000 of debt, so 400 000 of claim repays that much.
			assert_ok!(Margin::transfer_deposit(&CHARLIE, USD, 400_000, &BOB));
			assert_eq!(Margin::debt_of(&BOB, USD), 600_000);
			assert_eq!(Margin::deposit_of(&CHARLIE, USD), 200_000);
			assert_noop!(
				Margin::transfer_deposit(&CHARLIE, USD, 200_001, &KEEPER),
				Error::<Test>::InsufficientDeposit
			);
			Margin::do_try_state().unwrap();
		});
	}

	#[test]
	fn collateral_comes_back_in_every_status() {
		test(|| {
			lenders_and_a_borrower();
			assert_ok!(Margin::seize_collateral(&BOB, BTC, 4_000_000, &KEEPER));
			assert_ok!(Margin::set_asset_status(RuntimeOrigin::root(), BTC, AssetStatus::Frozen));
			// A user may not deposit into a frozen asset; an auction's remainder still returns.
			assert_noop!(
				Margin::deposit(origin(KEEPER), BTC, 1_000),
				Error::<Test>::AssetNotActive
			);
			assert_ok!(Margin::credit_collateral(&KEEPER, &BOB, BTC, 1_000_000));
			assert_eq!(Margin::deposit_of(&BOB, BTC), 7_000_000);
			// Into an asset the account owes, it repays first.
			assert_ok!(Margin::credit_collateral(&KEEPER, &BOB, USD, 1_000_005));
			assert_eq!(Margin::debt_of(&BOB, USD), 0);
			assert_eq!(Margin::deposit_of(&BOB, USD), 5);
			assert_eq!(Margin::decimals(BTC), Some(8));
			assert_eq!(Margin::decimals(DOT), None);
		});
	}

	#[test]
	fn forfeited_dust_stays_with_the_pool() {
		test(|| {
			lenders_and_a_borrower();
			assert_ok!(Margin::seize_collateral(&BOB, BTC, 10_000_000 - 3, &KEEPER));
			let custody = Margin::custody(BTC);
			assert_eq!(Margin::forfeit_collateral(&BOB, BTC), Ok(3));
			assert_eq!(Margin::position(&BOB, BTC), None);
			assert_eq!(Margin::custody(BTC), custody);
			assert_eq!(
				last_event(),
				Event::CollateralForfeited { who: BOB, asset: BTC, amount: 3 }.into()
			);
			assert_noop!(Margin::forfeit_collateral(&BOB, BTC), Error::<Test>::NoDeposit);
			// Now bankrupt: the debt can be written off.
			assert_eq!(Margin::write_off(&BOB, USD), Ok(1_000_000));
		});
	}

	#[test]
	fn indebted_accounts_are_listed_with_a_cursor() {
		test(|| {
			assert_ok!(Margin::deposit(origin(KEEPER), USD, usd(1_000)));
			for who in [ALICE, BOB, CHARLIE, DAVE] {
				assert_ok!(Margin::deposit(origin(who), BTC, units(1, 8)));
				assert_ok!(Margin::borrow(origin(who), USD, usd(10)));
			}
			let mut seen = Vec::new();
			let mut cursor = None;
			loop {
				let page = Margin::indebted_accounts(cursor.as_ref(), 3);
				if page.is_empty() {
					break;
				}
				cursor = page.last().copied();
				seen.extend(page);
			}
			seen.sort();
			assert_eq!(seen, vec![ALICE, BOB, CHARLIE, DAVE]);
			assert_eq!(LiableAccounts::<Test>::count(), 4);
		});
	}

	#[test]
	fn socializing_a_loss_lowers_every_lenders_claim_pro_rata() {
		test(|| {
			lenders_and_a_borrower();
			// Bob loses all his collateral and is bankrupt with 1 000 000 owed.
			assert_ok!(Margin::seize_collateral(&BOB, BTC, 10_000_000, &KEEPER));
			assert_eq!(Margin::write_off(&BOB, USD), Ok(1_000_000));
			assert_eq!(Margin::position(&BOB, USD), None);
			assert!(!LiableAccounts::<Test>::contains_key(BOB));
			assert_eq!(Margin::bad_debt(USD), 1_000_000);
			// Insurance pays 400 000; 600 000 is left to socialize.
			assert_eq!(Margin::settle_bad_debt(USD, &INSURANCE, 400_000), Ok(400_000));
			assert_eq!(Margin::socialize(USD, 600_000), Ok(600_000));
			// 600 000 over 3 000 000 units: the deposit index falls by 0.2, every claim by 20%.
			assert_eq!(
				last_event(),
				Event::LossSocialized {
					asset: USD,
					amount: 600_000,
					deposit_index_before: FixedU128::one(),
					deposit_index_after: fixed(8, 10),
				}
				.into()
			);
			assert_eq!(Margin::deposit_of(&ALICE, USD), 1_600_000);
			assert_eq!(Margin::deposit_of(&CHARLIE, USD), 800_000);
			assert_eq!(Margin::bad_debt(USD), 0);
			let losses = Losses::<Test>::get(USD);
			assert_eq!(
				(losses.written_off, losses.settled, losses.socialized),
				(1_000_000, 400_000, 600_000)
			);
			// Nothing more to socialize: a caller cannot make lenders lose what was not lost.
			assert_eq!(Margin::socialize(USD, 1_000), Ok(0));
			// The pool is consistent: both lenders take out exactly their claims.
			assert_eq!(slack(USD), 1);
			assert_ok!(Margin::withdraw(origin(ALICE), USD, Amount::All));
			assert_ok!(Margin::withdraw(origin(CHARLIE), USD, Amount::All));
			assert_eq!(Margin::custody(USD), 1);
		});
	}

	#[test]
	fn a_loss_rounds_against_the_lenders() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, 1_000));
			assert_ok!(Margin::deposit(origin(CHARLIE), USD, 2_000));
			assert_ok!(Margin::deposit(origin(BOB), BTC, 10_000_000));
			assert_ok!(Margin::borrow(origin(BOB), USD, 1_000));
			assert_ok!(Margin::seize_collateral(&BOB, BTC, 10_000_000, &KEEPER));
			assert_ok!(Margin::write_off(&BOB, USD));
			// 1 000 over 3 000 units: the index falls by 1/3 rounded up, so the claims (666 and
			// 1 333, rounded down) fall by at least the loss together.
			assert_eq!(Margin::socialize(USD, 1_000), Ok(1_000));
			let claims = Margin::deposit_of(&ALICE, USD) + Margin::deposit_of(&CHARLIE, USD);
			assert!(claims <= 2_000, "claims {claims}");
			assert_eq!(
				(Margin::deposit_of(&ALICE, USD), Margin::deposit_of(&CHARLIE, USD)),
				(666, 1_333)
			);
		});
	}

	#[test]
	fn a_loss_beyond_the_deposits_stays_recorded() {
		test(|| {
			// All that was lent is borrowed and lost.
			assert_ok!(Margin::deposit(origin(ALICE), USD, 1_000));
			assert_ok!(Margin::deposit(origin(BOB), BTC, 10_000_000));
			assert_ok!(Margin::borrow(origin(BOB), USD, 1_000));
			assert_ok!(Margin::seize_collateral(&BOB, BTC, 10_000_000, &KEEPER));
			assert_ok!(Margin::write_off(&BOB, USD));
			// The index may not fall below one millionth: 1 000 units absorb at most
			// 1 000 * (1 - 0.000001) = 999.999, rounded down to 999; the index falls by 0.999.
			assert_eq!(Margin::socialize(USD, 1_000), Ok(999));
			assert_eq!(Margin::bad_debt(USD), 1);
			let index = Markets::<Test>::get(USD).unwrap().pool.deposit_index;
			assert_eq!(index, fixed(1, 1_000));
			assert!(index >= MIN_DEPOSIT_INDEX);
			assert_eq!(Margin::deposit_of(&ALICE, USD), 1);
			// Nothing more can be taken from the lenders; the unit left stays recorded.
			assert_eq!(Margin::socialize(USD, 1), Ok(0));
			assert_eq!(Margin::bad_debt(USD), 1);
		});
	}
}

mod property {
	use super::*;
	use liquidation_primitives::AssetId;

	/// Random deposits, withdrawals, borrows, repayments, price moves, liquidation moves and
	/// loss socialization from several accounts over many blocks. After every step the
	/// invariants hold; every refused action changed nothing; each pool's rounding slack only
	/// ever favours the pool and stays within a few units per action.
	#[test]
	fn random_actions_keep_the_pools_consistent() {
		test(|| {
			let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
			let mut next = move |bound: u64| {
				seed ^= seed >> 12;
				seed ^= seed << 25;
				seed ^= seed >> 27;
				seed.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
			};
			let accounts = [ALICE, BOB, CHARLIE, DAVE];
			let assets = [USD, BTC, ETH, NATIVE];
			let scale = |asset: AssetId| -> u64 {
				match asset {
					USD => 1_000_000,
					BTC => 1_000,
					ETH => 1_000_000_000_000,
					_ => 1_000_000_000,
				}
			};
			let base_prices = [(USD, 1u32), (BTC, 60_000), (ETH, 3_000), (NATIVE, 5)];
			let mut actions = 0u128;
			let mut refused = 0u32;
			for _ in 0..3_000 {
				let who = accounts[next(4) as usize];
				let asset = assets[next(4) as usize];
				let amount = Balance::from(next(10_000) + 1) * Balance::from(scale(asset));
				let root = sp_io::storage::root(sp_runtime::StateVersion::V1);
				let result = match next(10) {
					0 | 1 => Margin::deposit(origin(who), asset, amount),
					2 => Margin::withdraw(origin(who), asset, Amount::Exact(amount))
						.map(|_| ())
						.map_err(|e| e.error),
					3 => Margin::withdraw(origin(who), asset, Amount::All)
						.map(|_| ())
						.map_err(|e| e.error),
					4 | 5 => Margin::borrow(origin(who), asset, amount / 4)
						.map(|_| ())
						.map_err(|e| e.error),
					6 => Margin::repay(
						origin(who),
						asset,
						if next(2) == 0 { Amount::All } else { Amount::Exact(amount / 8) },
					),
					7 => {
						// A price move of up to -60% .. +40% on one asset.
						let (asset, base) = base_prices[next(4) as usize];
						let factor = fixed(40 + u128::from(next(81)), 100);
						set_price(asset, FixedU128::from_u32(base) * factor);
						Ok(())
					},
					8 => {
						// A liquidation-like sequence on an indebted account: a keeper repays
						// part of a debt and seizes collateral; a bankrupt one is written off,
						// settled in part and socialized.
						liquidate_somewhat(who, &mut next);
						Ok(())
					},
					_ => {
						run_to_block(System::block_number() + 1 + next(50));
						if next(3) == 0 {
							let _ = Margin::collect_reserve(origin(KEEPER), asset);
						}
						// The block's spare weight keeps the risk index: new epochs, re-filing.
						<Margin as frame_support::traits::Hooks<u64>>::on_idle(
							System::block_number(),
							frame_support::weights::Weight::MAX,
						);
						Ok(())
					},
				};
				match result {
					Ok(()) => actions += 1,
					Err(_) => {
						refused += 1;
						assert_eq!(
							sp_io::storage::root(sp_runtime::StateVersion::V1),
							root,
							"a refused action changed state: {result:?}"
						);
					},
				}
				Margin::do_try_state().expect("invariants hold");
				assert_eq!(risk_index::by_index(2).0, risk_index::by_full_scan());
				for asset in assets {
					// Custody endowment (at most 5) plus a few units of rounding per action.
					assert!(
						slack(asset) <= 5 + 4 * actions,
						"slack of {asset:?}: {}",
						slack(asset)
					);
				}
			}
			assert!(actions > 1_000 && refused > 100, "both paths ran: {actions} / {refused}");
			// The liquidation moves ran too: collateral seized, debt written off and socialized.
			let seized = System::events()
				.iter()
				.filter(|r| matches!(r.event, RuntimeEvent::Margin(Event::CollateralSeized { .. })))
				.count();
			let losses: Vec<_> = assets.iter().map(|a| Losses::<Test>::get(a)).collect();
			assert!(seized > 0, "no collateral was seized");
			assert!(losses.iter().any(|l| l.written_off > 0 && l.socialized > 0), "{losses:?}");
			assert!(LiableAccounts::<Test>::count() > 0);
			assert!(RiskEpoch::<Test>::get() > 1, "the risk index started new epochs");
		});
	}

	fn liquidate_somewhat(who: AccountId, next: &mut impl FnMut(u64) -> u64) {
		// The ledger's moves do not check health (the engine does); any indebted account will do
		// here, so that seizures and write-offs happen often.
		if !LiableAccounts::<Test>::contains_key(who) {
			return;
		}
		for (asset, deposit, debt) in Margin::positions(&who) {
			if debt > 0 {
				let _ = Margin::repay_debt(&KEEPER, &who, asset, debt / 2 + 1);
			}
			if deposit > 0 && next(2) == 0 {
				let _ = Margin::seize_collateral(&who, asset, deposit, &KEEPER);
			}
		}
		let bankrupt = Margin::positions(&who).iter().all(|(_, deposit, _)| *deposit == 0);
		if bankrupt {
			for (asset, _, _) in Margin::positions(&who) {
				if let Ok(debt) = Margin::write_off(&who, asset) {
					let _ = Margin::settle_bad_debt(asset, &INSURANCE, debt / 3);
					let _ = Margin::socialize(asset, debt);
				}
			}
		}
	}
}

mod risk_index {
	use super::*;
	use crate::risk_index::{bucket_of_distance, last_bucket_at_risk, MAX_BUCKET};
	use alloc::collections::btree_set::BTreeSet;
	use frame_support::{
		traits::{fungibles::Mutate, Hooks},
		weights::Weight,
	};
	use liquidation_primitives::AssetId;

	/// Liquidatable accounts by reading every indebted account.
	pub(super) fn by_full_scan() -> BTreeSet<AccountId> {
		LiableAccounts::<Test>::iter_keys()
			.filter(|who| Margin::health_of(who).map(|r| r.is_liquidatable()).unwrap_or(false))
			.collect()
	}

	/// Liquidatable accounts among those the index returns, walked `page` at a time; and how
	/// many accounts it returned.
	pub(super) fn by_index(page: u32) -> (BTreeSet<AccountId>, usize) {
		let mut candidates = Vec::new();
		let mut cursor = None;
		loop {
			let (found, next) = Margin::accounts_at_risk(cursor.as_ref(), page);
			candidates.extend(found);
			match next {
				Some(next) => cursor = Some(next),
				None => break,
			}
		}
		let read = candidates.len();
		let distinct: BTreeSet<AccountId> = candidates.iter().copied().collect();
		assert_eq!(distinct.len(), read, "the walk returned an account twice");
		let liquidatable = distinct
			.into_iter()
			.filter(|who| Margin::health_of(who).map(|r| r.is_liquidatable()).unwrap_or(false))
			.collect();
		(liquidatable, read)
	}

	fn idle() {
		Margin::on_idle(System::block_number(), Weight::MAX);
	}

	#[test]
	fn buckets_and_reach_match_hand_figures() {
		// Distance 5% (500 bp): filed one bucket low, in bucket 499.
		assert_eq!(bucket_of_distance(fixed(5, 100)), 499);
		assert_eq!(bucket_of_distance(FixedU128::zero()), 0);
		assert_eq!(bucket_of_distance(FixedU128::one()), MAX_BUCKET - 1);
		// A move of 5% reaches buckets below 500; of 5.001% one more; none but 0 without a move.
		assert_eq!(last_bucket_at_risk(Some(fixed(5, 100))), 499);
		assert_eq!(last_bucket_at_risk(Some(fixed(5001, 100_000))), 500);
		assert_eq!(last_bucket_at_risk(Some(FixedU128::zero())), 0);
		// From 50% on, and for an unbounded move, everything.
		assert_eq!(last_bucket_at_risk(Some(fixed(1, 2))), MAX_BUCKET);
		assert_eq!(last_bucket_at_risk(None), MAX_BUCKET);
	}

	#[test]
	fn an_account_is_filed_by_its_distance_and_refiled_on_every_change() {
		test(|| {
			assert_ok!(Margin::deposit(origin(KEEPER), USD, usd(100_000)));
			idle();
			assert_eq!(RiskEpoch::<Test>::get(), 1);
			assert_eq!(
				last_event(),
				Event::RiskIndexRebased { epoch: 1, assets_referenced: 4 }.into()
			);
			// 1 BTC at 60 000 under maintenance weight 0.9 (54 000) against 20 000 USD under
			// 1.05 (21 000): distance 33 000 / 75 000 = 44%, filed in bucket 4 399.
			assert_ok!(Margin::deposit(origin(ALICE), BTC, units(1, 8)));
			assert_eq!(RiskEntryOf::<Test>::get(ALICE), None);
			assert_ok!(Margin::borrow(origin(ALICE), USD, usd(20_000)));
			let entry = RiskEntryOf::<Test>::get(ALICE).unwrap();
			assert_eq!((entry.slot, entry.bucket), (1, 4_398));
			// Filed in the list of each asset held, at the one bucket.
			let mut held = vec![BTC, USD];
			held.sort();
			assert_eq!(entry.assets.to_vec(), held);
			for asset in [BTC, USD] {
				let key = (1, asset, crate::risk_index::bucket_key(4_398), ALICE);
				assert!(RiskIndex::<Test>::contains_key(key));
			}
			// Borrowing 10 000 more: 54 000 against 31 500, distance 26.31%: bucket 2 630.
			assert_ok!(Margin::borrow(origin(ALICE), USD, usd(10_000)));
			assert_eq!(RiskEntryOf::<Test>::get(ALICE).unwrap().bucket, 2_630);
			for asset in [BTC, USD] {
				let old = (1, asset, crate::risk_index::bucket_key(4_398), ALICE);
				assert!(!RiskIndex::<Test>::contains_key(old));
				let new = (1, asset, crate::risk_index::bucket_key(2_630), ALICE);
				assert!(RiskIndex::<Test>::contains_key(new));
			}
			assert_eq!(SlotSize::<Test>::get(1), 1);
			// Repaying everything takes the account out of the index.
			assert_ok!(Margin::repay(origin(ALICE), USD, Amount::All));
			assert_eq!(RiskEntryOf::<Test>::get(ALICE), None);
			assert_eq!(SlotSize::<Test>::get(1), 0);
		});
	}

	#[test]
	fn a_small_move_reads_only_the_accounts_near_liquidation() {
		test(|| {
			assert_ok!(Margin::deposit(origin(KEEPER), USD, usd(100_000)));
			idle();
			// Alice far (44%); Bob as near as initial health lets him borrow: 54 000 against
			// 45 150 weighted, distance 8 850 / 99 150 = 8.93%, bucket 891.
			for (who, debt) in [(ALICE, 20_000), (BOB, 43_000)] {
				assert_ok!(Margin::deposit(origin(who), BTC, units(1, 8)));
				assert_ok!(Margin::borrow(origin(who), USD, usd(debt)));
			}
			assert_eq!(RiskEntryOf::<Test>::get(BOB).unwrap().bucket, 891);
			// No move: only bucket 0, empty.
			assert_eq!(Margin::accounts_at_risk(None, 10), (vec![], None));
			// BTC -5% reaches nobody; -9% reaches Bob, who is not liquidatable yet.
			set_price(BTC, Price::from_u32(57_000));
			assert_eq!(Margin::accounts_at_risk(None, 10), (vec![], None));
			set_price(BTC, Price::from_u32(54_600));
			assert_eq!(Margin::accounts_at_risk(None, 10).0, vec![BOB]);
			assert!(by_full_scan().is_empty());
			// BTC -17%: Bob is liquidatable (44 820 against 45 150), and found.
			set_price(BTC, Price::from_u32(49_800));
			assert_eq!(by_full_scan(), [BOB].into());
			assert_eq!(by_index(10), ([BOB].into(), 1));
			// Interest counts as a move of the debt unit: a year at a high rate reaches Alice.
			set_price(BTC, Price::from_u32(60_000));
			run_to_block(3_000);
			assert!(Margin::adverse_move_since_reference(1).unwrap() > fixed(1, 100));
		});
	}

	/// A lender, and three borrowers within 12% of liquidation: Alice against BTC, Bob against
	/// ETH, Charlie against both. Maintenance: Alice 54 000 against 45 150 (distance 8.9%), Bob
	/// 51 000 against 42 000 (9.7%), Charlie 27 000 + 25 500 against 43 050 (9.9%).
	fn btc_eth_and_both_borrowers() {
		assert_ok!(Margin::deposit(origin(KEEPER), USD, usd(1_000_000)));
		idle();
		assert_ok!(Margin::deposit(origin(ALICE), BTC, units(1, 8)));
		assert_ok!(Margin::borrow(origin(ALICE), USD, usd(43_000)));
		assert_ok!(Margin::deposit(origin(BOB), ETH, units(20, 18)));
		assert_ok!(Margin::borrow(origin(BOB), USD, usd(40_000)));
		assert_ok!(Margin::deposit(origin(CHARLIE), BTC, units(1, 8) / 2));
		assert_ok!(Margin::deposit(origin(CHARLIE), ETH, units(10, 18)));
		assert_ok!(Margin::borrow(origin(CHARLIE), USD, usd(41_000)));
	}

	/// The move of one asset reads only the accounts holding it: an account in another asset
	/// as near to liquidation is not read, and one holding two moved assets is returned once.
	#[test]
	fn a_move_reads_only_the_holders_of_the_moved_asset() {
		test(|| {
			btc_eth_and_both_borrowers();
			let near = |who| RiskEntryOf::<Test>::get(who).unwrap().bucket;
			assert!(near(ALICE) < 1_200 && near(BOB) < 1_200 && near(CHARLIE) < 1_200);
			// ETH -20%: Bob (liquidatable: 40 800 against 42 000) and Charlie (not yet) read;
			// Alice not, though nearer.
			set_price(ETH, Price::from_u32(2_400));
			assert_eq!(by_full_scan(), [BOB].into());
			assert_eq!(by_index(10), ([BOB].into(), 2));
			// BTC -20% too: all three, Charlie met in both lists and returned once, whatever
			// the page size (the cursor crosses lists).
			set_price(BTC, Price::from_u32(48_000));
			for page in [1, 2, 10] {
				assert_eq!(by_index(page), ([ALICE, BOB, CHARLIE].into(), 3));
			}
			// ETH back: Bob not read; Alice and Charlie through BTC's list.
			set_price(ETH, Price::from_u32(3_000));
			assert_eq!(by_index(10).1, 2);
			assert_eq!(Margin::reaches(1).iter().find(|(a, _)| *a == ETH).unwrap().1, 0);
			Margin::do_try_state().expect("invariants hold");
		});
	}

	/// A walk paged over blocks judges what it has not passed at each block's moves: a move of
	/// another asset after the first page extends the walk past the cursor. Every entry read
	/// counts towards the page, returned or not.
	#[test]
	fn a_paged_walk_follows_the_moves_between_pages() {
		test(|| {
			btc_eth_and_both_borrowers();
			let bucket = |who| RiskEntryOf::<Test>::get(who).unwrap().bucket;
			// Alice nearest, then Bob, then Charlie.
			assert!(bucket(ALICE) < bucket(BOB) && bucket(BOB) < bucket(CHARLIE));
			// BTC -15%: the BTC list reaches Alice and Charlie; a page of one entry is Alice.
			set_price(BTC, Price::from_u32(51_000));
			let (page, cursor) = Margin::accounts_at_risk(None, 1);
			assert_eq!(page, vec![ALICE]);
			// Next block, ETH -20% as well: the walk goes on from Alice's bucket, and Bob,
			// filed further, is in it. Charlie, in both lists, is read twice (both entries count
			// towards the page) and returned once.
			set_price(ETH, Price::from_u32(2_400));
			let (page, cursor) = Margin::accounts_at_risk(cursor.as_ref(), 3);
			assert_eq!(page, vec![BOB, CHARLIE]);
			assert_eq!(Margin::accounts_at_risk(cursor.as_ref(), 3), (vec![], None));
		});
	}

	#[test]
	fn a_new_epoch_refiles_the_old_one_over_several_blocks() {
		test(|| {
			assert_ok!(Margin::deposit(origin(KEEPER), USD, usd(1_000_000)));
			idle();
			for who in [ALICE, BOB, CHARLIE, DAVE] {
				assert_ok!(Margin::deposit(origin(who), BTC, units(1, 8)));
				assert_ok!(Margin::borrow(origin(who), USD, usd(30_000)));
			}
			assert_eq!(SlotSize::<Test>::get(1), 4);
			// A 1% move is under the 2% rebase threshold: nothing happens.
			set_price(BTC, Price::from_u32(59_400));
			idle();
			assert_eq!(RiskEpoch::<Test>::get(), 1);
			// A 3% move starts epoch 2 (slot 0) ...
			set_price(BTC, Price::from_u32(58_200));
			idle();
			assert_eq!(RiskEpoch::<Test>::get(), 2);
			assert_eq!(References::<Test>::get(0, BTC).unwrap().price, Price::from_u32(58_200));
			// ... whose first blocks re-file three accounts each (the mock's bound).
			assert_eq!((SlotSize::<Test>::get(1), SlotSize::<Test>::get(0)), (4, 0));
			idle();
			assert_eq!((SlotSize::<Test>::get(1), SlotSize::<Test>::get(0)), (1, 3));
			// Meanwhile both slots are read, each against its own reference.
			set_price(BTC, Price::from_u32(40_000));
			assert_eq!(by_index(1), (by_full_scan(), 4));
			idle();
			assert_eq!((SlotSize::<Test>::get(1), SlotSize::<Test>::get(0)), (0, 4));
			// No new epoch until no account is left in the previous one, then one at once.
			idle();
			assert_eq!(RiskEpoch::<Test>::get(), 3);
		});
	}

	#[test]
	fn without_a_reference_every_account_is_read() {
		test(|| {
			assert_ok!(Margin::deposit(origin(KEEPER), USD, usd(100_000)));
			assert_ok!(Margin::deposit(origin(ALICE), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(ALICE), USD, usd(1_000)));
			// No epoch yet: bucket 0, always read.
			assert_eq!(RiskEntryOf::<Test>::get(ALICE).unwrap().bucket, 0);
			assert_eq!(Margin::accounts_at_risk(None, 10).0, vec![ALICE]);
			// Once referenced, filed by distance: 54 000 against 1 050 is 96.19%.
			idle();
			idle();
			assert_eq!(RiskEntryOf::<Test>::get(ALICE).unwrap().bucket, 9_617);
			// A tiny debt too: its rounding is in the allowance (1 BTC against 0.1 USD).
			assert_ok!(Margin::deposit(origin(BOB), BTC, units(1, 8)));
			assert_ok!(Margin::borrow(origin(BOB), USD, 99_999));
			assert_eq!(RiskEntryOf::<Test>::get(BOB).unwrap().bucket, 9_998);
		});
	}

	/// Index-based and full-scan detection find the same accounts over random portfolios and
	/// random price moves, interest, new epochs and re-filing; and the index reads fewer.
	#[test]
	fn the_index_finds_what_a_full_scan_finds() {
		test(|| {
			let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
			let mut next = move |bound: u64| {
				seed ^= seed >> 12;
				seed ^= seed << 25;
				seed ^= seed >> 27;
				seed.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
			};
			let base: [(AssetId, u32, u128); 4] = [
				(USD, 1, 1_000_000),
				(BTC, 60_000, 100),
				(ETH, 3_000, 10_000_000_000_000),
				(NATIVE, 5, 1_000_000_000_000),
			];
			for (asset, _, _) in base {
				assert_ok!(Margin::deposit(origin(KEEPER), asset, ENDOWMENT / 1_000));
			}
			idle();
			let accounts: Vec<AccountId> = (1_000..1_150).collect();
			for who in accounts.iter().copied() {
				for (asset, _, unit) in base {
					assert_ok!(AllAssets::mint_into(asset, &who, unit * 1_000_000_000));
				}
				// One to three deposits, worth 100 to 100 000 USD each.
				for _ in 0..1 + next(3) {
					let (asset, price, unit) = base[next(4) as usize];
					let amount = unit * u128::from(100 + next(100_000)) / u128::from(price);
					assert_ok!(Margin::deposit(origin(who), asset, amount.max(unit)));
				}
				// One or two debts, as much as initial health allows or a random part of it.
				for _ in 0..1 + next(2) {
					let (asset, price, unit) = base[next(4) as usize];
					let mut amount = unit * 200_000 / u128::from(price);
					while amount > 1 && Margin::borrow(origin(who), asset, amount).is_err() {
						amount = amount * u128::from(50 + next(50)) / 100;
					}
				}
			}
			let indebted = LiableAccounts::<Test>::count() as usize;
			assert!(indebted > 100, "{indebted} indebted accounts");
			let (mut read, mut scanned, mut found) = (0usize, 0usize, 0usize);
			for round in 0..60 {
				match next(6) {
					// A market-wide move of -5% .. +5% from the base.
					0 | 1 => {
						for (asset, price, _) in base.iter().skip(1) {
							let factor = fixed(95 + u128::from(next(11)), 100);
							set_price(*asset, FixedU128::from_u32(*price) * factor);
						}
					},
					// One asset crashes or spikes by up to 30%.
					2 => {
						let (asset, price, _) = base[1 + next(3) as usize];
						let factor = fixed(70 + u128::from(next(61)), 100);
						set_price(asset, FixedU128::from_u32(price) * factor);
					},
					// Interest.
					3 => run_to_block(System::block_number() + 1 + next(200)),
					// A user acts.
					4 => {
						let who = accounts[next(accounts.len() as u64) as usize];
						let (asset, _, unit) = base[next(4) as usize];
						let _ = match next(3) {
							0 => Margin::repay(origin(who), asset, Amount::Exact(unit)),
							1 => Margin::deposit(origin(who), asset, unit),
							_ => Margin::borrow(origin(who), asset, unit)
								.map(|_| ())
								.map_err(|e| e.error),
						};
					},
					// The chain's spare weight: new epochs and re-filing.
					_ => idle(),
				}
				let full = by_full_scan();
				let (indexed, candidates) = by_index(1 + (round % 7) as u32);
				assert_eq!(indexed, full, "round {round}: index and full scan differ");
				read += candidates;
				scanned += indebted;
				found += full.len();
				Margin::do_try_state().expect("invariants hold");
			}
			assert!(found > 0, "some rounds had liquidatable accounts");
			// Even with 30% moves in the mix, the index read less than a full scan.
			assert!(read < scanned, "index read {read} of {scanned}");
		});
	}
}

mod volatility_margins {
	use super::*;
	use crate::volatility::{VolatilityPolicy, MAX_WIDENING};
	use frame_support::traits::Hooks;
	use liquidation_primitives::AssetId;
	use liquidation_test_support::{set_price_error, set_volatility};
	use sp_runtime::PerThing;

	fn next_block() {
		let now = System::block_number() + 1;
		run_to_block(now);
		Margin::on_initialize(now);
	}

	fn policy() -> VolatilityPolicy {
		VolatilityPolicy {
			reference_volatility: fixed(5, 100),
			max_widening: Permill::from_percent(40),
			max_step_per_day: Permill::from_percent(10),
		}
	}

	fn btc_maintenance_weight() -> Permill {
		<Margin as liquidation_primitives::ledger::Inspect<_>>::risk_weights(BTC)
			.unwrap()
			.maintenance_collateral_weight
	}

	/// A synthetic volatility series on BTC (reference 5 % a day, widening at most 40 %, 10 %
	/// a day: the mock's day is two blocks, so 5 % a block): at 20 % the target is
	/// `1 - 5 / 20 = 75 %`, capped at 40 %, reached in eight steps of exactly 5 %; back at 6 %
	/// the target is `1 - 5 / 6 = 16.67 %`, reached by relaxing 5 % a step. The weights in force
	/// follow (maintenance collateral weight `90 % (1 - x)`, liability `1.10 / (1 - x)`); Dave,
	/// healthy at the listed weights, becomes liquidatable as they widen, and the risk index
	/// finds him as a full scan does.
	#[test]
	fn weights_widen_and_relax_at_the_step_limit() {
		test(|| {
			assert_ok!(Margin::deposit(origin(ALICE), USD, usd(100_000)));
			assert_ok!(Margin::deposit(origin(DAVE), BTC, units(1, 8)));
			// 40 000 USD against 1 BTC at 60 000: 54 000 of maintenance collateral against
			// 42 000 of maintenance debt, until BTC's weight is widened by more than
			// 1 - 42 000 / 54 000 = 22.2 %.
			assert_ok!(Margin::borrow(origin(DAVE), USD, usd(40_000)));
			// A reference epoch, Dave filed at his distance (not in bucket 0, which every walk
			// reads): only the widening's move can bring the walk to him.
			Margin::rebase();
			Margin::reindex_account(&DAVE);
			let entry = RiskEntryOf::<Test>::get(DAVE).expect("filed");
			assert!(entry.bucket > 0, "{entry:?}");
			assert!(!Margin::accounts_at_risk(None, 100).0.contains(&DAVE), "out of reach");
			assert_ok!(Margin::set_volatility_policy(RuntimeOrigin::root(), BTC, Some(policy())));
			set_volatility(BTC, fixed(20, 100));
			let mut seen = Vec::new();
			for step in 1..=10u32 {
				next_block();
				let widening = Widenings::<Test>::get(BTC);
				seen.push(widening);
				assert_eq!(widening, Permill::from_percent((5 * step).min(40)), "step {step}");
				assert_eq!(
					btc_maintenance_weight(),
					Permill::from_percent(90) * widening.left_from_one()
				);
				let liquidatable = Margin::health_of(&DAVE).unwrap().is_liquidatable();
				assert_eq!(
					liquidatable,
					widening > Permill::from_rational(12u32, 54),
					"{widening:?}"
				);
				let (found, _) = Margin::accounts_at_risk(None, 100);
				assert!(
					found.contains(&DAVE) || !liquidatable,
					"the index finds him at {widening:?}"
				);
			}
			assert_eq!(
				last_event(),
				Event::WeightsWidened {
					asset: BTC,
					widening: Permill::from_percent(40),
					target: Permill::from_percent(40),
					volatility: fixed(20, 100),
				}
				.into()
			);
			// Calm returns: relaxing by the same step, to the new target.
			set_volatility(BTC, fixed(6, 100));
			// 1 - 5 / 6: 833 333 ppm kept, 166 667 widened.
			let target = Permill::from_parts(166_667);
			assert_eq!(policy().target(fixed(6, 100)), target);
			for step in 1..=6u32 {
				next_block();
				let expected = Permill::from_percent(40u32.saturating_sub(5 * step)).max(target);
				assert_eq!(Widenings::<Test>::get(BTC), expected, "relax {step}");
			}
			assert_eq!(Widenings::<Test>::get(BTC), target);
			// The liability weight grows as the collateral weight shrinks.
			let weights =
				<Margin as liquidation_primitives::ledger::Inspect<_>>::risk_weights(USD).unwrap();
			assert_eq!(weights.maintenance_liability_weight, fixed(105, 100), "USD has no policy");
			// Removing the policy restores the listed weights at once, and says so.
			assert_ok!(Margin::set_volatility_policy(RuntimeOrigin::root(), BTC, None));
			assert_eq!(btc_maintenance_weight(), Permill::from_percent(90));
			let reset = Event::WeightsWidened {
				asset: BTC,
				widening: Permill::zero(),
				target: Permill::zero(),
				volatility: fixed(6, 100),
			};
			assert!(System::events().iter().any(|record| record.event == reset.clone().into()));
		});
	}

	#[test]
	fn a_policy_is_range_checked_and_governed() {
		test(|| {
			let bad = [
				VolatilityPolicy { reference_volatility: FixedU128::zero(), ..policy() },
				VolatilityPolicy {
					max_widening: MAX_WIDENING + Permill::from_percent(1),
					..policy()
				},
				VolatilityPolicy { max_step_per_day: Permill::from_parts(99), ..policy() },
				VolatilityPolicy { max_step_per_day: Permill::from_percent(50), ..policy() },
			];
			for policy in bad {
				assert_noop!(
					Margin::set_volatility_policy(RuntimeOrigin::root(), BTC, Some(policy)),
					Error::<Test>::PolicyOutOfRange
				);
			}
			assert_noop!(
				Margin::set_volatility_policy(origin(ALICE), BTC, Some(policy())),
				sp_runtime::DispatchError::BadOrigin
			);
			assert_noop!(
				Margin::set_volatility_policy(
					RuntimeOrigin::root(),
					AssetId::Asset(99),
					Some(policy())
				),
				Error::<Test>::AssetNotListed
			);
			// Not for the derivatives' settlement asset (its weight weighs every position's loss).
			assert_noop!(
				Margin::set_volatility_policy(RuntimeOrigin::root(), USD, Some(policy())),
				Error::<Test>::PolicyOutOfRange
			);
			// A new policy widens only after the risk-change delay, as a tightening waits.
			assert_ok!(Margin::set_risk_change_delay(RuntimeOrigin::root(), 3));
			assert_ok!(Margin::set_volatility_policy(RuntimeOrigin::root(), BTC, Some(policy())));
			set_volatility(BTC, fixed(20, 100));
			for _ in 0..2 {
				next_block();
				assert_eq!(Widenings::<Test>::get(BTC), Permill::zero(), "within the delay");
			}
			next_block();
			assert_eq!(Widenings::<Test>::get(BTC), Permill::from_percent(5));
			// Without a usable price the widening stays where it is.
			set_price_error(BTC, PriceError::Stale);
			next_block();
			assert_eq!(Widenings::<Test>::get(BTC), Permill::from_percent(5));
		});
	}
}
