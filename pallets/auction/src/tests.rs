//! Tests of the auction pallet.

use crate::{mock::*, pricing::*, *};
use frame_support::{assert_noop, assert_ok};
use liquidation_primitives::{Balance, CollateralAuction, Price, PriceError};
use sp_runtime::{FixedPointNumber, FixedU128, Permill};

fn price(n: u128) -> AuctionPrice {
	AuctionPrice::saturating_from_integer(n)
}

fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn last_event() -> RuntimeEvent {
	liquidation_test_support::last_event::<Test>()
}

/// The engine moves `lot` of `collateral` into custody and starts an auction for Alice.
fn start(
	collateral: liquidation_primitives::AssetId,
	lot: Balance,
	to_raise: Balance,
) -> AuctionId {
	use frame_support::traits::{fungibles::Mutate, tokens::Preservation};
	AllAssets::transfer(
		collateral,
		&ENGINE,
		&DutchAuction::custody_account(),
		lot,
		Preservation::Expendable,
	)
	.expect("the engine holds the lot");
	<DutchAuction as CollateralAuction<_>>::start(&ALICE, collateral, lot, USD, to_raise)
		.expect("the auction starts")
}

mod curve {
	use super::*;

	#[test]
	fn linear_prices_match_hand_figures() {
		let curve = PriceCurve::Linear { duration_blocks: 100 };
		let start = price(60_000);
		assert_eq!(curve.price_at(start, 0), price(60_000));
		assert_eq!(curve.price_at(start, 25), price(45_000));
		assert_eq!(curve.price_at(start, 50), price(30_000));
		assert_eq!(curve.price_at(start, 99), price(600));
		assert_eq!(curve.price_at(start, 100), price(0));
		assert_eq!(curve.price_at(start, 5_000), price(0));
		// 60 000 * 2 / 3 is 40 000 exactly; 1 * 2 / 3 rounds up (the owner's side).
		let curve = PriceCurve::Linear { duration_blocks: 3 };
		assert_eq!(curve.price_at(price(60_000), 1), price(40_000));
		assert_eq!(curve.price_at(FixedU128::from_inner(1), 1), FixedU128::from_inner(1));
	}

	#[test]
	fn stepped_prices_match_hand_figures() {
		let curve = PriceCurve::StepExponential { step_blocks: 10, cut: Permill::from_percent(10) };
		let start = price(60_000);
		assert_eq!(curve.price_at(start, 9), price(60_000));
		assert_eq!(curve.price_at(start, 10), price(54_000));
		// Two cuts: 60 000 * 0.9^2 = 48 600.
		assert_eq!(curve.price_at(start, 25), price(48_600));
		// Ten cuts: 60 000 * 0.9^10 = 60 000 * 0.3486784401 = 20 920.706406.
		assert_eq!(
			curve.price_at(start, 100),
			FixedU128::saturating_from_rational(20_920_706_406u128, 1_000_000)
		);
	}

	#[test]
	fn payments_and_slices_convert_decimals() {
		// 0.2 BTC (8 decimals) at 45 000 USD (6 decimals) per BTC: 9 000 USD.
		assert_eq!(payment_for(20_000_000, price(45_000), 8, 6), Some(9_000 * DOLLAR));
		// 21 000 USD at 45 000 buys 0.4666.. BTC, rounded down to the satoshi.
		assert_eq!(collateral_for(21_000 * DOLLAR, price(45_000), 8, 6), Some(46_666_666));
		// From fewer to more decimals: 1 unit of a 6-decimal asset at 2 of an 18-decimal one.
		assert_eq!(payment_for(1, price(2), 6, 18), Some(2_000_000_000_000));
		assert_eq!(collateral_for(2_000_000_000_000, price(2), 6, 18), Some(1));
		// A payment of one smallest unit is never free: rounded up.
		assert_eq!(payment_for(1, price(45_000), 8, 6), Some(450));
		assert_eq!(payment_for(1, FixedU128::from_inner(1), 8, 6), Some(1));
		assert_eq!(collateral_for(1, price(0), 8, 6), None);
		assert_eq!(oracle_price(Price::from_u32(50_000), Price::from_u32(2)), Some(price(25_000)));
		assert_eq!(floor_of(price(50_000), Permill::from_percent(50)), price(25_000));
	}
}

