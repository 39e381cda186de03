//! An [`Exposure`] whose derivative positions the test sets.

use codec::Encode;
use core::marker::PhantomData;
use frame_support::traits::Get;
use liquidation_primitives::{DerivativeHealth, Exposure, HealthError, Pricing};
use std::{cell::RefCell, collections::BTreeMap};

std::thread_local! {
	static EXPOSURES: RefCell<BTreeMap<Vec<u8>, DerivativeHealth>> = RefCell::new(BTreeMap::new());
}

/// Derivative positions set per account by the test ([`set_exposure`]); none otherwise. The same
/// figures at either [`Pricing`]; settled in the asset `Settlement` names.
pub struct TestExposure<Settlement>(PhantomData<Settlement>);
impl<AccountId: Encode, AssetId, Settlement: Get<AssetId>> Exposure<AccountId, AssetId>
	for TestExposure<Settlement>
{
	fn exposure(who: &AccountId, _: Pricing) -> Result<DerivativeHealth, HealthError<AssetId>> {
		Ok(EXPOSURES.with(|map| map.borrow().get(&who.encode()).copied().unwrap_or_default()))
	}

	fn has_exposure(who: &AccountId) -> bool {
		EXPOSURES.with(|map| map.borrow().contains_key(&who.encode()))
	}

	fn settlement_asset() -> Option<AssetId> {
		Some(Settlement::get())
	}

	/// Set figures have no reference: an account with them is read by every walk.
	fn reference_exposure(
		_: &AccountId,
		_: u8,
		_: &dyn Fn(&AssetId) -> Option<liquidation_primitives::Price>,
	) -> Option<liquidation_primitives::ReferenceExposure<AssetId>> {
		None
	}

	fn drift_since_reference(
		_: u8,
		_: &AssetId,
		_: liquidation_primitives::Price,
	) -> Option<sp_arithmetic::FixedU128> {
		Some(Default::default())
	}

	fn on_new_reference(_: u8) {}

	fn is_traded(_: &AssetId) -> bool {
		false
	}
}

/// `who`'s derivative positions add `health` (`None`: it holds none).
pub fn set_exposure<AccountId: Encode>(who: &AccountId, health: Option<DerivativeHealth>) {
	EXPOSURES.with(|map| match health {
		Some(health) => map.borrow_mut().insert(who.encode(), health),
		None => map.borrow_mut().remove(&who.encode()),
	});
}

/// No account holds derivative positions.
pub fn clear_exposures() {
	EXPOSURES.with(|map| map.borrow_mut().clear());
}
