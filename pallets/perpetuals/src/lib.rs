//! # Perpetuals pallet (in progress: the arithmetic only, see `math`)
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]

pub mod math;
pub mod types;
