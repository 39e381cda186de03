//! [`PrioritizeOracleFeeds`]: the oracle operators' feeds go into a block before anything else.
//!
//! An operator's `oracle.feed_values` pays no fee (orml-oracle returns `Pays::No` for members),
//! so its priority from the fee would be zero: in a crash, when keepers' liquidations (in their
//! band) and the worker's (above ordinary transactions) fill the normal class, feeds would wait
//! behind them, and the engine would keep liquidating at the prices of the block before while
//! the breaker's confirmations and a rebound's prices queued. This extension gives a member's
//! feed [`ORACLE_FEED_PRIORITY`], above every liquidation, and the tag `(FEED_TAG, operator)`: one
//! feed per operator waits in the pool at a time (orml-oracle takes one per operator and block; a
//! queue of top-priority feeds would each go first and all but one fail). An operator submits
//! his next feed once the last is in a block. A non-member's feed gets nothing from it (it fails
//! in dispatch and pays its fee).

use crate::{OracleOperators, Runtime, RuntimeCall, RuntimeOrigin};
use codec::{Decode, DecodeWithMemTracking, Encode};
use frame_support::{pallet_prelude::TransactionSource, traits::SortedMembers, weights::Weight};
use scale_info::TypeInfo;
use sp_runtime::{
	impl_tx_ext_default,
	traits::{AsSystemOriginSigner, DispatchInfoOf, TransactionExtension},
	transaction_validity::{TransactionPriority, TransactionValidityError, ValidTransaction},
};

/// Above keepers' liquidations (`KeeperLiquidationPriority`, three quarters of the range) and
/// the worker's: a feed moves the prices every liquidation is judged at.
pub const ORACLE_FEED_PRIORITY: TransactionPriority =
	TransactionPriority::MAX / 2 + TransactionPriority::MAX / 4 + TransactionPriority::MAX / 8;

/// The pool tag an operator's feed provides (with the operator): one of his feeds pending at a
/// time.
pub const FEED_TAG: &[u8] = b"OracleFeed";

/// Gives an oracle operator's feed the top priority band: see the [module docs](self).
#[derive(Clone, Default, Eq, PartialEq, Encode, Decode, DecodeWithMemTracking, TypeInfo, Debug)]
pub struct PrioritizeOracleFeeds;

impl TransactionExtension<RuntimeCall> for PrioritizeOracleFeeds {
	const IDENTIFIER: &'static str = "PrioritizeOracleFeeds";
	type Implicit = ();
	type Val = ();
	type Pre = ();

	fn weight(&self, call: &RuntimeCall) -> Weight {
		match call {
			// The operators' set: one storage read.
			RuntimeCall::Oracle(orml_oracle::Call::feed_values { .. }) => {
				<Runtime as frame_system::Config>::DbWeight::get().reads(1)
			},
			_ => Weight::zero(),
		}
	}

	fn validate(
		&self,
		origin: RuntimeOrigin,
		call: &RuntimeCall,
		_info: &DispatchInfoOf<RuntimeCall>,
		_len: usize,
		_self_implicit: Self::Implicit,
		_inherited_implication: &impl Encode,
		_source: TransactionSource,
	) -> Result<(ValidTransaction, Self::Val, RuntimeOrigin), TransactionValidityError> {
		let feed = matches!(call, RuntimeCall::Oracle(orml_oracle::Call::feed_values { .. }));
		let member = origin.as_system_origin_signer().filter(|who| OracleOperators::contains(who));
		let valid = match member {
			Some(member) if feed => ValidTransaction {
				priority: ORACLE_FEED_PRIORITY,
				// One feed per operator in the pool at a time: orml-oracle takes one per operator
				// and block, and a queue of them would each go first and fail but the first.
				provides: alloc::vec![(FEED_TAG, member).encode()],
				..Default::default()
			},
			_ => ValidTransaction::default(),
		};
		Ok((valid, (), origin))
	}

	impl_tx_ext_default!(RuntimeCall; prepare);
}