mod auctions {
	use super::*;

	#[test]
	fn an_auction_starts_above_the_oracle() {
		test(|| {
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			assert_eq!(id, 0);
			let auction = Auctions::<Test>::get(id).unwrap();
			// Oracle 50 000, premium 1.2.
			assert_eq!(auction.start_price, price(60_000));
			assert_eq!(LotTotals::<Test>::get(BTC), BITCOIN);
			assert_eq!(
				last_event(),
				Event::Started {
					id,
					owner: ALICE,
					collateral: BTC,
					lot: BITCOIN,
					debt_asset: USD,
					to_raise: 30_000 * DOLLAR,
					start_price: price(60_000),
				}
				.into()
			);
			let report = DutchAuction::auction_report(id).unwrap();
			assert_eq!((report.price, report.oracle_price), (price(60_000), Some(price(50_000))));
			assert!(!report.needs_restart);
		});
	}

	#[test]
	fn starting_needs_parameters_room_and_the_lot_in_custody() {
		test(|| {
			assert_noop!(
				DutchAuction::start(&ALICE, DOT, 1_000, USD, 1_000),
				Error::<Test>::NotConfigured
			);
			assert_noop!(
				DutchAuction::start(&ALICE, BTC, BITCOIN, USD, 1_000),
				Error::<Test>::LotNotInCustody
			);
			assert_noop!(
				DutchAuction::start(&ALICE, BTC, 0, USD, 1_000),
				Error::<Test>::ZeroAmount
			);
			for _ in 0..3 {
				start(BTC, 10_000, 1_000);
			}
			use frame_support::traits::{fungibles::Mutate, tokens::Preservation};
			assert_ok!(AllAssets::transfer(
				BTC,
				&ENGINE,
				&DutchAuction::custody_account(),
				10_000,
				Preservation::Expendable
			));
			assert_noop!(
				DutchAuction::start(&ALICE, BTC, 10_000, USD, 1_000),
				Error::<Test>::TooManyAuctions
			);
			set_price_error(BTC, PriceError::Halted);
			assert_eq!(DutchAuction::auction_reports().len(), 3);
			assert!(DutchAuction::auction_reports().iter().all(|r| r.oracle_price.is_none()));
		});
	}

	#[docify::export]
	#[test]
	fn partial_takes_reduce_lot_and_amount_to_raise_exactly_then_the_rest_returns() {
		test(|| {
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			run_to_block(26);
			assert_eq!(DutchAuction::current_price(id), Some(price(45_000)));
			// Bob buys 0.2 BTC at 45 000: 9 000 USD.
			let bob_usd = balance(USD, BOB);
			assert_ok!(DutchAuction::take(origin(BOB), id, 20_000_000, price(45_000)));
			assert_eq!(balance(USD, BOB), bob_usd - 9_000 * DOLLAR);
			assert_eq!(balance(BTC, BOB), ENDOWMENT + 20_000_000);
			let auction = Auctions::<Test>::get(id).unwrap();
			assert_eq!((auction.lot, auction.to_raise), (80_000_000, 21_000 * DOLLAR));
			assert_eq!(LotTotals::<Test>::get(BTC), 80_000_000);
			// Charlie offers to buy it all: 0.8 BTC would cost 36 000, more than the 21 000 left,
			// so he pays 21 000 and gets 21 000 / 45 000 BTC, rounded down.
			assert_ok!(DutchAuction::take(origin(CHARLIE), id, BITCOIN, price(50_000)));
			assert_eq!(balance(BTC, CHARLIE), ENDOWMENT + 46_666_666);
			assert_eq!(balance(USD, CHARLIE), ENDOWMENT - 21_000 * DOLLAR);
			assert!(!Auctions::<Test>::contains_key(id));
			assert_eq!(
				last_event(),
				Event::Ended { id, returned: 33_333_334, shortfall: 0 }.into()
			);
			assert_eq!(
				handled(),
				vec![
					Handled::Proceeds { owner: ALICE, asset: USD, amount: 9_000 * DOLLAR },
					Handled::Proceeds { owner: ALICE, asset: USD, amount: 21_000 * DOLLAR },
					Handled::Remainder { owner: ALICE, asset: BTC, amount: 33_333_334 },
				]
			);
			assert_eq!(balance(USD, DEBT_SINK), ENDOWMENT + 30_000 * DOLLAR);
			assert_eq!(balance(BTC, ALICE), ENDOWMENT + 33_333_334);
			assert_eq!(LotTotals::<Test>::get(BTC), 0);
		});
	}

