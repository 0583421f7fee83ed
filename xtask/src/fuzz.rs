//! Bounded fuzzing of the parsers that read untrusted text (price text, whole pages).
//!
//! `cargo fuzz` needs nightly flags; the stable toolchain accepts them with
//! `RUSTC_BOOTSTRAP=1`, which is scoped to these commands only.

use crate::sh::{self, Result};

const TARGETS: &[&str] = &["price_text", "extract_page"];

pub fn run(seconds: Option<&str>) -> Result<()> {
    let seconds: u32 = match seconds {
        Some(s) => s
            .parse()
            .map_err(|_| format!("fuzz: {s:?} is not a number of seconds"))?,
        None => 30,
    };
    if !sh::has("cargo", &["fuzz", "--version"]) {
        sh::cargo(&["install", "cargo-fuzz"])?;
    }
    let core = sh::root().join("core");
    let max_time = format!("-max_total_time={seconds}");
    for target in TARGETS {
        // A scratch corpus, so that fuzzing never writes into the repository.
        let scratch = std::env::temp_dir().join(format!("pricewatch-fuzz-{target}"));
        std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let scratch = scratch.display().to_string();
        let seeds = format!("fuzz/seeds/{target}");
        sh::run_in(
            &core,
            "cargo",
            &["fuzz", "run", target, &scratch, &seeds, "--", &max_time],
            &[("RUSTC_BOOTSTRAP", "1")],
        )?;
    }
    Ok(())
}
