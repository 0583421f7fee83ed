//! One module per `pricewatch` subcommand.

pub mod demo;
pub mod extract;
pub mod serve;
