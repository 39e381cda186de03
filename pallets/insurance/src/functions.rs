//! The calls' inner functions and the fund's bookkeeping.

use crate::{
	Config, Cooldown, CoveredInBlock, Error, Event, Fund, FundParams, FundReport, Funds,
	IncomeVesting, Pallet, Params, Stake, Stakes, Totals, UnstakeRequest, UnstakeRequests,
	UnstakeWindow,
};
use frame_support::{
	ensure,
	pallet_prelude::{DispatchResult, Get},
	traits::{
		fungibles::{Inspect, Mutate},
		tokens::Preservation,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use liquidation_primitives::Balance;
use sp_runtime::{
	helpers_128bit::multiply_by_rational_with_rounding,
	traits::{AccountIdConversion, UniqueSaturatedInto, Zero},
	ArithmeticError, Rounding, Saturating,
};

impl<T: Config> Pallet<T> {
	/// The account that holds the fund.
	pub fn fund_account() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// What the fund's account holds of `asset`.
	pub fn custody(asset: T::AssetId) -> Balance {
		T::Assets::balance(asset, &Self::fund_account())
	}

	/// `value * numerator / denominator`, rounded down; `None` for a zero denominator.
	fn pro_rata(value: Balance, numerator: Balance, denominator: Balance) -> Option<Balance> {
		if denominator.is_zero() {
			return None;
		}
		multiply_by_rational_with_rounding(value, numerator, denominator, Rounding::Down)
	}

	/// The shares `who` holds in the current generation of `asset`'s fund.
	pub fn shares_of(asset: T::AssetId, who: &T::AccountId) -> Balance {
		Self::shares_in_generation(asset, who, Funds::<T>::get(asset).generation)
	}

	/// The shares `who` holds in `generation` of `asset`'s fund (none if its stake is older).
	fn shares_in_generation(asset: T::AssetId, who: &T::AccountId, generation: u32) -> Balance {
		Stakes::<T>::get(asset, who)
			.filter(|stake| stake.generation == generation)
			.map_or(0, |s| s.shares)
	}

	/// What `shares` of `asset`'s fund are worth now, rounded down (income still vesting not
	/// counted: it is not theirs yet).
	pub fn value_of_shares(asset: T::AssetId, shares: Balance) -> Balance {
		let (fund, _) = Self::vested(asset);
		Self::pro_rata(shares, fund.staked, fund.shares).unwrap_or(0)
	}

	/// `asset`'s fund with what has vested by now moved from `vesting` into `staked`, and the
	/// vesting schedule as it then stands; nothing written.
	pub fn vested(asset: T::AssetId) -> (Fund, Option<(BlockNumberFor<T>, BlockNumberFor<T>)>) {
		let mut fund = Funds::<T>::get(asset);
		let schedule = IncomeVesting::<T>::get(asset);
		if fund.vesting.is_zero() {
			return (fund, None);
		}
		let now = frame_system::Pallet::<T>::block_number();
		let Some((last, end)) = schedule else {
			// No schedule (cannot happen, invariant 3): all of it counts as vested.
			fund.staked = fund.staked.saturating_add(fund.vesting);
			fund.vesting = 0;
			return (fund, None);
		};
		let released = if now >= end {
			fund.vesting
		} else {
			let elapsed: u128 = now.saturating_sub(last).unique_saturated_into();
			let span: u128 = end.saturating_sub(last).unique_saturated_into();
			Self::pro_rata(fund.vesting, elapsed, span).unwrap_or(0)
		};
		fund.staked = fund.staked.saturating_add(released);
		fund.vesting = fund.vesting.saturating_sub(released);
		let schedule = (!fund.vesting.is_zero()).then_some((now, end));
		(fund, schedule)
	}

	/// [`Self::vested`], with the schedule written (the caller writes the fund).
	pub(crate) fn vest(asset: T::AssetId) -> Fund {
		let (fund, schedule) = Self::vested(asset);
		match schedule {
			Some(schedule) => IncomeVesting::<T>::insert(asset, schedule),
			None => IncomeVesting::<T>::remove(asset),
		}
		fund
	}

	pub(crate) fn do_stake(
		who: T::AccountId,
		asset: T::AssetId,
		amount: Balance,
		min_shares: Balance,
	) -> DispatchResult {
		ensure!(Params::<T>::contains_key(asset), Error::<T>::AssetNotInsured);
		ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
		let mut fund = Self::vest(asset);
		if fund.staked.is_zero() && !fund.shares.is_zero() {
			// Losses took everything the outstanding shares were worth: they are void.
			fund.protocol_owned = fund.protocol_owned.saturating_add(fund.vesting);
			fund.vesting = 0;
			IncomeVesting::<T>::remove(asset);
			fund.shares = 0;
			fund.locked_shares = 0;
			fund.generation = fund.generation.saturating_add(1);
			Self::deposit_event(Event::StakesWipedOut { asset, generation: fund.generation });
		}
		// The first stake of a generation mints one share per unit and leaves `MinimumShares` of
		// them locked.
		let first = fund.shares.is_zero();
		let (all_minted, locked) = if first {
			(amount, T::MinimumShares::get())
		} else {
			(
				Self::pro_rata(amount, fund.shares, fund.staked)
					.ok_or(ArithmeticError::Overflow)?,
				0,
			)
		};
		let minted = all_minted.saturating_sub(locked);
		ensure!(!minted.is_zero(), Error::<T>::StakeTooSmall);
		ensure!(minted >= min_shares, Error::<T>::TooFewShares);

		T::Assets::transfer(asset, &who, &Self::fund_account(), amount, Preservation::Preserve)?;

		fund.staked = fund.staked.checked_add(amount).ok_or(ArithmeticError::Overflow)?;
		// Shares of a voided generation (see above) count as none.
		let held = Self::shares_in_generation(asset, &who, fund.generation);
		fund.shares = fund.shares.checked_add(all_minted).ok_or(ArithmeticError::Overflow)?;
		fund.locked_shares = fund.locked_shares.saturating_add(locked);
		Stakes::<T>::insert(
			asset,
			&who,
			Stake {
				generation: fund.generation,
				shares: held.checked_add(minted).ok_or(ArithmeticError::Overflow)?,
			},
		);
		Funds::<T>::insert(asset, fund);
		Self::deposit_event(Event::Staked { who, asset, amount, shares: minted });
		Ok(())
	}

	pub(crate) fn do_request_unstake(
		who: T::AccountId,
		asset: T::AssetId,
		shares: Balance,
	) -> DispatchResult {
		ensure!(!shares.is_zero(), Error::<T>::ZeroAmount);
		ensure!(shares <= Self::shares_of(asset, &who), Error::<T>::InsufficientShares);
		let now = frame_system::Pallet::<T>::block_number();
		let ready_at = now.saturating_add(Cooldown::<T>::get());
		UnstakeRequests::<T>::insert(asset, &who, UnstakeRequest { shares, ready_at });
		Self::deposit_event(Event::UnstakeRequested { who, asset, shares, ready_at });
		Ok(())
	}

	pub(crate) fn do_withdraw(who: T::AccountId, asset: T::AssetId) -> DispatchResult {
		let request = UnstakeRequests::<T>::get(asset, &who).ok_or(Error::<T>::NoUnstakeRequest)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now >= request.ready_at, Error::<T>::CooldownNotOver);
		ensure!(
			now < request.ready_at.saturating_add(UnstakeWindow::<T>::get()),
			Error::<T>::UnstakeWindowPassed
		);
		let mut fund = Self::vest(asset);
		let held = Self::shares_in_generation(asset, &who, fund.generation);
		// Shares of a voided generation are worth nothing; the request is simply closed.
		let shares = request.shares.min(held);
		// Bad debt waiting for this fund will be paid from the stakers first: a staker who
		// leaves meanwhile leaves his part of it behind.
		let queued =
			<T::QueuedBadDebt as liquidation_primitives::QueuedBadDebt<_, _>>::queued(asset);
		let claimed = queued.saturating_sub(fund.vesting).min(fund.staked);
		let amount =
			Self::pro_rata(shares, fund.staked.saturating_sub(claimed), fund.shares).unwrap_or(0);

		if !amount.is_zero() {
			T::Assets::transfer(
				asset,
				&Self::fund_account(),
				&who,
				amount,
				Preservation::Expendable,
			)?;
		}
		fund.staked = fund.staked.checked_sub(amount).ok_or(ArithmeticError::Underflow)?;
		fund.shares = fund.shares.checked_sub(shares).ok_or(ArithmeticError::Underflow)?;
		if fund.shares <= fund.locked_shares {
			// The last staker left: what the locked shares and rounding kept belongs to the
			// protocol (with what had not vested), and the next stake starts the fund afresh
			// (locking shares again).
			fund.protocol_owned =
				fund.protocol_owned.saturating_add(fund.staked).saturating_add(fund.vesting);
			fund.vesting = 0;
			IncomeVesting::<T>::remove(asset);
			fund.staked = 0;
			fund.shares = 0;
			fund.locked_shares = 0;
		}
		let remaining = held.saturating_sub(shares);
		if remaining.is_zero() {
			Stakes::<T>::remove(asset, &who);
		} else {
			Stakes::<T>::insert(
				asset,
				&who,
				Stake { generation: fund.generation, shares: remaining },
			);
		}
		UnstakeRequests::<T>::remove(asset, &who);
		Funds::<T>::insert(asset, fund);
		Self::deposit_event(Event::Withdrawn { who, asset, shares, amount });
		Ok(())
	}

	pub(crate) fn do_set_fund_params(asset: T::AssetId, params: FundParams) -> DispatchResult {
		ensure!(!params.max_cover_per_block.is_zero(), Error::<T>::ZeroCoverCap);
		// A fund aiming at less than one block's cover would hand its protocol-owned value to the treasury
		// while it cannot pay a single block's bad debt.
		ensure!(params.target_size >= params.max_cover_per_block, Error::<T>::TargetSizeBelowCover);
		if !Params::<T>::contains_key(asset) {
			ensure!(Params::<T>::count() < T::MaxAssets::get(), Error::<T>::TooManyAssets);
		}
		Params::<T>::insert(asset, params);
		Self::deposit_event(Event::FundParamsSet { asset, params });
		Ok(())
	}

	pub(crate) fn do_set_cooldown(
		cooldown: BlockNumberFor<T>,
		unstake_window: BlockNumberFor<T>,
	) -> DispatchResult {
		ensure!(!cooldown.is_zero(), Error::<T>::ZeroCooldown);
		ensure!(!unstake_window.is_zero(), Error::<T>::ZeroUnstakeWindow);
		ensure!(
			cooldown <= T::MaxCooldown::get() && unstake_window <= T::MaxCooldown::get(),
			Error::<T>::CooldownTooLong
		);
		Cooldown::<T>::put(cooldown);
		UnstakeWindow::<T>::put(unstake_window);
		Self::deposit_event(Event::CooldownSet { cooldown, unstake_window });
		Ok(())
	}

	pub(crate) fn do_withdraw_surplus(asset: T::AssetId) -> DispatchResult {
		let params = Params::<T>::get(asset).ok_or(Error::<T>::AssetNotInsured)?;
		let mut fund = Self::vest(asset);
		let surplus = fund.total().saturating_sub(params.target_size).min(fund.protocol_owned);
		ensure!(!surplus.is_zero(), Error::<T>::NoSurplus);
		let treasury = T::TreasuryAccount::get();
		T::Assets::transfer(
			asset,
			&Self::fund_account(),
			&treasury,
			surplus,
			Preservation::Expendable,
		)?;
		fund.protocol_owned = fund.protocol_owned.saturating_sub(surplus);
		Funds::<T>::insert(asset, fund);
		Totals::<T>::mutate(asset, |totals| {
			totals.surplus_withdrawn = totals.surplus_withdrawn.saturating_add(surplus)
		});
		Self::deposit_event(Event::SurplusWithdrawn { asset, amount: surplus, to: treasury });
		Ok(())
	}

	/// How much more cover the fund may pay in `asset` in the current block.
	pub fn cover_left_this_block(asset: T::AssetId) -> Balance {
		let Some(params) = Params::<T>::get(asset) else { return 0 };
		let now = frame_system::Pallet::<T>::block_number();
		let (block, paid) = CoveredInBlock::<T>::get(asset);
		let paid = if block == now { paid } else { 0 };
		params.max_cover_per_block.saturating_sub(paid)
	}

	/// How much of a bad debt of `amount` in `asset` the fund in that asset would pay now.
	pub fn coverage_of(asset: T::AssetId, amount: Balance) -> Balance {
		Self::coverage_from(&Self::vested(asset).0, asset, amount)
	}

	/// As [`Self::coverage_of`], for a fund already read.
	fn coverage_from(fund: &Fund, asset: T::AssetId, amount: Balance) -> Balance {
		amount.min(Self::cover_left_this_block(asset)).min(fund.total()).min(Self::custody(asset))
	}

	/// Pays up to `amount` of bad debt; see [`liquidation_primitives::DeficitHandler`].
	pub(crate) fn do_cover(
		asset: T::AssetId,
		amount: Balance,
		beneficiary: &T::AccountId,
	) -> Balance {
		if amount.is_zero() {
			return 0;
		}
		let mut fund = Self::vest(asset);
		let mut covered = Self::coverage_from(&fund, asset, amount);
		if !covered.is_zero() {
			let paid = T::Assets::transfer(
				asset,
				&Self::fund_account(),
				beneficiary,
				covered,
				Preservation::Expendable,
			);
			if paid.is_err() {
				// Nothing moved, so nothing is covered: all of it is handed on.
				log::warn!(target: "runtime::insurance", "cover transfer of {covered} failed: {paid:?}");
				covered = 0;
			}
		}
		if !covered.is_zero() {
			fund.take_loss(covered);
			if fund.vesting.is_zero() {
				IncomeVesting::<T>::remove(asset);
			}
			Funds::<T>::insert(asset, fund);
		}
		Self::book_cover(asset, amount, covered, beneficiary);
		covered
	}

	/// Pays up to `amount` of bad debt in `asset` with what the other funds buy of it; see
	/// [`liquidation_primitives::DeficitHandler::cover_by_sales`].
	pub(crate) fn do_cover_by_sales(
		asset: T::AssetId,
		amount: Balance,
		beneficiary: &T::AccountId,
	) -> Balance {
		let wanted = amount.min(Self::cover_left_this_block(asset));
		if wanted.is_zero() || !Params::<T>::contains_key(asset) {
			return 0;
		}
		let covered = Self::cover_by_conversion(asset, wanted, beneficiary);
		Self::book_cover(asset, amount, covered, beneficiary);
		covered
	}

	/// Counts `covered` of a request of `amount` against the block's cap and the totals.
	fn book_cover(
		asset: T::AssetId,
		amount: Balance,
		covered: Balance,
		beneficiary: &T::AccountId,
	) {
		let handed_on = amount.saturating_sub(covered);
		if !covered.is_zero() {
			let now = frame_system::Pallet::<T>::block_number();
			CoveredInBlock::<T>::mutate(asset, |(block, paid)| {
				if *block != now {
					*block = now;
					*paid = 0;
				}
				*paid = paid.saturating_add(covered);
			});
		}
		Totals::<T>::mutate(asset, |totals| {
			totals.covered = totals.covered.saturating_add(covered);
			totals.handed_on = totals.handed_on.saturating_add(handed_on);
		});
		Self::deposit_event(Event::DeficitCovered {
			asset,
			beneficiary: beneficiary.clone(),
			requested: amount,
			covered,
			handed_on,
		});
	}

	/// Books income; see [`liquidation_primitives::FundIncome`].
	pub(crate) fn do_deposit_income(
		asset: T::AssetId,
		payer: &T::AccountId,
		amount: Balance,
	) -> DispatchResult {
		if amount.is_zero() {
			return Ok(());
		}
		// Payers are engine and pool accounts paying exact amounts: they may be emptied.
		T::Assets::transfer(asset, payer, &Self::fund_account(), amount, Preservation::Expendable)?;
		let share =
			Params::<T>::get(asset).map(|params| params.staker_income_share).unwrap_or_default();
		let mut fund = Self::vest(asset);
		// Only a live staked value earns: voided shares must not be revived by income.
		let to_stakers =
			if fund.staked.is_zero() || fund.shares.is_zero() { 0 } else { share * amount };
		if !to_stakers.is_zero() {
			// It vests over the period from now; what was still vesting keeps its pace: the
			// end is the average of the old end and the new one, weighted by the amounts (an
			// income every block must not hold the rest back).
			let now = frame_system::Pallet::<T>::block_number();
			let period: u128 = T::IncomeVestingPeriod::get().unique_saturated_into();
			let old_left: u128 = IncomeVesting::<T>::get(asset)
				.map_or(0, |(_, end)| end.saturating_sub(now).unique_saturated_into());
			let total = fund.vesting.checked_add(to_stakers).ok_or(ArithmeticError::Overflow)?;
			// Rounded up once (rounding each part would push the end later at every income).
			let weighted = fund
				.vesting
				.saturating_mul(old_left)
				.saturating_add(to_stakers.saturating_mul(period))
				.div_ceil(total.max(1));
			let end = now.saturating_add(weighted.max(1).unique_saturated_into());
			fund.vesting = total;
			IncomeVesting::<T>::insert(asset, (now, end));
		}
		fund.protocol_owned = fund
			.protocol_owned
			.checked_add(amount.saturating_sub(to_stakers))
			.ok_or(ArithmeticError::Overflow)?;
		Funds::<T>::insert(asset, fund);
		Totals::<T>::mutate(asset, |totals| totals.income = totals.income.saturating_add(amount));
		Self::deposit_event(Event::IncomeReceived {
			asset,
			from: payer.clone(),
			amount,
			to_stakers,
		});
		Ok(())
	}

	/// The fund in `asset`, for the runtime API.
	pub fn fund_report(asset: T::AssetId) -> FundReport {
		FundReport {
			params: Params::<T>::get(asset),
			fund: Self::vested(asset).0,
			custody: Self::custody(asset),
			cover_left_this_block: Self::cover_left_this_block(asset),
			totals: Totals::<T>::get(asset),
		}
	}

	/// Checks the invariants listed in the crate docs.
	/// Available natively (`std`) so that integration tests and replays can check it after
	/// every block, and in `try-runtime` builds.
	#[cfg(any(feature = "try-runtime", feature = "std", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		for (asset, fund) in Funds::<T>::iter() {
			ensure!(
				Self::custody(asset) >= fund.total(),
				"1: custody below staked + protocol_owned + vesting"
			);
			let held: Balance = Stakes::<T>::iter_prefix(asset)
				.filter(|(_, stake)| stake.generation == fund.generation)
				.map(|(_, stake)| stake.shares)
				.fold(0, |sum, shares| sum.saturating_add(shares));
			ensure!(
				held.saturating_add(fund.locked_shares) == fund.shares,
				"2: stakers' and locked shares differ from the fund's"
			);
			ensure!(
				!fund.shares.is_zero() || (fund.staked.is_zero() && fund.vesting.is_zero()),
				"3: staked or vesting value without shares"
			);
			ensure!(
				fund.vesting.is_zero() == IncomeVesting::<T>::get(asset).is_none(),
				"3: vesting value and its schedule out of step"
			);
			for (who, request) in UnstakeRequests::<T>::iter_prefix(asset) {
				let current =
					Stakes::<T>::get(asset, &who).is_some_and(|s| s.generation == fund.generation);
				ensure!(
					!current || request.shares <= Self::shares_of(asset, &who),
					"4: an unstake request for more shares than held"
				);
			}
		}
		Ok(())
	}
}
