//! Trades, funding, the vault and the account's one health, against hand figures.

use crate::{
	math::{Signed, DAY_MS},
	mock::*,
	Error, Event, MarketStatus, Markets, PositionCount, Positions, Shares, TotalShares, Vault,
	VaultParams, Withdrawals,
};
use frame_support::{assert_noop, assert_ok};
use liquidation_primitives::{ledger::Inspect as _, Price};
use sp_runtime::{traits::Zero, DispatchError, FixedI128, FixedPointNumber, FixedU128, Permill};

fn n(x: i128) -> Signed {
	Signed::saturating_from_integer(x)
}
fn r(p: i128, q: i128) -> Signed {
	Signed::saturating_from_rational(p, q)
}
fn usd(x: u128) -> FixedU128 {
	FixedU128::saturating_from_integer(x)
}
fn ur(p: u128, q: u128) -> FixedU128 {
	FixedU128::saturating_from_rational(p, q)
}
fn price(x: u32) -> Price {
	Price::from_u32(x)
}
fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}
/// A limit that never binds for a buy.
fn any_buy() -> Price {
	Price::from_u32(u32::MAX)
}
/// A limit that never binds for a sell.
fn any_sell() -> Price {
	Price::zero()
}
fn deposit_usd(who: AccountId, dollars: u128) {
	assert_ok!(Margin::deposit(origin(who), USD, dollars * DOLLAR));
}
fn vault_cash() -> u128 {
	Margin::deposit_of(&Perpetuals::vault_account(), USD)
}

/// A 1 BTC long in a flat market fills 5 bps above the oracle, pays 5 bps of fee from the
/// trader's USD to the vault, and counts in his margin health: the loss at the oracle price and
/// the requirements of a 1 BTC position.
#[test]
fn a_long_fills_with_the_premium_pays_the_fee_and_counts_in_health() {
	test(|| {
		deposit_usd(BOB, 10_000);
		// A limit below the fill refuses the trade.
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), BTC, n(1), price(60_002)),
			Error::<Test>::PriceLimitExceeded
		);
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), price(60_003)));
		// Fill 60 000 (1 + 1 / 20 000) = 60 003; fee 60 003 × 0.0005 = 30.0015 USD.
		assert_eq!(
			last_event(),
			Event::PositionModified {
				who: BOB,
				underlying: BTC,
				size_delta: n(1),
				fill_price: price(60_003),
				oracle_price: price(60_000),
				size: n(1),
				entry_price: price(60_003),
				realised_pnl: n(0),
				funding: n(0),
				fee: ur(300_015, 10_000),
				paid: 0,
				charged: 30_001_500,
			}
			.into()
		);
		assert_eq!(Margin::deposit_of(&BOB, USD), 10_000 * DOLLAR - 30_001_500);
		assert_eq!(vault_cash(), VAULT_SEED + 30_001_500);
		let position = Positions::<Test>::get(BOB, BTC).unwrap();
		assert_eq!((position.size, position.entry_price), (n(1), price(60_003)));
		assert_eq!(Markets::<Test>::get(BTC).unwrap().state.long_interest, usd(1));
		// Health: 3 USD of loss at the oracle; IMF 2% + 1 / 10 000 × 1.54 = 2.0154% of 60 000 =
		// 1 209.24 USD, maintenance half of it, 604.62.
		let derivatives = Margin::health_of(&BOB).unwrap().derivatives;
		assert_eq!(derivatives.loss, usd(3));
		assert_eq!(derivatives.gain, usd(0));
		assert_eq!(derivatives.initial_requirement, ur(120_924, 100));
		assert_eq!(derivatives.maintenance_requirement, ur(60_462, 100));
		// Filed in the risk index (liable without spot debt).
		assert!(pallet_margin::LiableAccounts::<Test>::contains_key(BOB));
		assert_eq!(Margin::accounts_at_risk(None, 10).0, vec![BOB]);
		// Were margin to forget him, the perpetuals' invariants say so.
		pallet_margin::LiableAccounts::<Test>::remove(BOB);
		assert!(Perpetuals::do_try_state().is_err());
		pallet_margin::LiableAccounts::<Test>::insert(BOB, ());
	});
}

/// Closing in profit: the fill against the skew, the realised profit less the fee paid from
/// the vault's deposit to the trader's, rounded down.
#[test]
fn closing_in_profit_is_paid_from_the_vault() {
	test(|| {
		deposit_usd(BOB, 10_000);
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()));
		set_price(BTC, price(66_000));
		assert_ok!(Perpetuals::close_position(origin(BOB), BTC, any_sell()));
		// Fill 66 000 (1 + (2 - 1) / 20 000) = 66 003.3; realised 6 000.3; fee 33.00165;
		// paid 5 967.29835 USD.
		let paid = 5_967_298_350;
		assert_eq!(Margin::deposit_of(&BOB, USD), 10_000 * DOLLAR - 30_001_500 + paid);
		assert_eq!(vault_cash(), VAULT_SEED + 30_001_500 - paid);
		assert_eq!(Positions::<Test>::get(BOB, BTC), None);
		assert_eq!(PositionCount::<Test>::get(BOB), 0);
		let state = Markets::<Test>::get(BTC).unwrap().state;
		assert_eq!((state.long_interest, state.entry_sum), (usd(0), n(0)));
		// No position, no debt: no longer liable.
		assert!(!pallet_margin::LiableAccounts::<Test>::contains_key(BOB));
		assert_noop!(
			Perpetuals::close_position(origin(BOB), BTC, any_sell()),
			Error::<Test>::NoPosition
		);
	});
}

/// Funding over two days: the rate drifts with the skew while Bob is alone long, stays when
/// Charlie's short balances it; Bob pays, Charlie receives, the vault gets the difference.
#[test]
fn funding_accrues_with_the_skew_and_settles_on_the_next_trade() {
	test(|| {
		deposit_usd(BOB, 200_000);
		deposit_usd(CHARLIE, 200_000);
		// Fill 60 000 (1 + 10 / 20 000) = 60 030; fee 300.15.
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(10), any_buy()));
		set_time(DAY_MS);
		// Velocity 10 / 10 000 × 9 = 0.009 a day per day: the rate is 0.009 after a day, one
		// long unit paid (0 + 0.009) / 2 × 60 000 = 270 USD; Bob owes 2 700.
		let report = Perpetuals::market_report(BTC).unwrap();
		assert_eq!(report.funding_rate, r(9, 1_000));
		assert_eq!(report.funding_index, n(270));
		let position = &Perpetuals::position_reports(&BOB)[0];
		assert_eq!(position.accrued_funding, n(2_700));
		assert_eq!(position.unrealised_pnl, n(10 * (60_000 - 60_030) - 2_700));
		// The vault: its cash, and the traders' 300 of loss and 2 700 of funding it is owed.
		let vault = Perpetuals::vault_report().unwrap();
		assert_eq!(vault.cash, Signed::saturating_from_integer(5_000_000) + r(30_015, 100));
		assert_eq!(vault.unrealised, n(3_000));
		// Less what flattening the skew of 10 would cost: 60 000 × 100 / 20 000 = 300.
		assert_eq!(vault.skew_cost, n(300));
		assert_eq!(vault.nav, vault.cash + n(2_700));
		assert_eq!(vault.exposure, usd(600_000));
		// Charlie shorts 10 at 60 000 (1 + (20 - 10) / 20 000) = 60 030: skew zero, the rate
		// stays at 0.009: another day costs a long unit 540.
		assert_ok!(Perpetuals::modify_position(origin(CHARLIE), BTC, n(-10), any_sell()));
		set_time(2 * DAY_MS);
		assert_eq!(Perpetuals::position_reports(&BOB)[0].accrued_funding, n(8_100));
		assert_eq!(Perpetuals::position_reports(&CHARLIE)[0].accrued_funding, n(-5_400));
		// The vault: Bob's 300 of loss against Charlie's 300 of profit, and the funding
		// difference, 8 100 - 5 400.
		assert_eq!(Perpetuals::vault_report().unwrap().unrealised, n(2_700));
		// Bob closes: fill 60 000 (1 - 10 / 20 000) = 59 970, realised -600, fee 299.85,
		// funding 8 100: charged 8 999.85, leaving him 190 700 USD exactly.
		assert_ok!(Perpetuals::close_position(origin(BOB), BTC, any_sell()));
		assert_eq!(Margin::deposit_of(&BOB, USD), 190_700 * DOLLAR);
	});
}

