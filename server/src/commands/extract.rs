//! `pricewatch extract`: read a saved product page with the same rules the extension and the
//! crawler use, and print the observation as one JSON object.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use pricewatch_core::html::HtmlPage;
use pricewatch_core::observation::ReadError;
use pricewatch_core::reading::PageReading;
use pricewatch_core::{extract, PageContext};

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
    #[error("{path}: cannot write the reading as JSON: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
}

impl ExtractError {
    fn exit_code(&self) -> ExitCode {
        match self {
            ExtractError::Read { .. } | ExtractError::Json { .. } => ExitCode::from(1),
            ExtractError::Page { .. } => ExitCode::from(3),
        }
    }
}

pub fn run(url: Option<&str>, file: &Path) -> ExitCode {
    let line = extract_file(url, file).and_then(|reading| {
        serde_json::to_string(&reading).map_err(|source| ExtractError::Json {
            path: file.display().to_string(),
            source,
        })
    });
    match line {
        Ok(line) => {
            let mut out = std::io::stdout().lock();
            // A closed stdout (e.g. `| head`) is not worth a panic.
            let _ = writeln!(out, "{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// Read `file` as the command describes it: a product's observation or a robot check. Its
/// JSON form is core's [`PageReading`], the same object the extension's wasm returns.
pub fn extract_file(url: Option<&str>, file: &Path) -> Result<PageReading, ExtractError> {
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
    PageReading::from_result(extract(&page, &ctx))
        .map_err(|source| ExtractError::Page { path, source })
}
