//! `cargo xtask run`: the whole thing on one machine, for a newcomer. Builds the wasm package
//! and the extension (`dist/extension/`, to load unpacked in Chrome), builds the server, seeds
//! demo data into `pricewatch.db` on the first run, and serves the API and the website on
//! <http://127.0.0.1:8080> until Ctrl-C.

use crate::sh::{self, Result};

pub fn run() -> Result<()> {
    let root = sh::root();
    crate::extension::build()?;
    sh::cargo(&[
        "build",
        "--release",
        "-p",
        "pricewatch-server",
        "--bin",
        "pricewatch",
    ])?;
    let bin = sh::target_dir(&root).join("release/pricewatch");
    let bin = bin.display().to_string();
    // The default database is `pricewatch.db` in the working directory: seed it once.
    if !root.join("pricewatch.db").exists() {
        sh::run_in(&root, &bin, &["demo"], &[])?;
    }
    eprintln!(
        "\nPriceWatch: website and API on http://127.0.0.1:8080 (Ctrl-C stops).\n\
         The extension is built in {}: open chrome://extensions, turn on Developer mode,\n\
         choose \"Load unpacked\" and pick that folder; set the server URL in its options.\n",
        root.join("dist/extension").display()
    );
    sh::run_in(&root, &bin, &["serve"], &[])
}