/// The test of the issue: a 5x long on BTC-PERP backed by ETH alone becomes liquidatable when
/// BTC falls, and margin's health and risk index say so; the reported liquidation price is the
/// boundary.
#[test]
fn a_5x_long_backed_by_eth_becomes_liquidatable_when_btc_falls() {
	test(|| {
		deposit_usd(LENDER, 1_000_000);
		// 4 ETH at 3 000: 12 000 USD; initial collateral 9 000, maintenance 10 200.
		assert_ok!(Margin::deposit(origin(BOB), ETH, 4 * 10u128.pow(18)));
		// 1 BTC long, 60 000 of notional: five times the collateral. The 30.0015 USD fee is
		// lent to him (no USD deposit): USD debt.
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()));
		assert_eq!(Margin::debt_of(&BOB, USD), 30_001_500);
		// At 52 000: loss 8 003 (weighed as USD debt: 1.05) + requirement 524.004 + debt 31.50
		// = 8 958.65 < 10 200.
		set_price(BTC, price(52_000));
		assert!(!Margin::health_of(&BOB).unwrap().is_liquidatable());
		// At 50 000: 1.05 × 10 003 + 503.85 + 31.50 = 11 038.50 > 10 200.
		set_price(BTC, price(50_000));
		assert!(Margin::health_of(&BOB).unwrap().is_liquidatable());
		assert!(Margin::accounts_at_risk(None, 100).0.contains(&BOB));
		check_invariants();
		// Liquidatable, he no longer trades: not even a close (his loss would be lent beyond
		// his collateral); the engine closes, or he adds collateral first.
		assert_noop!(
			Perpetuals::close_position(origin(BOB), BTC, any_sell()),
			Error::<Test>::AccountLiquidatable
		);
		// The liquidation price: (1.05 × 60 003 + 31.501575 - 10 200) / (1.05 - 0.010077)
		// = 50 806.31.
		set_price(BTC, price(52_000));
		let at = Perpetuals::position_reports(&BOB)[0].liquidation_price.unwrap();
		assert!(at > ur(5_080_625, 100) && at < ur(5_080_635, 100), "{at:?}");
		set_price(BTC, at + usd(1));
		assert!(!Margin::health_of(&BOB).unwrap().is_liquidatable());
		set_price(BTC, at - usd(1));
		assert!(Margin::health_of(&BOB).unwrap().is_liquidatable());
	});
}

/// Starts a new risk-index reference in margin and re-files every account under it, as
/// `on_idle` does over blocks.
fn new_reference() {
	use frame_support::{traits::Hooks, weights::Weight};
	let now = frame_system::Pallet::<Test>::block_number();
	for _ in 0..50 {
		Margin::on_idle(now, Weight::MAX);
		let (_, previous) = Margin::risk_slots();
		if pallet_margin::SlotSize::<Test>::get(previous) == 0 {
			return;
		}
	}
	panic!("the index did not re-file the previous epoch");
}

/// The risk index files an account with positions at its distance, sensitivity included: a
/// walk after no move, or a move that cannot reach it, does not read it; a move that can does;
/// a change of the market's parameters reads its list whole until the next reference.
#[test]
fn positions_are_filed_at_their_distance_and_read_once_a_move_can_reach_it() {
	test(|| {
		assert_ok!(Margin::deposit(origin(BOB), ETH, 4 * 10u128.pow(18)));
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()));
		new_reference();
		// Loss and sensitivity weigh as USD debt (1.05):
		// x = (10 200 - 31.50 - 1.05 × 3 - 604.62) / (10 200 + 31.50 + 1.05 × 60 604.62)
		//   = 0.12943: bucket 1 293 (one below, for rounding), in the lists of USD (his fee
		// debt), BTC (the underlying) and ETH.
		let entry = pallet_margin::RiskEntryOf::<Test>::get(BOB).unwrap();
		assert_eq!(entry.bucket, 1_293);
		assert_eq!(entry.assets.to_vec(), vec![USD, BTC, ETH]);
		assert_eq!(Margin::accounts_at_risk(None, 10).0, Vec::<AccountId>::new());
		// -11.7% reaches bucket 1 166: not read.
		set_price(BTC, price(53_000));
		assert_eq!(Margin::accounts_at_risk(None, 10).0, Vec::<AccountId>::new());
		check_invariants();
		// -15% reaches him (not liquidatable yet); at 50 000 he is, and is found.
		set_price(BTC, price(51_000));
		assert_eq!(Margin::accounts_at_risk(None, 10).0, vec![BOB]);
		set_price(BTC, price(50_000));
		assert!(Margin::health_of(&BOB).unwrap().is_liquidatable());
		assert_eq!(Margin::accounts_at_risk(None, 10).0, vec![BOB]);
		check_invariants();
		// Back at 60 000 nothing moved; a change of BTC-PERP's parameters (a higher margin)
		// makes its list read whole.
		set_price(BTC, price(60_000));
		assert_eq!(Margin::accounts_at_risk(None, 10).0, Vec::<AccountId>::new());
		let tighter =
			crate::MarketParams { maintenance_share: Permill::from_percent(90), ..btc_perp() };
		assert_ok!(Perpetuals::set_market_params(RuntimeOrigin::root(), BTC, tighter));
		assert_eq!(Margin::accounts_at_risk(None, 10).0, vec![BOB]);
		check_invariants();
	});
}

