//! Tests of the liquidation engine, with the real margin, auction, insurance and DEX pallets.

use crate::{mock::*, sizing::*, *};
use frame_support::{
	assert_noop, assert_ok,
	pallet_prelude::{InvalidTransaction, TransactionSource, TransactionValidityError},
	traits::Hooks,
	unsigned::ValidateUnsigned,
	weights::Weight,
};
use frame_system::RawOrigin;
use liquidation_primitives::{
	ledger::{Inspect as _, Mutate as _},
	Balance, HealthReport, Price, PriceError,
};
use sp_runtime::{
	traits::{One, Zero},
	FixedPointNumber, FixedU128, Permill,
};

fn fixed(n: u128, d: u128) -> FixedU128 {
	FixedU128::saturating_from_rational(n, d)
}

fn usd(n: u128) -> Balance {
	n * DOLLAR
}

fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn liquidation_events() -> Vec<Event<Test>> {
	liquidation_test_support::events_of::<Test, _>(|event| match event {
		RuntimeEvent::Liquidation(event) => Some(event),
		_ => None,
	})
}

/// The lender puts 1 000 000 USD into the pool.
fn lend() {
	assert_ok!(Margin::deposit(origin(LENDER), USD, usd(1_000_000)));
}

/// `who` deposits `bitcoin` satoshi and borrows `dollars` USD.
fn borrower(who: AccountId, bitcoin: Balance, dollars: Balance) {
	assert_ok!(Margin::deposit(origin(who), BTC, bitcoin));
	assert_ok!(Margin::borrow(origin(who), USD, usd(dollars)));
}

/// Four borrowers of different leverage against 1 BTC each, and one without debt; then
/// BTC falls from 60 000 to 50 000.
pub(crate) fn borrowers_then_crash() {
	lend();
	borrower(ALICE, BITCOIN, 43_000); // health factor 0.9967 after the crash
	borrower(BOB, BITCOIN, 40_000); // 1.071: healthy
	borrower(CHARLIE, BITCOIN, 43_500); // 0.9852
	borrower(DAVE, BITCOIN, 43_600); // 0.9830: the worst
	set_price(BTC, Price::from_u32(50_000));
}

/// A BTC/USD pool on the DEX with `bitcoin` whole BTC at `price` USD each.
fn dex_pool(bitcoin: u128, price: u128) {
	assert_ok!(AssetConversion::create_pool(
		origin(MARKET),
		Box::new(BTC.into()),
		Box::new(USD.into())
	));
	assert_ok!(AssetConversion::add_liquidity(
		origin(MARKET),
		Box::new(BTC.into()),
		Box::new(USD.into()),
		bitcoin * BITCOIN,
		usd(bitcoin * price),
		1,
		1,
		MARKET,
	));
}

/// Takes every auction slot left (with one-satoshi lots of the market maker's BTC).
fn fill_auctions() {
	use liquidation_primitives::CollateralAuction;
	let custody = <DutchAuction as CollateralAuction<AccountId>>::custody_account();
	while <DutchAuction as CollateralAuction<AccountId>>::has_capacity() {
		assert_ok!(<AllAssets as frame_support::traits::fungibles::Mutate<AccountId>>::transfer(
			BTC,
			&MARKET,
			&custody,
			1,
			frame_support::traits::tokens::Preservation::Expendable
		));
		assert_ok!(<DutchAuction as CollateralAuction<AccountId>>::start(
			&MARKET,
			BTC,
			1,
			USD,
			usd(1)
		));
	}
}

/// `who` borrows 1 USD against 8 334 satoshi (about 4 USD), then all but one satoshi is seized
/// (as a liquidation can leave it): bankrupt, with the smallest shortfall of all.
fn small_bankrupt(who: AccountId) {
	borrower(who, 8_334, 1);
	assert_ok!(Margin::seize_collateral(&who, BTC, 8_333, &KEEPER));
}

mod sizing {
	use super::*;

	/// 50 000 USD owed (liability weight 1.05) against 1 BTC (collateral weight 0.9) at
	/// 57 000: maintenance collateral 51 300 against 52 500, health factor 0.977.
	fn scenario(
		btc_price: u32,
	) -> (HealthReport, Side<liquidation_primitives::AssetId>, Side<liquidation_primitives::AssetId>)
	{
		let collateral = FixedU128::from_u32(btc_price) * fixed(9, 10);
		let report = HealthReport {
			maintenance_collateral: collateral,
			maintenance_debt: FixedU128::from_u32(52_500),
			..Default::default()
		};
		let debt = Side {
			asset: USD,
			amount: usd(50_000),
			price: Price::one(),
			decimals: 6,
			weight: fixed(105, 100),
		};
		let collateral = Side {
			asset: BTC,
			amount: BITCOIN,
			price: Price::from_u32(btc_price),
			decimals: 8,
			weight: fixed(9, 10),
		};
		(report, debt, collateral)
	}

	#[test]
	fn a_partial_liquidation_is_capped_by_the_close_factor() {
		let (report, debt, collateral) = scenario(57_000);
		// To reach 1.2: R = (1.2 * 52 500 - 51 300) / (1.2 * 1.05 - 1.1 * 0.9) = 11 700 / 0.27
		// = 43 333.33 USD; the close factor (50% of 50 000) caps it at 25 000.
		let plan = plan(&report, debt, collateral, &engine_params(), Balance::MAX).unwrap();
		assert_eq!(plan.repay, usd(25_000));
		assert!(!plan.full);
		// Seized: 25 000 * 1.1 / 57 000 BTC = 0.48245614 (down); worth the debt: 0.43859649.
		assert_eq!(plan.seize, 48_245_614);
		assert_eq!(plan.to_insurance + plan.reward, 48_245_614 - 43_859_649);
		assert_eq!(plan.to_insurance, 2_192_982);
		assert_eq!(plan.repay_value, FixedU128::from_u32(25_000));
		// A keeper's limit caps it further.
		let plan = plan_with(&report, debt, collateral, engine_params(), usd(1_000));
		assert_eq!(plan.repay, usd(1_000));
	}

	fn plan_with(
		report: &HealthReport,
		debt: Side<liquidation_primitives::AssetId>,
		collateral: Side<liquidation_primitives::AssetId>,
		params: EngineParams,
		max_repay: Balance,
	) -> Plan<liquidation_primitives::AssetId> {
		plan(report, debt, collateral, &params, max_repay).unwrap()
	}

	#[test]
	fn the_close_factor_binds_exactly_at_its_boundary() {
		let (report, debt, collateral) = scenario(57_000);
		// The target health factor needs 86.67% of the debt: a close factor of 86% binds, 87% does not.
		let mut params = engine_params();
		params.close_factor = Permill::from_percent(86);
		assert_eq!(plan_with(&report, debt, collateral, params, Balance::MAX).repay, usd(43_000));
		params.close_factor = Permill::from_percent(87);
		let plan = plan_with(&report, debt, collateral, params, Balance::MAX);
		assert_eq!(plan.repay, 43_333_333_333);
		assert!(!plan.full);
	}

	#[test]
	fn a_dust_remainder_makes_the_liquidation_whole() {
		let (report, debt, collateral) = scenario(57_000);
		let mut params = engine_params();
		params.close_factor = Permill::one();
		// 6 666.67 USD would remain: under a dust value of 6 667 the whole debt goes.
		params.dust_value = FixedU128::from_u32(6_667);
		let plan = plan_with(&report, debt, collateral, params, Balance::MAX);
		assert_eq!(plan.repay, usd(50_000));
		assert!(plan.full);
		params.dust_value = FixedU128::from_u32(6_666);
		assert!(!plan_with(&report, debt, collateral, params, Balance::MAX).full);
	}

	#[test]
	fn a_deep_shortfall_is_liquidated_whole_as_far_as_collateral_goes() {
		// At 55 000: 49 500 against 52 500, health factor 0.943 < 0.95.
		let (report, debt, collateral) = scenario(55_000);
		let plan = plan_with(&report, debt, collateral, engine_params(), Balance::MAX);
		assert!(plan.full);
		// 50 000 USD of debt takes 55 000 USD of collateral: exactly the bitcoin.
		assert_eq!((plan.repay, plan.seize), (usd(50_000), BITCOIN));
		// At 50 000 the collateral covers only 50 000 / 1.1 = 45 454.545454.. USD of debt: the
		// liquidator takes all of it and repays that, rounded up (in the account's favour).
		let (report, debt, collateral) = scenario(50_000);
		let plan = plan_with(&report, debt, collateral, engine_params(), Balance::MAX);
		assert_eq!(plan.repay, 45_454_545_455);
		assert!(!plan.full);
		assert!(plan.takes_all_collateral);
		assert_eq!(plan.seize, BITCOIN);
		// A liquidator who asks for less repays less, at the penalty: no close-out.
		let plan = plan_with(&report, debt, collateral, engine_params(), usd(10_000));
		assert_eq!(plan.repay, usd(10_000));
		assert!(!plan.takes_all_collateral);
		assert_eq!(plan.seize, 22_000_000);
	}
}

mod keeper {
	use super::*;