	#[test]
	fn a_lot_exhausted_short_of_what_it_has_to_raise_reports_the_exact_shortfall() {
		test(|| {
			let id = start(BTC, BITCOIN / 2, 30_000 * DOLLAR);
			run_to_block(26);
			assert_ok!(DutchAuction::take(origin(BOB), id, BITCOIN, price(45_000)));
			// 0.5 BTC at 45 000 raised 22 500 of 30 000.
			assert_eq!(
				handled(),
				vec![
					Handled::Proceeds { owner: ALICE, asset: USD, amount: 22_500 * DOLLAR },
					Handled::Shortfall { owner: ALICE, asset: USD, amount: 7_500 * DOLLAR },
				]
			);
			assert_eq!(
				last_event(),
				Event::Ended { id, returned: 0, shortfall: 7_500 * DOLLAR }.into()
			);
			assert!(!Auctions::<Test>::contains_key(id));
		});
	}

	/// The handler caps what an auction may still raise (its owner repaid part meanwhile): a
	/// take buys no more than that; once nothing is wanted nothing sells, no restart is paid,
	/// and anyone may close it, which returns the whole lot.
	#[test]
	fn an_auction_raises_only_what_is_still_wanted_and_an_unneeded_one_is_closed() {
		test(|| {
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			run_to_block(26);
			assert_noop!(DutchAuction::close(origin(CHARLIE), id), Error::<Test>::StillNeeded);
			// Alice repaid all but 9 000: Bob offers to buy it all and pays 9 000 for 0.2 BTC.
			set_wanted(Some(9_000 * DOLLAR));
			assert_eq!(DutchAuction::auction_report(id).unwrap().wanted, 9_000 * DOLLAR);
			assert_ok!(DutchAuction::take(origin(BOB), id, BITCOIN, price(45_000)));
			assert_eq!(balance(BTC, BOB), ENDOWMENT + 20_000_000);
			assert!(!Auctions::<Test>::contains_key(id));
			assert_eq!(
				last_event(),
				Event::Ended { id, returned: 80_000_000, shortfall: 0 }.into()
			);

			// Another lot, and Alice repays everything: nothing sells, nothing restarts.
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			set_wanted(Some(0));
			assert_eq!(DutchAuction::auction_report(id).unwrap().wanted, 0);
			assert_noop!(
				DutchAuction::take(origin(BOB), id, BITCOIN, price(1_000_000)),
				Error::<Test>::NotNeeded
			);
			run_to_block(500);
			assert_noop!(DutchAuction::redo(origin(CHARLIE), id), Error::<Test>::NotNeeded);
			let alice_btc = balance(BTC, ALICE);
			assert_ok!(DutchAuction::close(origin(CHARLIE), id));
			assert_eq!(balance(BTC, ALICE), alice_btc + BITCOIN);
			assert_eq!(last_event(), Event::Ended { id, returned: BITCOIN, shortfall: 0 }.into());
			assert_eq!(LotTotals::<Test>::get(BTC), 0);
		});
	}