/// Opening risk needs the whole account's initial health; collateral a position needs cannot
/// be withdrawn; reducing needs nothing.
#[test]
fn opening_needs_initial_health_and_pins_the_collateral() {
	test(|| {
		// No collateral at all.
		assert_noop!(
			Perpetuals::modify_position(origin(CHARLIE), BTC, n(1), any_buy()),
			pallet_margin::Error::<Test>::InsufficientMargin
		);
		// 1 400 USD: initial collateral 1 260 against 3 + 1 209.24 + fee debt: enough; 1 300
		// is not (1 170).
		deposit_usd(CHARLIE, 1_300);
		assert_noop!(
			Perpetuals::modify_position(origin(CHARLIE), BTC, n(1), any_buy()),
			pallet_margin::Error::<Test>::InsufficientMargin
		);
		deposit_usd(CHARLIE, 100);
		assert_ok!(Perpetuals::modify_position(origin(CHARLIE), BTC, n(1), any_buy()));
		assert_noop!(
			Margin::withdraw(origin(CHARLIE), USD, pallet_margin::Amount::Exact(100 * DOLLAR)),
			pallet_margin::Error::<Test>::InsufficientMargin
		);
		// Reducing is always allowed.
		assert_ok!(Perpetuals::modify_position(origin(CHARLIE), BTC, r(-1, 2), any_sell()));
	});
}

/// A price pumped above its stable price lends nothing: for opening risk a long's profit is
/// valued at the lower of the two, and its requirement at the higher.
#[test]
fn a_pumped_price_lends_nothing() {
	test(|| {
		deposit_usd(BOB, 10_000);
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()));
		set_price(BTC, price(66_000));
		liquidation_test_support::set_stable_price(BTC, price(60_000));
		// Judged for liquidation at 66 000: 5 997 of profit.
		assert_eq!(Margin::health_of(&BOB).unwrap().derivatives.gain, usd(5_997));
		// Opening risk: -3 at 60 000, requirement 2.0154% of 66 000 = 1 330.164; the deposit of
		// 9 969.9985 at 0.9 leaves 7 639.83 of initial margin: 8 400 USD may go, 8 600 may not
		// (had half the profit counted, 8 600 could).
		assert_noop!(
			Margin::withdraw(origin(BOB), USD, pallet_margin::Amount::Exact(8_600 * DOLLAR)),
			pallet_margin::Error::<Test>::InsufficientMargin
		);
		assert_ok!(Margin::withdraw(
			origin(BOB),
			USD,
			pallet_margin::Amount::Exact(8_400 * DOLLAR)
		));
	});
}

/// A halted price on a position neither freezes nor shields its account: it is judged at the
/// last accepted price (the valuation rule), so a liquidatable account stays found; nothing is
/// traded, and the vault takes no deposit, at it.
#[test]
fn a_halted_price_neither_freezes_nor_shields() {
	test(|| {
		assert_ok!(Margin::deposit(origin(BOB), ETH, 4 * 10u128.pow(18)));
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()));
		set_price(BTC, price(50_000));
		liquidation_test_support::set_price_error(BTC, liquidation_primitives::PriceError::Halted);
		// Judged at 50 000: liquidatable, and found.
		let health = Margin::health_of(&BOB).unwrap();
		assert!(health.is_liquidatable());
		assert_eq!(health.derivatives.loss, usd(10_003));
		assert!(Margin::accounts_at_risk(None, 10).0.contains(&BOB));
		assert_noop!(
			Perpetuals::deposit_to_vault(origin(DAVE), 1_000 * DOLLAR),
			Error::<Test>::Price(liquidation_primitives::PriceError::Halted)
		);
		// Withdrawing collateral needs a usable price for every position.
		assert_noop!(
			Margin::withdraw(origin(BOB), ETH, pallet_margin::Amount::Exact(1)),
			pallet_margin::Error::<Test>::Price(liquidation_primitives::PriceError::Halted)
		);
	});
}

#[test]
fn trades_are_checked() {
	test(|| {
		deposit_usd(BOB, 1_000_000);
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), BTC, n(0), any_buy()),
			Error::<Test>::ZeroSize
		);
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), ETH, n(1), any_buy()),
			Error::<Test>::MarketNotListed
		);
		// 0.0001 BTC is 6 USD, below the 10 USD minimum.
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), BTC, r(1, 10_000), any_buy()),
			Error::<Test>::PositionTooSmall
		);
		// A sell of more than twice the skew scale would fill at or below zero.
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), BTC, n(-20_001), any_sell()),
			Error::<Test>::TradeTooLarge
		);
		// An unusable price refuses every trade.
		liquidation_test_support::set_price_error(BTC, liquidation_primitives::PriceError::Stale);
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()),
			Error::<Test>::Price(liquidation_primitives::PriceError::Stale)
		);
		set_price(BTC, price(60_000));
		// Open interest cap: 100 000 USD a side.
		let capped = crate::MarketParams { max_open_interest_usd: 100_000, ..btc_perp() };
		assert_ok!(Perpetuals::set_market_params(RuntimeOrigin::root(), BTC, capped));
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), BTC, n(2), any_buy()),
			Error::<Test>::OpenInterestCapExceeded
		);
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()));
		// Paused: no new risk, but a reduction and a close.
		assert_ok!(Perpetuals::set_market_status(RuntimeOrigin::root(), BTC, MarketStatus::Paused));
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), BTC, r(1, 10), any_buy()),
			Error::<Test>::MarketPaused
		);
		// A flip adds risk on the other side.
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), BTC, n(-2), any_sell()),
			Error::<Test>::MarketPaused
		);
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, r(-1, 2), any_sell()));
		assert_ok!(Perpetuals::close_position(origin(BOB), BTC, any_sell()));
		// At most two positions per account.
		assert_ok!(Perpetuals::set_market_status(RuntimeOrigin::root(), BTC, MarketStatus::Active));
		assert_ok!(Perpetuals::list_market(RuntimeOrigin::root(), ETH, btc_perp()));
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()));
		assert_ok!(Perpetuals::modify_position(origin(BOB), DOT, n(-1_000), any_sell()));
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), ETH, n(1), any_buy()),
			Error::<Test>::TooManyPositions
		);
	});
}

#[test]
fn parameters_are_range_checked_and_governed() {
	test(|| {
		let root = RuntimeOrigin::root;
		assert_noop!(
			Perpetuals::list_market(origin(BOB), ETH, btc_perp()),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Perpetuals::list_market(root(), BTC, btc_perp()),
			Error::<Test>::MarketAlreadyListed
		);
		let cases = [
			(
				crate::MarketParams { skew_scale: usd(0), ..btc_perp() },
				Error::<Test>::SkewScaleZero,
			),
			(
				crate::MarketParams { min_initial_margin: Permill::zero(), ..btc_perp() },
				Error::<Test>::MarginFractionOutOfRange,
			),
			(
				crate::MarketParams { maintenance_share: Permill::one(), ..btc_perp() },
				Error::<Test>::MarginFractionOutOfRange,
			),
			(
				crate::MarketParams { max_funding_rate: ur(11, 100), ..btc_perp() },
				Error::<Test>::FundingOutOfRange,
			),
			(
				crate::MarketParams { max_funding_velocity: usd(11), ..btc_perp() },
				Error::<Test>::FundingOutOfRange,
			),
			(
				crate::MarketParams { taker_fee: Permill::from_percent(2), ..btc_perp() },
				Error::<Test>::FeeTooHigh,
			),
			(
				crate::MarketParams {
					initial_profit_weight: Permill::from_percent(100),
					maintenance_profit_weight: Permill::from_percent(50),
					liquidation_fee_share: Permill::from_percent(50),
					..btc_perp()
				},
				Error::<Test>::ProfitWeightOutOfRange,
			),
		];
		for (params, error) in cases {
			let error: DispatchError = error.into();
			assert_noop!(Perpetuals::list_market(root(), ETH, params), error);
			assert_noop!(Perpetuals::set_market_params(root(), BTC, params), error);
		}
		assert_noop!(
			Perpetuals::set_vault_params(
				root(),
				VaultParams { withdrawal_delay_blocks: 1_001, ..vault_params() }
			),
			Error::<Test>::VaultParamsOutOfRange
		);
		assert_noop!(
			Perpetuals::set_vault_params(
				root(),
				VaultParams { max_utilisation: Permill::zero(), ..vault_params() }
			),
			Error::<Test>::VaultParamsOutOfRange
		);
		assert_ok!(Perpetuals::set_vault_params(root(), vault_params()));
		assert_eq!(Vault::<Test>::get(), Some(vault_params()));
	});
}

