//! The population: a lender, an insurance staker, keepers and bidders, and the borrowers, opened
//! with the real margin calls from seeded draws.

use super::*;

/// xorshift64*: deterministic draws from a seed.
pub(crate) struct Random(pub(crate) u64);

impl Random {
	pub(crate) fn next_u64(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}

	/// Uniform in `[0, 1)`.
	pub(crate) fn unit(&mut self) -> f64 {
		(self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
	}
}

pub(crate) fn borrower(index: u32) -> AccountId {
	let mut raw = [0xB0u8; 32];
	raw[..4].copy_from_slice(&index.to_le_bytes());
	AccountId::from(raw)
}

pub(crate) fn role(tag: u8) -> AccountId {
	AccountId::from([tag; 32])
}

pub(crate) fn lender() -> AccountId {
	role(0xE1)
}
pub(crate) fn staker() -> AccountId {
	role(0xE2)
}
pub(crate) fn keeper() -> AccountId {
	role(0xE3)
}
pub(crate) fn bidder() -> AccountId {
	role(0xE4)
}

/// Draws the share of borrowing capacity an account uses: most moderate, a tail near the top
/// of `range`.
pub(crate) fn leverage(random: &mut Random, (low, high): (u32, u32)) -> f64 {
	let f = match random.unit() {
		u if u < 0.40 => 0.45 * random.unit(),
		u if u < 0.85 => 0.45 + 0.40 * random.unit(),
		_ => 0.85 + 0.15 * random.unit(),
	};
	(f64::from(low) + (f64::from(high) - f64::from(low)) * f) / 100.0
}

/// Opens the population's positions with the real margin calls (tokens are minted to them as a
/// genesis endowment would be). Returns the collateral and debt, USD.
pub(crate) fn populate(options: &ReplayOptions) -> Result<(f64, f64), ReplayError> {
	let population = &options.population;
	let mix: Vec<(AssetId, u32)> = population
		.mix
		.iter()
		.map(|(symbol, weight)| {
			let asset = assets::by_symbol(symbol)
				.ok_or_else(|| ReplayError::Options(format!("unknown collateral `{symbol}`")))?;
			Ok((asset.id, *weight))
		})
		.collect::<Result<_, ReplayError>>()?;
	let total_weight: u32 = mix.iter().map(|(_, w)| w).sum();
	let mut random = Random(population.seed.max(1));
	let accounts = f64::from(population.accounts.max(1));
	// Enough to lend to everyone, within the USD pool's cap.
	let supply = (accounts * 200_000.0).min(800_000_000.0);
	let supply_units = (supply * DOLLAR) as Balance;
	let insurance_units = (supply * 0.02 * DOLLAR) as Balance;
	let fail = |what: &str, e: sp_runtime::DispatchError| {
		ReplayError::Options(format!("setting up the population: {what}: {e:?}"))
	};
	let native_for_deposit =
		|who: &AccountId| native_for_account(who).map_err(|e| fail("mint the account deposit", e));
	native_for_deposit(&lender())?;
	AllAssets::mint_into(USD, &lender(), supply_units * 2).map_err(|e| fail("mint", e))?;
	Margin::deposit(RuntimeOrigin::signed(lender()), USD, supply_units)
		.map_err(|e| fail("lend", e))?;
	AllAssets::mint_into(USD, &staker(), insurance_units * 2).map_err(|e| fail("mint", e))?;
	Insurance::stake(RuntimeOrigin::signed(staker()), USD, insurance_units, 0)
		.map_err(|e| fail("stake", e))?;
	for who in [keeper(), bidder()] {
		AllAssets::mint_into(USD, &who, supply_units).map_err(|e| fail("mint", e))?;
	}
	let params =
		|asset: AssetId| pallet_margin::Markets::<Runtime>::get(asset).map(|market| market.params);
	let usd_initial = params(USD)
		.map(|p| p.initial_liability_weight.to_float())
		.ok_or_else(|| ReplayError::Options("USD is not listed".into()))?;
	let (mut collateral_usd, mut debt_usd) = (0.0, 0.0);
	for index in 0..population.accounts {
		let who = borrower(index);
		let value = 10f64.powf(3.0 + 2.7 * random.unit());
		// One, two or all of the mix, by weight.
		let holdings = 1 + (random.next_u64() % (mix.len().min(3) as u64)) as usize;
		let mut chosen: Vec<AssetId> = Vec::new();
		while chosen.len() < holdings {
			let mut draw = random.next_u64() % u64::from(total_weight.max(1));
			for (asset, weight) in &mix {
				if draw < u64::from(*weight) {
					if !chosen.contains(asset) {
						chosen.push(*asset);
					}
					break;
				}
				draw -= u64::from(*weight);
			}
		}
		let mut capacity = 0.0;
		native_for_deposit(&who)?;
		for asset in &chosen {
			let price = price_now(*asset)
				.ok_or_else(|| ReplayError::Options(format!("no price for {}", symbol_of(*asset))))?
				.to_float();
			// At least the asset's minimum position.
			let minimum = params(*asset).map_or(0, |p| p.min_position);
			let amount =
				((value / chosen.len() as f64 / price * whole(*asset)) as Balance).max(minimum);
			let part = amount as f64 / whole(*asset) * price;
			AllAssets::mint_into(*asset, &who, amount).map_err(|e| fail("mint", e))?;
			Margin::deposit(RuntimeOrigin::signed(who.clone()), *asset, amount)
				.map_err(|e| fail("deposit", e))?;
			let weight = params(*asset)
				.map(|p| f64::from(p.initial_collateral_weight.deconstruct()) / 1e6)
				.unwrap_or(0.0);
			capacity += part * weight;
			collateral_usd += part;
		}
		let borrow = capacity / usd_initial * leverage(&mut random, population.leverage);
		let units = (borrow * DOLLAR) as Balance;
		if Margin::borrow(RuntimeOrigin::signed(who), USD, units).is_ok() {
			debt_usd += borrow;
		}
	}
	Ok((collateral_usd, debt_usd))
}

pub(crate) fn trader(index: u32) -> AccountId {
	let mut raw = [0xC0u8; 32];
	raw[..4].copy_from_slice(&index.to_le_bytes());
	AccountId::from(raw)
}

/// The vault's LP.
pub(crate) fn liquidity_provider() -> AccountId {
	role(0xE5)
}

/// What opening the perpetual traders did.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TradersOpened {
	pub(crate) positions: u32,
	pub(crate) collateral_usd: f64,
	pub(crate) notional_usd: f64,
	pub(crate) vault_deposit_usd: f64,
}