	/// Alice: 1 BTC, 43 000 USD borrowed. At 50 000 a bitcoin her maintenance collateral is
	/// 45 000 against 45 150: health factor 0.9967.
	fn alice_underwater() {
		lend();
		borrower(ALICE, BITCOIN, 43_000);
		assert_noop!(
			Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX),
			Error::<Test>::NotLiquidatable
		);
		set_price(BTC, Price::from_u32(50_000));
	}

	#[docify::export]
	#[test]
	fn a_keeper_repays_part_and_takes_collateral_with_the_penalty() {
		test(|| {
			alice_underwater();
			let keeper_usd = balance(USD, KEEPER);
			let keeper_btc = balance(BTC, KEEPER);
			let insurance_btc = balance(BTC, Insurance::fund_account());
			let before = Margin::health_of(&ALICE).unwrap().health_factor().unwrap();
			assert_ok!(Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX));
			// The target health factor needs (1.2 * 45 150 - 45 000) / 0.27 = 34 000 USD; the close factor
			// allows 21 500. Seized: 21 500 * 1.1 / 50 000 = 0.473 BTC; worth the debt: 0.43.
			assert_eq!(balance(USD, KEEPER), keeper_usd - usd(21_500));
			assert_eq!(Margin::debt_of(&ALICE, USD), usd(21_500));
			assert_eq!(Margin::deposit_of(&ALICE, BTC), BITCOIN - 47_300_000);
			// Penalty 0.043 BTC: half to insurance, half to the keeper.
			assert_eq!(balance(BTC, Insurance::fund_account()), insurance_btc + 2_150_000);
			assert_eq!(balance(BTC, KEEPER), keeper_btc + 47_300_000 - 2_150_000);
			let after = Margin::health_of(&ALICE).unwrap().health_factor().unwrap();
			assert!(after > before, "health factor {before:?} -> {after:?}");
			assert_eq!(
				liquidation_events().last(),
				Some(&Event::Liquidated {
					who: ALICE,
					path: LiquidationPath::Keeper,
					liquidator: Some(KEEPER),
					debt_asset: USD,
					repaid: usd(21_500),
					collateral_asset: BTC,
					seized: 47_300_000,
					to_insurance: 2_150_000,
					reward: 2_150_000,
					as_deposit: false,
				})
			);
			let totals = Totals::<Test>::get(USD);
			assert_eq!((totals.liquidations, totals.repaid), (1, usd(21_500)));
			// Healthy again (1.05): a second liquidation is refused.
			assert_noop!(
				Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX),
				Error::<Test>::NotLiquidatable
			);
		});
	}

	#[test]
	fn breakers_and_bad_prices_refuse_and_change_nothing() {
		test(|| {
			alice_underwater();
			// Deeper: health factor 43 200 / 45 150 = 0.957, still a partial liquidation.
			set_price(BTC, Price::from_u32(48_000));
			let liquidate =
				|| Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX);
			for error in [PriceError::Missing, PriceError::Stale, PriceError::Halted] {
				let expected = Error::<Test>::Price(error);
				set_price_error(BTC, error);
				assert_noop!(liquidate(), expected);
			}
			set_price(BTC, Price::from_u32(48_000));
			assert_ok!(Liquidation::set_paused(RuntimeOrigin::root(), true));
			assert_noop!(liquidate(), Error::<Test>::EnginePaused);
			assert_ok!(Liquidation::set_paused(RuntimeOrigin::root(), false));
			let paused =
				AssetLimits { max_value_per_block: FixedU128::from_u32(1_000_000), paused: true };
			assert_ok!(Liquidation::set_asset_limits(RuntimeOrigin::root(), BTC, Some(paused)));
			assert_noop!(liquidate(), Error::<Test>::AssetPaused);
			// A cap of 20 000 USD a block on USD debt: 10 000 fits whole; the engine's 21 500
			// is cut to the 10 000 left; then the cap is full.
			let capped =
				AssetLimits { max_value_per_block: FixedU128::from_u32(20_000), paused: false };
			assert_ok!(Liquidation::set_asset_limits(RuntimeOrigin::root(), BTC, None));
			assert_ok!(Liquidation::set_asset_limits(RuntimeOrigin::root(), USD, Some(capped)));
			assert_ok!(Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, usd(10_000)));
			assert_eq!(last_repaid(), usd(10_000));
			assert_ok!(liquidate());
			assert_eq!(last_repaid(), usd(10_000));
			assert_noop!(
				Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, usd(1)),
				Error::<Test>::AssetCapReached
			);
			// The next block has a fresh cap; the global one binds now. It leaves 1 USD, under
			// the engine's dust (10 USD): no slice is cut that small, a liquidation of 1 USD fits.
			run_to_block(2);
			assert!(Margin::health_of(&ALICE).unwrap().is_liquidatable());
			let mut params = engine_params();
			params.max_value_per_block = FixedU128::from_u32(1);
			assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), params));
			assert_noop!(
				Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, usd(10)),
				Error::<Test>::BlockCapReached
			);
			assert_ok!(Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, usd(1)));
			assert_eq!(last_repaid(), usd(1));
		});
	}

	/// What the last liquidation repaid.
	fn last_repaid() -> Balance {
		System::events()
			.into_iter()
			.rev()
			.find_map(|record| match record.event {
				RuntimeEvent::Liquidation(Event::Liquidated { repaid, .. }) => Some(repaid),
				_ => None,
			})
			.expect("a liquidation")
	}

	/// An account whose liquidation is worth more than a block's cap is liquidated in slices,
	/// one per block, by the worker as by keepers: no block could ever take it whole.
	#[test]
	fn a_liquidation_larger_than_the_cap_goes_in_slices() {
		test(|| {
			alice_underwater();
			// Below the full-liquidation threshold: the engine sizes a liquidation of about
			// 40 900 USD, all the collateral covers with its penalty.
			set_price(BTC, Price::from_u32(45_000));
			let mut params = engine_params();
			params.max_value_per_block = FixedU128::from_u32(5_000);
			assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), params));
			let (_, _, plan) = Liquidation::prepare(&ALICE, USD, BTC, Balance::MAX).unwrap();
			assert!(plan.repay_value > FixedU128::from_u32(40_000), "{plan:?}");
			assert_ok!(Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX));
			let first = last_repaid();
			assert!(first > usd(4_999) && first <= usd(5_000), "{first}");
			assert_noop!(
				Liquidation::liquidate(origin(KEEPER), ALICE, USD, BTC, Balance::MAX),
				Error::<Test>::BlockCapReached
			);
			// The next block: the worker's auction takes the next slice.
			run_to_block(2);
			assert!(Liquidation::check_unsigned(&ALICE).is_ok());
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				ALICE,
				System::block_number()
			));
			let used = crate::BlockUsage::<Test>::get().1;
			assert!(used <= FixedU128::from_u32(5_000) && used > FixedU128::from_u32(4_999));
			// The cap full: validation tells the pool to keep it for the next block.
			assert_eq!(Liquidation::check_unsigned(&ALICE), Err(invalid::CAPS_FULL));
			assert_eq!(
				invalid::to_invalid(invalid::CAPS_FULL),
				InvalidTransaction::ExhaustsResources
			);
		});
	}
}

/// [`CheckKeeperLiquidation`]: a keeper's liquidation someone got to first is invalid before
/// any fee is charged; one that can proceed has the keepers' priority band.
mod keeper_check {
	use super::*;
	use codec::Encode;
	use frame_support::dispatch::DispatchInfo;
	use sp_runtime::traits::{DispatchTransaction, TransactionExtension};

	/// `call` signed by `keeper`, as the pool validates it.
	fn validate(
		keeper: AccountId,
		call: Call<Test>,
	) -> Result<sp_runtime::transaction_validity::ValidTransaction, TransactionValidityError> {
		let origin = RuntimeOrigin::signed(keeper);
		CheckKeeperLiquidation::<Test>::new()
			.validate_only(
				origin,
				&RuntimeCall::Liquidation(call),
				&DispatchInfo::default(),
				0,
				TransactionSource::External,
				0,
			)
			.map(|(valid, _, _)| valid)
	}

	fn liquidate(who: AccountId, collateral: <Test as Config>::AssetId) -> Call<Test> {
		Call::liquidate {
			who,
			debt_asset: USD,
			collateral_asset: collateral,
			max_repay: Balance::MAX,
		}
	}

	fn custom(
		code: u8,
	) -> Result<sp_runtime::transaction_validity::ValidTransaction, TransactionValidityError> {
		Err(InvalidTransaction::Custom(code).into())
	}

	#[test]
	fn a_keeper_who_comes_second_is_refused_before_paying() {
		test(|| {
			lend();
			borrower(ALICE, BITCOIN, 43_000);
			// Healthy: refused in the pool, so no block includes it and no fee is paid.
			assert_eq!(validate(KEEPER, liquidate(ALICE, BTC)), custom(invalid::NOT_LIQUIDATABLE));
			set_price(BTC, Price::from_u32(50_000));
			// Liquidatable: valid, in the keepers' band, the shortfall in whole USD added
			// (45 150 owed at maintenance against 45 000: 150).
			let valid = validate(KEEPER, liquidate(ALICE, BTC)).unwrap();
			assert_eq!(valid.priority, (1u64 << 62) + 150);
			assert!(
				valid.priority
					> <<Test as Config>::UnsignedPriority as frame_support::traits::Get<u64>>::get(
					) + 150
			);
			let flash = Call::flash_liquidate {
				who: ALICE,
				debt_asset: USD,
				collateral_asset: BTC,
				max_repay: Balance::MAX,
			};
			assert_eq!(validate(KEEPER, flash.clone()).unwrap().priority, valid.priority);
			// Collateral she does not hold: the plan fails, so does the check.
			assert_eq!(validate(KEEPER, liquidate(ALICE, USD)), custom(invalid::WOULD_FAIL));
			// The engine paused: refused as the worker's would be.
			assert_ok!(Liquidation::set_paused(RuntimeOrigin::root(), true));
			assert_eq!(validate(KEEPER, liquidate(ALICE, BTC)), custom(invalid::PAUSED));
			assert_ok!(Liquidation::set_paused(RuntimeOrigin::root(), false));
			// Someone (the worker, another keeper) gets there first: the keeper who comes
			// second is refused, in the pool and when a block would include his call.
			assert_ok!(Liquidation::liquidate(origin(BOB), ALICE, USD, BTC, Balance::MAX));
			assert_eq!(validate(KEEPER, liquidate(ALICE, BTC)), custom(invalid::NOT_LIQUIDATABLE));
			assert_eq!(validate(KEEPER, flash), custom(invalid::NOT_LIQUIDATABLE));
			let position = Call::liquidate_position {
				who: ALICE,
				underlying: BTC,
				max_units: FixedU128::one(),
			};
			assert_eq!(validate(KEEPER, position), custom(invalid::NOT_LIQUIDATABLE));
		});
	}