	#[test]
	fn a_take_above_the_buyers_limit_changes_nothing() {
		test(|| {
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			run_to_block(26);
			assert_noop!(
				DutchAuction::take(origin(BOB), id, 20_000_000, price(44_999)),
				Error::<Test>::PriceAboveLimit
			);
			assert_noop!(
				DutchAuction::take(origin(BOB), 7, 1, price(1)),
				Error::<Test>::UnknownAuction
			);
			// A handler that fails undoes the whole take.
			fail_proceeds(true);
			assert_noop!(
				DutchAuction::take(origin(BOB), id, 20_000_000, price(45_000)),
				sp_runtime::DispatchError::Other("repayment failed")
			);
		});
	}

	#[test]
	fn an_amount_to_raise_below_one_unit_of_collateral_can_still_be_met() {
		test(|| {
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			run_to_block(26);
			// A satoshi costs 450 smallest units of USD; 66 666 666 of them leave 300 to raise,
			// less than one satoshi is worth.
			assert_ok!(DutchAuction::take(origin(BOB), id, 66_666_666, price(45_000)));
			assert_eq!(Auctions::<Test>::get(id).unwrap().to_raise, 300);
			assert_ok!(DutchAuction::take(origin(CHARLIE), id, BITCOIN, price(45_000)));
			assert_eq!(balance(BTC, CHARLIE), ENDOWMENT + 1);
			assert_eq!(
				last_event(),
				Event::Ended { id, returned: 33_333_333, shortfall: 0 }.into()
			);
		});
	}

	#[test]
	fn a_take_may_not_leave_dust() {
		test(|| {
			let id = start(BTC, BITCOIN, 60_000 * DOLLAR);
			run_to_block(26);
			// Leaving 999 satoshi (below the 1 000 minimum) is refused; leaving 1 000 is fine.
			assert_noop!(
				DutchAuction::take(origin(BOB), id, BITCOIN - 999, price(45_000)),
				Error::<Test>::WouldLeaveDust
			);
			assert_ok!(DutchAuction::take(origin(BOB), id, BITCOIN - 1_000, price(45_000)));
			assert_ok!(DutchAuction::take(origin(BOB), id, 1_000, price(45_000)));
			assert!(!Auctions::<Test>::contains_key(id));
		});
	}

	#[test]
	fn no_take_on_an_unusable_price() {
		for error in [PriceError::Missing, PriceError::Stale, PriceError::Halted] {
			let expected = sp_runtime::DispatchError::from(Error::<Test>::Price(error));
			test(|| {
				let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
				set_price_error(BTC, error);
				assert_noop!(
					DutchAuction::take(origin(BOB), id, 1_000_000, price(100_000)),
					expected
				);
				run_to_block(300);
				assert_noop!(DutchAuction::redo(origin(BOB), id), expected);
			});
		}
	}
}

mod restarts {
	use super::*;

	#[test]
	fn nothing_sells_under_the_floor_and_a_restart_pays_only_when_due() {
		test(|| {
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			// Block 59 after the start: 60 000 * 42 / 100 = 25 200, still above the 25 000 floor.
			run_to_block(59);
			assert_noop!(DutchAuction::redo(origin(CHARLIE), id), Error::<Test>::RestartNotDue);
			// One block later: 24 600 < 25 000. No sale, and a restart is due.
			run_to_block(60);
			assert_eq!(DutchAuction::current_price(id), Some(price(24_600)));
			assert_noop!(
				DutchAuction::take(origin(BOB), id, 1_000_000, price(1_000_000)),
				Error::<Test>::NeedsRestart
			);
			assert!(DutchAuction::auction_report(id).unwrap().needs_restart);
			// The oracle moved to 60 000 meanwhile (the floor with it, to 30 000): the restart
			// starts at 72 000, and Charlie earns 0.5% of the lot.
			set_price(BTC, Price::from_u32(60_000));
			let before = balance(BTC, CHARLIE);
			assert_ok!(DutchAuction::redo(origin(CHARLIE), id));
			assert_eq!(balance(BTC, CHARLIE), before + 500_000);
			assert_eq!(
				last_event(),
				Event::Restarted {
					id,
					caller: CHARLIE,
					start_price: price(72_000),
					incentive: 500_000
				}
				.into()
			);
			let auction = Auctions::<Test>::get(id).unwrap();
			assert_eq!((auction.lot, auction.started_at, auction.restarts), (99_500_000, 60, 1));
			assert_eq!(LotTotals::<Test>::get(BTC), 99_500_000);
			assert_noop!(DutchAuction::redo(origin(CHARLIE), id), Error::<Test>::RestartNotDue);
			assert_ok!(DutchAuction::take(origin(BOB), id, 1_000_000, price(72_000)));
		});
	}

