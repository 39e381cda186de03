//! The soundness rules: every liquidatable account can be closed out whatever its depth, an
//! owner never loses what he repaid while his collateral is at auction, an auction shields only
//! its lot, an unusable price neither shields nor condemns, the waterfall keeps the pauses,
//! unsigned transactions that would fail are refused, the fallback passes over a failure, and
//! no liquidation harms the account (a property over random accounts and liquidations).

use super::*;
use liquidation_primitives::CollateralAuction;

/// `n` whole ETH (18 decimals).
fn eth(n: u128) -> Balance {
	n * 1_000_000_000_000_000_000
}

fn shortfall(who: AccountId) -> FixedU128 {
	Liquidation::effective_report(&who).unwrap().maintenance_shortfall()
}

fn started_auction() -> (u32, Balance, Balance) {
	match liquidation_events().into_iter().rev().find_map(|event| match event {
		Event::AuctionStarted { auction, lot, to_raise, .. } => Some((auction, lot, to_raise)),
		_ => None,
	}) {
		Some(found) => found,
		None => panic!("an auction started"),
	}
}

/// The market buys up to `collateral` of `auction`'s lot at up to 44 000 USD a bitcoin (the
/// start price after a fall to 40 000).
fn market_buys(auction: u32, collateral: Balance) {
	assert_ok!(DutchAuction::take(
		origin(MARKET),
		auction,
		collateral,
		FixedU128::from_u32(44_000)
	));
}

/// The first auction proceeds in the events: what they repaid, paid as penalty and returned.
fn first_proceeds() -> (Balance, Balance, Balance) {
	match liquidation_events().into_iter().find_map(|event| match event {
		Event::AuctionProceeds { repaid, penalty, returned, .. } => {
			Some((repaid, penalty, returned))
		},
		_ => None,
	}) {
		Some(found) => found,
		None => panic!("auction proceeds"),
	}
}

/// `who` borrows 43 000 USD against 1 BTC, BTC falls to `price` and the worker's liquidation
/// puts his bitcoin to auction: the auction's id, lot and amount to raise.
fn at_auction(who: AccountId, price: u32) -> (u32, Balance, Balance) {
	at_auction_owing(who, 43_000, price)
}

/// As [`at_auction`], owing `debt` USD.
fn at_auction_owing(who: AccountId, debt: u128, price: u32) -> (u32, Balance, Balance) {
	borrower(who, BITCOIN, debt);
	set_price(BTC, Price::from_u32(price));
	assert_ok!(Liquidation::liquidate_unsigned(
		RawOrigin::None.into(),
		who,
		System::block_number()
	));
	started_auction()
}

mod close_out {
	use super::*;

