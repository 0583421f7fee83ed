//! Running commands from the workspace root, with their output streamed and failures named.

use std::path::{Path, PathBuf};
use std::process::Command;

pub type Result<T> = std::result::Result<T, String>;

/// The workspace root (the folder above `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// cargo's target directory (`CARGO_TARGET_DIR` when set, relative to the workspace root
/// when relative): where the builds `xtask` asks cargo for land.
pub fn target_dir(root: &Path) -> PathBuf {
    target_dir_from(root, std::env::var_os("CARGO_TARGET_DIR"))
}

fn target_dir_from(root: &Path, set: Option<std::ffi::OsString>) -> PathBuf {
    match set.map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Run `program args...` in `dir` with extra environment, failing with the command line.
pub fn run_in(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
    let line = format!("{program} {}", args.join(" "));
    eprintln!("\n==> {line}");
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{line}` failed ({status})"))
    }
}

/// Run a cargo command at the workspace root.
pub fn cargo(args: &[&str]) -> Result<()> {
    run_in(&root(), "cargo", args, &[])
}

/// Whether `program --version` runs.
pub fn has(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The output of a command, or an empty string.
pub fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_dir_follows_cargo_target_dir() {
        let root = Path::new("/repo");
        assert_eq!(target_dir_from(root, None), Path::new("/repo/target"));
        assert_eq!(
            target_dir_from(root, Some("/elsewhere/t".into())),
            Path::new("/elsewhere/t")
        );
        assert_eq!(
            target_dir_from(root, Some("build/t".into())),
            Path::new("/repo/build/t")
        );
    }
}