	#[test]
	fn a_too_old_auction_is_restarted_even_above_its_floor() {
		test(|| {
			let mut params = linear_params();
			params.curve =
				PriceCurve::StepExponential { step_blocks: 10, cut: Permill::from_percent(1) };
			params.max_duration_blocks = 30;
			assert_ok!(DutchAuction::set_auction_params(RuntimeOrigin::root(), BTC, params));
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			run_to_block(31);
			assert_noop!(DutchAuction::redo(origin(CHARLIE), id), Error::<Test>::RestartNotDue);
			run_to_block(32);
			// 60 000 * 0.99^3 = 58 218.06, far above the floor; but 31 blocks old.
			assert_noop!(
				DutchAuction::take(origin(BOB), id, 1_000_000, price(100_000)),
				Error::<Test>::NeedsRestart
			);
			assert_ok!(DutchAuction::redo(origin(CHARLIE), id));
		});
	}

	/// A lot re-prices once the oracle leaves its band (20% here) either way: nothing waits
	/// above a fallen market, nothing sells far under a risen one.
	#[test]
	fn a_lot_reprices_once_the_oracle_leaves_its_band() {
		test(|| {
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			// 50 000 at the start; 40 000 is still inside the band (20% off), 39 999 is not.
			run_to_block(5);
			set_price(BTC, Price::from_u32(40_000));
			assert!(!DutchAuction::auction_report(id).unwrap().needs_restart);
			set_price(BTC, Price::from_u32(39_999));
			assert_noop!(
				DutchAuction::take(origin(BOB), id, 1_000_000, price(1_000_000)),
				Error::<Test>::NeedsRestart
			);
			assert_ok!(DutchAuction::redo(origin(CHARLIE), id));
			let auction = Auctions::<Test>::get(id).unwrap();
			assert_eq!(auction.oracle_at_start, price(39_999));
			assert_eq!(auction.start_price, FixedU128::saturating_from_rational(479_988, 10));
			// And upwards: 20% over the new centre is 47 998.8; 48 000 is past it.
			set_price(BTC, Price::from_u32(48_000));
			assert!(DutchAuction::auction_report(id).unwrap().needs_restart);
			assert_ok!(DutchAuction::redo(origin(CHARLIE), id));
			assert_eq!(Auctions::<Test>::get(id).unwrap().start_price, price(57_600));

			// A fall never lifts a lot back up: 49 blocks in, the curve asks 30 600; the oracle
			// falls 22% to 39 000 and the restart keeps 30 600 (not 46 800), re-centring the band.
			set_price(BTC, Price::from_u32(50_000));
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			run_to_block(System::block_number() + 49);
			assert_eq!(DutchAuction::current_price(id), Some(price(30_600)));
			set_price(BTC, Price::from_u32(39_000));
			assert_ok!(DutchAuction::redo(origin(CHARLIE), id));
			let auction = Auctions::<Test>::get(id).unwrap();
			assert_eq!(
				(auction.start_price, auction.oracle_at_start),
				(price(30_600), price(39_000))
			);
		});
	}