	/// BTC at 40 000 against 43 000 USD of debt: health factor 36 000 / 45 150 = 0.80, the
	/// collateral worth less than the debt with its penalty. A keeper takes all of it for what it
	/// covers; the account is insolvent, so the penalty is junior to its debt: the keeper's half
	/// of the 10% penalty only, 40 000 / 1.05 = 38 095.238096 USD (rounded up), nothing to
	/// insurance. What is left is bad debt, sent down the waterfall in the same call.
	#[test]
	fn a_keeper_closes_out_an_account_too_deep_for_a_partial_liquidation() {
		test(|| {
			lend();
			borrower(ALICE, BITCOIN, 43_000);
			set_price(BTC, Price::from_u32(40_000));
			let before = shortfall(ALICE);
			let keeper_btc = balance(BTC, KEEPER);
			assert_ok!(Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX));
			let events = liquidation_events();
			assert!(events.contains(&Event::Liquidated {
				who: ALICE,
				path: LiquidationPath::Keeper,
				liquidator: Some(KEEPER),
				debt_asset: USD,
				repaid: 38_095_238_096,
				collateral_asset: BTC,
				seized: BITCOIN,
				// 1 BTC less the 0.95238095 BTC the repayment is worth.
				to_insurance: 0,
				reward: 4_761_905,
				as_deposit: false,
			}));
			// The keeper's bitcoin: all of it.
			assert_eq!(balance(BTC, KEEPER), keeper_btc + BITCOIN);
			// Nothing left to seize: the rest of the debt went down the waterfall at once.
			assert!(events.iter().any(|event| matches!(event, Event::BadDebtSettled { .. })));
			assert!(Margin::positions(&ALICE).is_empty());
			assert!(before > FixedU128::zero());
		});
	}

	/// The same depth through the DEX: the flash liquidator sells all of the collateral.
	#[test]
	fn a_flash_liquidator_closes_out_an_account_too_deep_for_a_partial_liquidation() {
		test(|| {
			lend();
			borrower(BOB, BITCOIN, 43_000);
			dex_pool(100, 40_000);
			set_price(BTC, Price::from_u32(40_000));
			assert_ok!(Liquidation::flash_liquidate(origin(KEEPER), BOB, USD, BTC, Balance::MAX));
			let Some(Event::Liquidated { path, repaid, seized, to_insurance, reward, .. }) =
				liquidation_events().into_iter().find(|e| matches!(e, Event::Liquidated { .. }))
			else {
				panic!("a liquidation")
			};
			assert_eq!((path, repaid, seized), (LiquidationPath::Flash, 38_095_238_096, BITCOIN));
			// Insolvent: the sale's surplus is all the liquidator's, insurance takes nothing.
			assert_eq!(to_insurance, 0);
			assert!(reward > 0);
			assert!(Margin::positions(&BOB).is_empty());
		});
	}

	/// No liquidation harms the account: over random accounts, crashes and liquidator limits,
	/// every keeper liquidation of a liquidatable account succeeds (none is refused as making
	/// it worse), its maintenance shortfall never grows, and one that closes out no position
	/// never lowers the health factor of an account shallow enough for it to be raised. (The
	/// test parameters keep `(1 + b) w < l` for every
	/// pair: 1.1 * 0.9 < 1.05 for BTC against USD, 1.1 * 0.85 for ETH.)
	#[test]
	fn no_liquidation_raises_the_shortfall_over_random_accounts() {
		test(|| {
			lend();
			let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
			let mut next = move |bound: u64| {
				seed ^= seed >> 12;
				seed ^= seed << 25;
				seed ^= seed >> 27;
				seed.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
			};
			let mut liquidated = 0;
			for round in 0..200u64 {
				let who: AccountId = 100 + round;
				let btc = BITCOIN / 10 * Balance::from(1 + next(20));
				let eth_units = eth(1) * Balance::from(next(10));
				use frame_support::traits::fungibles::Mutate;
				// The lenders keep the pool's cash ahead of the borrowers.
				assert_ok!(AllAssets::mint_into(USD, &LENDER, usd(200_000)));
				assert_ok!(Margin::deposit(origin(LENDER), USD, usd(200_000)));
				assert_ok!(AllAssets::mint_into(BTC, &who, btc));
				assert_ok!(AllAssets::mint_into(ETH, &who, eth_units.max(1)));
				set_price(BTC, Price::from_u32(60_000));
				set_price(ETH, Price::from_u32(3_000));
				assert_ok!(Margin::deposit(origin(who), BTC, btc));
				if !eth_units.is_zero() {
					assert_ok!(Margin::deposit(origin(who), ETH, eth_units));
				}
				// Borrow 50-100% of the initial capacity (0.8 * BTC + 0.75 * ETH over 1.1).
				let capacity = (btc * 48_000 / BITCOIN + eth_units / eth(1) * 2_250) * 10 / 11;
				let borrowed = capacity * (50 + u128::from(next(51))) / 100;
				if borrowed.is_zero() || Margin::borrow(origin(who), USD, usd(borrowed)).is_err() {
					continue;
				}
				// A crash of 10-60% in BTC and 0-60% in ETH.
				set_price(BTC, Price::from_u32(60_000 * (90 - next(51) as u32) / 100));
				set_price(ETH, Price::from_u32(3_000 * (100 - next(61) as u32) / 100));
				let Ok(before) = Liquidation::effective_report(&who) else { continue };
				if !before.is_liquidatable() {
					continue;
				}
				let collateral = if next(2) == 0 || eth_units.is_zero() { BTC } else { ETH };
				let max_repay =
					if next(3) == 0 { usd(1 + u128::from(next(20_000))) } else { u128::MAX };
				let result =
					Liquidation::liquidate(origin(KEEPER), who, USD, collateral, max_repay);
				assert_ne!(
					result.map_err(|e| e.error),
					Err(Error::<Test>::WouldWorsenHealth.into()),
					"round {round}: a liquidatable account refused as made worse: {before:?}, \
					 {collateral:?}, max_repay {max_repay}"
				);
				let Ok(after) = Liquidation::effective_report(&who) else { continue };
				assert!(
					after.maintenance_shortfall() <= before.maintenance_shortfall(),
					"round {round}: shortfall {:?} -> {:?}",
					before.maintenance_shortfall(),
					after.maintenance_shortfall()
				);
				let kept_debt = !Margin::debt_of(&who, USD).is_zero();
				let kept_collateral = !Margin::deposit_of(&who, collateral).is_zero();
				// Shallow enough for a partial liquidation to help (h * l > (1 + b) * w).
				let weight = if collateral == BTC { fixed(99, 100) } else { fixed(935, 1_000) };
				let shallow = before.health_factor().unwrap() * fixed(105, 100) > weight;
				if kept_debt && kept_collateral && shallow {
					assert!(
						after.health_factor() >= before.health_factor(),
						"round {round}: a partial liquidation lowered the health factor"
					);
				}
				liquidated += 1;
				check_invariants();
			}
			assert!(liquidated >= 40, "only {liquidated} liquidations were tried");
		});
	}
}

