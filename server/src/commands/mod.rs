//! One module per `pricewatch` subcommand.

pub mod extract;
pub mod serve;
