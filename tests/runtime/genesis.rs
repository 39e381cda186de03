//! The `development` and `local_testnet` presets build the chain the README describes.

use frame_support::traits::fungibles::metadata::Inspect as MetadataInspect;
use liquidation_integration_tests::TestChain;
use liquidation_runtime::{
	assets, genesis_config_presets as presets, Assets, CouncilCollective, OracleOperators, Runtime,
	System,
};
use sp_keyring::Sr25519Keyring;

#[test]
fn development_preset_has_assets_operators_council_and_endowments() {
	let mut chain = TestChain::from_preset("development");
	chain.execute_with(|| {
		// One authority.
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 1);
		assert_eq!(pallet_grandpa::Authorities::<Runtime>::get().len(), 1);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(Sr25519Keyring::Alice.to_account_id()));

		// A USD stable plus BTC, ETH and DOT, with metadata, every dev account endowed.
		for (id, asset) in assets::local_assets() {
			assert_eq!(Assets::name(id), asset.name.as_bytes(), "name of {}", asset.symbol);
			assert_eq!(Assets::symbol(id), asset.symbol.as_bytes());
			assert_eq!(Assets::decimals(id), asset.decimals);
			let expected = presets::ENDOWMENT_WHOLE_UNITS * 10u128.pow(u32::from(asset.decimals));
			for account in presets::endowed_accounts() {
				// Alice seeded the perpetuals vault with USD.
				let seeded = account == Sr25519Keyring::Alice.to_account_id() && id == assets::USD;
				let seed = if seeded { presets::DEV_VAULT_SEED_USD * 1_000_000 } else { 0 };
				assert_eq!(Assets::balance(id, &account), expected - seed);
			}
		}
		for symbol in ["USD", "BTC", "ETH", "DOT"] {
			assert!(assets::by_symbol(symbol).is_some(), "{symbol} is a dev asset");
		}
		for account in presets::endowed_accounts() {
			assert_eq!(System::account(&account).data.free, presets::ENDOWMENT_NATIVE);
		}

		// Five oracle operators and a three-member council.
		assert_eq!(pallet_membership::Members::<Runtime, _>::get().len(), 5);
		let mut operators = presets::oracle_operators();
		operators.sort();
		assert_eq!(OracleOperators::members().into_inner(), operators);
		assert_eq!(
			pallet_collective::Members::<Runtime, CouncilCollective>::get(),
			presets::council_members()
		);
	});
}

#[test]
fn local_testnet_preset_has_two_authorities() {
	let mut chain = TestChain::from_preset("local_testnet");
	chain.execute_with(|| {
		assert_eq!(pallet_aura::Authorities::<Runtime>::get().len(), 2);
		assert_eq!(pallet_grandpa::Authorities::<Runtime>::get().len(), 2);
	});
}

#[test]
fn blocks_execute_and_time_advances() {
	let mut chain = TestChain::from_preset("development");
	for expected in 1..=3 {
		let number = chain.start_block();
		assert_eq!(number, expected);
		chain.finish_block();
	}
	let (number, now) =
		chain.execute_with(|| (System::block_number(), pallet_timestamp::Now::<Runtime>::get()));
	assert_eq!(number, 3);
	assert!(now > 0);
}