mod owner_during_auction {
	use super::*;

	/// Alice's whole bitcoin goes to auction for 38 095.24 USD of debt and its penalty (5%: she
	/// is insolvent, see `sizing`), 40 000 USD to raise. She repays 10 000 USD meanwhile, and
	/// BTC falls to 36 000, so the auction is still needed: it now raises only the 33 000 she
	/// owes and the penalty on that (1 650), the buyer gets the bitcoin that costs, and the rest
	/// of the lot returns to her.
	#[test]
	fn an_auction_raises_only_what_the_owner_still_owes_and_the_penalty_on_that() {
		test(|| {
			lend();
			let (auction, lot, to_raise) = at_auction(ALICE, 40_000);
			assert_eq!((lot, to_raise), (BITCOIN, usd(40_000)));
			assert_ok!(Margin::repay(
				origin(ALICE),
				USD,
				pallet_margin::Amount::Exact(usd(10_000))
			));
			set_price(BTC, Price::from_u32(36_000));
			let wanted = DutchAuction::auction_report(auction).unwrap().wanted;
			assert!(wanted.abs_diff(usd(34_650)) <= 1, "{wanted}");

			let fund = balance(USD, Insurance::fund_account());
			// The market buys at the start price (44 000): 34 650 / 44 000 = 0.7875 BTC.
			market_buys(auction, BITCOIN);
			let (repaid, penalty, returned) = first_proceeds();
			assert_eq!(repaid, usd(33_000));
			// Never more penalty than was due (5%) on the debt actually repaid; solvent again at
			// the sale (33 000 repaid, 0.2125 BTC left of the lot), she pays it.
			assert!(penalty <= repaid / 20 && penalty + 1 >= repaid / 20, "{penalty}");
			assert_eq!(returned, 0);
			assert_eq!(balance(USD, Insurance::fund_account()), fund + penalty);
			assert_eq!(Margin::debt_of(&ALICE, USD), 0);
			let back = Margin::deposit_of(&ALICE, BTC);
			assert!(back.abs_diff(21_250_000) <= 1, "the lot's rest returns: {back}");
			assert!(!Liquidation::in_auction(&ALICE));
			assert!(!AuctionDue::<Test>::contains_key(auction));
		});
	}

