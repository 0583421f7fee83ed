//! The store upload: the assembled folder as a zip with the manifest at its root, files in
//! name order with a fixed timestamp, so the same sources give the same archive.

use std::io::Write as _;
use std::path::Path;

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::sh::Result;

/// Zip every file under `dir` into `out`, paths relative to `dir`.
pub(crate) fn folder(dir: &Path, out: &Path) -> Result<()> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)?;
    files.sort();
    let file = std::fs::File::create(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut zip = ZipWriter::new(file);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    for name in &files {
        let bytes = std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"))?;
        zip.start_file(name.as_str(), options)
            .and_then(|()| zip.write_all(&bytes).map_err(Into::into))
            .map_err(|e| format!("zip {name}: {e}"))?;
    }
    zip.finish()
        .map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(())
}

/// Paths of the files under `dir`, relative to `base`, with `/` separators.
fn collect(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            collect(base, &path, out)?;
        } else if let Ok(relative) = path.strip_prefix(base) {
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_holds_every_file_at_its_relative_path_and_is_reproducible() {
        let dir = std::env::temp_dir().join(format!("pw-zip-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("in/pkg")).unwrap();
        std::fs::write(dir.join("in/manifest.json"), "{}").unwrap();
        std::fs::write(dir.join("in/pkg/a.wasm"), [0u8, 97, 115, 109]).unwrap();

        folder(&dir.join("in"), &dir.join("one.zip")).unwrap();
        folder(&dir.join("in"), &dir.join("two.zip")).unwrap();

        let one = std::fs::read(dir.join("one.zip")).unwrap();
        assert_eq!(one, std::fs::read(dir.join("two.zip")).unwrap());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(one)).unwrap();
        let mut names: Vec<String> = archive.file_names().map(str::to_owned).collect();
        names.sort();
        assert_eq!(names, ["manifest.json", "pkg/a.wasm"]);
        let mut wasm = Vec::new();
        std::io::Read::read_to_end(&mut archive.by_name("pkg/a.wasm").unwrap(), &mut wasm).unwrap();
        assert_eq!(wasm, [0u8, 97, 115, 109]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
