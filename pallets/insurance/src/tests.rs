//! Tests of the insurance pallet.

use crate::{mock::*, Error, Event, FundParams, Funds, Params, Totals};
use frame_support::{assert_noop, assert_ok};
use liquidation_primitives::{AssetId, Balance, DeficitHandler, FundIncome};
use sp_runtime::{DispatchError, Permill};

fn balance(asset: AssetId, who: AccountId) -> Balance {
	use frame_support::traits::fungibles::Inspect;
	AllAssets::balance(asset, &who)
}

fn events() -> Vec<Event<Test>> {
	liquidation_test_support::events_of::<Test, _>(|event| match event {
		RuntimeEvent::Insurance(event) => Some(event),
		_ => None,
	})
}

/// The engine pays `amount` of income in USD.
fn income(amount: Balance) {
	assert_ok!(Insurance::deposit_income(USD, &ENGINE, amount));
}

/// The mock's `IncomeVestingPeriod`.
const VESTING: u64 = 20;

mod cover {
	use super::*;

	#[test]
	fn a_deficit_smaller_than_the_fund_is_covered_in_full() {
		test(|| {
			income(1_000);
			let pool_before = balance(USD, POOL);
			assert_eq!(Insurance::cover(USD, 300, &POOL), 300);
			assert_eq!(balance(USD, POOL), pool_before + 300);
			assert_eq!(Funds::<Test>::get(USD).total(), 700);
			let totals = Totals::<Test>::get(USD);
			assert_eq!((totals.covered, totals.handed_on), (300, 0));
		});
	}

	#[test]
	fn a_larger_deficit_is_covered_in_part_and_the_remainder_reported_exactly() {
		test(|| {
			income(400);
			// Within the per-block cap (500), but the fund holds only 400.
			assert_eq!(Insurance::cover(USD, 450, &POOL), 400);
			assert_eq!(Funds::<Test>::get(USD).total(), 0);
			let totals = Totals::<Test>::get(USD);
			assert_eq!((totals.covered, totals.handed_on), (400, 50));
			assert!(events().contains(&Event::DeficitCovered {
				asset: USD,
				beneficiary: POOL,
				requested: 450,
				covered: 400,
				handed_on: 50,
			}));
		});
	}

	#[test]
	fn the_per_block_cap_holds_across_covers_and_resets_next_block() {
		test(|| {
			income(5_000);
			assert_eq!(Insurance::cover(USD, 200, &POOL), 200);
			assert_eq!(Insurance::cover(USD, 200, &POOL), 200);
			// 100 of the 500 cap is left in this block.
			assert_eq!(Insurance::cover(USD, 200, &POOL), 100);
			assert_eq!(Insurance::cover(USD, 200, &POOL), 0);
			assert_eq!(Totals::<Test>::get(USD).handed_on, 300);

			run_to_block(2);
			assert_eq!(Insurance::cover_left_this_block(USD), 500);
			assert_eq!(Insurance::cover(USD, 600, &POOL), 500);
		});
	}

	#[test]
	fn an_uninsured_asset_covers_nothing_and_hands_everything_on() {
		test(|| {
			assert_eq!(Insurance::cover(DOT, 10, &POOL), 0);
			assert_eq!(Totals::<Test>::get(DOT).handed_on, 10);
			assert_eq!(Insurance::cover(USD, 0, &POOL), 0);
		});
	}
}

mod stakers {
	use super::*;