	/// Bob repays all his debt while his bitcoin is at auction: nothing sells any more, and
	/// closing the auction gives him back the whole lot. Nothing goes to insurance.
	#[test]
	fn an_owner_who_repays_everything_gets_his_whole_lot_back() {
		test(|| {
			lend();
			let (auction, lot, _) = at_auction(BOB, 40_000);
			assert_eq!(Margin::deposit_of(&BOB, BTC), BITCOIN - lot);
			assert_ok!(Margin::repay(origin(BOB), USD, pallet_margin::Amount::All));
			let fund = balance(USD, Insurance::fund_account());
			assert_noop!(
				DutchAuction::take(
					origin(MARKET),
					auction,
					BITCOIN,
					FixedU128::from_u32(1_000_000)
				),
				pallet_auction::Error::<Test>::NotNeeded
			);
			assert_ok!(DutchAuction::close(origin(BOB), auction));
			assert_eq!(Margin::deposit_of(&BOB, BTC), BITCOIN);
			assert_eq!(balance(USD, Insurance::fund_account()), fund);
			assert!(!Liquidation::in_auction(&BOB));
		});
	}

	/// A buyer takes a quarter of Alice's lot (11 000 USD, all of it repaying debt: debt comes
	/// first); then she repays the rest of her debt herself. The auction still wants the penalty
	/// due on the 11 000 it repaid (5%, she was insolvent when it started: 550), no more; once
	/// that is raised (she is solvent now: it goes to insurance) the rest of the lot is hers
	/// again.
	#[test]
	fn the_penalty_on_debt_an_auction_repaid_stays_due_after_the_owner_repays() {
		test(|| {
			lend();
			let (auction, _, _) = at_auction(ALICE, 40_000);
			market_buys(auction, BITCOIN / 4);
			assert_eq!(Margin::debt_of(&ALICE, USD), usd(43_000 - 11_000));
			assert_ok!(Margin::repay(origin(ALICE), USD, pallet_margin::Amount::All));
			// 5% of 11 000, rounded down.
			let wanted = DutchAuction::auction_report(auction).unwrap().wanted;
			assert_eq!(wanted, usd(550) - 1);
			assert_noop!(
				DutchAuction::close(origin(ALICE), auction),
				pallet_auction::Error::<Test>::StillNeeded
			);
			let fund = balance(USD, Insurance::fund_account());
			market_buys(auction, BITCOIN);
			assert_eq!(balance(USD, Insurance::fund_account()), fund + wanted);
			let back = Margin::deposit_of(&ALICE, BTC);
			// 550 USD at 44 000 is 0.0125 BTC.
			assert!(back.abs_diff(BITCOIN * 3 / 4 - 1_250_000) <= 1, "{back}");
			assert!(!Liquidation::in_auction(&ALICE));
		});
	}

	/// The sale that raises an unneeded auction's outstanding penalty is judged as `wanted`
	/// judged it, on the lot before the sale. Alice's quarter lot sold for 11 000 USD (the
	/// penalty on it, 550, still due); she deposits 0.19 BTC: with the 0.75 BTC lot back she
	/// would hold 0.94 BTC against 32 000 USD (health 33 840 / 33 600), so the auction is not
	/// needed and wants only the 550. Judged on the lot the sale leaves (0.7375 BTC) she would
	/// be liquidatable again and the 550 would repay her debt instead of the penalty.
	#[test]
	fn the_penalty_of_an_unneeded_auction_is_not_turned_into_debt_by_its_own_sale() {
		test(|| {
			lend();
			let (auction, _, _) = at_auction(ALICE, 40_000);
			market_buys(auction, BITCOIN / 4);
			assert_ok!(Margin::deposit(origin(ALICE), BTC, 19_000_000));
			let wanted = DutchAuction::auction_report(auction).unwrap().wanted;
			assert_eq!(wanted, usd(550) - 1);
			let (debt, fund) =
				(Margin::debt_of(&ALICE, USD), balance(USD, Insurance::fund_account()));
			market_buys(auction, BITCOIN);
			assert_eq!(balance(USD, Insurance::fund_account()), fund + wanted);
			assert_eq!(Margin::debt_of(&ALICE, USD), debt);
			check_invariants();
		});
	}