	#[test]
	fn a_keeper_band_only_for_the_engines_size_and_nothing_past_the_caps() {
		test(|| {
			lend();
			borrower(ALICE, BITCOIN, 43_000);
			set_price(BTC, Price::from_u32(50_000));
			let dust = Call::liquidate {
				who: ALICE,
				debt_asset: USD,
				collateral_asset: BTC,
				max_repay: usd(10),
			};
			// Less than the engine sizes (21 500 USD): valid, at an ordinary priority.
			assert_eq!(validate(KEEPER, dust).unwrap().priority, 0);
			let whole = validate(KEEPER, liquidate(ALICE, BTC)).unwrap();
			// One keeper's liquidation of an account in the pool at a time, whoever signs it.
			assert_eq!(whole.provides, vec![(extension::KEEPER_TAG, ALICE).encode()]);
			assert_eq!(validate(BOB, liquidate(ALICE, BTC)).unwrap().provides, whole.provides);
			// A cap below the engine's size: the dispatch cuts it to the cap, so a keeper asking
			// for that much (or more) still has the band.
			let mut params = engine_params();
			params.max_value_per_block = FixedU128::from_u32(1_000);
			assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), params.clone()));
			assert_eq!(validate(KEEPER, liquidate(ALICE, BTC)).unwrap().priority, whole.priority);
			let to_the_cap = Call::liquidate {
				who: ALICE,
				debt_asset: USD,
				collateral_asset: BTC,
				max_repay: usd(1_000),
			};
			assert_eq!(validate(KEEPER, to_the_cap).unwrap().priority, whole.priority);
			// The block's cap used up (she is still liquidatable: 150 - 60 USD short): the
			// dispatch would refuse it, the pool refuses it first.
			assert_ok!(Liquidation::liquidate(origin(BOB), ALICE, USD, BTC, Balance::MAX));
			assert!(Margin::health_of(&ALICE).unwrap().is_liquidatable());
			assert_eq!(validate(KEEPER, liquidate(ALICE, BTC)), custom(invalid::CAPS_FULL));
		});
	}

	#[test]
	fn other_calls_and_origins_pass_unchecked_and_uncharged() {
		test(|| {
			lend();
			borrower(ALICE, BITCOIN, 43_000);
			let check = CheckKeeperLiquidation::<Test>::new();
			let pause = Call::set_paused { paused: true };
			assert_eq!(validate(KEEPER, pause.clone()).unwrap().priority, 0);
			assert_eq!(check.weight(&RuntimeCall::Liquidation(pause)), Weight::zero());
			// Unsigned: not a keeper's (the call fails its own origin check).
			let call = RuntimeCall::Liquidation(liquidate(ALICE, BTC));
			let (valid, _, _) = check
				.validate(
					RuntimeOrigin::none(),
					&call,
					&DispatchInfo::default(),
					0,
					(),
					&sp_runtime::traits::TxBaseImplication(&call),
					TransactionSource::External,
				)
				.unwrap();
			assert_eq!(valid.priority, 0);
			// A keeper's liquidation is charged the check.
			let weight = check.weight(&RuntimeCall::Liquidation(liquidate(ALICE, BTC)));
			assert!(weight.all_gte(<Test as Config>::WeightInfo::check_account()));
			assert!(weight.ref_time() > 0);
		});
	}
}

mod flash {
	use super::*;

	fn alice_underwater() {
		lend();
		borrower(ALICE, BITCOIN, 43_000);
		set_price(BTC, Price::from_u32(50_000));
	}

	#[test]
	fn a_flash_liquidation_sells_through_the_dex_and_pays_the_caller() {
		test(|| {
			alice_underwater();
			dex_pool(100, 50_000);
			let caller_usd = balance(USD, CHARLIE);
			let insurance_usd = balance(USD, Insurance::fund_account());
			assert_ok!(Liquidation::flash_liquidate(
				origin(CHARLIE),
				ALICE,
				USD,
				BTC,
				Balance::MAX
			));
			assert_eq!(Margin::debt_of(&ALICE, USD), usd(21_500));
			assert_eq!(Margin::deposit_of(&ALICE, BTC), BITCOIN - 47_300_000);
			let Some(Event::Liquidated { path, to_insurance, reward, .. }) =
				liquidation_events().pop()
			else {
				panic!("a liquidation event")
			};
			assert_eq!(path, LiquidationPath::Flash);
			// 0.473 BTC sold into a 100 BTC pool at 50 000 with a 0.3% fee: about 23 468 USD,
			// of which 21 500 repaid; the rest split between the caller and insurance.
			assert!(reward > usd(900) && reward < usd(1_000), "reward {reward}");
			assert!(to_insurance.abs_diff(reward) <= 1);
			assert_eq!(balance(USD, CHARLIE), caller_usd + reward);
			assert_eq!(balance(USD, Insurance::fund_account()), insurance_usd + to_insurance);
			// The engine keeps nothing.
			assert_eq!(balance(USD, Liquidation::engine_account()), 0);
			assert_eq!(balance(BTC, Liquidation::engine_account()), 0);
		});
	}

	#[test]
	fn a_sale_beyond_the_slippage_bound_changes_nothing() {
		test(|| {
			alice_underwater();
			// The pool prices a bitcoin at 40 000, 20% under the oracle: beyond the 5% bound.
			dex_pool(100, 40_000);
			assert_noop!(
				Liquidation::flash_liquidate(origin(CHARLIE), ALICE, USD, BTC, Balance::MAX),
				Error::<Test>::SaleFailed
			);
		});
	}
}

mod worker {
	use super::*;
	use codec::Decode;
	use sp_core::offchain::{
		testing::{TestOffchainExt, TestTransactionPoolExt},
		OffchainDbExt, OffchainWorkerExt, TransactionPoolExt,
	};

	/// The test externalities with an off-chain database, worker and transaction pool, and the
	/// states of the last two (a macro: their lock type is not exported).
	macro_rules! worker_ext {
		() => {{
			let (offchain, offchain_state) = TestOffchainExt::new();
			let (pool, pool_state) = TestTransactionPoolExt::new();
			let mut ext = new_test_ext();
			ext.register_extension(OffchainDbExt::new(offchain.clone()));
			ext.register_extension(OffchainWorkerExt::new(offchain));
			ext.register_extension(TransactionPoolExt::new(pool));
			(ext, offchain_state, pool_state)
		}};
	}

	/// Moves the off-chain clock past the worker's lock (2 seconds in the mock).
	macro_rules! past_the_lock {
		($offchain_state:expr) => {{
			let later = $offchain_state
				.read()
				.timestamp
				.add(sp_core::offchain::Duration::from_millis(2_001));
			$offchain_state.write().timestamp = later;
		}};
	}

	/// The accounts the worker's batches in `transactions` liquidate, in order.
	fn submitted(transactions: &[Vec<u8>]) -> Vec<AccountId> {
		batches(transactions).into_iter().flatten().collect()
	}

	/// The worker's batches in `transactions`.
	fn batches(transactions: &[Vec<u8>]) -> Vec<Vec<AccountId>> {
		transactions
			.iter()
			.map(|bytes| {
				let xt = Extrinsic::decode(&mut &bytes[..]).expect("an extrinsic");
				match xt.function {
					RuntimeCall::Liquidation(crate::Call::liquidate_unsigned_batch {
						accounts,
						..
					}) => accounts.into_inner(),
					other => panic!("unexpected call {other:?}"),
				}
			})
			.collect()
	}

	/// The three accounts due once BTC is at 47 000 USD, worst first.
	fn three_due_at_47_000() -> Vec<AccountId> {
		borrowers_then_crash();
		set_price(BTC, Price::from_u32(47_000));
		let (due, _) = Liquidation::due_accounts(None, 100);
		let due: Vec<AccountId> = due.into_iter().map(|(who, _)| who).collect();
		assert_eq!(due.len(), 3, "{due:?}");
		due
	}

	/// An asset's own cap, planned for the next block: this block's use of it does not count.
	#[test]
	fn the_worker_plans_an_assets_own_cap_for_the_next_block() {
		let (mut ext, offchain_state, pool_state) = worker_ext!();
		ext.execute_with(|| {
			let due = three_due_at_47_000();
			let claims: Vec<FixedU128> = due
				.iter()
				.map(|who| Liquidation::preview(who, None).unwrap().repay_value)
				.collect();
			let usd_cap = |value: FixedU128| {
				let limits = AssetLimits { max_value_per_block: value, paused: false };
				assert_ok!(Liquidation::set_asset_limits(RuntimeOrigin::root(), USD, Some(limits)));
			};
			// USD's own cap (the global one far above) holds the worst account's liquidation and
			// half the dust: only it goes.
			let half_dust = FixedU128::from_u32(5);
			usd_cap(claims[0] + half_dust);
			past_the_lock!(offchain_state);
			Liquidation::offchain_worker(1);
			assert_eq!(submitted(&pool_state.read().transactions), vec![due[0]]);
			assert_ok!(Liquidation::liquidate_unsigned(RawOrigin::None.into(), due[0], 1));
			// Room for the second in a block of its own, none left in this one: the worker
			// plans the next block and submits it, and not the third (half the dust left).
			assert!(claims[1] <= claims[0]);
			usd_cap(claims[1] + half_dust);
			assert_eq!(Liquidation::check_unsigned(&due[1]), Err(invalid::CAPS_FULL));
			past_the_lock!(offchain_state);
			Liquidation::offchain_worker(1);
			assert_eq!(submitted(&pool_state.read().transactions), vec![due[0], due[1]]);
		});
	}

	/// A pool refuses a transaction it has seen included for a while (until that block is
	/// final, or a 30-minute ban): each run's liquidation of an account must be new bytes, or
	/// its next liquidation (the next slice under the caps, a further fall) would wait.
	#[test]
	fn each_run_submits_new_bytes_for_the_same_account() {
		let (mut ext, offchain_state, pool_state) = worker_ext!();
		ext.execute_with(|| {
			borrowers_then_crash();
			Liquidation::offchain_worker(1);
			past_the_lock!(offchain_state);
			System::set_block_number(2);
			Liquidation::offchain_worker(2);
			let transactions = pool_state.read().transactions.clone();
			// Batches of two at most (the mock's `MaxUnsignedBatch`), worst first.
			assert_eq!(
				batches(&transactions),
				vec![vec![DAVE, CHARLIE], vec![ALICE], vec![DAVE, CHARLIE], vec![ALICE]]
			);
			assert_ne!(transactions[0], transactions[2], "the same transaction twice");
			let found_at = |bytes: &Vec<u8>| match Extrinsic::decode(&mut &bytes[..])
				.expect("an extrinsic")
				.function
			{
				RuntimeCall::Liquidation(crate::Call::liquidate_unsigned_batch {
					found_at,
					..
				}) => found_at,
				other => panic!("unexpected call {other:?}"),
			};
			assert_eq!((found_at(&transactions[0]), found_at(&transactions[2])), (1, 2));
		});
	}

