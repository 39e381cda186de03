//! Chain specifications: the `dev` and `local` chains built from the runtime's genesis presets.

use liquidation_runtime::WASM_BINARY;
use sc_service::ChainType;

/// The chain specification of this node's runtime.
pub type ChainSpec = sc_service::GenericChainSpec;

/// Token symbol, decimals and address format, as wallets (polkadot.js Apps) show them.
fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), "LIQ".into());
	properties.insert("tokenDecimals".into(), liquidation_runtime::NATIVE_DECIMALS.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime's wasm binary is not available: this node was built with SKIP_WASM_BUILD; \
		 rebuild it without that variable"
			.to_string()
	})
}

/// The single-authority dev chain (`--dev`): Alice authors and finalizes.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Liquidation Engine Development")
		.with_id("liquidation_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// The two-authority local network (`--chain local`): Alice and Bob.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Liquidation Engine Local Testnet")
		.with_id("liquidation_local_testnet")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}
