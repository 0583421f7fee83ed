//! Lists core's fixture pages (`core/tests/pages/NAME.html` + `NAME.json`) for the browser
//! corpus test, which runs inside Chromium and cannot read files: the generated
//! `$OUT_DIR/corpus.rs` embeds each pair with `include_str!`. Only that test includes it,
//! so the module itself carries no pages.

use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn Error>> {
    // Read when the script runs, not baked in when it is compiled: a build script binary can
    // be reused from a shared target directory by a checkout at another path.
    let pages = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../core/tests/pages");
    println!("cargo::rerun-if-changed={}", pages.display());
    let mut names: Vec<String> = std::fs::read_dir(&pages)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .filter_map(|path| Some(path.file_stem()?.to_str()?.to_owned()))
        .collect();
    names.sort();

    let mut out = String::from(
        "/// Every fixture page of core: (name, HTML, side file with the expected reading).\n\
         pub const PAGES: &[(&str, &str, &str)] = &[\n",
    );
    for name in &names {
        let file = |ext: &str| -> Result<String, Box<dyn Error>> {
            let path: PathBuf = pages.join(format!("{name}.{ext}")).canonicalize()?;
            Ok(format!("{:?}", path.display().to_string()))
        };
        writeln!(
            out,
            "    ({name:?}, include_str!({}), include_str!({})),",
            file("html")?,
            file("json")?
        )?;
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR")?).join("corpus.rs");
    std::fs::write(dest, out)?;
    Ok(())
}