	#[docify::export]
	#[test]
	fn shares_gain_from_income_and_lose_from_cover_pro_rata() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 3_000, 0));
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(BOB), USD, 1_000, 0));
			// The fund's first stake leaves 10 of its shares locked (the mock's minimum).
			assert_eq!(Insurance::shares_of(USD, &ALICE), 2_990);
			assert_eq!(Insurance::shares_of(USD, &BOB), 1_000);

			// 1 000 of income: 80% to stakers (once vested), 20% to the protocol-owned value.
			income(1_000);
			run_to_block(1 + VESTING);
			let fund = Insurance::vested(USD).0;
			assert_eq!((fund.staked, fund.protocol_owned), (4_800, 200));
			assert_eq!(Insurance::value_of_shares(USD, 3_000), 3_600);
			assert_eq!(Insurance::value_of_shares(USD, 1_000), 1_200);

			// A loss of 480 comes out of the staked value only: -10% for every share.
			assert_eq!(Insurance::cover(USD, 480, &POOL), 480);
			let fund = Funds::<Test>::get(USD);
			assert_eq!((fund.staked, fund.protocol_owned), (4_320, 200));
			assert_eq!(Insurance::value_of_shares(USD, 3_000), 3_240);
			assert_eq!(Insurance::value_of_shares(USD, 1_000), 1_080);

			// A later staker buys in at the current share value (rounded down).
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(CHARLIE), USD, 1_080, 0));
			assert_eq!(Insurance::shares_of(USD, &CHARLIE), 1_000);
		});
	}

	#[test]
	fn the_protocol_owned_value_pays_only_once_the_staked_value_is_gone() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 300, 0));
			income(500); // 400 to the stakers (once vested), 100 to the protocol-owned value
			run_to_block(1 + VESTING);
			let fund = Insurance::vested(USD).0;
			assert_eq!((fund.staked, fund.protocol_owned), (700, 100));
			// The block's cap (500) comes out of the staked value alone.
			assert_eq!(Insurance::cover(USD, 500, &POOL), 500);
			let fund = Funds::<Test>::get(USD);
			assert_eq!((fund.staked, fund.protocol_owned), (200, 100));
			// Next block: 200 more from the stakers empties them; the last 50 from the protocol-owned value.
			run_to_block(2 + VESTING);
			assert_eq!(Insurance::cover(USD, 250, &POOL), 250);
			let fund = Funds::<Test>::get(USD);
			assert_eq!((fund.staked, fund.protocol_owned), (0, 50));
			// Alice's shares are now void; the next stake starts a new generation.
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(BOB), USD, 50, 0));
			assert_eq!(Insurance::shares_of(USD, &ALICE), 0);
			// A new generation: its first stake locks shares again.
			assert_eq!(Insurance::shares_of(USD, &BOB), 40);
			assert!(events().contains(&Event::StakesWipedOut { asset: USD, generation: 1 }));
		});
	}

	#[test]
	fn a_wiped_out_staker_who_stakes_again_holds_only_the_new_shares() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 300, 0));
			assert_eq!(Insurance::cover(USD, 300, &POOL), 300);
			// Alice's 300 shares are void; staking again starts generation 1 with only the new ones.
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 40, 0));
			assert_eq!(Insurance::shares_of(USD, &ALICE), 30);
			let fund = Funds::<Test>::get(USD);
			assert_eq!((fund.staked, fund.shares, fund.generation), (40, 40, 1));
		});
	}

	#[test]
	fn without_stakers_all_income_is_protocol_owned() {
		test(|| {
			income(1_000);
			let fund = Funds::<Test>::get(USD);
			assert_eq!((fund.staked, fund.protocol_owned, fund.shares), (0, 1_000, 0));
		});
	}

	/// The share-inflation attack: Alice stakes the least she may (11: one share for her, 10
	/// locked) and pays the fund 10 000 of income (80% to stakers). Without locked shares (a
	/// stake of 1, its share then worth 8 001) Bob's 12 000 would mint one share and lose him
	/// 2 000 to her. With them, the income went 10/11 to shares no one holds: Bob's stake mints
	/// 16 shares, worth 11 858 (he loses 1.2%, the rounding of a share), and Alice's one share
	/// is worth 741 for the 10 011 she paid. And Bob may refuse fewer shares than he expects.
	#[test]
	fn locked_shares_defeat_share_inflation_and_min_shares_bounds_the_rest() {
		test(|| {
			assert_noop!(
				Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 10, 0),
				Error::<Test>::StakeTooSmall
			);
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 11, 0));
			assert_eq!(Insurance::shares_of(USD, &ALICE), 1);
			income(10_000);
			// Once vested (before, the income would not count at all: see the vesting tests).
			run_to_block(1 + VESTING);
			let fund = Insurance::vested(USD).0;
			assert_eq!((fund.staked, fund.shares, fund.locked_shares), (8_011, 11, 10));
			assert_noop!(
				Insurance::stake(RuntimeOrigin::signed(BOB), USD, 12_000, 17),
				Error::<Test>::TooFewShares
			);
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(BOB), USD, 12_000, 16));
			assert_eq!(Insurance::shares_of(USD, &BOB), 16);
			// 16 of 27 shares of 20 011.
			assert_eq!(Insurance::value_of_shares(USD, 16), 11_858);
			assert_eq!(Insurance::value_of_shares(USD, 1), 741);
		});
	}

	/// The sandwich: Alice has insured since block 1; at block 100 Bob stakes as much just
	/// before an income of 10 000 (8 000 to stakers) and asks to leave at once. The income
	/// vests over 20 blocks: Bob's shares are worth no more right after it, and when his
	/// cooldown (10 blocks) ends he takes 2 000, his half of what vested while he was at risk,
	/// not the 4 000 an income counted at once would give him; Alice, still staked, earns the
	/// other 6 000.
	#[test]
	fn a_stake_placed_just_before_an_income_gains_only_what_vests_while_at_risk() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 10_000, 0));
			run_to_block(100);
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(BOB), USD, 10_000, 0));
			let shares = Insurance::shares_of(USD, &BOB);
			assert_eq!(shares, 10_000);
			income(10_000);
			assert_eq!(Insurance::value_of_shares(USD, shares), 10_000);
			assert_eq!(Insurance::fund_report(USD).fund.vesting, 8_000);
			assert_ok!(Insurance::request_unstake(RuntimeOrigin::signed(BOB), USD, shares));
			// Half-way through the vesting: 4 000 have vested, half of it Bob's.
			run_to_block(110);
			assert_eq!(Insurance::value_of_shares(USD, shares), 12_000);
			let before = balance(USD, BOB);
			assert_ok!(Insurance::withdraw(RuntimeOrigin::signed(BOB), USD));
			assert_eq!(balance(USD, BOB) - before, 12_000);
			// What had not vested stays with the stakers still at risk.
			run_to_block(120);
			let fund = Insurance::fund_report(USD).fund;
			assert_eq!((fund.staked, fund.vesting, fund.protocol_owned), (16_000, 0, 2_000));
			assert_eq!(Insurance::value_of_shares(USD, Insurance::shares_of(USD, &ALICE)), 15_984);
		});
	}

	/// An income every block (a margin reserve collection anyone may call) does not hold back what
	/// is vesting: the schedule's end is the average of the old and the new end weighted by
	/// the amounts, so after 20 blocks of 32 000 to stakers about three quarters of what
	/// vesting each income over its own 20 blocks would give has vested (229 426 of 304 000:
	/// the pool vests evenly towards one end), and all of it 20 blocks after the last income.
	#[test]
	fn incomes_every_block_all_vest_a_period_after_the_last() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 10_000, 0));
			for block in 1..=20 {
				run_to_block(block);
				assert_ok!(Insurance::deposit_income(USD, &POOL, 40_000));
			}
			let fund = Insurance::fund_report(USD).fund;
			assert_eq!(fund.staked + fund.vesting, 10_000 + 640_000);
			assert_eq!(fund.staked - 10_000, 229_426);
			run_to_block(40);
			let fund = Insurance::fund_report(USD).fund;
			assert_eq!((fund.staked, fund.vesting), (650_000, 0));
		});
	}

	/// Losses take the stakers' unvested income first, then their stake; the last staker's
	/// leaving hands what has not vested to the protocol-owned value.
	#[test]
	fn losses_take_vesting_income_first_and_the_last_staker_leaves_it_to_the_protocol() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 1_000, 0));
			income(500); // 400 vesting, 100 to the protocol-owned value
			assert_eq!(Insurance::cover(USD, 300, &POOL), 300);
			let fund = Insurance::fund_report(USD).fund;
			assert_eq!((fund.staked, fund.vesting, fund.protocol_owned), (1_000, 100, 100));
			let shares = Insurance::shares_of(USD, &ALICE);
			assert_ok!(Insurance::request_unstake(RuntimeOrigin::signed(ALICE), USD, shares));
			run_to_block(11);
			// 10 of 20 blocks: 50 of the 100 vested.
			assert_ok!(Insurance::withdraw(RuntimeOrigin::signed(ALICE), USD));
			let fund = Insurance::fund_report(USD).fund;
			assert_eq!((fund.staked, fund.vesting, fund.shares), (0, 0, 0));
			assert!(crate::IncomeVesting::<Test>::get(USD).is_none());
			// Alice took 990 / 1 000 of 1 050; the locked shares' part and the 50 not vested
			// went to the protocol-owned value.
			assert_eq!(fund.protocol_owned, 100 + 1_050 - 1_039 + 50);
		});
	}

	#[test]
	fn the_cooldown_is_enforced_and_the_window_lapses() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 1_000, 0));
			assert_noop!(
				Insurance::withdraw(RuntimeOrigin::signed(ALICE), USD),
				Error::<Test>::NoUnstakeRequest
			);
			assert_ok!(Insurance::request_unstake(RuntimeOrigin::signed(ALICE), USD, 400));

			run_to_block(1 + COOLDOWN - 1);
			assert_noop!(
				Insurance::withdraw(RuntimeOrigin::signed(ALICE), USD),
				Error::<Test>::CooldownNotOver
			);

			run_to_block(1 + COOLDOWN + WINDOW);
			assert_noop!(
				Insurance::withdraw(RuntimeOrigin::signed(ALICE), USD),
				Error::<Test>::UnstakeWindowPassed
			);

			// A fresh request, withdrawn inside its window.
			assert_ok!(Insurance::request_unstake(RuntimeOrigin::signed(ALICE), USD, 400));
			run_to_block(1 + COOLDOWN + WINDOW + COOLDOWN);
			let before = balance(USD, ALICE);
			assert_ok!(Insurance::withdraw(RuntimeOrigin::signed(ALICE), USD));
			assert_eq!(balance(USD, ALICE), before + 400);
			// 1 000 shares minted, 10 of them locked.
			assert_eq!(Insurance::shares_of(USD, &ALICE), 590);
		});
	}

	#[test]
	fn shares_stay_at_risk_during_the_cooldown() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 1_000, 0));
			assert_ok!(Insurance::request_unstake(RuntimeOrigin::signed(ALICE), USD, 990));
			assert_eq!(Insurance::cover(USD, 250, &POOL), 250);
			run_to_block(1 + COOLDOWN);
			let before = balance(USD, ALICE);
			assert_ok!(Insurance::withdraw(RuntimeOrigin::signed(ALICE), USD));
			// 990 of the 1 000 shares (10 are locked) at 0.75: 742.5, rounded down.
			assert_eq!(balance(USD, ALICE), before + 742);
			// The last staker left: the locked shares' value goes to the protocol-owned value, the fund is
			// empty of shares.
			let fund = Funds::<Test>::get(USD);
			assert_eq!((fund.shares, fund.locked_shares, fund.staked), (0, 0, 0));
			assert_eq!(fund.protocol_owned, 8);
		});
	}

	#[test]
	fn unstaking_checks_shares_and_cancels() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 100, 0));
			assert_noop!(
				Insurance::request_unstake(RuntimeOrigin::signed(ALICE), USD, 91),
				Error::<Test>::InsufficientShares
			);
			assert_noop!(
				Insurance::request_unstake(RuntimeOrigin::signed(ALICE), USD, 0),
				Error::<Test>::ZeroAmount
			);
			assert_ok!(Insurance::request_unstake(RuntimeOrigin::signed(ALICE), USD, 90));
			assert_ok!(Insurance::cancel_unstake(RuntimeOrigin::signed(ALICE), USD));
			assert_noop!(
				Insurance::cancel_unstake(RuntimeOrigin::signed(ALICE), USD),
				Error::<Test>::NoUnstakeRequest
			);
			assert_noop!(
				Insurance::stake(RuntimeOrigin::signed(ALICE), DOT, 100, 0),
				Error::<Test>::AssetNotInsured
			);
			assert_noop!(
				Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 0, 0),
				Error::<Test>::ZeroAmount
			);
		});
	}

	/// Random stakes, unstakes, withdrawals, income and covers from several accounts over many
	/// blocks: the invariants hold after every step, and the fund's value moves exactly by what
	/// came in and went out.
	#[test]
	fn random_actions_keep_the_books_exact() {
		test(|| {
			let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
			let mut next = move |bound: u64| {
				// xorshift64*: deterministic, so a failure replays.
				seed ^= seed >> 12;
				seed ^= seed << 25;
				seed ^= seed >> 27;
				seed.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
			};
			let stakers = [ALICE, BOB, CHARLIE];
			let (mut paid_in, mut paid_out): (Balance, Balance) = (0, 0);
			for step in 0..2_000u64 {
				let who = stakers[next(3) as usize];
				let origin = RuntimeOrigin::signed(who);
				let amount = Balance::from(next(2_000));
				match next(6) {
					0 => {
						if Insurance::stake(origin, USD, amount, 0).is_ok() {
							paid_in += amount;
						}
					},
					1 => {
						let held = Insurance::shares_of(USD, &who);
						if held > 0 {
							let _ = Insurance::request_unstake(
								origin,
								USD,
								1 + Balance::from(next(held as u64)),
							);
						}
					},
					2 => {
						let before = balance(USD, who);
						if Insurance::withdraw(origin, USD).is_ok() {
							paid_out += balance(USD, who) - before;
						}
					},
					3 => {
						if Insurance::deposit_income(USD, &ENGINE, amount).is_ok() {
							paid_in += amount;
						}
					},
					4 => paid_out += Insurance::cover(USD, amount, &POOL),
					_ => run_to_block(System::block_number() + 1 + next(4)),
				}
				Insurance::do_try_state().unwrap_or_else(|e| panic!("step {step}: {e:?}"));
				let fund = Funds::<Test>::get(USD);
				assert_eq!(fund.total(), paid_in - paid_out, "step {step}");
				assert_eq!(Insurance::custody(USD), fund.total(), "step {step}");
			}
		});
	}
}