/// LP shares at the vault's value; a withdrawal waits its delay and bears profit and loss
/// meanwhile; the vault's exposure is bounded by its value, for trades and withdrawals.
#[test]
fn the_vault_prices_shares_delays_withdrawals_and_bounds_its_exposure() {
	test(|| {
		// Genesis: the seed minted one share a unit, 1 000 locked.
		assert_eq!(TotalShares::<Test>::get(), VAULT_SEED);
		assert_eq!(Shares::<Test>::get(LP), VAULT_SEED - 1_000);
		assert_ok!(Perpetuals::deposit_to_vault(origin(DAVE), 1_000_000 * DOLLAR));
		assert_eq!(Shares::<Test>::get(DAVE), 1_000_000 * DOLLAR);
		assert_noop!(
			Perpetuals::request_withdrawal(origin(DAVE), 1_000_000 * DOLLAR + 1),
			Error::<Test>::InsufficientShares
		);
		assert_ok!(Perpetuals::request_withdrawal(origin(DAVE), 1_000_000 * DOLLAR));
		assert_eq!(Withdrawals::<Test>::get(DAVE).unwrap().unlocks_at, 11);
		assert_noop!(
			Perpetuals::withdraw_from_vault(origin(DAVE)),
			Error::<Test>::WithdrawalLocked
		);
		// Meanwhile the vault gains the fees of 10 BTC bought and sold: they stay with the
		// vault (a withdrawal pays at most the value at its request: no option on a rise).
		deposit_usd(BOB, 1_000_000);
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(10), any_buy()));
		assert_ok!(Perpetuals::close_position(origin(BOB), BTC, any_sell()));
		let gained = vault_cash() - VAULT_SEED - 1_000_000 * DOLLAR;
		assert!(gained > 0);
		frame_system::Pallet::<Test>::set_block_number(11);
		assert_ok!(Perpetuals::withdraw_from_vault(origin(DAVE)));
		let dave = Margin::deposit_of(&DAVE, USD);
		assert_eq!(dave, 1_000_000 * DOLLAR);
		assert_eq!(vault_cash(), VAULT_SEED + gained);
		assert_eq!(Withdrawals::<Test>::get(DAVE), None);

		// Exposure: 80% of the ~5 M value. 60 BTC long (3.6 M) is within, 70 is not.
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(60), any_buy()));
		assert_noop!(
			Perpetuals::modify_position(origin(BOB), BTC, n(10), any_buy()),
			Error::<Test>::VaultUtilisationExceeded
		);
		// Nor may the LP leave the vault beyond it: withdrawing 1.5 M of 5 M would.
		assert_ok!(Perpetuals::request_withdrawal(origin(LP), 1_500_000 * DOLLAR));
		frame_system::Pallet::<Test>::set_block_number(30);
		assert_noop!(
			Perpetuals::withdraw_from_vault(origin(LP)),
			Error::<Test>::VaultUtilisationExceeded
		);
		// Once Bob halves his position it can.
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(-30), any_sell()));
		assert_ok!(Perpetuals::withdraw_from_vault(origin(LP)));
		assert_noop!(Perpetuals::withdraw_from_vault(origin(LP)), Error::<Test>::NoWithdrawal);
		assert_noop!(Perpetuals::deposit_to_vault(origin(DAVE), 0), Error::<Test>::ZeroAmount);
	});
}

/// A trade moves the vault's value by its fee and nothing else: its premium raises what the
/// traders owe the vault exactly as much as what flattening the skew would cost, so a trade
/// around a deposit or a withdrawal cannot move the share price (the review's sandwich).
#[test]
fn a_trade_moves_the_vault_value_by_its_fee_only() {
	test(|| {
		deposit_usd(BOB, 1_000_000);
		let nav = || Perpetuals::vault_report().unwrap().nav;
		let before = nav();
		// 50 BTC: fill 60 000 (1 + 50 / 20 000) = 60 150, fee 0.0005 × 3 007 500 = 1 503.75.
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(50), any_buy()));
		assert_eq!(nav() - before, r(150_375, 100));
		// Closing: fill 60 000 (1 + 50 / 20 000) = 60 150 again, another 1 503.75.
		assert_ok!(Perpetuals::close_position(origin(BOB), BTC, any_sell()));
		assert_eq!(nav() - before, r(300_750, 100));
	});
}

