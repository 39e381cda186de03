//! Named genesis presets: `development` (one authority, Alice) and `local_testnet` (Alice and Bob).
//!
//! Both create the dev assets of [`crate::assets`] with their metadata, endow the well-known dev
//! accounts with the native token and every asset, make Alice, Bob and Charlie the council and
//! Alice, Bob, Charlie, Dave and Eve the five oracle operators. Alice holds the sudo key. Three
//! perpetual markets are listed (BTC-PERP, ETH-PERP, DOT-PERP) and Alice seeds their vault.

use crate::{
	assets::{self, DevAsset},
	AccountId, AssetsConfig, AuctionConfig, AuraConfig, Balance, BalancesConfig, BlockNumber,
	CouncilConfig, DevPoolsConfig, GrandpaConfig, InsuranceConfig, LiquidationConfig, MarginConfig,
	OracleOperatorsConfig, PerpetualsConfig, PricesConfig, RuntimeGenesisConfig, SudoConfig, DAYS,
	UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::{build_struct_json_patch, BoundedVec};
use liquidation_primitives::{AssetId, Price};
use pallet_auction::{AuctionParams, PriceCurve};
use pallet_insurance::FundParams;
use pallet_liquidation::EngineParams;
use pallet_margin::{AssetParams, InterestCurve};
use pallet_perpetuals::{MarketParams, VaultParams};
use pallet_prices::{OracleParams, PriceSource, Smoothing};
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{self, PresetId};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::traits::One;
use sp_runtime::Permill;
use sp_runtime::{FixedPointNumber, FixedU128};

/// Native tokens each endowed dev account starts with.
pub const ENDOWMENT_NATIVE: Balance = 1_000_000 * UNIT;
/// Whole units of each `pallet-assets` asset each endowed dev account starts with.
pub const ENDOWMENT_WHOLE_UNITS: Balance = 1_000_000;
/// Smallest balance an account may hold of a dev asset, in whole units divided by this.
const MIN_BALANCE_DIVISOR: Balance = 1_000_000;

/// The accounts that receive balances at genesis: the well-known dev keys.
pub fn endowed_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter().map(|key| key.to_account_id()).collect()
}

/// The five dev oracle operators.
pub fn oracle_operators() -> Vec<AccountId> {
	[
		Sr25519Keyring::Alice,
		Sr25519Keyring::Bob,
		Sr25519Keyring::Charlie,
		Sr25519Keyring::Dave,
		Sr25519Keyring::Eve,
	]
	.iter()
	.map(|key| key.to_account_id())
	.collect()
}