	/// A deposit that makes the owner safe with his lot back ends the need for the auction.
	#[test]
	fn a_deposit_that_restores_the_owner_ends_the_auction() {
		test(|| {
			lend();
			let (auction, _, _) = at_auction(BOB, 48_000);
			assert_noop!(
				DutchAuction::close(origin(BOB), auction),
				pallet_auction::Error::<Test>::StillNeeded
			);
			assert_ok!(Margin::deposit(origin(BOB), ETH, eth(5)));
			assert_ok!(DutchAuction::close(origin(BOB), auction));
			assert_eq!(Margin::deposit_of(&BOB, BTC), BITCOIN);
		});
	}
}

/// The penalty is junior to the debt: an insolvent account pays insurance nothing that
/// insurance would pay straight back as cover for its bad debt.
mod junior_penalty {
	use super::*;

	/// Alice owes 43 000 USD against 1 BTC at 40 000: insolvent. Her bitcoin goes to auction for
	/// 38 095.24 of debt and a 5% penalty (the liquidator's part of the 10% only), 40 000 in
	/// all. A buyer pays the 40 000 at 44 000 a bitcoin: 38 095.24 repays the debt, and she is
	/// still insolvent (4 904.76 owed, 0.0909 BTC = 3 636.36 left), so the penalty's 1 904.76
	/// repays more of her debt instead of going to insurance.
	#[test]
	fn an_insolvent_owners_auction_penalty_repays_his_debt() {
		test(|| {
			lend();
			let (auction, lot, to_raise) = at_auction(ALICE, 40_000);
			assert_eq!((lot, to_raise), (BITCOIN, usd(40_000)));
			assert!(Liquidation::insolvent(&ALICE));
			let fund = balance(USD, Insurance::fund_account());
			market_buys(auction, BITCOIN);
			let (repaid, penalty, returned) = first_proceeds();
			assert_eq!((repaid, penalty, returned), (usd(40_000), 0, 0));
			assert_eq!(balance(USD, Insurance::fund_account()), fund);
			assert_eq!(Margin::debt_of(&ALICE, USD), usd(3_000));
			// The rest of the lot (40 000 / 44 000 of it sold) is hers again.
			let back = Margin::deposit_of(&ALICE, BTC);
			assert!(back.abs_diff(9_090_910) <= 1, "{back}");
			assert_eq!(Totals::<Test>::get(USD).penalty_to_insurance, 0);
			check_invariants();
		});
	}

	/// The same auction for a solvent owner pays its penalty to insurance: Bob owes 30 000
	/// against 1 BTC at 34 000 (health 30 600 / 31 500 = 0.97, liquidatable, not insolvent).
	#[test]
	fn a_solvent_owners_auction_penalty_goes_to_insurance() {
		test(|| {
			lend();
			let (auction, _, _) = at_auction_owing(BOB, 30_000, 34_000);
			assert!(!Liquidation::insolvent(&BOB));
			let fund = balance(USD, Insurance::fund_account());
			assert_ok!(DutchAuction::take(
				origin(MARKET),
				auction,
				BITCOIN,
				FixedU128::from_u32(40_000)
			));
			let (repaid, penalty, _) = first_proceeds();
			// 10% of the debt repaid, rounded down.
			assert!(penalty > 0 && penalty + 1 >= repaid / 10 && penalty <= repaid / 10);
			assert_eq!(balance(USD, Insurance::fund_account()), fund + penalty);
			check_invariants();
		});
	}
}

mod shielding {
	use super::*;