/// USD an LP puts in the vault per trader: the vault takes the other side of every trade and
/// its net exposure may reach 80% of its value (the dev vault's bound); with longs and shorts
/// drawn alike its exposure is a fraction of the traders' notional.
const VAULT_USD_PER_TRADER: f64 = 20_000.0;

/// USD a keeper holds in margin per trader, to take positions over (and close them at once).
const KEEPER_MARGIN_USD_PER_TRADER: f64 = 5_000.0;

/// Opens the perpetual traders with the real calls: an LP's vault deposit, a keeper's margin,
/// and each trader's collateral (USD, or one asset of the spot mix) worth 1 000 to 50 000 USD
/// (log-uniform) behind one position, long or short, in one of `markets`, at a leverage drawn
/// from [`Traders::leverage`]. Each market's open-interest cap is raised to fit the population
/// (the dev preset's 20 million USD a side is a launch cap, not a bound a replay of thousands of
/// traders is about). A position initial margin refuses is not opened.
pub(crate) fn populate_traders(
	options: &ReplayOptions,
	markets: &[AssetId],
) -> Result<TradersOpened, ReplayError> {
	let traders = &options.traders;
	let mut opened = TradersOpened::default();
	if traders.accounts == 0 {
		return Ok(opened);
	}
	if markets.is_empty() {
		return Err(ReplayError::Options(
			"the scenario prices no asset with a perpetual market, which the traders need".into(),
		));
	}
	let fail = |what: &str, e: sp_runtime::DispatchError| {
		ReplayError::Options(format!("setting up the traders: {what}: {e:?}"))
	};
	let accounts = f64::from(traders.accounts);
	for underlying in markets {
		let Some(market) = pallet_perpetuals::Markets::<Runtime>::get(underlying) else {
			continue;
		};
		let params = pallet_perpetuals::MarketParams {
			max_open_interest_usd: (accounts * 1_000_000.0) as u128,
			..market.params
		};
		Perpetuals::set_market_params(RuntimeOrigin::root(), *underlying, params)
			.map_err(|e| fail("raise the open-interest cap", e))?;
	}
	let native_for_deposit =
		|who: &AccountId| native_for_account(who).map_err(|e| fail("mint the account deposit", e));
	let vault_units = (accounts * VAULT_USD_PER_TRADER * DOLLAR) as Balance;
	native_for_deposit(&liquidity_provider())?;
	AllAssets::mint_into(USD, &liquidity_provider(), vault_units).map_err(|e| fail("mint", e))?;
	Perpetuals::deposit_to_vault(RuntimeOrigin::signed(liquidity_provider()), vault_units)
		.map_err(|e| fail("deposit into the vault", e))?;
	opened.vault_deposit_usd = vault_units as f64 / DOLLAR;
	let keeper_units = (accounts * KEEPER_MARGIN_USD_PER_TRADER * DOLLAR) as Balance;
	AllAssets::mint_into(USD, &keeper(), keeper_units).map_err(|e| fail("mint", e))?;
	native_for_deposit(&keeper())?;
	Margin::deposit(RuntimeOrigin::signed(keeper()), USD, keeper_units)
		.map_err(|e| fail("the keeper's margin", e))?;

	let mix: Vec<(AssetId, u32)> = options
		.population
		.mix
		.iter()
		.filter_map(|(symbol, weight)| Some((assets::by_symbol(symbol)?.id, *weight)))
		.collect();
	let total_weight: u32 = mix.iter().map(|(_, w)| w).sum();
	let mut random = Random(options.population.seed.wrapping_add(0x7ade).max(1));
	let (low, high) = traders.leverage;
	for index in 0..traders.accounts {
		let who = trader(index);
		native_for_deposit(&who)?;
		let value = 10f64.powf(3.0 + 1.7 * random.unit());
		let collateral = if random.unit() < traders.usd_share || mix.is_empty() {
			USD
		} else {
			let mut draw = random.next_u64() % u64::from(total_weight.max(1));
			let mut chosen = mix[0].0;
			for (asset, weight) in &mix {
				if draw < u64::from(*weight) {
					chosen = *asset;
					break;
				}
				draw -= u64::from(*weight);
			}
			chosen
		};
		let price = price_now(collateral)
			.ok_or_else(|| ReplayError::Options(format!("no price for {}", symbol_of(collateral))))?
			.to_float();
		let amount = (value / price * whole(collateral)) as Balance;
		AllAssets::mint_into(collateral, &who, amount).map_err(|e| fail("mint", e))?;
		Margin::deposit(RuntimeOrigin::signed(who.clone()), collateral, amount)
			.map_err(|e| fail("deposit", e))?;
		opened.collateral_usd += amount as f64 / whole(collateral) * price;
		let underlying = markets[(random.next_u64() % markets.len() as u64) as usize];
		let long = random.unit() < traders.long_share;
		let leverage = f64::from(low) + f64::from(high.saturating_sub(low)) * random.unit();
		let Some(mark) = price_now(underlying) else { continue };
		let notional = value * leverage;
		let units = notional / mark.to_float();
		let magnitude = sp_runtime::FixedI128::from_inner((units * 1e18) as i128);
		let (size, limit) = if long {
			(magnitude, mark * Price::from_u32(2))
		} else {
			(sp_runtime::FixedI128::from_inner(-magnitude.into_inner()), Price::from_inner(1))
		};
		if Perpetuals::modify_position(RuntimeOrigin::signed(who), underlying, size, limit).is_ok()
		{
			opened.positions += 1;
			opened.notional_usd += notional;
		}
	}
	Ok(opened)
}

/// Mints `who` the native tokens opening a margin account holds as a deposit (and its minimum
/// balance), twice over.
fn native_for_account(who: &AccountId) -> Result<(), sp_runtime::DispatchError> {
	use frame_support::traits::Get;
	let deposit = <<Runtime as pallet_margin::Config>::AccountDeposit as Get<Balance>>::get()
		.saturating_add(liquidation_runtime::EXISTENTIAL_DEPOSIT)
		.saturating_mul(2);
	AllAssets::mint_into(AssetId::Native, who, deposit).map(|_| ())
}