/// The dev council, sorted (as `pallet-collective` keeps its members).
pub fn council_members() -> Vec<AccountId> {
	let mut members: Vec<AccountId> =
		[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
			.iter()
			.map(|key| key.to_account_id())
			.collect();
	members.sort();
	members
}

/// Oracle parameters of the dev assets: a value counts for 10 minutes, a price needs 3 of the 5
/// operators, a move of more than 20% from one block's price to the next halts the asset until 3
/// consecutive blocks confirm the new level; a 1-minute EMA mark, a 1-hour volatility
/// half-life, and a stable price (what opening risk reads) that moves at most 6% an hour.
pub fn dev_oracle_params() -> OracleParams {
	OracleParams {
		max_age_ms: 10 * 60 * 1_000,
		min_fresh_values: 3,
		max_move: FixedU128::from_rational(1, 5),
		confirmations: 3,
		smoothing: Smoothing::Ema { half_life_ms: 60 * 1_000 },
		volatility_half_life_ms: 60 * 60 * 1_000,
		// Mango v4's default growth limit of its delayed price (`delay_growth_limit`, 6% an
		// hour): the October 2022 attack pumped MNGO several times over in about 20 minutes,
		// in which a stable price at 6% an hour rises 2%.
		stable_growth_per_hour: Permill::from_percent(6),
	}
}

/// How each dev asset is priced: the USD stable at a fixed 1, everything else by the oracle.
pub fn dev_price_sources() -> Vec<(crate::AssetId, PriceSource)> {
	assets::DEV_ASSETS
		.iter()
		.map(|asset| {
			let source = if asset.id == AssetId::Asset(assets::USD) {
				PriceSource::Fixed(Price::one())
			} else {
				PriceSource::Oracle(dev_oracle_params())
			};
			(asset.id.clone(), source)
		})
		.collect()
}

/// Insurance parameters of the dev assets, in whole units of each: the fund pays at most 100 000
/// units of bad debt per block, aims to hold 1 000 000, and pays half of its income to stakers.
pub fn dev_insurance_params() -> Vec<(crate::AssetId, FundParams)> {
	assets::DEV_ASSETS
		.iter()
		.map(|asset| {
			let unit = one_whole_unit(asset);
			let params = FundParams {
				max_cover_per_block: 100_000u128.saturating_mul(unit),
				target_size: 1_000_000u128.saturating_mul(unit),
				staker_income_share: Permill::from_percent(50),
			};
			(asset.id, params)
		})
		.collect()
}

/// Margin listing of the dev assets. Collateral weights (initial / maintenance) and liability
/// weights by riskiness: USD 90% / 95% and 1.10 / 1.05, BTC 80% / 90% and 1.25 / 1.10, ETH
/// 75% / 85% and 1.30 / 1.15, DOT 60% / 70% and 1.40 / 1.20, the native token 50% / 60% and
/// 1.50 / 1.30. Every pool: borrow rate 2% a year at zero utilization, 12% at the 80% kink, 112%
/// at full utilization; 10% of interest to the reserve; supply and borrow caps of a billion USD
/// each, no debt ceiling; positions of at least a hundredth of a unit.
pub fn dev_margin_params() -> Vec<(crate::AssetId, u8, AssetParams)> {
	assets::DEV_ASSETS
		.iter()
		.map(|asset| {
			let (collateral, liability) = match asset.symbol {
				"USD" => ((90, 95), (110, 105)),
				"BTC" => ((80, 90), (125, 110)),
				"ETH" => ((75, 85), (130, 115)),
				"DOT" => ((60, 70), (140, 120)),
				_ => ((50, 60), (150, 130)),
			};
			let unit = one_whole_unit(asset);
			let params = AssetParams {
				initial_collateral_weight: Permill::from_percent(collateral.0),
				maintenance_collateral_weight: Permill::from_percent(collateral.1),
				initial_liability_weight: FixedU128::from_rational(liability.0, 100),
				maintenance_liability_weight: FixedU128::from_rational(liability.1, 100),
				supply_cap_usd: 1_000_000_000,
				borrow_cap_usd: 1_000_000_000,
				debt_ceiling_usd: None,
				interest: InterestCurve {
					base_rate: FixedU128::from_rational(2, 100),
					slope_below_kink: FixedU128::from_rational(10, 100),
					kink: Permill::from_percent(80),
					slope_above_kink: FixedU128::one(),
				},
				reserve_factor: Permill::from_percent(10),
				min_position: unit / 100,
			};
			(asset.id, asset.decimals, params)
		})
		.collect()
}

/// Auction parameters of the dev assets: start at 110% of the oracle price, 1% off every 10
/// blocks (a minute), restart when under 60% of the oracle, older than an hour or once the oracle
/// moved 10% from its level at the start, 0.1% of the lot to whoever restarts, lots of at least a
/// thousandth of a unit.
pub fn dev_auction_params() -> Vec<(crate::AssetId, AuctionParams)> {
	assets::DEV_ASSETS
		.iter()
		.map(|asset| {
			let params = AuctionParams {
				start_premium: FixedU128::from_rational(110, 100),
				curve: PriceCurve::StepExponential {
					step_blocks: 10,
					cut: Permill::from_percent(1),
				},
				max_duration_blocks: 600,
				floor: Permill::from_percent(60),
				restart_incentive: Permill::from_rational(1u32, 1_000),
				min_lot: one_whole_unit(asset) / 1_000,
				// As wide as the start premium: once the oracle has moved by as much, the curve
				// (designed to fall from 10% above the market) no longer brackets it, and the
				// lot either waits above a fallen market or sells under a risen one.
				reprice_band: Permill::from_percent(10),
			};
			(asset.id, params)
		})
		.collect()
}

/// The engine on the dev chain: an 8% penalty, half of it to insurance; a partial liquidation
/// repays at most half a debt position and aims at a health factor of 1.25; below 0.95 (or with
/// under 10 USD left) the whole position goes; flash sales may be at most 5% under the oracle;
/// at most 10 million USD of debt liquidated per block; bad debt waits up to a day for
/// insurance before it is socialized.
pub fn dev_engine_params() -> EngineParams {
	EngineParams {
		liquidation_penalty: Permill::from_percent(8),
		insurance_share: Permill::from_percent(50),
		close_factor: Permill::from_percent(50),
		target_health_factor: FixedU128::from_rational(125, 100),
		full_liquidation_health_factor: FixedU128::from_rational(95, 100),
		dust_value: FixedU128::from_u32(10),
		max_slippage: Permill::from_percent(5),
		max_value_per_block: FixedU128::from_u32(10_000_000),
		// A day of 6-second blocks: at the dev funds' cap of 100 000 units a block, insurance
		// can pay 1.44 billion units of bad debt before any of it reaches lenders, who learn of
		// a loss the fund cannot carry within a day.
		socialize_after_blocks: 14_400,
	}
}

/// Perpetual markets of the dev chain. BTC-PERP and ETH-PERP take Synthetix v3's Base markets
/// (synthetix-deployments `perps/markets/*.toml`): skew scale 12 500 BTC and 300 000 ETH,
/// funding velocity 9 a day per day, initial margin 2% plus 1.54 (BTC) or 1.16 (ETH) per skew
/// scale of size, maintenance 28% of it, taker fee 5 bps. DOT-PERP has no Synthetix market:
/// Hyperliquid's DOT group trades at most 10x (initial 10%, maintenance half of it at the
/// largest leverage), with a skew scale of the same order in USD as BTC's and ETH's (50 M DOT,
/// 350 M USD at 7). For all three: funding at most 10% a day (the pallet's bound; dYdX clamps
/// its large caps at 4.8% per 8 h), 20 M USD open interest a side (twice the vault: its net
/// exposure is bounded apart, by utilisation), positions of at least 10 USD (the engine's dust
/// value), unrealised profit counted half for opening risk (between Drift's 0 and dYdX's 100%)
/// and whole against liquidation, and a liquidation fee of half the maintenance margin a
/// close-out releases (the pallet's bound: dYdX v4 takes at most 1.5% of notional against a 3%
/// maintenance fraction on BTC).
pub fn dev_perpetual_markets() -> Vec<(crate::AssetId, MarketParams)> {
	let market = |skew_scale: u128, slope: (u128, u128), min_imf: u32, share: u32| MarketParams {
		skew_scale: FixedU128::saturating_from_integer(skew_scale),
		max_funding_velocity: FixedU128::saturating_from_integer(9),
		max_funding_rate: FixedU128::saturating_from_rational(10, 100),
		min_initial_margin: Permill::from_percent(min_imf),
		initial_margin_slope: FixedU128::saturating_from_rational(slope.0, slope.1),
		maintenance_share: Permill::from_percent(share),
		taker_fee: Permill::from_parts(500),
		max_open_interest_usd: 20_000_000,
		min_position_usd: 10,
		initial_profit_weight: Permill::from_percent(50),
		maintenance_profit_weight: Permill::from_percent(100),
		liquidation_fee_share: Permill::from_percent(50),
	};
	vec![
		(AssetId::Asset(assets::BTC), market(12_500, (154, 100), 2, 28)),
		(AssetId::Asset(assets::ETH), market(300_000, (116, 100), 2, 28)),
		(AssetId::Asset(assets::DOT), market(50_000_000, (116, 100), 10, 50)),
	]
}

/// The dev vault: withdrawals wait 4 days (Hyperliquid's HLP lock-up), its net exposure may
/// reach 80% of its value (margin's interest kink: what is left covers withdrawals and moves).
pub fn dev_vault_params() -> VaultParams<BlockNumber> {
	VaultParams { withdrawal_delay_blocks: 4 * DAYS, max_utilisation: Permill::from_percent(80) }
}

/// USD the root account deposits into the vault at genesis: half its endowment.
pub const DEV_VAULT_SEED_USD: Balance = ENDOWMENT_WHOLE_UNITS / 2;

/// DEX pools of the dev chain, against USD at the prices the README feeds: LIQ 5, BTC 60 000,
/// ETH 3 000, DOT 7; each holds 500 000 to 6 000 000 USD.
pub fn dev_pools() -> Vec<(crate::AssetId, crate::AssetId, Balance, Balance)> {
	let usd = AssetId::Asset(assets::USD);
	let pool = |symbol: &str, whole_units: u128, usd_per_unit: u128| {
		let asset = assets::by_symbol(symbol).expect("a dev asset");
		let amount = whole_units.saturating_mul(one_whole_unit(&asset));
		let dollars = whole_units.saturating_mul(usd_per_unit).saturating_mul(1_000_000);
		(asset.id, usd, amount, dollars)
	};
	vec![
		pool("LIQ", 100_000, 5),
		pool("BTC", 100, 60_000),
		pool("ETH", 1_000, 3_000),
		pool("DOT", 100_000, 7),
	]
}

fn one_whole_unit(asset: &DevAsset) -> Balance {
	10u128.saturating_pow(u32::from(asset.decimals))
}

fn genesis(
	authorities: Vec<(AuraId, GrandpaId)>,
	endowed: Vec<AccountId>,
	root: AccountId,
) -> Value {
	let asset_owner = root.clone();
	let vault_seeder = root.clone();
	let local_assets: Vec<_> = assets::local_assets().collect();
	let mut operators = oracle_operators();
	operators.sort();

	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.iter().cloned().map(|account| (account, ENDOWMENT_NATIVE)).collect(),
		},
		aura: AuraConfig {
			authorities: authorities.iter().map(|(aura, _)| aura.clone()).collect(),
		},
		grandpa: GrandpaConfig {
			authorities: authorities.iter().map(|(_, grandpa)| (grandpa.clone(), 1)).collect(),
		},
		sudo: SudoConfig { key: Some(root) },
		council: CouncilConfig { members: council_members() },
		oracle_operators: OracleOperatorsConfig { members: BoundedVec::truncate_from(operators) },
		assets: AssetsConfig {
			// Sufficient: an account may hold a dev asset without holding the native token.
			assets: local_assets
				.iter()
				.map(|(id, asset)| {
					let min_balance = (one_whole_unit(asset) / MIN_BALANCE_DIVISOR).max(1);
					(*id, asset_owner.clone(), true, min_balance)
				})
				.collect(),
			metadata: local_assets
				.iter()
				.map(|(id, asset)| {
					(
						*id,
						asset.name.as_bytes().to_vec(),
						asset.symbol.as_bytes().to_vec(),
						asset.decimals,
					)
				})
				.collect(),
			accounts: local_assets
				.iter()
				.flat_map(|(id, asset)| {
					let amount = ENDOWMENT_WHOLE_UNITS.saturating_mul(one_whole_unit(asset));
					endowed.iter().cloned().map(move |account| (*id, account, amount))
				})
				.collect(),
			next_asset_id: local_assets.iter().map(|(id, _)| id.saturating_add(1)).max(),
		},
		// A fixed price for an asset in use waits a day, as a tightening of margin weights.
		prices: PricesConfig { sources: dev_price_sources(), source_change_delay: DAYS },
		insurance: InsuranceConfig {
			assets: dev_insurance_params(),
			// A week to unstake, then two days to withdraw.
			cooldown: 7 * DAYS,
			unstake_window: 2 * DAYS,
		},
		// A tightening of maintenance weights waits a day (Aave's governance timelock for such
		// changes is a day): owners see it scheduled and may add collateral or repay.
		margin: MarginConfig { assets: dev_margin_params(), risk_change_delay: DAYS },
		auction: AuctionConfig { params: dev_auction_params() },
		liquidation: LiquidationConfig {
			params: Some(dev_engine_params()),
			asset_limits: vec![],
			// Off: governance switches predictive de-risking on (README, *De-risking by hand*).
			derisk_params: None,
		},
		dev_pools: DevPoolsConfig { pools: dev_pools(), ..Default::default() },
		perpetuals: PerpetualsConfig {
			markets: dev_perpetual_markets(),
			vault: Some(dev_vault_params()),
			vault_deposits: vec![(vault_seeder, DEV_VAULT_SEED_USD.saturating_mul(1_000_000))],
		},
	})
}

fn authority(aura: Sr25519Keyring, grandpa: Ed25519Keyring) -> (AuraId, GrandpaId) {
	(aura.public().into(), grandpa.public().into())
}

/// The `development` preset: a single authority, Alice.
pub fn development_config_genesis() -> Value {
	genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		endowed_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The `local_testnet` preset: two authorities, Alice and Bob.
pub fn local_config_genesis() -> Value {
	genesis(
		vec![
			authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
		],
		endowed_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
	)
}

/// The JSON of the preset named `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	serde_json::to_string(&patch).ok().map(|json| json.into_bytes())
}

/// The names of the presets this runtime offers.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}
