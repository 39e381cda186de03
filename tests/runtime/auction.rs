//! A collateral auction in the dev runtime: the lot comes out of a margin account through the
//! `MarginLedger`, a buyer takes it with a signed transaction, the proceeds repay the owner's
//! debt and pay the penalty to insurance, the collateral not needed goes back to the owner.

use liquidation_integration_tests::TestChain;
use liquidation_primitives::{
	ledger::{Inspect as _, Mutate as _, RiskScan as _},
	AssetId, CollateralAuction, Price,
};
use liquidation_runtime::{assets, Auction, Insurance, Margin, RuntimeCall};
use pallet_auction::AuctionPrice;
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::FixedPointNumber;

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const DOLLAR: u128 = 1_000_000;
const BITCOIN: u128 = 100_000_000;

#[test]
fn an_auction_repays_the_owners_debt_and_returns_the_rest() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_price(BTC, Price::from_u32(50_000));
	let margin = |call| RuntimeCall::Margin(call);
	assert_eq!(
		chain.dispatch(
			Alice,
			margin(pallet_margin::Call::deposit { asset: USD, amount: 100_000 * DOLLAR })
		),
		Ok(())
	);
	assert_eq!(
		chain.dispatch(Dave, margin(pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN })),
		Ok(())
	);
	assert_eq!(
		chain.dispatch(
			Dave,
			margin(pallet_margin::Call::borrow { asset: USD, amount: 30_000 * DOLLAR })
		),
		Ok(())
	);

	// As the liquidation engine would, seize the whole deposit into the auction's custody and
	// auction it for the debt plus 3 000 USD.
	let dave = Dave.to_account_id();
	chain.start_block();
	let (id, debt) = chain.execute_with(|| {
		let debt = Margin::debt_of(&dave, USD);
		Margin::seize_collateral(&dave, BTC, BITCOIN, &Auction::custody_account()).unwrap();
		let id = <Auction as CollateralAuction<_>>::start(
			&dave,
			BTC,
			BITCOIN,
			USD,
			debt + 3_000 * DOLLAR,
		)
		.unwrap();
		(id, debt)
	});
	chain.finish_block();
	chain.execute_with(|| {
		let report = Auction::auction_report(id).expect("the auction runs");
		// 110% of the oracle, no step taken yet.
		assert_eq!(report.price, AuctionPrice::saturating_from_integer(55_000));
		assert_eq!(report.oracle_price, Some(AuctionPrice::saturating_from_integer(50_000)));
		assert_eq!(Auction::auction_reports().len(), 1);
	});

	// Charlie buys as much as the auction has to raise at up to 60 000 a bitcoin.
	let insurance_before = chain.execute_with(|| Insurance::fund_report(USD).custody);
	let take = RuntimeCall::Auction(pallet_auction::Call::take {
		id,
		max_collateral: BITCOIN,
		max_price: AuctionPrice::saturating_from_integer(60_000),
	});
	assert_eq!(chain.dispatch(Charlie, take), Ok(()));
	chain.execute_with(|| {
		// The debt (with its interest) is repaid, the auction is over and the rest of the
		// bitcoin is Dave's deposit again. The handler (the engine) knows no penalty for an
		// auction it did not start: the auction raised the debt alone, nothing beyond it went
		// to insurance.
		assert_eq!(Margin::debt_of(&dave, USD), 0);
		assert_eq!(Insurance::fund_report(USD).custody, insurance_before);
		assert!(Auction::auction_report(id).is_none());
		let price = 55_000u128;
		// What the debt at the take (the debt at the start and a block's interest) buys.
		let sold = (debt + DOLLAR) * BITCOIN / (price * DOLLAR);
		let returned = Margin::deposit_of(&dave, BTC);
		// Up to a dollar of interest: within two thousand satoshi.
		assert!(
			returned + sold <= BITCOIN + 2_000 && returned + sold + 2_000 >= BITCOIN,
			"{returned} + {sold}"
		);
		assert!(Margin::indebted_accounts(None, 10).is_empty());
	});
}
