//! The npm tools under `tools/` (binaryen's wasm-opt, playwright-core) and a run of the built
//! package in headless Chromium through `tools/wasm-run.mjs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::pkg::Package;
use crate::sh::{self, Result};

/// Whether node and npm can run.
pub(crate) fn available() -> bool {
    sh::has("node", &["--version"]) && sh::has("npm", &["--version"])
}

/// `tools/` with its npm packages installed at the versions `tools/package.json` pins
/// (installed into the git-ignored `tools/node_modules/` only when missing or different).
pub(crate) fn ensure_tools() -> Result<PathBuf> {
    let tools = sh::root().join("tools");
    let manifest = read_json(&tools.join("package.json"))?;
    let wanted = manifest["dependencies"]
        .as_object()
        .ok_or("tools/package.json has no dependencies")?;
    let installed = wanted.iter().all(|(name, version)| {
        read_json(&tools.join("node_modules").join(name).join("package.json"))
            .is_ok_and(|p| p["version"] == *version)
    });
    if !installed {
        sh::run_in(&tools, "npm", &["ci", "--no-audit", "--no-fund"], &[])?;
    }
    Ok(tools)
}

/// Load `page` at `url` in headless Chromium with the package injected as a module script,
/// `extract()` it `iterations` times (and sign a report when `sign`); the page's findings.
pub(crate) fn run_in_chromium(
    built: &Package,
    page: &Path,
    url: &str,
    iterations: u32,
    sign: bool,
) -> Result<Value> {
    let tools = ensure_tools()?;
    let plan = json!({
        "pkg_dir": built.dir,
        "glue": built.glue,
        "wasm": built.wasm,
        "page_file": page,
        "url": url,
        "iterations": iterations,
        "sign": sign,
    });
    let plan_file =
        std::env::temp_dir().join(format!("pricewatch-wasm-run-{}.json", std::process::id()));
    std::fs::write(&plan_file, plan.to_string())
        .map_err(|e| format!("{}: {e}", plan_file.display()))?;
    eprintln!("\n==> node tools/wasm-run.mjs ({url} in headless Chromium)");
    let output = Command::new("node")
        .arg(tools.join("wasm-run.mjs"))
        .arg(&plan_file)
        .current_dir(&tools)
        .output();
    let _ = std::fs::remove_file(&plan_file);
    let output = output.map_err(|e| format!("cannot start node: {e}"))?;
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        return Err(format!("tools/wasm-run.mjs failed ({})", output.status));
    }
    let out: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("tools/wasm-run.mjs printed no JSON: {e}"))?;
    match out["error"].as_str() {
        Some(error) => Err(format!("the package failed in Chromium: {error}")),
        None => Ok(out),
    }
}

/// A JSON file.
pub(crate) fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