/// Random trades, price moves and time by a seeded generator: after every step both pallets'
/// invariants hold and value is conserved between the traders and the vault, exactly but for
/// fixed-point rounding (fees, price impact and funding move value, never make it).
#[test]
fn random_trading_conserves_value() {
	let traders = [BOB, CHARLIE, DAVE];
	// Steps where a trader was liquidatable while filed away from bucket 0: where margin's
	// invariant 6 (a liquidatable account is within a walk's reach) has something to check.
	let placed_and_liquidatable = core::cell::Cell::new(0u32);
	// Steps where the vault owed profit it could not pay, and losses realised to pay it.
	let (owing, realised) = (core::cell::Cell::new(0u32), core::cell::Cell::new(0u32));
	for seed in 1..=8u64 {
		test(|| {
			// 20 000 USD each against trades of up to 3 BTC or 10 000 DOT, prices moving up to
			// 6% a step: leverage enough that the walk makes accounts liquidatable.
			for who in traders {
				deposit_usd(who, 20_000);
			}
			// From seed 4 Bob and Charlie hold a balanced 10 BTC book and the LP has left all
			// but 25 000 USD: winners outgrow the vault's cash, are owed the rest, and losses
			// are realised to pay them.
			if seed >= 4 {
				deposit_usd(BOB, 200_000);
				deposit_usd(CHARLIE, 200_000);
				assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(10), any_buy()));
				assert_ok!(Perpetuals::modify_position(origin(CHARLIE), BTC, n(-10), any_sell()));
				let shares = Shares::<Test>::get(LP) / 1000 * 995;
				assert_ok!(Perpetuals::request_withdrawal(origin(LP), shares));
				frame_system::Pallet::<Test>::set_block_number(11);
				assert_ok!(Perpetuals::withdraw_from_vault(origin(LP)));
			}
			let total = || -> FixedI128 {
				let usd_of = |who: &AccountId| {
					FixedI128::saturating_from_rational(
						Margin::deposit_of(who, USD) as i128 - Margin::debt_of(who, USD) as i128,
						DOLLAR as i128,
					)
				};
				let traders_value = traders.iter().fold(FixedI128::zero(), |sum, who| {
					let open = Perpetuals::position_reports(who)
						.iter()
						.fold(FixedI128::zero(), |s, p| s + p.unrealised_pnl);
					let owed = FixedI128::saturating_from_rational(
						crate::ProfitOwed::<Test>::get(who) as i128,
						DOLLAR as i128,
					);
					sum + usd_of(who) + open + owed
				});
				// The vault at the oracle marks: its value with the skew's cost added back.
				let vault = Perpetuals::vault_report().unwrap();
				traders_value + vault.nav + vault.skew_cost
			};
			let start = total();
			let mut state = seed;
			let mut next = |bound: u64| {
				// xorshift64
				state ^= state << 13;
				state ^= state >> 7;
				state ^= state << 17;
				state % bound
			};
			let mut time = 0u64;
			let mut traded = 0u32;
			let mut btc = 60_000u32;
			let mut dot = 5_000u32; // millidollars
			for step in 0..150 {
				let who = traders[next(3) as usize];
				match next(4) {
					0 | 1 => {
						// Mostly BTC (placed by distance: BTC is a margin asset); DOT is not, its
						// traders go to bucket 0.
						let (market, delta) = if next(4) != 0 {
							(BTC, r(next(600) as i128 - 300, 100))
						} else {
							(DOT, n(next(20_000) as i128 - 10_000))
						};
						if !delta.is_zero() {
							let limit = if delta.is_positive() { any_buy() } else { any_sell() };
							// Refusals (health, minimum size, utilisation) are part of the walk.
							if Perpetuals::modify_position(origin(who), market, delta, limit)
								.is_ok()
							{
								traded += 1;
							}
						}
					},
					2 => {
						btc = (btc as u64 * (940 + next(121)) / 1_000) as u32;
						dot = (dot as u64 * (940 + next(121)) / 1_000) as u32;
						set_price(BTC, price(btc));
						set_price(DOT, Price::saturating_from_rational(dot, 1_000));
					},
					_ => {
						time += next(6 * 3_600_000);
						set_time(time);
					},
				}
				// A new risk-index reference now and then: accounts are filed at their
				// distance, and margin's invariants check that none liquidatable is beyond a
				// walk's reach (funding drifting with the time steps included).
				if next(8) == 0 {
					new_reference();
				}
				// Anyone realises the largest loss in a market while the vault lacks cash, and
				// pays a trader what he is owed.
				if crate::TotalProfitOwed::<Test>::get() > vault_cash() {
					owing.set(owing.get() + 1);
				}
				if next(3) == 0 {
					let market = if next(2) == 0 { BTC } else { DOT };
					if let Some((loser, _)) =
						Perpetuals::positions_at_loss(market, None, 10).0.first()
					{
						if Perpetuals::realise_loss(origin(LP), *loser, market).is_ok() {
							realised.set(realised.get() + 1);
						}
					}
					let _ = Perpetuals::claim_profit(origin(LP), traders[next(3) as usize]);
				}
				if next(10) == 0 {
					if let Some(p) = Perpetuals::position_reports(&who).first() {
						let limit = if p.size.is_positive() { any_sell() } else { any_buy() };
						// Refused while the account is liquidatable.
						let _ = Perpetuals::close_position(origin(who), p.underlying, limit);
					}
				}
				check_invariants();
				for trader in traders {
					let placed = pallet_margin::RiskEntryOf::<Test>::get(trader)
						.is_some_and(|entry| entry.bucket > 0);
					if placed && Margin::health_of(&trader).unwrap().is_liquidatable() {
						placed_and_liquidatable.set(placed_and_liquidatable.get() + 1);
					}
				}
				let drift = (total() - start).saturating_abs();
				assert!(
					drift <= FixedI128::saturating_from_rational(1, 1_000_000_000),
					"seed {seed} step {step}: value drifted by {drift:?}"
				);
			}
			// A starved vault refuses most trades that add to the skew.
			let least = if seed >= 4 { 5 } else { 30 };
			assert!(traded >= least, "seed {seed}: only {traded} trades went through");
		});
	}
	assert!(placed_and_liquidatable.get() > 0, "no placed account became liquidatable");
	assert!(
		owing.get() > 0 && realised.get() > 0,
		"owed {} steps, {} losses realised",
		owing.get(),
		realised.get()
	);
	println!("steps owing: {}, losses realised: {}", owing.get(), realised.get());
}

fn last_event() -> RuntimeEvent {
	liquidation_test_support::last_event::<Test>()
}

mod close_out {
	use super::*;
	use liquidation_primitives::PositionLiquidation;

