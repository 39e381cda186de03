//! [`CheckKeeperLiquidation`]: the transaction extension that keeps a keeper from paying for a
//! liquidation someone else got to first, and gives keepers' liquidations their place in a block.
//!
//! A keeper who sees an account become liquidatable races the off-chain worker (and other
//! keepers) for it. Without this extension the loser's transaction would be included and fail
//! (`NotLiquidatable`: the winner's liquidation left the account healthy), and he would pay its
//! fee for nothing. With it, a signed [`Call::liquidate`], [`Call::flash_liquidate`] or
//! [`Call::liquidate_position`] is checked before it is charged anything, in the pool and again
//! when a block includes it (extensions validate there too, and every one validates before any
//! prepares: `ChargeTransactionPayment` withdraws the fee in its `prepare`):
//!
//! - the engine runs and the account is liquidatable (its collateral at auction judged as sold);
//! - for `liquidate` and `flash_liquidate`, the liquidation can be planned as the engine sizes
//!   it (neither asset paused, the account owes the debt and holds the collateral named,
//!   something to repay): the checks every liquidation makes before it moves anything; and the block's caps
//!   have room left (dispatch cuts a liquidation to what they have left, as it does a position's
//!   close-out; with less than the engine's dust left it is refused, `invalid::CAPS_FULL`, and a
//!   block builder drops it: the keeper resubmits for the next block with a new hash, a mortal
//!   era or a tip); for `flash_liquidate`, the
//!   pool holds some of the collateral to sell;
//! - for `liquidate_position`, the account still holds the position, its market is open and
//!   the caps have room left.
//!
//! One that fails them is invalid: the pool drops it and no block includes it, so no fee is
//! paid. A call that passes can still fail in dispatch for reasons of the keeper's own (his
//! funds, a sale below the slippage bound) and is then charged as any failed call.
//!
//! **Priority.** A keeper's liquidation that passes and asks for at least what the engine sizes
//! (its `max_repay` does not cut the plan) has priority `KeeperPriority` plus the account's
//! maintenance shortfall in whole USD; one asking for less is valid at an ordinary priority, so
//! a stream of dust liquidations cannot crowd the worker's out. It provides the tag
//! `(KEEPER_TAG, account)`: the pool holds one keeper's liquidation of an account at a time (a
//! second is refused at submission unless its tip outbids the first), so keepers racing for one
//! account cost the block builder one check, not one each. A tag per keeper would let Sybils
//! queue a liquidation each, all but the first invalid in the block and none paying. The cost
//! of sharing it: someone can hold an account's place with a call that passes the check and
//! fails in dispatch (his funds); he pays its fee each block he does, a keeper outbids him with
//! a tip, and the worker's liquidation (its own tag) is not held back at all.
//!
//! The dev runtime sets `KeeperPriority` above the worker's band (`UnsignedPriority` plus the shortfall), so a block takes keepers' liquidations
//! before the worker's: a keeper brings his own funds and repays at once, where the worker's
//! liquidation starts an auction, and the worker needs no head start, it serves what keepers
//! leave. The worker's transaction of the same account then fails its own validation in the
//! block (the account is no longer liquidatable) and is dropped too: neither pays or is included
//! for nothing.
//!
//! **Weight.** The check reads the account as the worker's check does
//! ([`crate::WeightInfo::check_account`]) and the engine's parameters, the two sides and the
//! caps (five reads), up to twice for `liquidate` and `flash_liquidate` (planned as the engine
//! sizes it, and again when the caps cut that) and the pool's cash; it is charged for those
//! three calls only.

use crate::{invalid, Call, Config, Error, Pallet, WeightInfo as _};
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::{fmt, marker::PhantomData};
use frame_support::{
	dispatch::DispatchInfo,
	pallet_prelude::{TransactionSource, Zero},
	traits::{Get, IsSubType},
	weights::Weight,
};
use liquidation_primitives::{ledger::Inspect as _, Balance, PositionLiquidation as _, UsdValue};
use scale_info::TypeInfo;
use sp_runtime::{
	impl_tx_ext_default,
	traits::{AsSystemOriginSigner, DispatchInfoOf, Dispatchable, TransactionExtension},
	transaction_validity::{InvalidTransaction, TransactionValidityError, ValidTransaction},
	DispatchError,
};

