//! The liquidation engine in the dev runtime: a crash fed by the operators, then a keeper's
//! signed liquidation, a flash liquidation through the genesis DEX pool, and the worker's
//! unsigned liquidation validated and applied as the block builder applies it.

use liquidation_integration_tests::TestChain;
use liquidation_primitives::{ledger, AssetId, Price};
use liquidation_runtime::{assets, Liquidation, Margin, Runtime, RuntimeCall, UncheckedExtrinsic};
use pallet_liquidation::LiquidationPath;
use sp_keyring::Sr25519Keyring::*;
use sp_runtime::{
	traits::ValidateUnsigned,
	transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	FixedU128, Permill,
};

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);
const DOLLAR: u128 = 1_000_000;
const BITCOIN: u128 = 100_000_000;

fn margin(call: pallet_margin::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Margin(call)
}

fn engine(call: pallet_liquidation::Call<Runtime>) -> RuntimeCall {
	RuntimeCall::Liquidation(call)
}

/// Alice lends 200 000 USD; Dave and Eve each borrow 43 000 USD against 1 BTC at 60 000; then
/// BTC is fed at each of `prices` in turn (steps the breaker accepts).
fn two_borrowers_then(prices: &[u32]) -> TestChain {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	chain.feed_price(BTC, Price::from_u32(60_000));
	assert_eq!(
		chain.dispatch(
			Alice,
			margin(pallet_margin::Call::deposit { asset: USD, amount: 200_000 * DOLLAR })
		),
		Ok(())
	);
	for borrower in [Dave, Eve] {
		for call in [
			pallet_margin::Call::deposit { asset: BTC, amount: BITCOIN },
			pallet_margin::Call::borrow { asset: USD, amount: 43_000 * DOLLAR },
		] {
			assert_eq!(chain.dispatch(borrower, margin(call)), Ok(()));
		}
	}
	for price in prices {
		chain.feed_price(BTC, Price::from_u32(*price));
	}
	chain
}

/// As [`two_borrowers_then`], BTC falling to 48 000: both health factors fall to 43 200 / 45 150 =
/// 0.957.
fn two_borrowers_then_a_crash() -> TestChain {
	let mut chain = two_borrowers_then(&[52_000, 48_000]);
	chain.execute_with(|| {
		for who in [Dave, Eve] {
			assert!(Margin::health_of(&who.to_account_id()).unwrap().is_liquidatable());
		}
	});
	chain
}

/// The figures of the README's genesis table, written out here rather than read back from the
/// preset, so that a change of the preset that the README does not follow fails.
#[test]
fn genesis_opens_the_dev_pools_and_configures_the_engine() {
	let mut chain = TestChain::from_preset("development");
	chain.execute_with(|| {
		let params = pallet_liquidation::Params::<Runtime>::get().expect("engine parameters");
		assert_eq!(params.liquidation_penalty, Permill::from_percent(8));
		assert_eq!(params.insurance_share, Permill::from_percent(50));
		assert_eq!(params.close_factor, Permill::from_percent(50));
		assert_eq!(params.target_health_factor, FixedU128::from_rational(125, 100));
		assert_eq!(params.full_liquidation_health_factor, FixedU128::from_rational(95, 100));
		assert_eq!(params.dust_value, FixedU128::from_u32(10));
		assert_eq!(params.max_slippage, Permill::from_percent(5));
		assert_eq!(params.max_value_per_block, FixedU128::from_u32(10_000_000));
		assert_eq!(params.socialize_after_blocks, 14_400);

		// 100 000 LIQ at 5, 100 BTC at 60 000, 1 000 ETH at 3 000, 100 000 DOT at 7.
		let pools = [
			(AssetId::Native, 100_000 * 10u128.pow(12), 500_000),
			(BTC, 100 * BITCOIN, 6_000_000),
			(AssetId::Asset(assets::ETH), 1_000 * 10u128.pow(18), 3_000_000),
			(AssetId::Asset(assets::DOT), 100_000 * 10u128.pow(10), 700_000),
		];
		for (asset, amount, dollars) in pools {
			assert_eq!(
				pallet_asset_conversion::Pallet::<Runtime>::get_reserves(asset.into(), USD.into())
					.ok(),
				Some((amount, dollars * DOLLAR)),
				"the {asset:?}/USD pool"
			);
		}
		assert_eq!(pallet_asset_conversion::Pools::<Runtime>::iter().count(), pools.len());
	});
}