	#[test]
	fn the_worker_submits_exactly_the_unhealthy_accounts_worst_first() {
		let (mut ext, offchain_state, pool_state) = worker_ext!();
		ext.execute_with(|| {
			borrowers_then_crash();
			Liquidation::offchain_worker(1);
			assert_eq!(submitted(&pool_state.read().transactions), vec![DAVE, CHARLIE, ALICE]);
			// A run again within the lock's 2 seconds (a re-executed block) submits nothing.
			Liquidation::offchain_worker(1);
			assert_eq!(submitted(&pool_state.read().transactions).len(), 3);
			// Once the lock has expired, the next run goes ahead.
			past_the_lock!(offchain_state);
			Liquidation::offchain_worker(2);
			assert_eq!(submitted(&pool_state.read().transactions).len(), 6);
		});
	}

	/// With the margin pallet's risk index referenced at 60 000, a 1% move reaches nobody and
	/// the worker reads and submits nothing; the crash reaches the accounts it pushed under.
	#[test]
	fn the_worker_reads_only_what_the_move_put_at_risk() {
		let (mut ext, offchain_state, pool_state) = worker_ext!();
		ext.execute_with(|| {
			lend();
			Margin::on_idle(1, Weight::MAX);
			borrower(ALICE, BITCOIN, 43_000);
			borrower(BOB, BITCOIN, 40_000);
			borrower(DAVE, BITCOIN, 43_600);
			set_price(BTC, Price::from_u32(59_400));
			assert_eq!(Margin::accounts_at_risk(None, 100), (vec![], None));
			Liquidation::offchain_worker(1);
			assert!(pool_state.read().transactions.is_empty());
			set_price(BTC, Price::from_u32(50_000));
			past_the_lock!(offchain_state);
			Liquidation::offchain_worker(2);
			assert_eq!(submitted(&pool_state.read().transactions), vec![DAVE, ALICE]);
		});
	}

	#[test]
	fn the_worker_submits_at_most_its_bound_per_run() {
		let (mut ext, _, pool_state) = worker_ext!();
		ext.execute_with(|| {
			borrowers_then_crash();
			// Bob too, now: four liquidatable accounts, and the bound is three.
			set_price(BTC, Price::from_u32(47_000));
			Liquidation::offchain_worker(1);
			let sent = submitted(&pool_state.read().transactions);
			assert_eq!(sent.len(), 3);
			assert!(!sent.contains(&BOB), "the least bad one waits: {sent:?}");
		});
	}

	/// An account left for want of room in the block waits one block, not a walk of the whole
	/// index: the next run reads the same page again.
	#[test]
	fn the_worker_reads_a_page_again_while_it_left_accounts_on_it() {
		let (mut ext, offchain_state, pool_state) = worker_ext!();
		ext.execute_with(|| {
			borrowers_then_crash();
			set_price(BTC, Price::from_u32(47_000));
			// The smallest page holding two of the four liquidatable accounts or more (the index
			// holds the others too), so that the rest are on the pages after it.
			let (scan, page) = (2..10u32)
				.find_map(|scan| {
					let (page, next) = Liquidation::due_accounts(None, scan);
					(page.len() >= 2 && next.is_some()).then_some((scan, page))
				})
				.expect("a page of two or more");
			assert!(page.len() < 4, "{page:?}");
			crate::mock::ScanBatch::set(scan);
			crate::mock::MaxUnsignedPerBlock::set(1);
			// One a run, worst first, the page read again until each is submitted (and the
			// block includes it: its auction makes him, effectively, healthy).
			for (run, (who, _)) in page.iter().enumerate() {
				past_the_lock!(offchain_state);
				Liquidation::offchain_worker(run as u64 + 1);
				let sent = submitted(&pool_state.read().transactions);
				assert_eq!(sent.len(), run + 1);
				assert_eq!(sent[run], *who, "run {run}: {sent:?} of {page:?}");
				assert_ok!(Liquidation::liquidate_unsigned(
					RawOrigin::None.into(),
					who.clone(),
					System::block_number()
				));
			}
			// That page done, the walk goes on to the next.
			past_the_lock!(offchain_state);
			Liquidation::offchain_worker(page.len() as u64 + 1);
			let sent = submitted(&pool_state.read().transactions);
			assert_eq!(sent.len(), page.len() + 1);
			let last = sent.last().expect("one more");
			assert!(!page.iter().any(|(who, _)| who == last), "{sent:?} after {page:?}");
		});
	}