	/// Alice holds 1 BTC and 10 ETH against 60 000 USD. At BTC 40 000 her bitcoin goes to
	/// auction for 30 000 USD of debt (the close factor): judged as if it sold, she is safe
	/// (effective health factor 31 800 / 31 500). ETH then falls to 2 500 and she is not: a
	/// keeper liquidates her ether while the auction of her bitcoin runs on.
	#[test]
	fn a_running_auction_shields_only_its_lot() {
		test(|| {
			lend();
			assert_ok!(Margin::deposit(origin(ALICE), BTC, BITCOIN));
			assert_ok!(Margin::deposit(origin(ALICE), ETH, eth(10)));
			assert_ok!(Margin::borrow(origin(ALICE), USD, usd(60_000)));
			set_price(BTC, Price::from_u32(40_000));
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				ALICE,
				System::block_number()
			));
			let (auction, lot, to_raise) = started_auction();
			assert_eq!((lot, to_raise), (BITCOIN, usd(33_000)));
			let report = Liquidation::effective_report(&ALICE).unwrap();
			assert!(!report.is_liquidatable(), "{report:?}");
			assert_noop!(
				Liquidation::liquidate(origin(KEEPER), ALICE, USD, ETH, Balance::MAX),
				Error::<Test>::NotLiquidatable
			);

			set_price(ETH, Price::from_u32(2_500));
			assert!(Liquidation::effective_report(&ALICE).unwrap().is_liquidatable());
			assert_ok!(Liquidation::liquidate(origin(KEEPER), ALICE, USD, ETH, Balance::MAX));
			assert_eq!(Margin::deposit_of(&ALICE, ETH), 0);
			assert!(<DutchAuction as CollateralAuction<AccountId>>::is_running(auction));
		});
	}

	/// With no collateral left but its lot, and the lot worth too little for what it has to raise, the
	/// account is bankrupt; but all its debt is being raised at auction, so the waterfall
	/// waits for the auction to end.
	#[test]
	fn the_waterfall_waits_only_for_debt_at_auction() {
		test(|| {
			lend();
			borrower(ALICE, BITCOIN, 43_000);
			set_price(BTC, Price::from_u32(40_000));
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				ALICE,
				System::block_number()
			));
			// A dust deposit outside the auction: bankrupt, yet nothing but the auction can act
			// (all her debt is at auction), so she is not due and the worker does not submit her.
			assert_ok!(Margin::deposit(origin(ALICE), BTC, 1_000));
			set_price(BTC, Price::from_u32(5));
			assert_noop!(
				Liquidation::settle_bankrupt(origin(KEEPER), ALICE),
				Error::<Test>::InAuction
			);
			assert!(!Liquidation::actionable(&ALICE));
			assert!(Liquidation::check_unsigned(&ALICE).is_err());
			let (due, _) = Liquidation::due_accounts(None, 100);
			assert!(due.iter().all(|(who, _)| *who != ALICE));
		});
	}
}

mod prices {
	use super::*;

	/// Alice is liquidatable with 0.01 ETH beside her bitcoin; the ETH price halts (or goes
	/// stale, or was never known). Her bitcoin is still liquidated: the ETH is valued at its
	/// last price (or nothing), and only the pair liquidated needs a usable price.
	#[test]
	fn an_unusable_price_on_one_position_does_not_shield_the_account() {
		for error in [PriceError::Halted, PriceError::Stale, PriceError::Missing] {
			test(|| {
				lend();
				assert_ok!(Margin::deposit(origin(ALICE), ETH, eth(1) / 100));
				borrower(ALICE, BITCOIN, 43_000);
				set_price(BTC, Price::from_u32(48_000));
				set_price_error(ETH, error);
				assert_ok!(Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX));
				// The halted asset itself cannot be seized.
				assert_noop!(
					Liquidation::liquidate(origin(KEEPER), ALICE, USD, ETH, Balance::MAX),
					Error::<Test>::Price(error)
				);
			});
		}
	}

	/// Bob is healthy with ETH beside his bitcoin; the ETH price goes stale or halts: he is
	/// judged at its last price, so he is not liquidatable.
	#[test]
	fn an_unusable_price_does_not_condemn_a_healthy_account() {
		for error in [PriceError::Halted, PriceError::Stale] {
			test(|| {
				lend();
				assert_ok!(Margin::deposit(origin(BOB), ETH, eth(5)));
				borrower(BOB, BITCOIN, 50_000);
				set_price_error(ETH, error);
				assert_noop!(
					Liquidation::liquidate(origin(KEEPER), BOB, USD, BTC, Balance::MAX),
					Error::<Test>::NotLiquidatable
				);
				assert_eq!(
					Liquidation::validate_unsigned(
						TransactionSource::Local,
						&crate::Call::liquidate_unsigned { who: BOB, found_at: 0 }
					),
					Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
						invalid::NOT_LIQUIDATABLE
					)))
				);
			});
		}
	}
}