	#[test]
	fn a_native_lot_keeps_the_custody_alive() {
		test(|| {
			let id = start(NATIVE, 1_000_000_000_000, 4 * DOLLAR);
			// The custody was endowed with the existential deposit beyond the lot.
			assert_eq!(balance(NATIVE, DutchAuction::custody_account()), 1_000_000_000_005);
			assert_ok!(DutchAuction::take(origin(BOB), id, 1_000_000_000_000, price(10)));
			// 6 USD per whole native unit at the start; 4 USD raised with 2/3 of it, the rest
			// returned; the endowment stays.
			assert_eq!(balance(NATIVE, DutchAuction::custody_account()), 5);
		});
	}
}

mod governance {
	use super::*;

	#[test]
	fn parameters_are_range_checked() {
		test(|| {
			let set = |params: AuctionParams| {
				DutchAuction::set_auction_params(RuntimeOrigin::root(), DOT, params)
			};
			let mut p = linear_params();
			p.start_premium = FixedU128::saturating_from_rational(99, 100);
			assert_noop!(set(p), Error::<Test>::PremiumOutOfRange);
			p.start_premium = FixedU128::saturating_from_rational(201, 100);
			assert_noop!(set(p), Error::<Test>::PremiumOutOfRange);
			let mut p = linear_params();
			p.curve = PriceCurve::Linear { duration_blocks: 0 };
			assert_noop!(set(p), Error::<Test>::DurationOutOfRange);
			p.curve = PriceCurve::Linear { duration_blocks: 1_001 };
			assert_noop!(set(p), Error::<Test>::DurationOutOfRange);
			p.curve = PriceCurve::StepExponential { step_blocks: 1, cut: Permill::zero() };
			assert_noop!(set(p), Error::<Test>::CutOutOfRange);
			p.curve =
				PriceCurve::StepExponential { step_blocks: 1, cut: Permill::from_percent(51) };
			assert_noop!(set(p), Error::<Test>::CutOutOfRange);
			let mut p = linear_params();
			p.max_duration_blocks = 0;
			assert_noop!(set(p), Error::<Test>::DurationOutOfRange);
			let mut p = linear_params();
			p.floor = Permill::one();
			assert_noop!(set(p), Error::<Test>::FloorOutOfRange);
			p.floor = Permill::zero();
			assert_noop!(set(p), Error::<Test>::FloorOutOfRange);
			let mut p = linear_params();
			p.restart_incentive = Permill::from_rational(11u32, 1_000);
			assert_noop!(set(p), Error::<Test>::IncentiveTooHigh);
			let mut p = linear_params();
			p.reprice_band = Permill::zero();
			assert_noop!(set(p), Error::<Test>::BandOutOfRange);
			p.reprice_band = Permill::from_percent(51);
			assert_noop!(set(p), Error::<Test>::BandOutOfRange);
			let mut p = linear_params();
			p.min_lot = 0;
			assert_noop!(set(p), Error::<Test>::ZeroMinLot);
			p.min_lot = 1;
			assert_ok!(set(p));
			assert_noop!(
				DutchAuction::set_auction_params(origin(ALICE), DOT, linear_params()),
				sp_runtime::DispatchError::BadOrigin
			);
			assert_ok!(set(linear_params()));
			assert_eq!(
				last_event(),
				Event::ParamsSet { asset: DOT, params: linear_params() }.into()
			);
		});
	}

	#[test]
	fn parameters_stay_while_auctions_of_the_asset_run() {
		test(|| {
			let id = start(BTC, BITCOIN, 30_000 * DOLLAR);
			assert_noop!(
				DutchAuction::remove_auction_params(RuntimeOrigin::root(), BTC),
				Error::<Test>::AuctionsRunning
			);
			run_to_block(2);
			assert_ok!(DutchAuction::take(origin(BOB), id, BITCOIN, price(100_000)));
			assert_ok!(DutchAuction::remove_auction_params(RuntimeOrigin::root(), BTC));
			assert_noop!(
				DutchAuction::remove_auction_params(RuntimeOrigin::root(), BTC),
				Error::<Test>::NotConfigured
			);
		});
	}
}