	#[test]
	fn the_worker_submits_no_more_than_the_next_blocks_caps_take() {
		let (mut ext, offchain_state, pool_state) = worker_ext!();
		ext.execute_with(|| {
			let due = three_due_at_47_000();
			let claim = |who: &AccountId| Liquidation::preview(who, None).unwrap().repay_value;
			let half_dust = FixedU128::from_u32(5);
			// Room for the worst account's liquidation and half the dust (10 USD): the next one
			// would have a slice under the dust, which the dispatch refuses. Only the worst goes.
			let mut params = engine_params();
			params.max_value_per_block = claim(&due[0]) + half_dust;
			assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), params.clone()));
			past_the_lock!(offchain_state);
			Liquidation::offchain_worker(1);
			assert_eq!(submitted(&pool_state.read().transactions), vec![due[0]]);
			// The block includes it and takes the caps' room: the worker counts the next block's.
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				due[0],
				System::block_number()
			));
			assert_eq!(
				Liquidation::check_unsigned(&due[1]),
				Err(invalid::CAPS_FULL),
				"this block's caps are full"
			);
			// Room for the second and a slice of the third at least the dust: both go, the
			// third cut to the room by the dispatch.
			let second = claim(&due[1]);
			let cap = second + FixedU128::from_u32(50);
			assert!(claim(&due[2]) > FixedU128::from_u32(50));
			params.max_value_per_block = cap;
			assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), params));
			past_the_lock!(offchain_state);
			Liquidation::offchain_worker(1);
			assert_eq!(submitted(&pool_state.read().transactions), vec![due[0], due[1], due[2]]);
			run_to_block(2);
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				due[1],
				System::block_number()
			));
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				due[2],
				System::block_number()
			));
			let used = crate::BlockUsage::<Test>::get().1;
			assert!(used > second && used <= cap, "{used:?} of {cap:?}");
		});
	}

	#[test]
	fn validation_rechecks_state_and_accepts_only_the_local_worker() {
		test(|| {
			borrowers_then_crash();
			let call = |who| crate::Call::<Test>::liquidate_unsigned { who, found_at: 0 };
			let valid =
				Liquidation::validate_unsigned(TransactionSource::Local, &call(DAVE)).unwrap();
			assert_eq!(valid.provides, vec![("LiquidationEngine", DAVE).encode()]);
			assert_eq!(valid.longevity, 5);
			assert!(!valid.propagate);
			// Priority grows with the shortfall: Dave's (741 USD) above Alice's (150 USD).
			let alice =
				Liquidation::validate_unsigned(TransactionSource::Local, &call(ALICE)).unwrap();
			assert!(valid.priority > alice.priority && alice.priority > 1_000);
			// From the network: refused.
			assert_eq!(
				Liquidation::validate_unsigned(TransactionSource::External, &call(DAVE)),
				Err(TransactionValidityError::Invalid(InvalidTransaction::Call))
			);
			// A healthy or unknown account: refused.
			for who in [BOB, 999] {
				assert_eq!(
					Liquidation::validate_unsigned(TransactionSource::Local, &call(who)),
					Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
						invalid::NOT_LIQUIDATABLE
					)))
				);
			}
			// Once an auction runs for the part of his debt that restores him (21 800 USD), he is
			// judged as if it sold: healthy (effective health factor 1.02), so a duplicate is
			// refused, and so is a keeper.
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				DAVE,
				System::block_number()
			));
			assert_eq!(
				Liquidation::validate_unsigned(TransactionSource::InBlock, &call(DAVE)),
				Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
					invalid::NOT_LIQUIDATABLE
				)))
			);
			assert_noop!(
				Liquidation::liquidate(origin(KEEPER), DAVE, USD, BTC, Balance::MAX),
				Error::<Test>::NotLiquidatable
			);
		});
	}

	/// A block checks the worker's liquidation before dispatch without running it again (the
	/// pool ran it): it changes nothing, refuses what the block's earlier transactions changed
	/// (a keeper made the account healthy; the caps or the auction slots taken; the engine
	/// paused), and lets through a bankrupt account whatever the caps and slots (its waterfall
	/// takes neither). One that fails in dispatch all the same (a cause the block did not
	/// change: the pool refused it) is included as failed and changes nothing.
	#[test]
	fn a_block_checks_the_workers_liquidation_without_running_it_again() {
		test(|| {
			borrowers_then_crash();
			small_bankrupt(STAKER);
			let call = |who| crate::Call::<Test>::liquidate_unsigned { who, found_at: 0 };
			let refused =
				|code| Err::<(), _>(TransactionValidityError::Invalid(invalid::to_invalid(code)));
			let root = || sp_io::storage::root(sp_runtime::StateVersion::V1);
			let before = root();
			for who in [DAVE, CHARLIE, ALICE, STAKER] {
				assert_ok!(Liquidation::pre_dispatch(&call(who)));
			}
			assert_eq!(root(), before, "the check runs nothing");
			assert_eq!(Liquidation::pre_dispatch(&call(BOB)), refused(invalid::NOT_LIQUIDATABLE));

			// A keeper got to Charlie first in this block: healthy now.
			assert_ok!(Liquidation::liquidate(origin(KEEPER), CHARLIE, USD, BTC, Balance::MAX));
			assert_eq!(
				Liquidation::pre_dispatch(&call(CHARLIE)),
				refused(invalid::NOT_LIQUIDATABLE)
			);

			// The block's cap used up: kept in the pool for the next block, but not the bankrupt.
			let cap = crate::Params::<Test>::get().unwrap().max_value_per_block;
			crate::BlockUsage::<Test>::put((System::block_number(), cap));
			assert_eq!(Liquidation::pre_dispatch(&call(DAVE)), refused(invalid::CAPS_FULL));
			assert_eq!(
				invalid::to_invalid(invalid::CAPS_FULL),
				InvalidTransaction::ExhaustsResources
			);
			assert_ok!(Liquidation::pre_dispatch(&call(STAKER)));
			crate::BlockUsage::<Test>::kill();

			// Every auction slot taken: only the bankrupt.
			fill_auctions();
			assert_eq!(Liquidation::pre_dispatch(&call(DAVE)), refused(invalid::AUCTIONS_FULL));
			assert_ok!(Liquidation::pre_dispatch(&call(STAKER)));

			assert_ok!(Liquidation::set_paused(RuntimeOrigin::root(), true));
			assert_eq!(Liquidation::pre_dispatch(&call(STAKER)), refused(invalid::PAUSED));
		});
	}

	/// What the pool refuses and the block does not check (no auction of ether can run) fails
	/// in dispatch, changing nothing: the block, not the pool, is what could include it.
	#[test]
	fn a_liquidation_the_pool_refuses_fails_in_dispatch_changing_nothing() {
		test(|| {
			use frame_support::traits::UnfilteredDispatchable as _;
			borrowers_then_crash();
			assert_ok!(Margin::deposit(origin(STAKER), ETH, 20 * 10u128.pow(18)));
			assert_ok!(Margin::borrow(origin(STAKER), USD, usd(40_000)));
			set_price(ETH, Price::from_u32(2_400));
			assert_ok!(DutchAuction::remove_auction_params(RawOrigin::Root.into(), ETH));
			let call = crate::Call::<Test>::liquidate_unsigned { who: STAKER, found_at: 0 };
			assert_eq!(
				Liquidation::validate_unsigned(TransactionSource::Local, &call),
				Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
					invalid::WOULD_FAIL
				)))
			);
			assert_ok!(Liquidation::pre_dispatch(&call));
			// Dispatched as a block dispatches it (in a storage layer).
			let root = || sp_io::storage::root(sp_runtime::StateVersion::V1);
			let before = root();
			let dispatched = call.dispatch_bypass_filter(RawOrigin::None.into());
			// Charged its declared weight (no refund of a failed call).
			assert_eq!(dispatched.map_err(|e| e.post_info.actual_weight), Err(None));
			assert_eq!(root(), before, "a failed liquidation changes nothing");
			assert!(!Liquidation::in_auction(&STAKER));
		});
	}

	/// A batch liquidates its accounts in order and passes over, changing nothing for it, one
	/// the block's earlier transactions made safe; the batch succeeds, says what it did, and is
	/// charged for an account auctioned like the one before it only its share.
	#[test]
	fn a_batch_liquidates_its_accounts_and_passes_over_one_made_safe() {
		test(|| {
			use frame_support::{
				dispatch::GetDispatchInfo as _, traits::UnfilteredDispatchable as _,
			};
			borrowers_then_crash();
			let batch = |accounts: Vec<AccountId>| crate::Call::<Test>::liquidate_unsigned_batch {
				accounts: accounts.try_into().unwrap(),
				found_at: 0,
			};
			// Two alike (bitcoin for USD): the second shares the first's keys.
			let call = batch(vec![DAVE, ALICE]);
			let declared = call.get_dispatch_info().call_weight;
			let done = call.dispatch_bypass_filter(RawOrigin::None.into()).unwrap();
			assert!(Liquidation::in_auction(&DAVE) && Liquidation::in_auction(&ALICE));
			let single = Liquidation::with_unsigned_check(
				<Test as Config>::WeightInfo::liquidate_unsigned(),
			);
			let charged = Liquidation::batch_base_weight()
				.saturating_add(single)
				.saturating_add(Liquidation::batch_share_weight(crate::batch::ShareClass::OneDebt));
			assert_eq!(done.actual_weight, Some(charged));
			assert!(charged.all_lte(declared), "{charged:?} within {declared:?}");
			System::assert_last_event(Event::WorkerBatch { liquidated: 2, skipped: 0 }.into());

			// A keeper got to Charlie first: passed over, charged the check; Staker (bankrupt,
			// two positions) goes down the waterfall, charged its path.
			small_bankrupt(STAKER);
			assert_ok!(Liquidation::liquidate(origin(KEEPER), CHARLIE, USD, BTC, Balance::MAX));
			let done = batch(vec![CHARLIE, STAKER])
				.dispatch_bypass_filter(RawOrigin::None.into())
				.unwrap();
			System::assert_has_event(
				Event::WorkerSkipped { who: CHARLIE, code: invalid::NOT_LIQUIDATABLE }.into(),
			);
			System::assert_last_event(Event::WorkerBatch { liquidated: 1, skipped: 1 }.into());
			assert!(Margin::positions(&STAKER).is_empty());
			use frame_support::{traits::Get, weights::RuntimeDbWeight};
			let read =
				<<Test as frame_system::Config>::DbWeight as Get<RuntimeDbWeight>>::get().reads(1);
			let charged = Liquidation::batch_base_weight()
				.saturating_add(Liquidation::unsigned_check_weight())
				.saturating_add(read)
				.saturating_add(Liquidation::with_unsigned_check(
					<Test as Config>::WeightInfo::settle_bankrupt(2),
				));
			assert_eq!(done.actual_weight, Some(charged));
			check_invariants();
		});
	}

	/// An account auctioned for other assets than those before it in its batch (ether for
	/// USD after bitcoin for USD) touches keys they did not: charged its path alone. A batch
	/// that liquidates nothing leaves the fallback's clock alone.
	#[test]
	fn a_batch_charges_its_path_alone_to_an_account_unlike_those_before_it() {
		test(|| {
			use frame_support::traits::UnfilteredDispatchable as _;
			borrowers_then_crash();
			assert_ok!(Margin::deposit(origin(STAKER), ETH, 20 * 10u128.pow(18)));
			assert_ok!(Margin::borrow(origin(STAKER), USD, usd(40_000)));
			set_price(ETH, Price::from_u32(2_400));
			let batch = |accounts: Vec<AccountId>| crate::Call::<Test>::liquidate_unsigned_batch {
				accounts: accounts.try_into().unwrap(),
				found_at: 0,
			};
			let done =
				batch(vec![DAVE, STAKER]).dispatch_bypass_filter(RawOrigin::None.into()).unwrap();
			assert!(Liquidation::in_auction(&DAVE) && Liquidation::in_auction(&STAKER));
			let single = Liquidation::with_unsigned_check(
				<Test as Config>::WeightInfo::liquidate_unsigned(),
			);
			assert_eq!(
				done.actual_weight,
				Some(
					Liquidation::batch_base_weight().saturating_add(single).saturating_add(single)
				)
			);
			assert_eq!(crate::LastWorkerLiquidation::<Test>::get(), System::block_number());

			// Nothing left to liquidate: passed over, and the fallback's clock stays.
			run_to_block(5);
			let before = crate::LastWorkerLiquidation::<Test>::get();
			assert_ok!(batch(vec![BOB]).dispatch_bypass_filter(RawOrigin::None.into()));
			System::assert_last_event(Event::WorkerBatch { liquidated: 0, skipped: 1 }.into());
			assert_eq!(crate::LastWorkerLiquidation::<Test>::get(), before);
		});
	}

	/// An account auctioned like one before it in its batch is charged the share benchmarked
	/// for its shape: one deposit and one debt, the one-debt share; a second debt, the
	/// most-debts share (its health reads more assets, its re-filing writes more keys).
	#[test]
	fn a_batch_charges_each_account_the_share_of_its_shape() {
		test(|| {
			use crate::batch::ShareClass;
			use frame_support::traits::UnfilteredDispatchable as _;
			crate::mock::MaxUnsignedBatch::set(3);
			borrowers_then_crash();
			// Bob and Charlie also owe 2 ETH (4 800 USD): three assets each (borrowed while
			// BTC is at 70 000, for the initial margin).
			let ether = 10u128.pow(18);
			set_price(ETH, Price::from_u32(2_400));
			assert_ok!(Margin::deposit(origin(LENDER), ETH, 100 * ether));
			set_price(BTC, Price::from_u32(70_000));
			for who in [BOB, CHARLIE] {
				assert_ok!(Margin::borrow(origin(who), ETH, 2 * ether));
			}
			set_price(BTC, Price::from_u32(50_000));
			// The shares as measured: the larger accounts cost more.
			assert!(
				Liquidation::batch_share_weight(ShareClass::OneDebt).ref_time()
					< Liquidation::batch_share_weight(ShareClass::MostDebts).ref_time()
			);
			let shape = |who| {
				let positions = Margin::positions(&who);
				let debts = positions.iter().filter(|(_, _, owed)| *owed > 0).count();
				ShareClass::of(positions.len(), debts)
			};
			assert_eq!(shape(BOB), ShareClass::MostDebts);
			assert_eq!(shape(CHARLIE), ShareClass::MostDebts);
			assert_eq!(shape(DAVE), ShareClass::OneDebt);
			let filing =
				|who| <Margin as liquidation_primitives::ledger::RiskScan<_>>::risk_filing(&who);
			let before: Vec<_> =
				[BOB, CHARLIE, DAVE].into_iter().map(|who| (filing(who), shape(who))).collect();
			let accounts = vec![BOB, CHARLIE, DAVE];
			let done = crate::Call::<Test>::liquidate_unsigned_batch {
				accounts: accounts.clone().try_into().unwrap(),
				found_at: 0,
			}
			.dispatch_bypass_filter(RawOrigin::None.into())
			.unwrap();
			assert!(accounts.iter().all(Liquidation::in_auction));
			System::assert_last_event(Event::WorkerBatch { liquidated: 3, skipped: 0 }.into());
			// Charlie and Dave share Bob's keys; each is charged a re-filing beyond its class's
			// benchmark only if it was re-filed (three assets held, two).
			let share = |index: usize, who, held| {
				let (filed, class) = before[index].clone();
				let share = Liquidation::batch_share_weight(class);
				if filed == filing(who) {
					share
				} else {
					share.saturating_add(Liquidation::refiling_beyond(class, held))
				}
			};
			let single = Liquidation::with_unsigned_check(
				<Test as Config>::WeightInfo::liquidate_unsigned(),
			);
			assert_eq!(
				done.actual_weight,
				Some(
					Liquidation::batch_base_weight()
						.saturating_add(single)
						.saturating_add(share(1, CHARLIE, 3))
						.saturating_add(share(2, DAVE, 2))
				)
			);
		});
	}

	/// The pool takes a batch only from the local node, when every account in it liquidates
	/// after those before it, none twice; one tag per account, the priority of the worst
	/// shortfall. The block refuses one only when it could liquidate none: the engine paused,
	/// or the caps full (kept for the next block).
	#[test]
	fn validation_takes_a_batch_whose_every_account_liquidates() {
		test(|| {
			borrowers_then_crash();
			let batch = |accounts: Vec<AccountId>| crate::Call::<Test>::liquidate_unsigned_batch {
				accounts: accounts.try_into().unwrap(),
				found_at: 0,
			};
			let single = |who| crate::Call::<Test>::liquidate_unsigned { who, found_at: 0 };
			let valid =
				Liquidation::validate_unsigned(TransactionSource::Local, &batch(vec![ALICE, DAVE]))
					.unwrap();
			assert_eq!(
				valid.provides,
				vec![("LiquidationEngine", ALICE).encode(), ("LiquidationEngine", DAVE).encode()]
			);
			let dave =
				Liquidation::validate_unsigned(TransactionSource::Local, &single(DAVE)).unwrap();
			assert_eq!(valid.priority, dave.priority, "the worst shortfall, Dave's");
			assert!(!valid.propagate);
			let refused = |code| {
				Err::<sp_runtime::transaction_validity::ValidTransaction, _>(
					TransactionValidityError::Invalid(invalid::to_invalid(code)),
				)
			};
			assert_eq!(
				Liquidation::validate_unsigned(TransactionSource::Local, &batch(vec![DAVE, BOB])),
				refused(invalid::NOT_LIQUIDATABLE)
			);
			assert_eq!(
				Liquidation::validate_unsigned(TransactionSource::Local, &batch(vec![DAVE, DAVE])),
				refused(invalid::WOULD_FAIL)
			);
			assert_eq!(
				Liquidation::validate_unsigned(TransactionSource::Local, &batch(vec![])),
				refused(invalid::WOULD_FAIL)
			);
			assert_eq!(
				Liquidation::validate_unsigned(TransactionSource::External, &batch(vec![DAVE])),
				Err(TransactionValidityError::Invalid(InvalidTransaction::Call))
			);
			// The block checks the shape, and each account only in dispatch (Bob, healthy, would
			// be passed over there).
			let root = || sp_io::storage::root(sp_runtime::StateVersion::V1);
			let before = root();
			assert_ok!(Liquidation::pre_dispatch(&batch(vec![DAVE, BOB])));
			assert_eq!(root(), before, "validation runs nothing it keeps");
			for shapeless in [vec![], vec![DAVE, DAVE]] {
				assert_eq!(
					Liquidation::pre_dispatch(&batch(shapeless)),
					Err(TransactionValidityError::Invalid(invalid::to_invalid(
						invalid::WOULD_FAIL
					)))
				);
			}
			let cap = crate::Params::<Test>::get().unwrap().max_value_per_block;
			crate::BlockUsage::<Test>::put((System::block_number(), cap));
			assert_eq!(
				Liquidation::pre_dispatch(&batch(vec![DAVE])),
				Err(TransactionValidityError::Invalid(InvalidTransaction::ExhaustsResources))
			);
			crate::BlockUsage::<Test>::kill();
			assert_ok!(Liquidation::set_paused(RuntimeOrigin::root(), true));
			assert_eq!(
				Liquidation::pre_dispatch(&batch(vec![DAVE])),
				Err(TransactionValidityError::Invalid(invalid::to_invalid(invalid::PAUSED)))
			);
		});
	}

	/// With every auction slot taken, an auction cannot start: the worker submits only the
	/// bankrupt account (the waterfall needs no auction), and validation refuses the others
	/// instead of letting them fail in the block.
	#[test]
	fn with_every_auction_slot_taken_only_the_bankrupt_are_submitted() {
		let (mut ext, _, pool_state) = worker_ext!();
		ext.execute_with(|| {
			borrowers_then_crash();
			small_bankrupt(STAKER);
			fill_auctions();
			Liquidation::offchain_worker(1);
			// Worst first, the bankrupt account last: only it is submitted.
			assert_eq!(submitted(&pool_state.read().transactions), vec![STAKER]);
			let call = |who| crate::Call::<Test>::liquidate_unsigned { who, found_at: 0 };
			for who in [DAVE, CHARLIE, ALICE] {
				assert_eq!(
					Liquidation::validate_unsigned(TransactionSource::Local, &call(who)),
					Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
						invalid::AUCTIONS_FULL
					)))
				);
			}
			assert_noop!(
				Liquidation::liquidate_unsigned(
					RawOrigin::None.into(),
					DAVE,
					System::block_number()
				),
				pallet_auction::Error::<Test>::TooManyAuctions
			);
			assert_ok!(Liquidation::validate_unsigned(TransactionSource::InBlock, &call(STAKER)));
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				STAKER,
				System::block_number()
			));
			assert!(Margin::positions(&STAKER).is_empty());
			// Keepers need no auction: Dave is still theirs.
			assert_ok!(Liquidation::liquidate(origin(KEEPER), DAVE, USD, BTC, Balance::MAX));
			check_invariants();
		});
	}

	use codec::Encode;
}

