//! `pricewatch extract`: read a saved product page with the same rules the extension and the
//! crawler use, and print the observation as one JSON object.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use pricewatch_core::html::HtmlPage;
use pricewatch_core::observation::{Observation, ReadError};
use pricewatch_core::{extract, PageContext};
use serde_json::{json, Value};

/// Why `extract` could not produce an observation.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Page { path: String, source: ReadError },
}

impl ExtractError {
    fn exit_code(&self) -> ExitCode {
        match self {
            ExtractError::Read { .. } => ExitCode::from(1),
            ExtractError::Page { .. } => ExitCode::from(3),
        }
    }
}

pub fn run(url: Option<&str>, file: &Path) -> ExitCode {
    match extract_file(url, file) {
        Ok(value) => {
            let mut out = std::io::stdout().lock();
            // A closed stdout (e.g. `| head`) is not worth a panic.
            let _ = writeln!(out, "{value}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// Read `file` and describe it as the command's JSON object.
pub fn extract_file(url: Option<&str>, file: &Path) -> Result<Value, ExtractError> {
    let path = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|source| ExtractError::Read {
        path: path.clone(),
        source,
    })?;
    // Saved pages are UTF-8 almost always; anything else is read with replacement characters
    // rather than refused, since prices and ids are ASCII.
    let html = String::from_utf8_lossy(&bytes);
    let page = HtmlPage::parse(&html);
    let ctx = url.map(PageContext::from_url).unwrap_or_default();
    match extract(&page, &ctx) {
        Ok(obs) => Ok(observation_json(&obs)),
        Err(ReadError::Blocked { marketplace, asin }) => Ok(json!({
            "marketplace": marketplace,
            "asin": asin,
            "title": null,
            "price": null,
            "list_price": null,
            "availability": "unknown",
            "blocked": true,
            "price_range": false,
        })),
        Err(source) => Err(ExtractError::Page { path, source }),
    }
}

/// The documented shape, plus the richer fields an observation carries.
pub fn observation_json(obs: &Observation) -> Value {
    json!({
        "marketplace": obs.marketplace,
        "asin": obs.asin,
        "title": obs.title,
        "price": obs.price,
        "list_price": obs.list_price,
        "availability": obs.availability,
        "blocked": false,
        "price_range": obs.price_range.is_some(),
        "range": obs.price_range,
        "deal": obs.deal,
        "price_in_cart": obs.price_in_cart,
        "seller": obs.seller,
        "condition": obs.condition,
        "price_is_personal": obs.price_is_personal,
        "pricing_flags": obs.pricing_flags,
    })
}
