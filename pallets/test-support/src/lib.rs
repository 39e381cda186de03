//! What the mocks and tests of the liquidation engine's pallets share, so that each mock holds only
//! what is its own: a [`PriceProvider`](liquidation_primitives::PriceProvider) whose prices the
//! test sets ([`TestPrices`]), readers of the events a test produced, and amounts in whole units.
//!
//! The mocks' `pallet-assets` configuration is one macro, [`impl_test_assets_config`] (why not
//! `derive_impl`: see there); `pallet-balances` comes from its own
//! `config_preludes::TestDefaultConfig`.

#![deny(missing_docs)]

mod exposure;
mod prices;
pub use exposure::*;
pub use prices::*;

/// The last event deposited in this test's blocks.
pub fn last_event<T: frame_system::Config>() -> T::RuntimeEvent {
	frame_system::Pallet::<T>::events().pop().expect("an event was deposited").event
}

/// The events deposited in this test's blocks that `select` picks, in order: typically one
/// pallet's, with `|event| match event { RuntimeEvent::Margin(event) => Some(event), _ => None }`.
pub fn events_of<T: frame_system::Config, E>(
	select: impl Fn(T::RuntimeEvent) -> Option<E>,
) -> Vec<E> {
	frame_system::Pallet::<T>::events()
		.into_iter()
		.filter_map(|record| select(record.event))
		.collect()
}

/// `whole` whole units of an asset with `decimals` decimals, in its smallest units.
pub fn units(whole: u128, decimals: u8) -> u128 {
	whole * 10u128.pow(u32::from(decimals))
}

/// Implements `pallet_assets::Config` (of the default instance, or of `$instance`) for a mock
/// runtime `$runtime` as every mock of ours configures it: assets by `u32` id in the mock's
/// `Balance`, backed by its `Balances`, created by any signed account or forced by root, with
/// deposits of one smallest unit. Call it where the mock's `RuntimeEvent`, `Balance`, `Balances`
/// and `AccountId` are in scope.
///
/// A macro, not `derive_impl` of `pallet_assets::config_preludes::TestDefaultConfig`: that
/// prelude adds a `BenchmarkHelper` whenever the *calling* crate builds with
/// `runtime-benchmarks`, and `pallet-assets`' own `runtime-benchmarks` feature pulls in
/// `pallet-revive` fixtures that need a nightly toolchain.
#[macro_export]
macro_rules! impl_test_assets_config {
	($runtime:ty) => {
		impl pallet_assets::Config for $runtime {
			$crate::test_assets_config_items!();
		}
	};
	($runtime:ty, $instance:ty) => {
		impl pallet_assets::Config<$instance> for $runtime {
			$crate::test_assets_config_items!();
		}
	};
}

/// The items of [`impl_test_assets_config`].
#[doc(hidden)]
#[macro_export]
macro_rules! test_assets_config_items {
	() => {
		type RuntimeEvent = RuntimeEvent;
		type Balance = Balance;
		type RemoveItemsLimit = frame_support::traits::ConstU32<100>;
		type AssetId = u32;
		type AssetIdParameter = u32;
		type Currency = Balances;
		type CreateOrigin =
			frame_support::traits::AsEnsureOriginWithArg<frame_system::EnsureSigned<AccountId>>;
		type ForceOrigin = frame_system::EnsureRoot<AccountId>;
		type AssetDeposit = frame_support::traits::ConstU128<1>;
		type AssetAccountDeposit = frame_support::traits::ConstU128<1>;
		type MetadataDepositBase = frame_support::traits::ConstU128<1>;
		type MetadataDepositPerByte = frame_support::traits::ConstU128<1>;
		type ApprovalDeposit = frame_support::traits::ConstU128<1>;
		type StringLimit = frame_support::traits::ConstU32<50>;
		type Freezer = ();
		type Holder = ();
		type Extra = ();
		type CallbackHandle = ();
		type WeightInfo = ();
	};
}