mod governance {
	use super::*;

	#[test]
	fn every_governance_call_fails_for_a_signed_origin() {
		test(|| {
			let signed = RuntimeOrigin::signed(ALICE);
			assert_noop!(
				Insurance::set_fund_params(signed.clone(), USD, usd_params()),
				DispatchError::BadOrigin
			);
			assert_noop!(Insurance::set_cooldown(signed.clone(), 5, 5), DispatchError::BadOrigin);
			assert_noop!(Insurance::withdraw_surplus(signed, USD), DispatchError::BadOrigin);
		});
	}

	#[test]
	fn parameters_are_range_checked() {
		test(|| {
			let root = RuntimeOrigin::root;
			let zero_cap = FundParams { max_cover_per_block: 0, ..usd_params() };
			assert_noop!(
				Insurance::set_fund_params(root(), USD, zero_cap),
				Error::<Test>::ZeroCoverCap
			);
			// The target size at least one block's cover, to the unit.
			let low_target_size = FundParams { target_size: 499, ..usd_params() };
			assert_noop!(
				Insurance::set_fund_params(root(), USD, low_target_size),
				Error::<Test>::TargetSizeBelowCover
			);
			assert_ok!(Insurance::set_fund_params(
				root(),
				USD,
				FundParams { target_size: 500, ..usd_params() }
			));
			assert_noop!(Insurance::set_cooldown(root(), 0, 5), Error::<Test>::ZeroCooldown);
			assert_noop!(Insurance::set_cooldown(root(), 5, 0), Error::<Test>::ZeroUnstakeWindow);
			assert_noop!(Insurance::set_cooldown(root(), 1_001, 5), Error::<Test>::CooldownTooLong);
			assert_noop!(Insurance::set_cooldown(root(), 5, 1_001), Error::<Test>::CooldownTooLong);
			assert_ok!(Insurance::set_cooldown(root(), 1_000, 1_000));
			assert_eq!(crate::Cooldown::<Test>::get(), 1_000);

			// Two assets are insured at genesis; MaxAssets is 4.
			for id in [7, 8] {
				assert_ok!(Insurance::set_fund_params(root(), AssetId::Asset(id), usd_params()));
			}
			assert_noop!(
				Insurance::set_fund_params(root(), AssetId::Asset(9), usd_params()),
				Error::<Test>::TooManyAssets
			);
			assert_eq!(Params::<Test>::count(), 4);
		});
	}

