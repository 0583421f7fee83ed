//! `cargo xtask e2e`: the end-to-end tests in `e2e/`, in headless Chromium against the real
//! server, fixture shop and an SMTP sink. Builds what they run (the `pricewatch` and
//! `fixture-shop` binaries, `dist/extension/`), installs the npm packages `e2e/package-lock.json`
//! pins (playwright-core only: Chromium is the system's), then `npm test`.

use std::path::{Path, PathBuf};

use crate::sh::{self, Result};

/// What the tests are told about the build, so they do not build again.
pub(crate) struct Prebuilt {
    pub(crate) bin_dir: PathBuf,
    pub(crate) extension: PathBuf,
}

/// Build everything the tests and the extension bench run.
pub(crate) fn prepare() -> Result<Prebuilt> {
    sh::cargo(&[
        "build",
        "-p",
        "pricewatch-server",
        "-p",
        "pricewatch-fixture-shop",
        "--bins",
    ])?;
    let built = crate::extension::assemble()?;
    let root = sh::root();
    npm_install(&root.join("e2e"))?;
    Ok(Prebuilt {
        bin_dir: sh::target_dir(&root).join("debug"),
        extension: built.dir,
    })
}

/// The environment that tells `e2e/lib` where the build is.
pub(crate) fn env(prebuilt: &Prebuilt) -> Result<Vec<(&'static str, String)>> {
    Ok(vec![
        ("E2E_PREBUILT", "1".to_owned()),
        ("E2E_BIN_DIR", path_str(&prebuilt.bin_dir)?),
        ("E2E_EXTENSION", path_str(&prebuilt.extension)?),
    ])
}

/// `cargo xtask e2e`.
pub fn run() -> Result<()> {
    if !(sh::has("node", &["--version"]) && sh::has("npm", &["--version"])) {
        return Err("the e2e tests need node and npm (and /usr/bin/chromium): see .ci/run".into());
    }
    let prebuilt = prepare()?;
    let env = env(&prebuilt)?;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    sh::run_in(&sh::root().join("e2e"), "npm", &["test"], &env)
}

/// `npm ci` (the versions `package-lock.json` pins) unless they are installed already.
fn npm_install(dir: &Path) -> Result<()> {
    if up_to_date(dir)? {
        return Ok(());
    }
    sh::run_in(dir, "npm", &["ci", "--no-audit", "--no-fund"], &[])
}

/// Whether every package `package.json` asks for is installed at its exact version.
fn up_to_date(dir: &Path) -> Result<bool> {
    let manifest: serde_json::Value = read_json(&dir.join("package.json"))?;
    let wanted = manifest["devDependencies"]
        .as_object()
        .into_iter()
        .flatten()
        .chain(manifest["dependencies"].as_object().into_iter().flatten());
    for (name, version) in wanted {
        let installed = read_json(&dir.join("node_modules").join(name).join("package.json"));
        if !installed.is_ok_and(|p| p["version"] == *version) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn path_str(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}