mod pauses_and_failures {
	use super::*;

	#[test]
	fn the_waterfall_respects_the_engine_and_asset_pauses() {
		test(|| {
			lend();
			small_bankrupt(ALICE);
			assert_ok!(Liquidation::set_paused(RawOrigin::Root.into(), true));
			assert_noop!(
				Liquidation::settle_bankrupt(origin(KEEPER), ALICE),
				Error::<Test>::EnginePaused
			);
			assert_ok!(Liquidation::set_paused(RawOrigin::Root.into(), false));
			let paused =
				AssetLimits { max_value_per_block: FixedU128::from_u32(1_000), paused: true };
			assert_ok!(Liquidation::set_asset_limits(RawOrigin::Root.into(), USD, Some(paused)));
			assert_noop!(
				Liquidation::settle_bankrupt(origin(KEEPER), ALICE),
				Error::<Test>::AssetPaused
			);
			assert_noop!(
				Liquidation::liquidate_unsigned(
					RawOrigin::None.into(),
					ALICE,
					System::block_number()
				),
				Error::<Test>::AssetPaused
			);
			assert_ok!(Liquidation::set_asset_limits(RawOrigin::Root.into(), USD, None));
			assert_ok!(Liquidation::settle_bankrupt(origin(KEEPER), ALICE));
		});
	}

	/// Staker's ether cannot be auctioned (its auction parameters are gone): his unsigned
	/// liquidation is refused in validation, not left to fail in a block; and the fallback,
	/// meeting him first (the worst shortfall), passes over him to the others.
	#[test]
	fn a_liquidation_that_would_fail_is_refused_and_the_fallback_passes_over_it() {
		test(|| {
			borrowers_then_crash();
			assert_ok!(Margin::deposit(origin(STAKER), ETH, eth(20)));
			assert_ok!(Margin::borrow(origin(STAKER), USD, usd(40_000)));
			set_price(ETH, Price::from_u32(2_400));
			assert_ok!(DutchAuction::remove_auction_params(RawOrigin::Root.into(), ETH));
			assert_eq!(
				Liquidation::validate_unsigned(
					TransactionSource::Local,
					&crate::Call::liquidate_unsigned { who: STAKER, found_at: 0 }
				),
				Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
					invalid::WOULD_FAIL
				)))
			);
			for block in 10..14 {
				run_to_block(block);
				Liquidation::on_idle(block, Weight::MAX);
			}
			assert!(!Liquidation::in_auction(&STAKER));
			assert!([DAVE, CHARLIE, ALICE].iter().all(Liquidation::in_auction));
		});
	}
}

mod drained_pool {
	use super::*;

	/// Bob borrows every bitcoin the pool can pay out (as a whale shielding an account would);
	/// then Alice, who holds bitcoin, becomes liquidatable at BTC 48 000.
	fn alice_behind_a_drained_pool() {
		lend();
		borrower(ALICE, BITCOIN, 43_000);
		assert_ok!(Margin::deposit(origin(BOB), USD, usd(500_000)));
		assert_ok!(Margin::borrow(origin(BOB), BTC, Margin::cash(BTC)));
		assert_eq!(Margin::cash(BTC), 0);
		set_price(BTC, Price::from_u32(48_000));
		assert_noop!(
			Margin::seize_collateral(&ALICE, BTC, 1_000, &KEEPER),
			pallet_margin::Error::<Test>::InsufficientLiquidity
		);
	}

