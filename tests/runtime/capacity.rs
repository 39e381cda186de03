//! What a block holds of each liquidation path, from the runtime's generated weights: each
//! call's weight before dispatch (what the block reserves: the call's declared weight and its
//! transaction extensions', `CheckKeeperLiquidation`'s check for a keeper) and of the path taken
//! (what is left charged after the refund), priced as the block prices them (execution plus the
//! runtime's `DbWeight` per read and write), against the normal class's share of the block.
//!
//! `cargo test --test runtime capacity -- --nocapture` prints the README's capacity table.

use frame_support::{
	dispatch::{DispatchClass, GetDispatchInfo},
	weights::Weight,
};
use liquidation_integration_tests::TestChain;
use liquidation_primitives::AssetId;
use liquidation_runtime::{assets, Liquidation, Runtime, RuntimeCall};
use pallet_liquidation::{batch::ShareClass, positions::POSITIONS_TRIED, WeightInfo as _};
use sp_runtime::{traits::TransactionExtension as _, FixedU128};

type Weights = pallet_liquidation::weights::SubstrateWeight<Runtime>;

const USD: AssetId = AssetId::Asset(assets::USD);
const BTC: AssetId = AssetId::Asset(assets::BTC);

fn ms(weight: Weight) -> f64 {
	weight.ref_time() as f64 / 1e9
}

/// A call's weight before dispatch: its own and its transaction extensions'.
fn reserved(call: RuntimeCall, signed: bool) -> Weight {
	let info = call.get_dispatch_info();
	if !signed {
		return info.call_weight;
	}
	let extensions = liquidation_integration_tests::tx_extension(0).weight(&call);
	info.call_weight.saturating_add(extensions)
}

#[test]
fn capacity_of_a_block_from_the_generated_weights() {
	let mut chain = TestChain::from_preset("development");
	let who = sp_keyring::Sr25519Keyring::Bob.to_account_id();
	chain.execute_with(|| {
		let max_positions: u32 = <Runtime as pallet_liquidation::Config>::MaxPositions::get();
		let normal = <Runtime as frame_system::Config>::BlockWeights::get()
			.get(DispatchClass::Normal)
			.max_total
			.expect("a normal-class limit");
		assert_eq!(Liquidation::worker_budget(), normal);
		let read = <Runtime as frame_system::Config>::DbWeight::get().reads(1);
		let engine = |call: pallet_liquidation::Call<Runtime>| RuntimeCall::Liquidation(call);
		let check = Liquidation::keeper_check_weight(&pallet_liquidation::Call::liquidate {
			who: who.clone(),
			debt_asset: USD,
			collateral_asset: BTC,
			max_repay: 0,
		});
		let position_check =
			Liquidation::keeper_check_weight(&pallet_liquidation::Call::liquidate_position {
				who: who.clone(),
				underlying: BTC,
				max_units: FixedU128::from_u32(1),
			});
		let bankrupt = Weights::settle_bankrupt(max_positions);
		let keeper = reserved(
			engine(pallet_liquidation::Call::liquidate {
				who: who.clone(),
				debt_asset: USD,
				collateral_asset: BTC,
				max_repay: u128::MAX,
			}),
			true,
		);
		let flash = reserved(
			engine(pallet_liquidation::Call::flash_liquidate {
				who: who.clone(),
				debt_asset: USD,
				collateral_asset: BTC,
				max_repay: u128::MAX,
			}),
			true,
		);
		let position = reserved(
			engine(pallet_liquidation::Call::liquidate_position {
				who: who.clone(),
				underlying: BTC,
				max_units: FixedU128::from_u32(1),
			}),
			true,
		);
		let derisk = reserved(engine(pallet_liquidation::Call::derisk { who: who.clone() }), true);
		let derisk_unsigned =
			reserved(engine(pallet_liquidation::Call::derisk_unsigned { who: who.clone(), found_at: 0 }), false);
		// Bob holds no derivative position: the worker's spot bound. An account with positions
		// declares the close-outs' bound (the same function, one storage read tells which).
		let worker_spot = Liquidation::liquidate_unsigned_weight(&who);
		assert_eq!(
			worker_spot,
			reserved(engine(pallet_liquidation::Call::liquidate_unsigned { who: who.clone(), found_at: 0 }), false)
		);
		// The worker's: validated once (by the pool), so one run of the path, and the block's
		// check before dispatch, its costlier branch.
		let block_check = Weights::check_unsigned_in_block().max(Weights::check_unsigned_in_block_positions());
		assert_eq!(Liquidation::unsigned_check_weight(), block_check);
		let worker_positions = Weights::backstop_position()
			.saturating_mul(2 * u64::from(POSITIONS_TRIED))
			.saturating_add(bankrupt)
			.saturating_add(read)
			.saturating_add(block_check);
		// Paths taken: what each call refunds to.
		let rows = [
			("keeper `liquidate`", Weights::liquidate().saturating_add(check), keeper),
			("`flash_liquidate`", Weights::flash_liquidate().saturating_add(check), flash),
			(
				"worker `liquidate_unsigned`, auction",
				Weights::liquidate_unsigned().saturating_add(read).saturating_add(block_check),
				worker_spot,
			),
			(
				"worker `liquidate_unsigned`, a position closed against the vault",
				Weights::backstop_position().saturating_add(read).saturating_add(block_check),
				worker_positions,
			),
			(
				"worker `liquidate_unsigned_batch`, an account auctioned like the one before it: one deposit, one debt",
				Liquidation::batch_share_weight(ShareClass::OneDebt),
				worker_spot,
			),
			(
				"worker `liquidate_unsigned_batch`, an account auctioned like the one before it: the most debts",
				Liquidation::batch_share_weight(ShareClass::MostDebts),
				worker_spot,
			),
			(
				"keeper `liquidate_position`",
				Weights::liquidate_position().saturating_add(position_check),
				position,
			),
			("keeper `derisk` (no refund)", derisk, derisk),
			("worker `derisk_unsigned` (no refund)", derisk_unsigned, derisk_unsigned),
			("`settle_bankrupt`, 2 positions", Weights::settle_bankrupt(2), Weights::settle_bankrupt(2)),
			("`settle_bankrupt`, 8 positions", bankrupt, bankrupt),
		];
		println!("normal class: {:.0} ms of ref time", ms(normal));
		println!("| path | weight of the path taken | per block | reserved before dispatch | per block |");
		println!("|---|---:|---:|---:|---:|");
		for (name, taken, declared) in rows {
			assert!(taken.all_lte(declared), "{name}: the path taken within what is reserved");
			let per_block = |weight: Weight| normal.checked_div_per_component(&weight).unwrap_or(0);
			assert!(per_block(declared) >= 1, "{name}: one fits a block");
			println!(
				"| {name} | {:.2} ms | {} | {:.2} ms | {} |",
				ms(taken),
				per_block(taken),
				ms(declared),
				per_block(declared)
			);
		}
	});
}