/// The pool tag a keeper's liquidation of an account provides (with the account).
pub const KEEPER_TAG: &[u8] = b"LiquidationKeeper";

/// Checks a keeper's liquidation before it is charged: see the [module docs](self).
#[derive(Clone, Eq, PartialEq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct CheckKeeperLiquidation<T: Config + Send + Sync>(PhantomData<T>);

impl<T: Config + Send + Sync> Default for CheckKeeperLiquidation<T> {
	fn default() -> Self {
		Self(PhantomData)
	}
}

impl<T: Config + Send + Sync> CheckKeeperLiquidation<T> {
	/// The extension (it carries nothing).
	pub fn new() -> Self {
		Self::default()
	}
}

impl<T: Config + Send + Sync> fmt::Debug for CheckKeeperLiquidation<T> {
	fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
		write!(f, "CheckKeeperLiquidation")
	}
}

impl<T: Config> Pallet<T> {
	/// What [`CheckKeeperLiquidation`] checks for `call` (a custom `InvalidTransaction` code of
	/// [`invalid`] when it fails): `Ok(Some(shortfall))` for a keeper's liquidation that may
	/// proceed, `Ok(None)` for any other call (not checked).
	pub fn check_keeper_call(call: &Call<T>) -> Result<Option<KeeperCheck>, u8> {
		match call {
			Call::liquidate { who, debt_asset, collateral_asset, max_repay }
			| Call::flash_liquidate { who, debt_asset, collateral_asset, max_repay } => {
				// Planned as the engine sizes it within the block's caps (what dispatch does): a
				// keeper asking for less is valid, but not in the keepers' band (a stream of dust
				// liquidations would crowd out the worker). Caps with no room left refuse it.
				let (_, report, plan) =
					Self::prepare_within_caps(who, *debt_asset, *collateral_asset, Balance::MAX)
						.map_err(keeper_invalid::<T>)?;
				let whole = *max_repay >= plan.repay;
				// Asking for less: a smaller slice of the same plan (not planned again, which
				// would double the check's cost for every keeper); nothing at all fails.
				if max_repay.is_zero() {
					return Err(invalid::WOULD_FAIL);
				}
				// A sale needs tokens: with too little of the collateral in the pool to repay a
				// smallest unit of the debt, the flash liquidation would fail
				// (`CollateralIlliquid`) after the fee was taken.
				if matches!(call, Call::flash_liquidate { .. })
					&& crate::functions::flash_repay_within_cash(
						plan.repay,
						plan.seize,
						T::Ledger::cash(*collateral_asset),
					)
					.is_none()
				{
					return Err(invalid::WOULD_FAIL);
				}
				Ok(Some(KeeperCheck { shortfall: report.maintenance_shortfall(), whole }))
			},
			Call::liquidate_position { who, underlying, .. } => {
				if !Self::engine_running() {
					return Err(invalid::PAUSED);
				}
				let report = Self::effective_report(who).map_err(|_| invalid::NOT_LIQUIDATABLE)?;
				if !report.is_liquidatable() {
					return Err(invalid::NOT_LIQUIDATABLE);
				}
				// The position is still there (not closed by someone first) and its market open.
				if !T::Derivatives::positions_at_risk(who)
					.iter()
					.any(|position| position.underlying == *underlying)
				{
					return Err(invalid::WOULD_FAIL);
				}
				if Self::is_paused(*underlying) {
					return Err(invalid::PAUSED);
				}
				// A close-out is cut to the caps' room; with none left it would fail.
				let params = Self::params().map_err(|_| invalid::PAUSED)?;
				if Self::cap_room(&params, *underlying).0.is_zero() {
					return Err(invalid::CAPS_FULL);
				}
				// The units are the engine's to size (`max_units` only caps them): in the band.
				Ok(Some(KeeperCheck { shortfall: report.maintenance_shortfall(), whole: true }))
			},
			_ => Ok(None),
		}
	}

	/// The weight of [`CheckKeeperLiquidation`]'s check of `call`.
	pub fn keeper_check_weight(call: &Call<T>) -> Weight {
		match call {
			// Planned as the engine sizes it, and again when the caps cut that; the pool's cash.
			Call::liquidate { .. } | Call::flash_liquidate { .. } => T::WeightInfo::check_account()
				.saturating_add(T::DbWeight::get().reads(5))
				.saturating_mul(2)
				.saturating_add(T::DbWeight::get().reads(1)),
			// The account, the position, the market, the parameters and the caps.
			Call::liquidate_position { .. } => {
				T::WeightInfo::check_account().saturating_add(T::DbWeight::get().reads(6))
			},
			_ => Weight::zero(),
		}
	}
}

