//! `dist/pkg/`: the wasm crate built for release, bound for the web with wasm-bindgen, and
//! shrunk with binaryen's wasm-opt when node is there to run it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;
use wasm_bindgen_cli_support::Bindgen;

use super::{node, TARGET};
use crate::sh::{self, Result};

/// The wasm-bindgen version the module's bindings and the test runner must both have: the
/// `wasm-bindgen-cli-support` dependency of xtask is pinned to it, as `wasm/Cargo.toml` pins
/// the `wasm-bindgen` crate. Bump all three together.
pub(crate) const BINDGEN_VERSION: &str = "0.2.130";

/// The file stem wasm-bindgen gives the package: `pricewatch_wasm.js`, `pricewatch_wasm_bg.wasm`.
const STEM: &str = "pricewatch_wasm";

/// What the build left in `dist/pkg/`.
pub(crate) struct Package {
    /// `dist/pkg/`.
    pub(crate) dir: PathBuf,
    /// The ES module glue, `pricewatch_wasm.js`.
    pub(crate) glue: String,
    /// The module, `pricewatch_wasm_bg.wasm`.
    pub(crate) wasm: String,
    /// Whether wasm-opt ran (it needs node).
    pub(crate) optimized: bool,
    pub(crate) sizes: Sizes,
}

impl Package {
    /// A line saying whether the module was optimised.
    pub(crate) fn optimizer_note(&self) -> &'static str {
        if self.optimized {
            "wasm-opt -Oz (npm binaryen 132) ran"
        } else {
            "wasm-opt skipped: node is not installed (the module works, it is just larger)"
        }
    }
}

/// Build `dist/pkg/`.
pub(crate) fn build() -> Result<Package> {
    check_lock()?;
    let root = sh::root();
    sh::cargo(&[
        "build",
        "-p",
        "pricewatch-wasm",
        "--target",
        TARGET,
        "--profile",
        "wasm-release",
        "--features",
        "panic-hook",
    ])?;
    let input = sh::target_dir(&root)
        .join(TARGET)
        .join("wasm-release")
        .join(format!("{STEM}.wasm"));
    let dir = root.join("dist/pkg");
    // Stale files from an older build must not ship beside the new ones.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    eprintln!(
        "\n==> wasm-bindgen --target web {} -> {}",
        input.display(),
        dir.display()
    );
    Bindgen::new()
        .input_path(&input)
        .out_name(STEM)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?
        .typescript(true)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&dir)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
    let wasm = format!("{STEM}_bg.wasm");
    let optimized = if node::available() {
        optimize(&dir.join(&wasm))?;
        true
    } else {
        false
    };
    let glue = format!("{STEM}.js");
    let sizes = Sizes::of(&[dir.join(&wasm), dir.join(&glue)])?;
    // The server sends these to browsers that accept gzip (ServeDir's precompressed files),
    // so the website's largest download is compressed without compressing on every request.
    for name in [&wasm, &glue] {
        write_gzipped(&dir.join(name))?;
    }
    Ok(Package {
        dir,
        glue,
        wasm,
        optimized,
        sizes,
    })
}

/// The `wasm-bindgen` version `Cargo.lock` resolved must be the one xtask binds with: a
/// mismatch produces bindings that fail only when the browser loads them.
fn check_lock() -> Result<()> {
    let lock = sh::root().join("Cargo.lock");
    let text = std::fs::read_to_string(&lock).map_err(|e| format!("{}: {e}", lock.display()))?;
    let locked =
        locked_version(&text, "wasm-bindgen").ok_or("Cargo.lock has no wasm-bindgen package")?;
    if locked == BINDGEN_VERSION {
        Ok(())
    } else {
        Err(format!(
            "Cargo.lock resolves wasm-bindgen {locked} but xtask binds with {BINDGEN_VERSION}: \
             pin wasm/Cargo.toml's wasm-bindgen and xtask's wasm-bindgen-cli-support to the same \
             version"
        ))
    }
}

/// The version of package `name` in a `Cargo.lock`.
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let header = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    lines.find(|line| *line == header)?;
    lines
        .next()?
        .strip_prefix("version = \"")?
        .strip_suffix('"')
}