#[test]
fn a_keeper_and_a_flash_liquidator_close_out_after_a_crash() {
	let mut chain = two_borrowers_then_a_crash();
	let dave = Dave.to_account_id();
	let eve = Eve.to_account_id();

	// Charlie, a keeper, repays half of Dave's debt and takes his bitcoin at an 8% penalty.
	let keeper = engine(pallet_liquidation::Call::liquidate {
		who: dave.clone(),
		debt_asset: USD,
		collateral_asset: BTC,
		max_repay: u128::MAX,
	});
	assert_eq!(chain.dispatch(Charlie, keeper), Ok(()));
	let events = chain.liquidation_events();
	let Some(pallet_liquidation::Event::Liquidated { path, repaid, seized, .. }) = events.last()
	else {
		panic!("a liquidation: {events:?}")
	};
	assert_eq!(*path, LiquidationPath::Keeper);
	// The close factor: half of the debt (43 000 and a few blocks of interest).
	assert!(*repaid >= 21_500 * DOLLAR && *repaid < 21_510 * DOLLAR, "{repaid}");
	// 1.08 times its value at 48 000: about 0.48375 BTC.
	assert!(*seized > 48_370_000 && *seized < 48_400_000, "{seized}");
	// The close factor binds (the target of 1.25 needs 38 877 USD): the health factor rises
	// from 0.957 to 22 302 / 22 575 = 0.988, and the next liquidation continues from there.
	chain.execute_with(|| {
		let factor = Margin::health_of(&dave).unwrap().health_factor().unwrap();
		assert!(factor > FixedU128::from_rational(987, 1_000), "{factor:?}");
		assert!(factor < FixedU128::from_rational(989, 1_000), "{factor:?}");
	});

	// Ferdie flash-liquidates Eve through the genesis BTC/USD pool (priced at 60 000: the sale
	// brings more than the oracle's 48 000, well within the slippage bound).
	let ferdie_usd = chain.execute_with(|| {
		<liquidation_runtime::configs::AllAssets as frame_support::traits::fungibles::Inspect<
				_,
			>>::balance(USD, &Ferdie.to_account_id())
	});
	let flash = engine(pallet_liquidation::Call::flash_liquidate {
		who: eve.clone(),
		debt_asset: USD,
		collateral_asset: BTC,
		max_repay: u128::MAX,
	});
	assert_eq!(chain.dispatch(Ferdie, flash), Ok(()));
	let events = chain.liquidation_events();
	let Some(pallet_liquidation::Event::Liquidated { path, reward, .. }) = events.last() else {
		panic!("a liquidation: {events:?}")
	};
	assert_eq!(*path, LiquidationPath::Flash);
	chain.execute_with(|| {
		let now = <liquidation_runtime::configs::AllAssets as frame_support::traits::fungibles::Inspect<_>>::balance(
			USD,
			&Ferdie.to_account_id(),
		);
		assert_eq!(now, ferdie_usd + reward);
		let factor = Margin::health_of(&eve).unwrap().health_factor().unwrap();
		assert!(factor > FixedU128::from_rational(987, 1_000), "{factor:?}");
		assert_eq!(pallet_liquidation::Totals::<Runtime>::get(USD).liquidations, 2);
	});
}

#[test]
fn the_workers_unsigned_liquidation_is_validated_and_starts_an_auction() {
	let mut chain = two_borrowers_then_a_crash();
	let dave = Dave.to_account_id();
	let call =
		pallet_liquidation::Call::<Runtime>::liquidate_unsigned { who: dave.clone(), found_at: 0 };
	chain.execute_with(|| {
		// What the pool checks: valid from the local node, refused from the network.
		assert!(Liquidation::validate_unsigned(TransactionSource::Local, &call).is_ok());
		assert_eq!(
			Liquidation::validate_unsigned(TransactionSource::External, &call),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Call))
		);
		let (found, _) = Liquidation::liquidatable_accounts(None, 100);
		assert_eq!(found.len(), 2);
	});
	chain.start_block();
	let xt = UncheckedExtrinsic::new_bare(RuntimeCall::Liquidation(call));
	assert_eq!(chain.apply(xt), Ok(Ok(())));
	chain.finish_block();
	let events = chain.liquidation_events();
	assert!(
		matches!(events.last(), Some(pallet_liquidation::Event::AuctionStarted { who, .. }) if *who == dave),
		"{events:?}"
	);
	chain.execute_with(|| {
		assert!(Liquidation::in_auction(&dave));
		assert!(<Margin as ledger::Inspect<_>>::deposit_of(&dave, BTC) < BITCOIN);
		// Eve is still to be liquidated. So is Dave: judged as if his auction sold (half his
		// debt, the close factor), his health factor is 0.988, and the bitcoin left outside the
		// lot stays liquidatable: the worker may start the next slice at once.
		let (found, _) = Liquidation::liquidatable_accounts(None, 100);
		assert_eq!(found.len(), 2);
		let factor = Liquidation::effective_report(&dave).unwrap().health_factor().unwrap();
		assert!(factor > FixedU128::from_rational(987, 1_000), "{factor:?}");
		assert!(factor < FixedU128::from_rational(989, 1_000), "{factor:?}");
		assert!(Liquidation::validate_unsigned(
			TransactionSource::Local,
			&pallet_liquidation::Call::liquidate_unsigned { who: dave.clone(), found_at: 0 }
		)
		.is_ok());
	});
}