	/// The keeper receives the deposit position itself (withdrawable as the pool's cash comes
	/// back) and pays the insurance share of the penalty in USD.
	#[test]
	fn a_keeper_takes_the_deposit_position_when_the_pool_has_no_cash() {
		test(|| {
			alice_behind_a_drained_pool();
			let fund_usd = balance(USD, Insurance::fund_account());
			let keeper_usd = balance(USD, KEEPER);
			assert_ok!(Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX));
			let Some(Event::Liquidated { repaid, seized, to_insurance, as_deposit, .. }) =
				liquidation_events().into_iter().find(|e| matches!(e, Event::Liquidated { .. }))
			else {
				panic!("a liquidation")
			};
			assert!(as_deposit);
			// 21 500 * 1.1 / 48 000 BTC.
			assert_eq!((repaid, seized), (usd(21_500), 49_270_833));
			assert_eq!(Margin::deposit_of(&KEEPER, BTC), seized);
			// Half of the penalty (0.04479167 BTC) at 48 000: 1 074.99984 USD, from the keeper
			// to the fund.
			assert_eq!(to_insurance, 1_074_999_840);
			assert_eq!(balance(USD, Insurance::fund_account()), fund_usd + to_insurance);
			assert_eq!(balance(USD, KEEPER), keeper_usd - usd(21_500) - to_insurance);
		});
	}

	/// The worker's auction takes the position into its custody and hands it to the buyer.
	#[test]
	fn an_auction_sells_the_deposit_position_when_the_pool_has_no_cash() {
		test(|| {
			alice_behind_a_drained_pool();
			assert_ok!(Liquidation::validate_unsigned(
				TransactionSource::Local,
				&crate::Call::liquidate_unsigned { who: ALICE, found_at: 0 }
			));
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				ALICE,
				System::block_number()
			));
			let (auction, lot, _) = started_auction();
			let custody = <DutchAuction as CollateralAuction<AccountId>>::custody_account();
			assert_eq!(Margin::deposit_of(&custody, BTC), lot);
			// At the start price (52 800) the amount to raise (23 650) buys 0.4479 BTC: a position.
			assert_ok!(DutchAuction::take(
				origin(MARKET),
				auction,
				lot,
				FixedU128::from_u32(52_800)
			));
			assert!(Margin::deposit_of(&MARKET, BTC) > 44_000_000);
			assert!(!Liquidation::in_auction(&ALICE));
			// What the lot did not need went back into Alice's account, as a position too.
			assert_eq!(Margin::deposit_of(&ALICE, BTC), BITCOIN - Margin::deposit_of(&MARKET, BTC));
		});
	}

	/// A flash sale needs tokens: with none it is refused by name; with some it sells the slice
	/// they pay for.
	#[test]
	fn a_flash_sale_is_sized_to_the_cash_the_pool_has() {
		test(|| {
			alice_behind_a_drained_pool();
			dex_pool(100, 48_000);
			assert_noop!(
				Liquidation::flash_liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX),
				Error::<Test>::CollateralIlliquid
			);
			// Bob repays a tenth of a bitcoin: that much cash is back.
			assert_ok!(Margin::repay(origin(BOB), BTC, pallet_margin::Amount::Exact(BITCOIN / 10)));
			assert_ok!(Liquidation::flash_liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX));
			let Some(Event::Liquidated { seized, .. }) =
				liquidation_events().into_iter().find(|e| matches!(e, Event::Liquidated { .. }))
			else {
				panic!("a liquidation")
			};
			assert!(seized <= BITCOIN / 10 && seized > BITCOIN / 11, "{seized}");
		});
	}

	/// The cash's slice of a flash sale, rounded down: a cash that pays for less than a
	/// smallest unit of the debt is no slice at all (refused as illiquid, in the keeper's
	/// transaction check too), never a zero repayment planned again.
	#[test]
	fn a_flash_slice_that_rounds_to_nothing_is_illiquid() {
		use crate::functions::flash_repay_within_cash as within_cash;
		assert_eq!(within_cash(1_000, 500, 500), Some(1_000));
		assert_eq!(within_cash(1_000, 500, 250), Some(500));
		// Ten units repaid against a million seized: a unit of debt costs 100 000 of cash.
		assert_eq!(within_cash(10, 1_000_000, 100_000), Some(1));
		assert_eq!(within_cash(10, 1_000_000, 99_999), None);
		assert_eq!(within_cash(10, 1_000_000, 0), None);
	}
}