mod waterfall {
	use super::*;
	use liquidation_primitives::CollateralAuction;

	/// A crash takes the auction below the debt: what is left is written off, insurance covers
	/// what it may in one block, and the rest is socialized over the lenders, to the unit.
	#[test]
	fn crash_auction_shortfall_insurance_then_socialization() {
		test(|| {
			lend();
			assert_ok!(Insurance::stake(origin(STAKER), USD, usd(3_000), 0));
			borrower(ALICE, BITCOIN, 43_000);

			// BTC at 40 000: health factor 36 000 / 45 150 = 0.80, under 0.95: the whole
			// collateral goes to auction for the debt it covers plus the penalty.
			set_price(BTC, Price::from_u32(40_000));
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				ALICE,
				System::block_number()
			));
			let Some(Event::AuctionStarted { auction, lot, to_raise, .. }) =
				liquidation_events().pop()
			else {
				panic!("an auction started")
			};
			assert_eq!(lot, BITCOIN);
			// Insolvent (40 000 < 43 000): the penalty is the liquidator's half of the 10% only,
			// 40 000 / 1.05 = 38 095.238096 USD of debt is coverable; the amount to raise adds the 5%.
			assert_eq!(to_raise, usd(40_000));
			assert!(<DutchAuction as CollateralAuction<AccountId>>::is_running(auction));

			// The crash goes on to 20 000, out of the lot's re-pricing band: it restarts at
			// 22 000 (the oracle times the premium) and the market buys the whole lot at once:
			// 18 000 USD short of the amount to raise.
			set_price(BTC, Price::from_u32(20_000));
			assert_noop!(
				DutchAuction::take(origin(MARKET), auction, BITCOIN, FixedU128::from_u32(44_000)),
				pallet_auction::Error::<Test>::NeedsRestart
			);
			assert_ok!(DutchAuction::redo(origin(MARKET), auction));
			assert_ok!(DutchAuction::take(
				origin(MARKET),
				auction,
				BITCOIN,
				FixedU128::from_u32(22_000)
			));
			assert!(!<DutchAuction as CollateralAuction<AccountId>>::is_running(auction));
			let debt_left = Margin::debt_of(&ALICE, USD);
			assert_eq!(
				debt_left,
				usd(21_000),
				"22 000 repaid of 43 000 (no block passed: no interest)"
			);
			assert!(liquidation_events().contains(&Event::AuctionShortfall {
				owner: ALICE,
				auction,
				debt_asset: USD,
				shortfall: usd(18_000),
			}));

			// Alice is bankrupt: the worker's next liquidation sends the debt down the waterfall.
			let lender_before = Margin::deposit_of(&LENDER, USD);
			let fund_before = Insurance::fund_report(USD).fund.total();
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				ALICE,
				System::block_number()
			));
			let Some(Event::BadDebtSettled { bad_debt, covered, socialized, .. }) =
				liquidation_events().pop()
			else {
				panic!("bad debt settled")
			};
			assert_eq!(bad_debt, debt_left);
			// The sale's 22 000 all repaid debt (debt first: the penalty on it, 1 100, was never
			// raised). The fund held 3 000 staked: it covers all of it (under its 5 000 cap).
			assert_eq!(covered, usd(3_000));
			assert_eq!(bad_debt, covered + socialized);
			assert_eq!(Insurance::fund_report(USD).fund.total(), fund_before - covered);
			assert!(Margin::positions(&ALICE).is_empty());
			// The lenders (the lender and the pool's reserve) lose the socialized part, rounded
			// against them by at most a unit or two.
			let lender_loss = lender_before - Margin::deposit_of(&LENDER, USD);
			let pool = Margin::pool_report(USD).unwrap();
			assert!(lender_loss <= socialized + 1 && lender_loss + pool.reserve + 2 >= socialized);
			assert_eq!(pool.bad_debt, 0);
			let totals = Totals::<Test>::get(USD);
			assert_eq!(totals.written_off, totals.covered + totals.socialized);
			assert_eq!((totals.covered, totals.socialized), (covered, socialized));
			check_invariants();
		});
	}

	/// A partial liquidation by auction: the owner owes more than the auction raises, and still
	/// the penalty part of the amount to raise goes to insurance, not to the owner's other debt.
	#[test]
	fn an_auction_for_part_of_a_debt_pays_its_penalty_to_insurance() {
		test(|| {
			lend();
			borrower(ALICE, BITCOIN, 43_000);
			// At 48 000: health factor 0.957, a partial liquidation of 21 500 USD (close factor).
			set_price(BTC, Price::from_u32(48_000));
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				ALICE,
				System::block_number()
			));
			let Some(Event::AuctionStarted { auction, to_raise, .. }) = liquidation_events().pop()
			else {
				panic!("an auction started")
			};
			assert_eq!(to_raise, usd(23_650));
			assert_eq!(
				AuctionDue::<Test>::get(auction),
				Some(AuctionDues { debt: usd(21_500), penalty: usd(2_150), ..Default::default() })
			);
			let fund_usd = balance(USD, Insurance::fund_account());
			// The market buys at the start price (52 800): the amount to raise is met at once.
			assert_ok!(DutchAuction::take(
				origin(MARKET),
				auction,
				BITCOIN,
				FixedU128::from_u32(52_800)
			));
			assert_eq!(Margin::debt_of(&ALICE, USD), usd(21_500));
			assert_eq!(balance(USD, Insurance::fund_account()), fund_usd + usd(2_150));
			assert!(liquidation_events().contains(&Event::AuctionProceeds {
				owner: ALICE,
				auction,
				debt_asset: USD,
				repaid: usd(21_500),
				penalty: usd(2_150),
				returned: 0,
			}));
			assert!(!AuctionDue::<Test>::contains_key(auction));
		});
	}

	/// Alice owes 43 000 USD against one satoshi: the worker writes all of it off.
	fn write_off_alice() {
		borrower(ALICE, BITCOIN, 43_000);
		assert_ok!(Margin::seize_collateral(&ALICE, BTC, BITCOIN - 1, &KEEPER));
		set_price(BTC, Price::from_u32(5_000));
		assert_ok!(Liquidation::liquidate_unsigned(
			RawOrigin::None.into(),
			ALICE,
			System::block_number()
		));
	}

	/// The next block starts: the bad-debt queue is worked.
	fn next_block() {
		let now = System::block_number() + 1;
		run_to_block(now);
		Liquidation::on_initialize(now);
	}

	fn settled_event() -> (Balance, Balance, Balance, Balance) {
		liquidation_events()
			.into_iter()
			.rev()
			.find_map(|event| match event {
				Event::BadDebtSettled { bad_debt, covered, socialized, queued, .. } => {
					Some((bad_debt, covered, socialized, queued))
				},
				_ => None,
			})
			.expect("bad debt settled")
	}

	/// 43 000 USD of bad debt against a fund of 50 000 that pays at most 5 000 a block: 5 000
	/// at once, the rest waits and is covered over the next eight blocks; nothing reaches the
	/// lenders, whose claim never falls.
	#[test]
	fn a_deficit_above_the_cap_is_covered_over_blocks_with_nothing_socialized() {
		test(|| {
			lend();
			assert_ok!(Insurance::stake(origin(STAKER), USD, usd(50_000), 0));
			let index = Margin::pool_report(USD).unwrap().deposit_index;
			write_off_alice();
			assert_eq!(settled_event(), (usd(43_000), usd(5_000), 0, usd(38_000)));
			assert_eq!(Liquidation::queued_bad_debt(USD), (usd(38_000), Some(1)));
			for block in 2..=9u64 {
				next_block();
				let before = usd(38_000).saturating_sub(usd(5_000) * u128::from(block - 2));
				let queued = before.saturating_sub(usd(5_000));
				assert_eq!(Margin::pool_report(USD).unwrap().bad_debt, queued, "block {block}");
				assert!(liquidation_events().contains(&Event::BadDebtQueueWorked {
					asset: USD,
					covered: before - queued,
					socialized: 0,
					queued,
				}));
				check_invariants();
			}
			assert_eq!(Liquidation::queued_bad_debt(USD), (0, None));
			let totals = Totals::<Test>::get(USD);
			assert_eq!(
				(totals.written_off, totals.covered, totals.socialized),
				(usd(43_000), usd(43_000), 0)
			);
			assert_eq!((totals.covered_later, totals.most_queued), (usd(38_000), usd(38_000)));
			// No socialization: the deposit index never fell (interest only raises it).
			assert!(Margin::pool_report(USD).unwrap().deposit_index >= index);
			assert_eq!(Insurance::fund_report(USD).fund.total(), usd(7_000));
			// The queue is empty: a further block does nothing.
			let events = System::events().len();
			next_block();
			assert_eq!(System::events().len(), events);
		});
	}

	/// A fund of 20 000 against 43 000 of bad debt: 5 000 covered, the 23 000 the fund can
	/// never pay socialized at once, 15 000 queued. The cap is then cut to 1 000 a block: in the
	/// 9 blocks left before the delay ends the fund can pay 8 000 of the 14 000 still waiting,
	/// so the other 6 000 are socialized at once (a certain loss no lender can run from), and
	/// the 8 000 are covered by the end of the delay.
	#[test]
	fn what_the_fund_cannot_pay_before_the_delay_ends_is_socialized_at_once() {
		test(|| {
			lend();
			assert_ok!(Insurance::stake(origin(STAKER), USD, usd(20_000), 0));
			write_off_alice();
			assert_eq!(settled_event(), (usd(43_000), usd(5_000), usd(23_000), usd(15_000)));
			let mut params = Insurance::fund_report(USD).params.unwrap();
			params.max_cover_per_block = usd(1_000);
			params.target_size = usd(1_000);
			assert_ok!(Insurance::set_fund_params(RuntimeOrigin::root(), USD, params));
			next_block();
			assert!(liquidation_events().contains(&Event::BadDebtQueueWorked {
				asset: USD,
				covered: usd(1_000),
				socialized: usd(6_000),
				queued: usd(8_000),
			}));
			for _ in 3..=10 {
				next_block();
			}
			assert_eq!(Liquidation::queued_bad_debt(USD), (0, None));
			let totals = Totals::<Test>::get(USD);
			assert_eq!(totals.written_off, totals.covered + totals.socialized);
			assert_eq!((totals.covered, totals.socialized), (usd(14_000), usd(29_000)));
		});
	}

	/// A staker who leaves while bad debt waits for his fund leaves his part of it behind: the
	/// fund (50 000 staked) pays 5 000 a block of 43 000; the staker, whose cooldown is one
	/// block, withdraws at block 2 with 33 000 still waiting and gets about 7 000 of the 40 000
	/// left (instead of all 40 000, which would leave 25 000 to the lenders), and the queue is
	/// still covered in full.
	#[test]
	fn a_staker_leaving_while_bad_debt_waits_leaves_his_part_behind() {
		test(|| {
			lend();
			assert_ok!(Insurance::set_cooldown(RuntimeOrigin::root(), 1, 10));
			assert_ok!(Insurance::stake(origin(STAKER), USD, usd(50_000), 0));
			let shares = Insurance::shares_of(USD, &STAKER);
			assert_ok!(Insurance::request_unstake(origin(STAKER), USD, shares));
			write_off_alice();
			next_block();
			assert_eq!(Liquidation::queued_bad_debt(USD).0, usd(33_000));
			let before = balance(USD, STAKER);
			assert_ok!(Insurance::withdraw(origin(STAKER), USD));
			// His shares (all but the 10 locked units) of the 7 000 the queue does not claim.
			assert_eq!(
				balance(USD, STAKER) - before,
				usd(7_000) * (usd(50_000) - 10) / usd(50_000)
			);
			for _ in 3..=9 {
				next_block();
			}
			assert_eq!(Liquidation::queued_bad_debt(USD), (0, None));
			assert_eq!(Totals::<Test>::get(USD).socialized, 0);
		});
	}

	/// A BTC/USD pool at `pool_price` (the oracle says 60 000), a BTC fund of 2 BTC staked that
	/// pays at most 1 BTC a block, an empty USD fund, and Alice's 43 000 USD against one satoshi
	/// written off.
	fn btc_fund_and_usd_bad_debt(pool_price: u128) {
		lend();
		dex_pool(100, pool_price);
		let btc_fund = pallet_insurance::FundParams {
			max_cover_per_block: BITCOIN,
			target_size: BITCOIN,
			staker_income_share: sp_runtime::Permill::from_percent(50),
		};
		assert_ok!(Insurance::set_fund_params(RuntimeOrigin::root(), BTC, btc_fund));
		assert_ok!(Insurance::stake(origin(STAKER), BTC, 2 * BITCOIN, 0));
		borrower(ALICE, BITCOIN, 43_000);
		assert_ok!(Margin::seize_collateral(&ALICE, BTC, BITCOIN - 1, &KEEPER));
		assert_ok!(Liquidation::liquidate_unsigned(
			RawOrigin::None.into(),
			ALICE,
			System::block_number()
		));
	}

	/// Penalty income held in BTC pays USD bad debt: the USD fund is empty, the BTC fund (2 BTC
	/// staked, 1 BTC a block at most) buys through the DEX, from the next block on, exactly the
	/// USD each block's cap allows, paying at most the oracle value plus 5%; nothing is
	/// socialized.
	#[test]
	fn bad_debt_in_one_asset_is_covered_by_selling_the_fund_in_another() {
		test(|| {
			btc_fund_and_usd_bad_debt(60_000);
			// Nothing in the USD fund; purchases wait for the start of the next block.
			assert_eq!(settled_event(), (usd(43_000), 0, 0, usd(43_000)));
			next_block();
			let sales = || {
				System::events()
					.into_iter()
					.filter_map(|record| match record.event {
						RuntimeEvent::Insurance(pallet_insurance::Event::CoverConverted {
							sold_asset,
							sold,
							asset,
							paid,
						}) => Some((sold_asset, sold, asset, paid)),
						_ => None,
					})
					.collect::<Vec<_>>()
			};
			let (sold_asset, sold, asset, paid) = sales()[0];
			assert_eq!((sold_asset, asset, paid), (BTC, USD, usd(5_000)));
			// Exactly 5 000 USD bought, for what the pool asks (its 0.3% fee and the price
			// impact), under the 5% bound: between 5 000 and 5 250 USD of BTC at the oracle.
			assert!(sold > BITCOIN * 5_000 / 60_000 && sold < BITCOIN * 5_250 / 60_000);
			for _ in 0..8 {
				next_block();
			}
			assert_eq!(Liquidation::queued_bad_debt(USD), (0, None));
			let totals = Totals::<Test>::get(USD);
			assert_eq!((totals.covered, totals.socialized), (usd(43_000), 0));
			let sold_total: Balance = sales().iter().map(|sale| sale.1).sum();
			assert_eq!(sales().iter().map(|sale| sale.3).sum::<Balance>(), usd(43_000));
			assert_eq!(pallet_insurance::Totals::<Test>::get(BTC).sold_for_cover, sold_total);
			assert_eq!(Insurance::fund_report(BTC).fund.total(), 2 * BITCOIN - sold_total);
			check_invariants();
		});
	}

	/// A pool that pays half the oracle price (thin or manipulated) gets no sale: the BTC fund
	/// keeps its BTC, the debt waits, and after the delay it is socialized.
	#[test]
	fn a_conversion_below_the_slippage_bound_is_not_made() {
		test(|| {
			btc_fund_and_usd_bad_debt(30_000);
			// The BTC fund could pay it at the oracle: nothing is socialized at once.
			assert_eq!(settled_event(), (usd(43_000), 0, 0, usd(43_000)));
			for _ in 0..10 {
				next_block();
			}
			assert_eq!(Insurance::fund_report(BTC).fund.total(), 2 * BITCOIN);
			assert_eq!(pallet_insurance::Totals::<Test>::get(BTC).sold_for_cover, 0);
			let totals = Totals::<Test>::get(USD);
			assert_eq!((totals.covered, totals.socialized), (0, usd(43_000)));
		});
	}

	/// With no delay, what the fund does not pay in the block is socialized in it (the
	/// behaviour before the queue); the delay is bounded.
	#[test]
	fn the_delay_is_governed_and_bounded() {
		test(|| {
			let mut params = engine_params();
			params.socialize_after_blocks = MAX_SOCIALIZE_DELAY_BLOCKS + 1;
			assert_noop!(
				Liquidation::set_params(RuntimeOrigin::root(), params),
				Error::<Test>::SocializeDelayTooLong
			);
			params.socialize_after_blocks = 0;
			assert_ok!(Liquidation::set_params(RuntimeOrigin::root(), params));
			lend();
			assert_ok!(Insurance::stake(origin(STAKER), USD, usd(50_000), 0));
			write_off_alice();
			assert_eq!(settled_event(), (usd(43_000), usd(5_000), usd(38_000), 0));
		});
	}

	#[test]
	fn dust_collateral_counts_as_bankrupt_and_stays_with_its_pool() {
		test(|| {
			lend();
			borrower(ALICE, BITCOIN, 43_000);
			// Everything but one satoshi is seized (as a liquidation leaves it), the price falls.
			assert_ok!(Margin::seize_collateral(&ALICE, BTC, BITCOIN - 1, &KEEPER));
			set_price(BTC, Price::from_u32(5_000));
			// One satoshi (0.00005 USD) is not worth a liquidation: the account is bankrupt.
			let custody = Margin::custody(BTC);
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				ALICE,
				System::block_number()
			));
			assert!(Margin::positions(&ALICE).is_empty());
			// The satoshi never moved: it stays in the pool's custody, no one's deposit.
			assert_eq!(Margin::custody(BTC), custody);
			assert_eq!(Totals::<Test>::get(BTC).seized, 1);
			let totals = Totals::<Test>::get(USD);
			assert_eq!(totals.written_off, usd(43_000));
			assert_eq!(totals.written_off, totals.covered + totals.socialized);
		});
	}

	#[test]
	fn only_a_bankrupt_account_is_settled() {
		test(|| {
			lend();
			// A healthy small account (5 USD of collateral, under the 10 USD dust value, against
			// 1 USD of debt) is not bankrupt.
			borrower(BOB, 8_334, 1);
			assert_noop!(
				Liquidation::settle_bankrupt(origin(KEEPER), BOB),
				Error::<Test>::NotBankrupt
			);
			borrower(ALICE, BITCOIN, 43_000);
			assert_noop!(
				Liquidation::settle_bankrupt(origin(KEEPER), ALICE),
				Error::<Test>::NotBankrupt
			);
			assert_noop!(
				Liquidation::settle_bankrupt(origin(KEEPER), CHARLIE),
				Error::<Test>::NoDebt
			);
		});
	}
}

