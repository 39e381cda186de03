//! Dev-chain DEX pools: a genesis-only pallet that opens `pallet-asset-conversion` pools and
//! provides their first liquidity, so that flash liquidations have a market from block one.
//!
//! `pallet-asset-conversion` has no genesis config of its own; this one creates each pool with
//! the DEX's own calls, from an account that the genesis mints exactly the liquidity into.
//! The pallet has no calls, storage or hooks.

pub use pallet::*;

#[frame_support::pallet]
pub mod pallet {
	use alloc::{boxed::Box, vec::Vec};
	use frame_support::{
		pallet_prelude::*,
		traits::{fungibles::Mutate, tokens::fungible::NativeOrWithId},
		PalletId,
	};
	use frame_system::RawOrigin;
	use liquidation_primitives::{AssetId, Balance};
	use sp_runtime::traits::AccountIdConversion;

	#[pallet::pallet]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config:
		frame_system::Config
		+ pallet_asset_conversion::Config<AssetKind = NativeOrWithId<u32>, Balance = Balance>
	{
	}

	/// The account that provides the dev pools' liquidity (and holds their LP tokens).
	pub fn provider<T: Config>() -> T::AccountId {
		PalletId(*b"lq/dvpol").into_account_truncating()
	}

	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		/// Pools to open: the two assets and the liquidity of each, in smallest units.
		pub pools: Vec<(AssetId, AssetId, Balance, Balance)>,
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			let provider = provider::<T>();
			// Enough of the native token to keep the provider's account alive.
			let native = NativeOrWithId::Native;
			let existential =
				<T::Assets as frame_support::traits::fungibles::Inspect<_>>::minimum_balance(
					native.clone(),
				);
			if let Err(error) = T::Assets::mint_into(native, &provider, existential) {
				panic!("dev pools: cannot endow the provider: {error:?}");
			}
			for (first, second, first_amount, second_amount) in &self.pools {
				let (first, second): (NativeOrWithId<u32>, NativeOrWithId<u32>) =
					((*first).into(), (*second).into());
				// The DEX keeps the provider alive in each asset: mint its minimum balance too.
				let with_minimum = |asset: &NativeOrWithId<u32>, amount: Balance| {
					amount.saturating_add(<T::Assets as frame_support::traits::fungibles::Inspect<_>>::minimum_balance(asset.clone()))
				};
				let minted = T::Assets::mint_into(
					first.clone(),
					&provider,
					with_minimum(&first, *first_amount),
				)
				.and_then(|_| {
					T::Assets::mint_into(
						second.clone(),
						&provider,
						with_minimum(&second, *second_amount),
					)
				});
				let created = minted.and_then(|_| {
					pallet_asset_conversion::Pallet::<T>::create_pool(
						RawOrigin::Signed(provider.clone()).into(),
						Box::new(first.clone()),
						Box::new(second.clone()),
					)
				});
				let provided = created.and_then(|_| {
					pallet_asset_conversion::Pallet::<T>::add_liquidity(
						RawOrigin::Signed(provider.clone()).into(),
						Box::new(first.clone()),
						Box::new(second.clone()),
						*first_amount,
						*second_amount,
						1,
						1,
						provider.clone(),
					)
				});
				if let Err(error) = provided {
					panic!("dev pools: cannot open the {first:?}/{second:?} pool: {error:?}");
				}
			}
		}
	}
}