	#[test]
	fn only_the_protocol_owned_value_above_the_target_size_moves_to_the_treasury() {
		test(|| {
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 1_000, 0));
			assert_noop!(
				Insurance::withdraw_surplus(RuntimeOrigin::root(), USD),
				Error::<Test>::NoSurplus
			);
			// Income of 10 000: 8 000 to stakers, 2 000 to the protocol-owned value; total 11 000, target size 2 000.
			income(10_000);
			run_to_block(1 + VESTING);
			assert_ok!(Insurance::withdraw_surplus(RuntimeOrigin::root(), USD));
			// Surplus is 9 000, but only the protocol-owned value's 2 000 may move.
			assert_eq!(balance(USD, 777), 2_000);
			let fund = Funds::<Test>::get(USD);
			assert_eq!((fund.staked, fund.protocol_owned), (9_000, 0));
			assert_eq!(Totals::<Test>::get(USD).surplus_withdrawn, 2_000);
		});
	}

	#[test]
	fn a_staker_share_of_zero_makes_all_income_protocol_owned() {
		test(|| {
			let params = FundParams { staker_income_share: Permill::zero(), ..usd_params() };
			assert_ok!(Insurance::set_fund_params(RuntimeOrigin::root(), USD, params));
			assert_ok!(Insurance::stake(RuntimeOrigin::signed(ALICE), USD, 1_000, 0));
			income(500);
			let fund = Funds::<Test>::get(USD);
			assert_eq!((fund.staked, fund.protocol_owned), (1_000, 500));
		});
	}
}

