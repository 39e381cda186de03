//! Integration tests on the real runtime: genesis from its presets, blocks executed through
//! `Executive`, transactions signed as a wallet signs them.

mod auction;
mod capacity;
mod derisk;
mod flooding;
mod genesis;
mod insurance;
mod liquidation;
mod manipulation;
mod margin;
mod oracle;
mod perpetuals;
mod prices;
mod soundness;
mod stress;
mod volatility;
