//! PriceWatch's server side and its command line.
//!
//! # Layout
//! - [`cli`]: the `pricewatch` command's arguments and dispatch.
//! - [`commands`]: one module per subcommand (`extract`, ...).

pub mod cli;
pub mod commands;