	/// Bob's 1 BTC long from 60 003 with 2 000 USD, BTC at 58 300: his maintenance margin is
	/// 0.010077 × 58 300 = 587.4891 USD.
	fn bob_long_at_58_300() {
		deposit_usd(BOB, 2_000);
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()));
		set_price(BTC, price(58_300));
	}

	/// The backstop closes half of Bob's long against the vault: the margin released is
	/// 587.4891 - 0.0100385 × 29 150 = 294.866825 USD, the fee half of it, 147.4334125 USD, so
	/// the half closes 294.866825 under the fill of its sale (with the skew of his 1 BTC long:
	/// 58 300 × (1 + (2 - 0.5) / 20 000) = 58 304.3725), at 58 009.505675, realising
	/// 0.5 × (58 009.505675 - 60 003) = -996.7471625 USD, charged to his deposit.
	#[test]
	fn the_vault_closes_half_a_long_at_the_oracle_less_the_fee() {
		test(|| {
			bob_long_at_58_300();
			let vault_before = vault_cash();
			let closed =
				Perpetuals::close_out(&BOB, BTC, ur(1, 2), Permill::from_percent(50), None, usd(0))
					.unwrap();
			assert_eq!(closed.units, ur(1, 2));
			assert!(!closed.whole);
			assert_eq!(closed.notional, usd(29_150));
			assert_eq!(closed.fee, ur(1_474_334_125, 10_000_000));
			assert_eq!(closed.taker, Perpetuals::vault_account());
			assert_eq!(
				last_event(),
				Event::PositionClosedOut {
					who: BOB,
					underlying: BTC,
					units: ur(1, 2),
					oracle_price: price(58_300),
					close_price: ur(58_009_505_675, 1_000_000),
					size: r(1, 2),
					realised_pnl: r(-9_967_471_625, 10_000_000),
					funding: n(0),
					fee: ur(1_474_334_125, 10_000_000),
					keeper: None,
					forgiven: usd(0),
					paid: 0,
					// Rounded up, in the vault's favour.
					charged: 996_747_163,
				}
				.into()
			);
			assert_eq!(Margin::deposit_of(&BOB, USD), 2_000 * DOLLAR - 30_001_500 - 996_747_163);
			assert_eq!(vault_cash(), vault_before + 996_747_163);
			let market = Markets::<Test>::get(BTC).unwrap();
			assert_eq!(market.state.long_interest, ur(1, 2));
			let position = Positions::<Test>::get(BOB, BTC).unwrap();
			assert_eq!((position.size, position.entry_price), (r(1, 2), price(60_003)));
			// What releases that margin is half the position (the engine sizes by it).
			// (checked on the half left: releasing its 292.622275 needs all of it, and more
			// than that too).
			let units = Perpetuals::units_releasing(&BOB, BTC, ur(292_622_275, 1_000_000)).unwrap();
			assert_eq!(units, ur(1, 2));
			let units = Perpetuals::units_releasing(&BOB, BTC, usd(1_000)).unwrap();
			assert_eq!(units, ur(1, 2), "all of it when even all of it releases less");
		});
	}

	/// A keeper takes over the half at the same price: he holds the fee less the skew premium
	/// of a sale (what he would get back reducing at once) as unrealised profit at the oracle,
	/// 0.5 × (58 300 - 58 009.505675) = 145.2471625; open interest is unchanged; he cannot take
	/// over his own position.
	#[test]
	fn a_keeper_takes_over_half_a_long_with_the_fee_as_profit() {
		test(|| {
			bob_long_at_58_300();
			deposit_usd(CHARLIE, 10_000);
			assert_noop!(
				Perpetuals::close_out(
					&BOB,
					BTC,
					ur(1, 2),
					Permill::from_percent(50),
					Some(&BOB),
					usd(0)
				),
				Error::<Test>::KeeperIsTrader
			);
			assert_noop!(
				Perpetuals::close_out(
					&CHARLIE,
					BTC,
					ur(1, 2),
					Permill::from_percent(50),
					None,
					usd(0)
				),
				Error::<Test>::NoPosition
			);
			// A paused market takes no new risk from a keeper (the vault still backstops).
			assert_ok!(Perpetuals::set_market_status(
				RuntimeOrigin::root(),
				BTC,
				MarketStatus::Paused
			));
			let half = ur(1, 2);
			let share = Permill::from_percent(50);
			assert_noop!(
				Perpetuals::close_out(&BOB, BTC, half, share, Some(&CHARLIE), usd(0)),
				Error::<Test>::MarketPaused
			);
			assert_ok!(Perpetuals::set_market_status(
				RuntimeOrigin::root(),
				BTC,
				MarketStatus::Active
			));
			let closed = Perpetuals::close_out(
				&BOB,
				BTC,
				ur(1, 2),
				Permill::from_percent(50),
				Some(&CHARLIE),
				usd(0),
			)
			.unwrap();
			assert_eq!(closed.taker, CHARLIE);
			let his = Positions::<Test>::get(CHARLIE, BTC).unwrap();
			assert_eq!((his.size, his.entry_price), (r(1, 2), ur(58_009_505_675, 1_000_000)));
			let report = &Perpetuals::position_reports(&CHARLIE)[0];
			assert_eq!(report.unrealised_pnl, r(1_452_471_625, 10_000_000));
			let market = Markets::<Test>::get(BTC).unwrap();
			assert_eq!(market.state.long_interest, usd(1));
			assert_eq!(Margin::deposit_of(&BOB, USD), 2_000 * DOLLAR - 30_001_500 - 996_747_163);
		});
	}

	/// A close-out leaving less than the market's 10 USD minimum closes the whole position.
	#[test]
	fn a_close_out_leaves_no_dust() {
		test(|| {
			bob_long_at_58_300();
			let almost = ur(9_999, 10_000);
			let closed =
				Perpetuals::close_out(&BOB, BTC, almost, Permill::from_percent(50), None, usd(0))
					.unwrap();
			assert!(closed.whole);
			assert_eq!(closed.units, usd(1));
			assert_eq!(Positions::<Test>::get(BOB, BTC), None);
			assert_eq!(PositionCount::<Test>::get(BOB), 0);
		});
	}
}

mod deleverage {
	use super::*;
	use liquidation_primitives::PositionLiquidation;

	/// Charlie short 1 BTC with 10 000 USD, Dave short 2 BTC with 6 000 USD; BTC at 50 000.
	fn two_shorts_in_profit() {
		deposit_usd(CHARLIE, 10_000);
		deposit_usd(DAVE, 6_000);
		assert_ok!(Perpetuals::modify_position(origin(CHARLIE), BTC, n(-1), any_sell()));
		assert_ok!(Perpetuals::modify_position(origin(DAVE), BTC, n(-2), any_sell()));
		set_price(BTC, price(50_000));
	}

	/// The candidates opposite a bankrupt long are the shorts in profit, ranked by profit times
	/// leverage: Dave (twice the size on less equity) before Charlie.
	#[test]
	fn candidates_are_the_opposite_winners_ranked_by_profit_times_leverage() {
		test(|| {
			two_shorts_in_profit();
			let window = Perpetuals::deleverage_candidates(BTC, false, None, 100).unwrap();
			let ranked = window.candidates;
			let who: Vec<AccountId> = ranked.iter().map(|c| c.who).collect();
			assert_eq!(who, vec![DAVE, CHARLIE]);
			assert!(ranked[0].score > ranked[1].score);
			// The whole market in one window: no next one.
			assert_eq!((window.read, window.next), (2, None));
			// No long is in profit: none opposite a bankrupt short.
			let longs = Perpetuals::deleverage_candidates(BTC, true, None, 100).unwrap();
			assert!(longs.candidates.is_empty());
			// Windows of one trader resume after the last one read, and end with the market.
			let first = Perpetuals::deleverage_candidates(BTC, false, None, 1).unwrap();
			assert_eq!(first.read, 1);
			let last = first.next.expect("a window of one that filled up");
			let second = Perpetuals::deleverage_candidates(BTC, false, Some(&last), 1).unwrap();
			assert_eq!(second.read, 1);
			let mut seen: Vec<AccountId> =
				[first.candidates, second.candidates].concat().iter().map(|c| c.who).collect();
			seen.sort();
			assert_eq!(seen, vec![CHARLIE, DAVE]);
			let after = second.next.expect("a window of one that filled up");
			let third = Perpetuals::deleverage_candidates(BTC, false, Some(&after), 1).unwrap();
			assert_eq!((third.read, third.next), (0, None));
			// A halted price ranks nothing.
			liquidation_test_support::set_price_error(
				BTC,
				liquidation_primitives::PriceError::Halted,
			);
			assert!(Perpetuals::deleverage_candidates(BTC, false, None, 100).is_err());
		});
	}

