//! The dev chain's assets: ids, symbols, names and decimals, in one place for genesis, tests and
//! tools (a crash replay maps a scenario's symbols through [`by_symbol`]).

use crate::{AssetId, LocalAssetId, NATIVE_DECIMALS};

/// A dev asset: where it lives and how to show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DevAsset {
	/// Its id in the engine and the oracle.
	pub id: AssetId,
	/// Ticker, as in scenario files and the oracle docs.
	pub symbol: &'static str,
	/// Human-readable name (asset metadata).
	pub name: &'static str,
	/// Decimal places of its smallest unit.
	pub decimals: u8,
}

/// `pallet-assets` id of the USD stable asset.
pub const USD: LocalAssetId = 1;
/// `pallet-assets` id of the BTC-like asset.
pub const BTC: LocalAssetId = 2;
/// `pallet-assets` id of the ETH-like asset.
pub const ETH: LocalAssetId = 3;
/// `pallet-assets` id of the DOT-like asset.
pub const DOT: LocalAssetId = 4;

/// Every dev asset: the native token and the `pallet-assets` ones.
pub const DEV_ASSETS: [DevAsset; 5] = [
	DevAsset {
		id: AssetId::Native,
		symbol: "LIQ",
		name: "Liquidation engine native token",
		decimals: NATIVE_DECIMALS,
	},
	DevAsset { id: AssetId::Asset(USD), symbol: "USD", name: "US Dollar stable", decimals: 6 },
	DevAsset { id: AssetId::Asset(BTC), symbol: "BTC", name: "Bitcoin", decimals: 8 },
	DevAsset { id: AssetId::Asset(ETH), symbol: "ETH", name: "Ether", decimals: 18 },
	DevAsset { id: AssetId::Asset(DOT), symbol: "DOT", name: "Polkadot", decimals: 10 },
];

/// The dev asset with this ticker, if any.
pub fn by_symbol(symbol: &str) -> Option<DevAsset> {
	DEV_ASSETS.iter().copied().find(|asset| asset.symbol == symbol)
}

/// The `pallet-assets` assets among the dev assets (all but the native token).
pub fn local_assets() -> impl Iterator<Item = (LocalAssetId, DevAsset)> {
	DEV_ASSETS.iter().copied().filter_map(|asset| match asset.id {
		AssetId::Asset(id) => Some((id, asset)),
		AssetId::Native => None,
	})
}