mod governance {
	use super::*;

	#[test]
	fn parameters_are_range_checked() {
		test(|| {
			let set = |params: EngineParams| Liquidation::set_params(RuntimeOrigin::root(), params);
			let mut p = engine_params();
			p.liquidation_penalty = Permill::from_percent(51);
			assert_noop!(set(p), Error::<Test>::PenaltyTooHigh);
			let mut p = engine_params();
			p.close_factor = Permill::zero();
			assert_noop!(set(p), Error::<Test>::CloseFactorZero);
			let mut p = engine_params();
			p.target_health_factor = FixedU128::one();
			assert_noop!(set(p), Error::<Test>::TargetHealthOutOfRange);
			p.target_health_factor = fixed(301, 100);
			assert_noop!(set(p), Error::<Test>::TargetHealthOutOfRange);
			let mut p = engine_params();
			p.full_liquidation_health_factor = FixedU128::one();
			assert_noop!(set(p), Error::<Test>::FullLiquidationThresholdOutOfRange);
			let mut p = engine_params();
			p.max_slippage = Permill::from_percent(51);
			assert_noop!(set(p), Error::<Test>::SlippageTooHigh);
			let mut p = engine_params();
			p.max_value_per_block = FixedU128::zero();
			assert_noop!(set(p), Error::<Test>::CapZero);
			let mut p = engine_params();
			p.dust_value = FixedU128::from_u32(MAX_DUST_VALUE_USD) + fixed(1, 1_000_000);
			assert_noop!(set(p), Error::<Test>::DustValueTooHigh);
			p.dust_value = FixedU128::from_u32(MAX_DUST_VALUE_USD);
			assert_ok!(set(p));
			// USD's maintenance weights (0.95, 1.05) bound the penalty below 1.05 / 0.95 - 1 =
			// 10.53%: at 11% a liquidation repaying USD against USD would lower health.
			let mut p = engine_params();
			p.liquidation_penalty = Permill::from_percent(11);
			assert_noop!(set(p), Error::<Test>::PenaltyUnsound);
			p.liquidation_penalty = Permill::from_rational(105u32, 1_000);
			assert_ok!(set(p));
			assert_noop!(
				Liquidation::set_params(origin(ALICE), engine_params()),
				sp_runtime::DispatchError::BadOrigin
			);
			assert_noop!(
				Liquidation::set_paused(origin(ALICE), true),
				sp_runtime::DispatchError::BadOrigin
			);
			assert_ok!(set(engine_params()));
		});
	}
}