	/// Reducing at a bankruptcy price of 52 000 (a gap of 2 000 beyond the oracle) takes 2 000 a
	/// unit: Charlie gives up 1 000 of profit on half a BTC; Dave, asked for 10 000, gives up
	/// all 4 000 his 2 BTC can; a position on the wrong side or out of profit is refused.
	#[test]
	fn each_haircut_is_just_what_is_asked_and_never_more_than_the_profit() {
		test(|| {
			two_shorts_in_profit();
			let at = price(2_000);
			assert_noop!(
				Perpetuals::deleverage(&CHARLIE, BTC, true, at, usd(1_000)),
				Error::<Test>::NotDeleverageable
			);
			let vault_before = vault_cash();
			let charlie_before = Margin::deposit_of(&CHARLIE, USD);
			assert_eq!(
				Perpetuals::deleverage(&CHARLIE, BTC, false, at, usd(1_000)),
				Ok((usd(1_000), ur(1, 2)))
			);
			let his = Positions::<Test>::get(CHARLIE, BTC).unwrap();
			assert_eq!(his.size, r(-1, 2));
			// He realised half a BTC at 52 000 instead of 50 000: 1 000 less paid by the vault.
			let entry = his.entry_price;
			let paid = Margin::deposit_of(&CHARLIE, USD) - charlie_before;
			let expected = (entry - price(52_000)) * ur(1, 2);
			assert!(paid.abs_diff(expected.into_inner() / 1_000_000_000_000) <= 1, "{paid}");
			assert_eq!(vault_cash(), vault_before - paid);
			assert_eq!(
				Perpetuals::deleverage(&DAVE, BTC, false, at, usd(10_000)),
				Ok((usd(4_000), ur(2, 1)))
			);
			assert_eq!(Positions::<Test>::get(DAVE, BTC), None);
			// Above his entry a short is out of profit: nothing to take.
			set_price(BTC, price(61_000));
			assert_noop!(
				Perpetuals::deleverage(&CHARLIE, BTC, false, price(1_000), usd(1_000)),
				Error::<Test>::NotDeleverageable
			);
		});
	}

	/// Deleveraging takes profit, never solvency: Bob's equity rests on his BTC short's profit
	/// (3 000 USD against a 2 500 USD loss on DOT, 2 500 deposited); taking all of it would
	/// leave him liquidatable, so it is refused and nothing changes; a smaller haircut is taken.
	#[test]
	fn a_haircut_that_would_leave_the_account_liquidatable_is_refused() {
		test(|| {
			deposit_usd(BOB, 2_500);
			assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, r(-1, 2), any_sell()));
			assert_ok!(Perpetuals::modify_position(origin(BOB), DOT, n(1_000), any_buy()));
			set_price(BTC, price(54_000));
			set_price(DOT, ur(5, 2));
			assert!(!Margin::health_of(&BOB).unwrap().is_liquidatable());
			assert_noop!(
				Perpetuals::deleverage(&BOB, BTC, false, price(6_000), usd(10_000)),
				Error::<Test>::DeleverageWouldLiquidate
			);
			// Rounded down, in his favour: never more than asked.
			let (taken, _) =
				Perpetuals::deleverage(&BOB, BTC, false, price(6_000), usd(500)).unwrap();
			assert!(taken <= usd(500) && taken > usd(500) - ur(1, 1_000_000_000_000), "{taken:?}");
			assert!(!Margin::health_of(&BOB).unwrap().is_liquidatable());
		});
	}
}

/// Profit the vault cannot pay at once (see [`crate::profit_owed`]): the balanced book whose
/// LPs have left, where a winner could not close before (`VaultCannotPay`).
mod profit_owed {
	use super::*;
	use crate::{ProfitOwed, TotalProfitOwed};
	use liquidation_primitives::Exposure as _;