/// Dave and Eve as in [`two_borrowers_then_a_crash`], BTC at 50 000 only: health factor
/// 45 000 / 45 150 = 0.9967, and one liquidation (half the debt, the close factor) leaves either
/// healthy (1.05).
fn two_borrowers_just_under() -> TestChain {
	two_borrowers_then(&[52_000, 50_000])
}

/// What the pool makes of `xt`: its priority, or why it is refused.
fn pool_validity(
	chain: &mut TestChain,
	source: TransactionSource,
	xt: UncheckedExtrinsic,
) -> Result<u64, TransactionValidityError> {
	chain.execute_with(|| {
		let parent = frame_system::Pallet::<Runtime>::parent_hash();
		liquidation_runtime::Executive::validate_transaction(source, xt, parent)
			.map(|valid| valid.priority)
	})
}

/// A keeper racing the worker for the same account: the pool puts the keeper's liquidation
/// first in a block, and whichever comes second is refused before the block includes it: the
/// keeper pays no fee for a liquidation the worker got to first.
#[test]
fn a_keeper_goes_first_and_the_one_who_comes_second_pays_nothing() {
	use liquidation_runtime::configs::{KeeperLiquidationPriority, UnsignedLiquidationPriority};
	let mut chain = two_borrowers_just_under();
	let (dave, eve) = (Dave.to_account_id(), Eve.to_account_id());
	let keeper_call = |who: &liquidation_runtime::AccountId| {
		engine(pallet_liquidation::Call::liquidate {
			who: who.clone(),
			debt_asset: USD,
			collateral_asset: BTC,
			max_repay: u128::MAX,
		})
	};
	let worker = |who: &liquidation_runtime::AccountId| {
		UncheckedExtrinsic::new_bare(engine(pallet_liquidation::Call::liquidate_unsigned {
			who: who.clone(),
			found_at: 0,
		}))
	};
	let charlie = Charlie.to_account_id();
	let charlie_native = |chain: &mut TestChain| {
		chain.execute_with(|| {
			(
				liquidation_runtime::Balances::free_balance(&charlie),
				frame_system::Pallet::<Runtime>::account_nonce(&charlie),
			)
		})
	};

	// In the pool: the keeper's liquidation in the keepers' band, above the worker's; both
	// carry the shortfall (150 USD and a few blocks of interest).
	let keeper_xt = chain.signed(Charlie, keeper_call(&dave));
	let keeper_priority = pool_validity(&mut chain, TransactionSource::External, keeper_xt)
		.expect("a keeper's liquidation of a liquidatable account is valid");
	let worker_priority = pool_validity(&mut chain, TransactionSource::Local, worker(&dave))
		.expect("the worker's too");
	assert!(keeper_priority >= KeeperLiquidationPriority::get() + 150, "{keeper_priority}");
	assert!(worker_priority >= UnsignedLiquidationPriority::get() + 150, "{worker_priority}");
	assert!(worker_priority < KeeperLiquidationPriority::get());

	// Dave: the worker's liquidation is in the block first (the keeper was late). The keeper's,
	// applied after it, is refused as invalid: not included, no fee, his nonce unchanged.
	let before = charlie_native(&mut chain);
	chain.start_block();
	assert_eq!(chain.apply(worker(&dave)), Ok(Ok(())));
	let keeper_xt = chain.signed(Charlie, keeper_call(&dave));
	assert_eq!(
		chain.apply(keeper_xt),
		Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
			pallet_liquidation::invalid::NOT_LIQUIDATABLE
		)))
	);
	// Eve: the keeper's goes first (his band) and succeeds; the worker's, after it, is refused.
	let keeper_xt = chain.signed(Charlie, keeper_call(&eve));
	assert_eq!(chain.apply(keeper_xt), Ok(Ok(())));
	assert_eq!(
		chain.apply(worker(&eve)),
		Err(TransactionValidityError::Invalid(InvalidTransaction::Custom(
			pallet_liquidation::invalid::NOT_LIQUIDATABLE
		)))
	);
	chain.finish_block();
	let after = charlie_native(&mut chain);
	// One transaction of Charlie's was included (Eve's), and paid for; Dave's was not.
	assert_eq!(after.1, before.1 + 1);
	let fee_paid = before.0 - after.0;
	assert!(fee_paid > 0);
	let paths: Vec<_> = chain
		.liquidation_events()
		.into_iter()
		.filter_map(|event| match event {
			pallet_liquidation::Event::Liquidated { who, path, .. } => Some((who, path)),
			pallet_liquidation::Event::AuctionStarted { who, .. } => {
				Some((who, LiquidationPath::Auction))
			},
			_ => None,
		})
		.collect();
	assert_eq!(
		paths,
		vec![(dave.clone(), LiquidationPath::Auction), (eve, LiquidationPath::Keeper)]
	);
	chain
		.execute_with(|| assert!(!Liquidation::effective_report(&dave).unwrap().is_liquidatable()));
}