mod fallback {
	use super::*;

	fn auctions_of(accounts: &[AccountId]) -> Vec<bool> {
		accounts.iter().map(Liquidation::in_auction).collect()
	}

	fn fallback_events() -> Vec<(u64, u32, u32)> {
		liquidation_events()
			.into_iter()
			.filter_map(|event| match event {
				Event::FallbackLiquidations { waited, checked, liquidated } => {
					Some((waited, checked, liquidated))
				},
				_ => None,
			})
			.collect()
	}

	#[test]
	fn on_idle_liquidates_once_no_worker_did_for_the_grace_blocks() {
		test(|| {
			borrowers_then_crash();
			// Seen at block 10; blocks 11 and 12 still leave it to a worker.
			for block in 10..13 {
				run_to_block(block);
				Liquidation::on_idle(block, Weight::MAX);
				assert_eq!(UnhandledSince::<Test>::get(), Some(10));
				assert_eq!(auctions_of(&[ALICE, CHARLIE, DAVE]), vec![false; 3]);
			}
			// Three blocks without a worker liquidation: on_idle liquidates, worst first, at
			// most the worker's bound per block (three).
			run_to_block(13);
			Liquidation::on_idle(13, Weight::MAX);
			assert_eq!(auctions_of(&[ALICE, CHARLIE, DAVE, BOB]), vec![true, true, true, false]);
			assert_eq!(fallback_events(), vec![(3, 4, 3)]);
			// Nothing left to do: the next walk finds nothing and clears the mark.
			run_to_block(14);
			Liquidation::on_idle(14, Weight::MAX);
			assert_eq!(UnhandledSince::<Test>::get(), None);
			check_invariants();
		});
	}

	#[test]
	fn a_live_worker_keeps_the_fallback_quiet() {
		test(|| {
			borrowers_then_crash();
			run_to_block(10);
			Liquidation::on_idle(10, Weight::MAX);
			// The worker's liquidation of Dave is included at block 12.
			run_to_block(12);
			assert_ok!(Liquidation::liquidate_unsigned(
				RawOrigin::None.into(),
				DAVE,
				System::block_number()
			));
			assert_eq!(LastWorkerLiquidation::<Test>::get(), 12);
			run_to_block(14);
			Liquidation::on_idle(14, Weight::MAX);
			assert_eq!(auctions_of(&[ALICE, CHARLIE]), vec![false, false]);
			// Silent since block 12: at 15 the fallback takes the rest.
			run_to_block(15);
			Liquidation::on_idle(15, Weight::MAX);
			assert_eq!(auctions_of(&[ALICE, CHARLIE]), vec![true, true]);
		});
	}

	#[test]
	fn the_fallback_keeps_the_caps_and_the_pause() {
		test(|| {
			borrowers_then_crash();
			// A per-block cap of 100 USD, below any of these liquidations: the fallback
			// auctions slices of the worst account, each block's cap and never more.
			let mut params = engine_params();
			params.max_value_per_block = FixedU128::from_u32(100);
			assert_ok!(Liquidation::set_params(RawOrigin::Root.into(), params));
			for block in 10..14 {
				run_to_block(block);
				Liquidation::on_idle(block, Weight::MAX);
				assert!(crate::BlockUsage::<Test>::get().1 <= FixedU128::from_u32(100));
			}
			assert_eq!(auctions_of(&[ALICE, CHARLIE, DAVE]), vec![false, false, true]);
			assert!(!fallback_events().is_empty());
			let slices = OwnerAuctions::<Test>::get(DAVE).len();
			// Paused: not even read.
			assert_ok!(Liquidation::set_params(RawOrigin::Root.into(), engine_params()));
			assert_ok!(Liquidation::set_paused(RawOrigin::Root.into(), true));
			run_to_block(14);
			Liquidation::on_idle(14, Weight::MAX);
			assert_eq!(auctions_of(&[ALICE, CHARLIE, DAVE]), vec![false, false, true]);
			assert_eq!(OwnerAuctions::<Test>::get(DAVE).len(), slices);
			// Without spare weight, nothing either.
			assert_ok!(Liquidation::set_paused(RawOrigin::Root.into(), false));
			assert_eq!(Liquidation::on_idle(15, Weight::zero()), Weight::zero());
			assert_eq!(auctions_of(&[ALICE, CHARLIE, DAVE]), vec![false, false, true]);
			assert_eq!(OwnerAuctions::<Test>::get(DAVE).len(), slices);
		});
	}

	#[test]
	fn with_every_auction_slot_taken_the_fallback_settles_the_bankrupt() {
		test(|| {
			borrowers_then_crash();
			small_bankrupt(STAKER);
			fill_auctions();
			for block in 10..14 {
				run_to_block(block);
				Liquidation::on_idle(block, Weight::MAX);
			}
			// The bankrupt account went down the waterfall although the worst-first walk met the
			// others before it; they wait for a slot (or a keeper).
			assert!(Margin::positions(&STAKER).is_empty());
			assert_eq!(auctions_of(&[ALICE, CHARLIE, DAVE]), vec![false; 3]);
			assert_eq!(fallback_events(), vec![(3, 5, 1)]);
		});
	}
}

mod soundness;
