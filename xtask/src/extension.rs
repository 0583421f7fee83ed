//! `cargo xtask build-extension`: the Chrome extension, loadable unpacked from
//! `dist/extension/` and zipped for the store as `dist/pricewatch-extension.zip`.
//!
//! The folder is `manifest.json` (repository root) + `extension/` + the wasm package:
//! - `pkg/pricewatch_wasm.js` and `pkg/pricewatch_wasm_bg.wasm` from `cargo xtask build-wasm`
//!   (ES-module glue: the module service worker, the popup);
//! - `pkg/pricewatch_wasm.nomodules.js`: the same module's bindings for wasm-bindgen's
//!   `no-modules` target, a classic script the manifest lists before `content.js`. A content
//!   script cannot `import()` the ES glue on an https Amazon page, and a classic script can be
//!   injected there directly. Both glues drive the one `.wasm` file: the build checks that
//!   wasm-bindgen emits the same module for both targets.
//!
//! Before zipping, the folder is checked: every file the manifest and the pages name exists,
//! the content script matches exactly the 19 Amazon storefronts core knows, and the
//! permissions and CSP are the ones the extension is meant to ship with.
//!
//! - `bench`: `cargo xtask bench-extension`, the extension's budgets in `BENCHMARKS.md`.

mod bench;
mod check;
mod zip;

use std::path::{Path, PathBuf};

use wasm_bindgen_cli_support::Bindgen;

use crate::sh::{self, Result};

pub use bench::run as bench;

/// The file stem wasm-bindgen gives the package (as `cargo xtask build-wasm` does).
const STEM: &str = "pricewatch_wasm";
/// The classic-script glue the content script uses.
pub(crate) const NOMODULES_GLUE: &str = "pricewatch_wasm.nomodules.js";

/// What `assemble` left in `dist/`.
pub(crate) struct Built {
    /// `dist/extension/`: load it with "Load unpacked" or `--load-extension`.
    pub(crate) dir: PathBuf,
    /// `dist/pricewatch-extension.zip`: the same files, for the Chrome Web Store.
    pub(crate) zip: PathBuf,
}

/// `cargo xtask build-extension`.
pub fn build() -> Result<()> {
    let built = assemble()?;
    println!(
        "\nextension: {} (load unpacked)\n           {} ({})",
        built.dir.display(),
        built.zip.display(),
        size_of(&built.zip)
    );
    Ok(())
}

/// Build the wasm package, assemble `dist/extension/`, check it and zip it.
pub(crate) fn assemble() -> Result<Built> {
    crate::wasm::build()?;
    let root = sh::root();
    let glue = nomodules_glue(&root)?;
    let dir = root.join("dist/extension");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    copy_tree(&root.join("extension"), &dir)?;
    copy(&root.join("manifest.json"), &dir.join("manifest.json"))?;
    let pkg = root.join("dist/pkg");
    for name in [format!("{STEM}.js"), format!("{STEM}_bg.wasm")] {
        copy(&pkg.join(&name), &dir.join("pkg").join(&name))?;
    }
    write(&dir.join("pkg").join(NOMODULES_GLUE), glue.as_bytes())?;
    check::folder(&dir)?;
    let zip = root.join("dist/pricewatch-extension.zip");
    zip::folder(&dir, &zip)?;
    Ok(Built { dir, zip })
}

/// The `no-modules` bindings of the module `build-wasm` bound for the web, after checking
/// that wasm-bindgen emits the very same `.wasm` for both targets (so the optimised
/// `dist/pkg` module serves both glues).
fn nomodules_glue(root: &Path) -> Result<String> {
    let input = sh::target_dir(root)
        .join(crate::wasm::TARGET)
        .join("wasm-release")
        .join(format!("{STEM}.wasm"));
    eprintln!("\n==> wasm-bindgen --target no-modules {}", input.display());
    let bind = |no_modules: bool| -> Result<(String, Vec<u8>)> {
        let mut bindgen = Bindgen::new();
        bindgen
            .input_path(&input)
            .out_name(STEM)
            .typescript(false)
            .remove_name_section(true)
            .remove_producers_section(true);
        if no_modules {
            bindgen.no_modules(true)
        } else {
            bindgen.web(true)
        }
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
        let mut output = bindgen
            .generate_output()
            .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
        if output.snippets().values().any(|s| !s.is_empty()) || !output.local_modules().is_empty() {
            return Err(
                "the wasm crate uses JS snippets, which a content script cannot load".into(),
            );
        }
        let wasm = output.wasm_mut().emit_wasm();
        Ok((output.js().to_owned(), wasm))
    };
    let (glue, classic) = bind(true)?;
    let (_, module) = bind(false)?;
    if classic != module {
        return Err(
            "wasm-bindgen emits different modules for --target web and no-modules: the \
             content script would need its own .wasm"
                .into(),
        );
    }
    Ok(glue)
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &target)?;
        } else {
            copy(&path, &target)?;
        }
    }
    Ok(())
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} -> {}: {e}", from.display(), to.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn size_of(path: &Path) -> String {
    std::fs::metadata(path).map_or_else(
        |_| "?".into(),
        |m| format!("{:.1} KiB", m.len() as f64 / 1024.0),
    )
}
