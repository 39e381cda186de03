//! The five liquidations that failed (or cost the owner) on the first version of the dev
//! runtime, each as a new user or an attacker would try it, and each now closed out or
//! returned:
//! - a deep underwater account (health 0.80) closed by a keeper and by a flash liquidator;
//! - a drained collateral pool: the keeper and the worker's auction take the deposit position;
//! - the owner repays while his collateral is at auction, and gets it all back;
//! - one unusable price on a small position neither freezes nor shields the account;
//! - a running auction shields only its lot, and re-prices when the oracle leaves its band.

use liquidation_integration_tests::TestChain;
use liquidation_primitives::{
	ledger::{self, Inspect as _},
	AssetId, Price, PriceError,
};
use liquidation_runtime::{
	assets, Auction, Insurance, Liquidation, Margin, Runtime, RuntimeCall, RuntimeEvent,
	UncheckedExtrinsic,
};
use pallet_liquidation::LiquidationPath;
use sp_keyring::Sr25519Keyring::{self, *};
use sp_runtime::{
	traits::ValidateUnsigned, transaction_validity::TransactionSource, DispatchError,
};

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const ETH: AssetId = AssetId::Asset(assets::ETH);
const DOT: AssetId = AssetId::Asset(assets::DOT);
const DOLLAR: u128 = 1_000_000;
const BITCOIN: u128 = 100_000_000;
const ETHER: u128 = 1_000_000_000_000_000_000;

fn margin(call: pallet_margin::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Margin(call)
}

fn engine(call: pallet_liquidation::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Liquidation(call)
}

fn auction(call: pallet_auction::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Auction(call)
}

fn sudo(call: RuntimeCall) -> RuntimeCall {
	RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(call) })
}

fn keeper(who: Sr25519Keyring, collateral: AssetId) -> RuntimeCall {
	engine(pallet_liquidation::Call::liquidate {
		who: who.to_account_id(),
		debt_asset: USD,
		collateral_asset: collateral,
		max_repay: u128::MAX,
	})
}

fn events(chain: &mut TestChain) -> Vec<RuntimeEvent> {
	chain.execute_with(|| {
		frame_system::Pallet::<Runtime>::events().into_iter().map(|record| record.event).collect()
	})
}

/// The inner result of the last `sudo` call.
fn sudo_result(chain: &mut TestChain) -> Result<(), DispatchError> {
	events(chain)
		.into_iter()
		.rev()
		.find_map(|event| match event {
			RuntimeEvent::Sudo(pallet_sudo::Event::Sudid { sudo_result }) => Some(sudo_result),
			_ => None,
		})
		.expect("a sudo call")
}

fn ok(chain: &mut TestChain, signer: Sr25519Keyring, call: RuntimeCall) {
	assert_eq!(chain.dispatch(signer, call), Ok(()));
}

/// Alice lends 200 000 USD; each of `borrowers` deposits 1 BTC and borrows 43 000 USD at
/// 60 000.
fn borrowers(borrowers: &[Sr25519Keyring]) -> TestChain {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_prices(&[(BTC, Price::from_u32(60_000)), (ETH, Price::from_u32(3_000))]);
	ok(
		&mut chain,
		Alice,
		margin(pallet_margin::Call::deposit { asset: USD, amount: 200_000 * DOLLAR }),
	);
	for who in borrowers {
		ok(&mut chain, *who, margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN }));
		ok(
			&mut chain,
			*who,
			margin(pallet_margin::Call::borrow { asset: USD, amount: 43_000 * DOLLAR }),
		);
	}
	chain
}

/// BTC down to `levels` in steps the circuit breaker accepts.
fn crash(chain: &mut TestChain, levels: &[u32]) {
	for level in levels {
		chain.feed_price(BTC, Price::from_u32(*level));
	}
}

fn health_factor(chain: &mut TestChain, who: Sr25519Keyring) -> f64 {
	chain.execute_with(|| {
		let report = Liquidation::effective_report(&who.to_account_id()).unwrap();
		report.health_factor().map_or(f64::INFINITY, |f| f.into_inner() as f64 / 1e18)
	})
}

