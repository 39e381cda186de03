//! The insurance fund in the dev runtime: stakers through signed transactions, income and cover
//! through the traits the liquidation engine uses.

use frame_support::traits::fungibles::Inspect;
use liquidation_integration_tests::TestChain;
use liquidation_primitives::{AssetId, DeficitHandler, FundIncome};
use liquidation_runtime::{
	assets, configs::AllAssets, genesis_config_presets as presets, Insurance, RuntimeCall,
};
use sp_keyring::Sr25519Keyring;

const USD: AssetId = AssetId::Asset(assets::USD);
/// One whole USD (6 decimals).
const DOLLAR: u128 = 1_000_000;

#[test]
fn a_staker_earns_income_and_bears_a_cover_through_the_real_runtime() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);

	// Bob stakes 10 000 USD with a signed transaction.
	let stake = chain.signed(
		Sr25519Keyring::Bob,
		RuntimeCall::Insurance(pallet_insurance::Call::stake {
			asset: USD,
			amount: 10_000 * DOLLAR,
			min_shares: 10_000 * DOLLAR - 1_000,
		}),
	);
	assert_eq!(chain.produce_block(vec![stake]), vec![Ok(())]);

	chain.start_block();
	chain.execute_with(|| {
		let bob = Sr25519Keyring::Bob.to_account_id();
		// The fund's first stake: a share per unit, of which 1 000 stay locked.
		assert_eq!(Insurance::shares_of(USD, &bob), 10_000 * DOLLAR - 1_000);

		// Penalty income of 2 000 USD: half to stakers (the dev parameters), vesting into their
		// stake over two weeks, half to the protocol-owned value. A share is worth no more at once.
		let engine = Sr25519Keyring::Charlie.to_account_id();
		assert!(<Insurance as FundIncome<_, _, _>>::deposit_income(USD, &engine, 2_000 * DOLLAR)
			.is_ok());
		assert_eq!(Insurance::value_of_shares(USD, 10_000 * DOLLAR), 10_000 * DOLLAR);
		assert_eq!(Insurance::fund_report(USD).fund.vesting, 1_000 * DOLLAR);

		// Bad debt of 4 000 USD is covered in full, from the stakers first (their income still
		// vesting, then their stake).
		let pool = Sr25519Keyring::Dave.to_account_id();
		let before = AllAssets::balance(USD, &pool);
		assert_eq!(
			<Insurance as DeficitHandler<_, _, _>>::cover(USD, 4_000 * DOLLAR, &pool),
			4_000 * DOLLAR
		);
		assert_eq!(AllAssets::balance(USD, &pool), before + 4_000 * DOLLAR);
		assert_eq!(Insurance::value_of_shares(USD, 10_000 * DOLLAR), 7_000 * DOLLAR);

		let report = Insurance::fund_report(USD);
		assert_eq!(report.fund.protocol_owned, 1_000 * DOLLAR);
		assert_eq!(report.custody, 8_000 * DOLLAR);
		assert_eq!(report.totals.covered, 4_000 * DOLLAR);
		assert_eq!(
			report.params,
			presets::dev_insurance_params().into_iter().find(|(a, _)| *a == USD).map(|(_, p)| p)
		);
		// The fund's books balance: custody is the staked value plus the protocol-owned value.
		assert_eq!(report.custody, report.fund.staked + report.fund.protocol_owned);
	});
	chain.finish_block();
}

#[test]
fn a_signed_account_cannot_change_insurance_parameters() {
	let mut chain = TestChain::from_preset("development");
	chain.produce_block(vec![]);
	let call = RuntimeCall::Insurance(pallet_insurance::Call::set_cooldown {
		cooldown: 1,
		unstake_window: 1,
	});
	let xt = chain.signed(Sr25519Keyring::Ferdie, call);
	assert_eq!(chain.produce_block(vec![xt]), vec![Err(sp_runtime::DispatchError::BadOrigin)]);
}