/// The browser tests need `wasm-bindgen-test-runner` of exactly the bound version.
pub(crate) fn check_test_runner() -> Result<()> {
    let version = sh::output("wasm-bindgen-test-runner", &["--version"]);
    if version.split_whitespace().nth(1) == Some(BINDGEN_VERSION) {
        Ok(())
    } else {
        Err(format!(
            "the browser tests need wasm-bindgen-test-runner {BINDGEN_VERSION} (found: {}): \
             `cargo install wasm-bindgen-cli --version {BINDGEN_VERSION}` (without --locked), \
             as .ci/run does",
            if version.is_empty() { "none" } else { &version }
        ))
    }
}

/// Shrink the module in place with binaryen's `wasm-opt -Oz`, from npm (Debian's binaryen 108
/// writes modules that fail at load time).
fn optimize(wasm: &Path) -> Result<()> {
    let tools = node::ensure_tools()?;
    let wasm_opt = tools.join("node_modules/.bin/wasm-opt");
    let out = wasm.with_extension("opt.wasm");
    let (input, output) = (path_arg(wasm)?, path_arg(&out)?);
    sh::run_in(
        &sh::root(),
        &path_arg(&wasm_opt)?,
        &[
            "-Oz",
            // The features rustc's wasm32 target emits by default; binaryen must accept them
            // and may use no others.
            "--enable-bulk-memory",
            "--enable-nontrapping-float-to-int",
            "--enable-sign-ext",
            "--enable-mutable-globals",
            "--enable-reference-types",
            "--enable-multivalue",
            &input,
            "-o",
            &output,
        ],
        &[],
    )?;
    std::fs::rename(&out, wasm).map_err(|e| format!("{}: {e}", wasm.display()))
}

fn path_arg(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{} is not UTF-8", path.display()))
}

/// Raw and gzipped sizes of the shipped files.
pub(crate) struct Sizes {
    /// File name, bytes, gzipped bytes.
    pub(crate) files: Vec<(String, u64, u64)>,
}

impl Sizes {
    fn of(paths: &[PathBuf]) -> Result<Sizes> {
        let files = paths
            .iter()
            .map(|path| {
                let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_owned();
                Ok((name, bytes.len() as u64, gzipped(&bytes)?))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Sizes { files })
    }

    /// Raw and gzipped bytes of everything shipped.
    pub(crate) fn total(&self) -> (u64, u64) {
        self.files
            .iter()
            .fold((0, 0), |(raw, gz), (_, r, g)| (raw + r, gz + g))
    }

    /// A table for the terminal.
    pub(crate) fn table(&self) -> String {
        let mut out = String::from("\ndist/pkg/                      raw         gzip -9\n");
        for (name, raw, gz) in &self.files {
            let _ = writeln!(out, "  {name:<26} {:>10}  {:>10}", kib(*raw), kib(*gz));
        }
        let (raw, gz) = self.total();
        let _ = writeln!(
            out,
            "  {:<26} {:>10}  {:>10}",
            "wasm + glue",
            kib(raw),
            kib(gz)
        );
        out
    }
}

/// Bytes as KiB with one decimal.
pub(crate) fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// Write `path.gz` beside `path`: its bytes gzipped at the best level.
fn write_gzipped(path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    let gz = encoder
        .write_all(&bytes)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("gzip: {e}"))?;
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    std::fs::write(&name, gz).map_err(|e| format!("{}: {e}", Path::new(&name).display()))
}

/// The size of `bytes` gzipped at the best level, as a web server would serve them.
fn gzipped(bytes: &[u8]) -> Result<u64> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map(|gz| gz.len() as u64)
        .map_err(|e| format!("gzip: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_locked_version_is_read_from_the_package_entry() {
        let lock = "[[package]]\nname = \"wasm-bindgen-shared\"\nversion = \"9.9.9\"\n\n\
                    [[package]]\nname = \"wasm-bindgen\"\nversion = \"0.2.130\"\n";
        assert_eq!(locked_version(lock, "wasm-bindgen"), Some("0.2.130"));
        assert_eq!(locked_version(lock, "js-sys"), None);
    }

    #[test]
    fn the_workspace_lock_resolves_the_bound_wasm_bindgen() {
        assert_eq!(check_lock(), Ok(()));
    }
}