/// What [`Pallet::check_keeper_call`] found for a keeper's liquidation that may proceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeeperCheck {
	/// The account's maintenance shortfall.
	pub shortfall: UsdValue,
	/// Whether the call asks for at least what the engine sizes (`max_repay` does not cut the
	/// plan): only then is it given the keepers' band.
	pub whole: bool,
}

/// The pool's reason for a failed check: as the worker's (`invalid`), by the engine's error.
fn keeper_invalid<T: Config>(error: DispatchError) -> u8 {
	if error == Error::<T>::NotLiquidatable.into() {
		invalid::NOT_LIQUIDATABLE
	} else if error == Error::<T>::EnginePaused.into() || error == Error::<T>::AssetPaused.into() {
		invalid::PAUSED
	} else if Pallet::<T>::is_cap_error(&error) {
		invalid::CAPS_FULL
	} else {
		invalid::WOULD_FAIL
	}
}

impl<T: Config + Send + Sync> TransactionExtension<<T as frame_system::Config>::RuntimeCall>
	for CheckKeeperLiquidation<T>
where
	<T as frame_system::Config>::RuntimeCall:
		Dispatchable<Info = DispatchInfo> + IsSubType<Call<T>>,
	<<T as frame_system::Config>::RuntimeCall as Dispatchable>::RuntimeOrigin:
		AsSystemOriginSigner<T::AccountId> + Clone,
{
	const IDENTIFIER: &'static str = "CheckKeeperLiquidation";
	type Implicit = ();
	type Val = ();
	type Pre = ();

	fn weight(&self, call: &<T as frame_system::Config>::RuntimeCall) -> Weight {
		call.is_sub_type().map(Pallet::<T>::keeper_check_weight).unwrap_or_default()
	}

	fn validate(
		&self,
		origin: <<T as frame_system::Config>::RuntimeCall as Dispatchable>::RuntimeOrigin,
		call: &<T as frame_system::Config>::RuntimeCall,
		_info: &DispatchInfoOf<<T as frame_system::Config>::RuntimeCall>,
		_len: usize,
		_self_implicit: Self::Implicit,
		_inherited_implication: &impl Encode,
		_source: TransactionSource,
	) -> Result<
		(
			ValidTransaction,
			Self::Val,
			<<T as frame_system::Config>::RuntimeCall as Dispatchable>::RuntimeOrigin,
		),
		TransactionValidityError,
	> {
		// Only a signed caller is a keeper (an unsigned call fails its own checks).
		let (Some(_), Some(call)) = (origin.as_system_origin_signer(), call.is_sub_type()) else {
			return Ok((ValidTransaction::default(), (), origin));
		};
		// A custom code, `CAPS_FULL` included: a keeper's call the caps refuse is dropped (he
		// resubmits with a new hash: a mortal era, a tip), not kept for the next block as the
		// worker's are, so calls no block takes cannot pile up and end blocks early.
		let Some(check) =
			Pallet::<T>::check_keeper_call(call).map_err(InvalidTransaction::Custom)?
		else {
			return Ok((ValidTransaction::default(), (), origin));
		};
		let target = match call {
			Call::liquidate { who, .. }
			| Call::flash_liquidate { who, .. }
			| Call::liquidate_position { who, .. } => who,
			_ => return Ok((ValidTransaction::default(), (), origin)),
		};
		let priority = if check.whole {
			T::KeeperPriority::get().saturating_add(crate::whole_usd(check.shortfall))
		} else {
			0
		};
		let valid = ValidTransaction {
			priority,
			// One keeper's liquidation of an account in the pool at a time: a second one is
			// refused at submission unless it pays a higher priority (its tip), so keepers
			// racing for one account cost the block builder one check, not one each.
			provides: alloc::vec![(KEEPER_TAG, target).encode()],
			// The account is re-checked at every block; a liquidation intent is short-lived.
			longevity: T::UnsignedLongevity::get(),
			..Default::default()
		};
		Ok((valid, (), origin))
	}

	impl_tx_ext_default!(<T as frame_system::Config>::RuntimeCall; prepare);
}
