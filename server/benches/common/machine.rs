//! The machine a benchmark ran on, for the line above each BENCHMARKS.md table. Shared by
//! the server benches through `#[path]` (bench targets are separate crates).

/// The same machine line `cargo xtask bench` writes: figures mean little without it.
pub fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let kb: f64 = s.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
            Some(kb / 1024.0 / 1024.0)
        })
        .unwrap_or(0.0);
    let out = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let date = out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let rustc = out("rustc", &["--version"]);
    format!("{date} on {cpu}, {cores} cores, {mem_gib:.0} GiB RAM, {rustc}")
}