/// Dave and Eve at BTC 40 000: health 0.80, their bitcoin worth less than their debt with
/// the 8% penalty. Both are insolvent, so the penalty is junior to their debt: the liquidator's
/// half of it only (4%). The keeper takes all of Dave's bitcoin for 40 000 / 1.04 = 38 461.54 USD;
/// the flash liquidator sells Eve's through the genesis pool. What is left of each debt is bad
/// debt, which the same call sends down the waterfall.
#[test]
fn a_deep_underwater_account_is_closed_out_by_a_keeper_and_by_a_flash_liquidator() {
	let mut chain = borrowers(&[Dave, Eve]);
	crash(&mut chain, &[52_000, 46_000, 40_000]);
	let factor = health_factor(&mut chain, Dave);
	assert!((factor - 0.797).abs() < 0.002, "{factor}");

	ok(&mut chain, Charlie, keeper(Dave, BTC));
	let found = chain.liquidation_events();
	assert!(
		found.iter().any(|e| matches!(
			e,
			pallet_liquidation::Event::Liquidated {
				path: LiquidationPath::Keeper,
				seized: BITCOIN,
				repaid: 38_461_538_462,
				..
			}
		)),
		"{found:?}"
	);
	assert!(found.iter().any(|e| matches!(e, pallet_liquidation::Event::BadDebtSettled { .. })));

	let flash = engine(pallet_liquidation::Call::flash_liquidate {
		who: Eve.to_account_id(),
		debt_asset: USD,
		collateral_asset: BTC,
		max_repay: u128::MAX,
	});
	ok(&mut chain, Ferdie, flash);
	let found = chain.liquidation_events();
	assert!(
		found.iter().any(|e| matches!(
			e,
			pallet_liquidation::Event::Liquidated {
				path: LiquidationPath::Flash,
				seized: BITCOIN,
				..
			}
		)),
		"{found:?}"
	);
	chain.execute_with(|| {
		for who in [Dave, Eve] {
			assert!(Margin::positions(&who.to_account_id()).is_empty());
		}
		let totals = pallet_liquidation::Totals::<Runtime>::get(USD);
		assert_eq!(totals.written_off, totals.covered + totals.socialized);
	});
}

/// Ferdie borrows every bitcoin the pool can pay out, as a whale would to shield an account.
/// Dave still gets liquidated: a keeper receives his deposit position, and the worker's
/// auction (validated first, as the pool would) takes Eve's position and sells it.
#[test]
fn a_drained_collateral_pool_shields_no_one() {
	let mut chain = borrowers(&[Dave, Eve]);
	ok(
		&mut chain,
		Ferdie,
		margin(pallet_margin::Call::deposit { asset: USD, amount: 600_000 * DOLLAR }),
	);
	let cash = chain.execute_with(|| Margin::cash(BTC));
	ok(&mut chain, Ferdie, margin(pallet_margin::Call::borrow { asset: BTC, amount: cash }));
	assert_eq!(chain.execute_with(|| Margin::cash(BTC)), 0);
	crash(&mut chain, &[52_000, 46_000]);

	ok(&mut chain, Charlie, keeper(Dave, BTC));
	let found = chain.liquidation_events();
	let seized = found
		.iter()
		.find_map(|e| match e {
			pallet_liquidation::Event::Liquidated { seized, as_deposit: true, .. } => Some(*seized),
			_ => None,
		})
		.unwrap_or_else(|| panic!("a liquidation handing over the position: {found:?}"));
	let charlie = Charlie.to_account_id();
	assert_eq!(chain.execute_with(|| Margin::deposit_of(&charlie, BTC)), seized);

	let eve = Eve.to_account_id();
	let call =
		pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who: eve.clone(), found_at: 0 };
	chain.execute_with(|| {
		assert!(Liquidation::validate_unsigned(TransactionSource::Local, &call).is_ok())
	});
	chain.start_block();
	assert_eq!(
		chain.apply(UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call))),
		Ok(Ok(()))
	);
	chain.finish_block();
	let report = chain.execute_with(|| Auction::auction_reports().pop().expect("an auction"));
	chain.execute_with(|| {
		let custody = pallet_auction::Pallet::<Runtime>::custody_account();
		assert_eq!(Margin::deposit_of(&custody, BTC), report.auction.lot);
	});
	// Bob buys at the start price: he gets a bitcoin deposit position.
	let take = auction(pallet_auction::Call::take {
		id: report.id,
		max_collateral: report.auction.lot,
		max_price: report.price,
	});
	ok(&mut chain, Bob, take);
	assert!(chain.execute_with(|| Margin::deposit_of(&Bob.to_account_id(), BTC)) > 0);
	assert!(!chain.execute_with(|| Liquidation::in_auction(&eve)));
}

/// The worker puts Dave's bitcoin to auction; Dave repays all his debt before anyone buys.
/// Nothing sells any more, nothing goes to insurance, and closing the auction gives him back
/// the whole lot (the first version booked a buyer's 23 220 USD as penalty and kept it).
#[test]
fn an_owner_who_repays_during_an_auction_keeps_his_collateral() {
	let mut chain = borrowers(&[Dave]);
	crash(&mut chain, &[52_000, 46_000]);
	let dave = Dave.to_account_id();
	chain.start_block();
	let call =
		pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who: dave.clone(), found_at: 0 };
	assert_eq!(
		chain.apply(UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call))),
		Ok(Ok(()))
	);
	chain.finish_block();
	let report = chain.execute_with(|| Auction::auction_reports().pop().expect("an auction"));
	let fund_before = chain.execute_with(|| Insurance::custody(USD));

	ok(
		&mut chain,
		Dave,
		margin(pallet_margin::Call::repay { asset: USD, amount: pallet_margin::Amount::All }),
	);
	let take = auction(pallet_auction::Call::take {
		id: report.id,
		max_collateral: report.auction.lot,
		max_price: report.price,
	});
	assert_eq!(chain.dispatch(Bob, take), Err(pallet_auction::Error::<Runtime>::NotNeeded.into()));
	ok(&mut chain, Dave, auction(pallet_auction::Call::close { id: report.id }));
	chain.execute_with(|| {
		assert_eq!(Margin::deposit_of(&dave, BTC), BITCOIN);
		assert_eq!(Margin::debt_of(&dave, USD), 0);
		assert_eq!(Insurance::custody(USD), fund_before);
		assert!(!Liquidation::in_auction(&dave));
	});
}

