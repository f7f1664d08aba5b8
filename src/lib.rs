//! needmap: need mapping and service planning.
//!
//! Load small areas with deprivation indicators, referral events, premises and
//! boundary sets ([`io::load_workspace`]); everything is projected to British
//! National Grid and indexed ([`spatial::AreaIndex`]). Analyses
//! ([`analysis`]) are pure functions of the loaded [`io::Atlas`]; every
//! result that leaves the process goes through disclosure control
//! ([`privacy`]).
//!
//! Layers, one direction only: `model` ← `spatial` ← `analysis` ← `io` | `server` | `cli`.

#![recursion_limit = "512"]

pub mod analysis;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod io;
pub mod model;
pub mod privacy;
pub mod server;
pub mod spatial;

pub use config::Config;
pub use error::{Error, Result};
pub use io::{load_workspace, Atlas};