#[test]
fn without_a_configured_cooldown_the_longest_applies() {
	sp_io::TestExternalities::new(Default::default()).execute_with(|| {
		assert_eq!(crate::Cooldown::<Test>::get(), 1_000);
		assert_eq!(crate::UnstakeWindow::<Test>::get(), 1_000);
	});
}

mod migrations {
	use super::*;
	use crate::migrations::v1::{FundParamsV0, MigrateToV1};
	use codec::Encode;
	use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
	use sp_runtime::Perbill;

	/// A version 0 fund (its share a `Perbill`) reads the same share after the migration, and a
	/// second run changes nothing.
	#[test]
	fn v1_re_encodes_the_stakers_share_once() {
		test(|| {
			let old = FundParamsV0 {
				max_cover_per_block: 500,
				target_size: 2_000,
				staker_income_share: Perbill::from_percent(80),
			};
			// Write the version 0 encoding under the map's key, as a version 0 chain holds it.
			frame_support::storage::unhashed::put_raw(
				&Params::<Test>::hashed_key_for(USD),
				&old.encode(),
			);
			StorageVersion::new(0).put::<Insurance>();
			// Read as version 1 before migrating, 800 000 000 millionths is no share: unreadable.
			assert_eq!(Params::<Test>::get(USD), None);

			MigrateToV1::<Test>::on_runtime_upgrade();
			assert_eq!(
				Params::<Test>::get(USD),
				Some(FundParams {
					max_cover_per_block: 500,
					target_size: 2_000,
					staker_income_share: Permill::from_percent(80),
				})
			);
			assert_eq!(Insurance::on_chain_storage_version(), 1);
			MigrateToV1::<Test>::on_runtime_upgrade();
			assert_eq!(
				Params::<Test>::get(USD).unwrap().staker_income_share,
				Permill::from_percent(80)
			);
		});
	}

	/// A share finer than a millionth goes to the nearest one.
	#[test]
	fn v1_rounds_a_share_to_the_nearest_millionth() {
		use crate::migrations::v1::to_permill;
		assert_eq!(to_permill(Perbill::from_parts(999_999_999)), Permill::one());
		assert_eq!(to_permill(Perbill::from_parts(1_499)), Permill::from_parts(1));
		assert_eq!(to_permill(Perbill::from_parts(1_500)), Permill::from_parts(2));
		assert_eq!(to_permill(Perbill::one()), Permill::one());
		assert_eq!(to_permill(Perbill::zero()), Permill::zero());
	}
}