/// Dave holds 2 DOT (14 USD, over the 10 USD least position of an indebted account) beside his
/// bitcoin; governance halts DOT. An indebted account can no
/// longer deposit DOT, and Dave, underwater, is liquidated all the same: the halted position
/// is valued at its last price, and only the pair liquidated needs a usable one. DOT's price
/// source cannot be removed while he holds it.
#[test]
fn one_unusable_price_neither_freezes_nor_shields_the_account() {
	let mut chain = borrowers(&[]);
	chain.feed_price(DOT, Price::from_u32(7));
	let dot = 20_000_000_000; // 2 DOT (10 decimals)
	ok(&mut chain, Dave, margin(pallet_margin::Call::deposit { asset: DOT, amount: dot }));
	ok(&mut chain, Dave, margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN }));
	ok(
		&mut chain,
		Dave,
		margin(pallet_margin::Call::borrow { asset: USD, amount: 43_000 * DOLLAR }),
	);
	ok(&mut chain, Alice, sudo(RuntimeCall::Prices(pallet_prices::Call::halt { asset: DOT })));
	assert_eq!(sudo_result(&mut chain), Ok(()));
	assert_eq!(
		chain.dispatch(Dave, margin(pallet_margin::Call::deposit { asset: DOT, amount: dot })),
		Err(pallet_margin::Error::<Runtime>::Price(PriceError::Halted).into())
	);
	ok(
		&mut chain,
		Alice,
		sudo(RuntimeCall::Prices(pallet_prices::Call::remove_asset { asset: DOT })),
	);
	assert_eq!(sudo_result(&mut chain), Err(pallet_prices::Error::<Runtime>::AssetInUse.into()));
	crash(&mut chain, &[52_000, 46_000]);
	ok(&mut chain, Charlie, keeper(Dave, BTC));
	assert!(chain
		.liquidation_events()
		.iter()
		.any(|e| matches!(e, pallet_liquidation::Event::Liquidated { .. })));
}

/// Dave holds 1 BTC and 10 ETH against 60 000 USD. At BTC 40 000 the worker auctions his
/// bitcoin for the slice that restores him; judged as sold, he is safe. ETH then falls to
/// 2 500: a keeper liquidates his ether while the auction runs on. BTC falls 12% more, out of
/// the lot's re-pricing band: the lot restarts at the new level instead of waiting 600 blocks.
#[test]
fn a_running_auction_shields_only_its_lot_and_reprices_with_the_oracle() {
	let mut chain = borrowers(&[]);
	ok(&mut chain, Dave, margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN }));
	ok(&mut chain, Dave, margin(pallet_margin::Call::deposit { asset: ETH, amount: 10 * ETHER }));
	ok(
		&mut chain,
		Dave,
		margin(pallet_margin::Call::borrow { asset: USD, amount: 60_000 * DOLLAR }),
	);
	crash(&mut chain, &[52_000, 44_000, 40_000]);
	let dave = Dave.to_account_id();
	chain.start_block();
	let call =
		pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who: dave.clone(), found_at: 0 };
	assert_eq!(
		chain.apply(UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call))),
		Ok(Ok(()))
	);
	chain.finish_block();
	let report = chain.execute_with(|| Auction::auction_reports().pop().expect("an auction"));
	assert_eq!(report.auction.collateral, BTC);
	assert!(health_factor(&mut chain, Dave) > 1.0);
	// A keeper's liquidation of him is refused before any fee (`CheckKeeperLiquidation`).
	assert_eq!(
		chain.submit(Charlie, keeper(Dave, ETH)),
		Err(sp_runtime::transaction_validity::TransactionValidityError::Invalid(
			sp_runtime::transaction_validity::InvalidTransaction::Custom(
				pallet_liquidation::invalid::NOT_LIQUIDATABLE
			)
		))
	);

	chain.feed_price(ETH, Price::from_u32(2_500));
	assert!(health_factor(&mut chain, Dave) < 1.0);
	ok(&mut chain, Charlie, keeper(Dave, ETH));
	chain.execute_with(|| {
		assert_eq!(<Margin as ledger::Inspect<_>>::deposit_of(&dave, ETH), 0);
		assert!(pallet_auction::Auctions::<Runtime>::contains_key(report.id));
	});

	chain.feed_price(BTC, Price::from_u32(35_200));
	let now = chain.execute_with(|| Auction::auction_report(report.id).expect("running"));
	assert!(now.needs_restart, "12% under the start level, out of the 10% band");
	ok(&mut chain, Bob, auction(pallet_auction::Call::redo { id: report.id }));
	let restarted = chain.execute_with(|| Auction::auction_report(report.id).expect("running"));
	assert_eq!(restarted.auction.oracle_at_start, Price::from_u32(35_200));
}