	/// Bob long and Charlie short 10 BTC each (fills 60 030, fees 300.15 USD each), then the
	/// LP takes all his shares out: the skew is balanced, so nothing bounds the withdrawal, and
	/// the vault keeps only its locked 1 000 units and the LP's rounding.
	fn balanced_book_without_lps() {
		deposit_usd(BOB, 100_000);
		deposit_usd(CHARLIE, 100_000);
		assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(10), any_buy()));
		assert_ok!(Perpetuals::modify_position(origin(CHARLIE), BTC, n(-10), any_sell()));
		let state = Markets::<Test>::get(BTC).unwrap().state;
		assert_eq!((state.skew(), state.entry_sum), (Some(n(0)), n(0)));
		assert_ok!(Perpetuals::request_withdrawal(origin(LP), Shares::<Test>::get(LP)));
		frame_system::Pallet::<Test>::set_block_number(11);
		assert_ok!(Perpetuals::withdraw_from_vault(origin(LP)));
		assert!(vault_cash() < 2_000, "the vault keeps {} units", vault_cash());
	}

	/// BTC at 66 000: Bob's close (fill 65 967, realised 59 370, fee 329.835: 59 040.165 USD) is
	/// paid what the vault holds and owed the rest, which counts in his health as USD would;
	/// realising Charlie's 59 700 USD loss brings the cash, and anyone pays Bob out of it.
	#[test]
	fn a_winner_closes_against_an_empty_vault_and_is_paid_once_the_loser_realises() {
		test(|| {
			balanced_book_without_lps();
			set_price(BTC, price(66_000));
			// Nothing is owed: no loss may be realised early.
			assert_noop!(
				Perpetuals::realise_loss(origin(DAVE), CHARLIE, BTC),
				Error::<Test>::VaultPaysInFull
			);
			let cash = vault_cash();
			let nav_before = Perpetuals::vault_report().unwrap().nav;
			let bob_usd = Margin::deposit_of(&BOB, USD);
			assert_ok!(Perpetuals::close_position(origin(BOB), BTC, any_sell()));
			let net = 59_040_165_000;
			let owed = net - cash;
			assert_eq!(Margin::deposit_of(&BOB, USD), bob_usd + cash);
			assert_eq!(vault_cash(), 0);
			assert_eq!(
				(ProfitOwed::<Test>::get(BOB), TotalProfitOwed::<Test>::get()),
				(owed, owed)
			);
			assert!(frame_system::Pallet::<Test>::events().iter().any(|record| record.event
				== Event::ProfitDeferred { who: BOB, amount: owed, owed }.into()));
			// The vault's value moved by the close's fee and skew only: the owed profit is its
			// liability as the unrealised profit was.
			let report = Perpetuals::vault_report().unwrap();
			assert_eq!(report.profit_owed, owed);
			assert!(report.nav > nav_before, "{:?} after {nav_before:?}", report.nav);
			// Owed profit counts in Bob's health as USD would, and keeps him watched (not
			// bankrupt while it is owed).
			assert_eq!(Margin::health_of(&BOB).unwrap().derivatives.gain, ur(owed, DOLLAR));
			assert!(Perpetuals::has_exposure(&BOB));
			assert!(pallet_margin::LiableAccounts::<Test>::contains_key(BOB));
			check_invariants();
			// Nothing to pay it with yet.
			assert_noop!(
				Perpetuals::claim_profit(origin(DAVE), BOB),
				Error::<Test>::VaultCannotPay
			);
			// A winner's position is no loss to realise; nor is a position no one holds.
			assert_noop!(
				Perpetuals::realise_loss(origin(BOB), BOB, BTC),
				Error::<Test>::NoPosition
			);
			let (losses, next) = Perpetuals::positions_at_loss(BTC, None, 10);
			assert_eq!((losses, next), (vec![(CHARLIE, usd(59_700))], None));
			// Of Charlie's loss, 10 × (66 000 - 60 030) = 59 700 USD, just what the vault lacks
			// (and one unit for the ledger's rounding) is realised: his entry moves to
			// 66 000 - (59 700 - realised) / 10 (rounded down for a short), his health does not
			// fall (USD lost weighs 0.95, a loss owed 1.05).
			let realised = owed + 1;
			let charlie_before = Margin::health_of(&CHARLIE).unwrap();
			assert_ok!(Perpetuals::realise_loss(origin(BOB), CHARLIE, BTC));
			assert_eq!(
				last_event(),
				Event::LossRealised {
					who: CHARLIE,
					underlying: BTC,
					price: price(66_000),
					entry_price: price(66_000) - ur(59_700 * DOLLAR - realised, 10 * DOLLAR),
					loss: ur(realised, DOLLAR),
					charged: realised,
				}
				.into()
			);
			let charlie = Positions::<Test>::get(CHARLIE, BTC).unwrap();
			let left = Perpetuals::position_reports(&CHARLIE)[0].unrealised_pnl;
			assert_eq!(
				left,
				Signed::zero() - r((59_700 * DOLLAR - realised) as i128, DOLLAR as i128)
			);
			assert_eq!(charlie.size, n(-10));
			assert_eq!(
				Margin::deposit_of(&CHARLIE, USD),
				100_000 * DOLLAR - 300_150_000 - realised
			);
			let charlie_after = Margin::health_of(&CHARLIE).unwrap();
			let margin = |report: &liquidation_primitives::HealthReport| {
				Signed::from_inner(report.maintenance_collateral.into_inner() as i128)
					- Signed::from_inner(report.maintenance_debt.into_inner() as i128)
			};
			assert!(margin(&charlie_after) >= margin(&charlie_before));
			assert_eq!(vault_cash(), realised);
			// Once is enough: the vault pays in full now.
			assert_noop!(
				Perpetuals::realise_loss(origin(BOB), CHARLIE, BTC),
				Error::<Test>::VaultPaysInFull
			);
			// Anyone lands Bob's profit in his account.
			assert_ok!(Perpetuals::claim_profit(origin(DAVE), BOB));
			assert_eq!(
				last_event(),
				Event::OwedProfitSettled { who: BOB, paid: owed, offset: 0, owed: 0 }.into()
			);
			assert_eq!(Margin::deposit_of(&BOB, USD), bob_usd + net);
			assert_eq!(vault_cash(), 1);
			assert_eq!((ProfitOwed::<Test>::get(BOB), TotalProfitOwed::<Test>::get()), (0, 0));
			assert!(!pallet_margin::LiableAccounts::<Test>::contains_key(BOB));
			assert_noop!(Perpetuals::claim_profit(origin(DAVE), BOB), Error::<Test>::NoProfitOwed);
		});
	}

	/// Owed profit is set against the trader's next loss before his USD is touched, and the
	/// LPs withdraw only what is beyond it; a new profit does not jump the queue.
	#[test]
	fn owed_profit_pays_a_loss_first_and_comes_before_the_lps() {
		test(|| {
			balanced_book_without_lps();
			set_price(BTC, price(66_000));
			assert_ok!(Perpetuals::close_position(origin(BOB), BTC, any_sell()));
			let owed = ProfitOwed::<Test>::get(BOB);
			// Dave deposits 100 000 USD into the vault: the cash is the traders' first.
			assert_ok!(Perpetuals::deposit_to_vault(origin(DAVE), 100_000 * DOLLAR));
			assert_ok!(Perpetuals::request_withdrawal(origin(DAVE), Shares::<Test>::get(DAVE)));
			frame_system::Pallet::<Test>::set_block_number(30);
			assert_noop!(
				Perpetuals::withdraw_from_vault(origin(DAVE)),
				Error::<Test>::VaultCannotPay
			);
			// Bob buys 1 BTC (fill 66 000 (1 + (-20 + 1) / 20 000) = 65 937.3, fee
			// 32.96865 USD): set against what he is owed, his USD untouched.
			let bob_usd = Margin::deposit_of(&BOB, USD);
			assert_ok!(Perpetuals::modify_position(origin(BOB), BTC, n(1), any_buy()));
			assert_eq!(Margin::deposit_of(&BOB, USD), bob_usd);
			let fee = 32_968_650;
			assert_eq!(ProfitOwed::<Test>::get(BOB), owed - fee);
			assert!(frame_system::Pallet::<Test>::events().iter().any(|record| record.event
				== Event::OwedProfitSettled { who: BOB, paid: 0, offset: fee, owed: owed - fee }
					.into()));
			// Charlie closes in profit while Bob is owed: the vault's deposit is Bob's first,
			// so Charlie is owed too rather than paid from it.
			set_price(BTC, price(54_000));
			let cash = vault_cash();
			assert!(cash > owed - fee && cash < 100_001 * DOLLAR);
			let charlie_usd = Margin::deposit_of(&CHARLIE, USD);
			assert_ok!(Perpetuals::close_position(origin(CHARLIE), BTC, any_buy()));
			let paid = Margin::deposit_of(&CHARLIE, USD) - charlie_usd;
			assert_eq!(paid, cash - (owed - fee));
			assert!(ProfitOwed::<Test>::get(CHARLIE) > 0);
			assert_eq!(
				TotalProfitOwed::<Test>::get(),
				ProfitOwed::<Test>::get(BOB) + ProfitOwed::<Test>::get(CHARLIE)
			);
			// The deposit cannot pay both: no one is paid before the other.
			assert!(vault_cash() < TotalProfitOwed::<Test>::get());
			for who in [BOB, CHARLIE] {
				assert_noop!(
					Perpetuals::claim_profit(origin(DAVE), who),
					Error::<Test>::VaultCannotPay
				);
			}
			// Bob's long is at a loss now: realised, it is set against his own claim (the vault
			// owes less, it holds no more).
			let (bob_owed, lacking) =
				(ProfitOwed::<Test>::get(BOB), TotalProfitOwed::<Test>::get() - vault_cash());
			assert_ok!(Perpetuals::realise_loss(origin(CHARLIE), BOB, BTC));
			let RuntimeEvent::Perpetuals(Event::LossRealised { charged, .. }) = last_event() else {
				panic!("no loss realised: {:?}", last_event());
			};
			assert!(charged < lacking);
			assert_eq!(ProfitOwed::<Test>::get(BOB), bob_owed - charged);
			// The vault took Bob's 10 BTC over at 66 000 (a reduction needs no room) with no
			// LP's capital left, and BTC fell: it owes more than it has and will have. No one is
			// paid before another, and no LP can buy in at a value below zero.
			assert!(Perpetuals::vault_report().unwrap().nav.is_negative());
			assert_noop!(
				Perpetuals::deposit_to_vault(origin(LENDER), lacking),
				Error::<Test>::VaultInsolvent
			);
			for who in [BOB, CHARLIE] {
				assert_noop!(
					Perpetuals::claim_profit(origin(DAVE), who),
					Error::<Test>::VaultCannotPay
				);
			}
		});
	}
}
