//! `cargo xtask bench`: run the benchmarks and write their figures into `BENCHMARKS.md`.
//!
//! Criterion benchmarks (in `core/benches/`) leave their estimates under
//! `target/criterion/<group>/<id>/new/`; this reads them back and writes one table with the
//! machine and the date, between markers, so other sections of the file stay as they are.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::sh::{self, Result};

/// Targets the issues set, by benchmark id, shown beside the measured figure.
const TARGETS: &[(&str, &str)] = &[
    ("extract/rules_only_1mb_page", "< 5 ms"),
    ("extract/parse_and_extract_1mb_page", "< 5 ms"),
    ("judge/judge_report", ">= 1M reports/s class"),
    (
        "history/aggregate_100k_daily",
        "fast enough to chart on request",
    ),
];

const START: &str = "<!-- criterion:start -->";
const END: &str = "<!-- criterion:end -->";

pub fn run(filter: &[String]) -> Result<()> {
    let mut args = vec!["bench", "-p", "pricewatch-core"];
    if let Some(f) = filter.first() {
        args.extend(["--", f.as_str()]);
    }
    sh::cargo(&args)?;
    let rows = collect(&sh::root().join("target/criterion"))?;
    let table = render(&rows);
    write_section(&sh::root().join("BENCHMARKS.md"), START, END, &table)?;
    println!("{table}");
    Ok(())
}

struct Row {
    id: String,
    mean_ns: f64,
    throughput: Option<(String, f64)>,
}

fn collect(dir: &Path) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n == "new") {
                    if let Some(row) = read_row(&path) {
                        rows.push(row);
                    }
                } else {
                    stack.push(path);
                }
            }
        }
    }
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    if rows.is_empty() {
        return Err(format!("no criterion results under {}", dir.display()));
    }
    Ok(rows)
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn read_row(new_dir: &Path) -> Option<Row> {
    let bench = read_json(&new_dir.join("benchmark.json"))?;
    let est = read_json(&new_dir.join("estimates.json"))?;
    let id = bench["full_id"].as_str()?.to_owned();
    let mean_ns = est["mean"]["point_estimate"].as_f64()?;
    let throughput = bench["throughput"].as_object().and_then(|t| {
        let (kind, n) = t.iter().next()?;
        Some((kind.clone(), n.as_f64()?))
    });
    Some(Row {
        id,
        mean_ns,
        throughput,
    })
}

fn human_time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn human_rate(kind: &str, per_iter: f64, ns: f64) -> String {
    let per_sec = per_iter / (ns / 1e9);
    match kind {
        "Bytes" => format!("{:.1} MiB/s", per_sec / (1024.0 * 1024.0)),
        _ if per_sec >= 1e6 => format!("{:.2} M elem/s", per_sec / 1e6),
        _ if per_sec >= 1e3 => format!("{:.1} k elem/s", per_sec / 1e3),
        _ => format!("{per_sec:.0} elem/s"),
    }
}

/// The machine the figures come from: they mean little without it.
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
    let date = sh::output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let rustc = sh::output("rustc", &["--version"]);
    format!("{date} on {cpu}, {cores} cores, {mem_gib:.0} GiB RAM, {rustc}")
}

fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{START}");
    let _ = writeln!(out, "### core (criterion, `cargo xtask bench`)\n");
    let _ = writeln!(out, "Measured {}.\n", machine_line());
    let _ = writeln!(out, "| benchmark | mean time | throughput | target |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    for r in rows {
        let rate = r
            .throughput
            .as_ref()
            .map(|(k, n)| human_rate(k, *n, r.mean_ns))
            .unwrap_or_default();
        let target = TARGETS
            .iter()
            .find(|(id, _)| *id == r.id)
            .map_or("", |(_, t)| t);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            r.id,
            human_time(r.mean_ns),
            rate,
            target
        );
    }
    let _ = writeln!(out, "{END}");
    out
}

/// Replace the text between `start` and `end` (the markers `section` opens and closes with),
/// or append the section: each bench command owns its markers, so one never erases another.
pub fn write_section(path: &Path, start: &str, end: &str, section: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let new = match (old.find(start), old.find(end)) {
        (Some(s), Some(e)) if s < e => {
            format!(
                "{}{}{}",
                &old[..s],
                section.trim_end(),
                &old[e + end.len()..]
            )
        }
        _ => format!("{}\n{}", old.trim_end(), section),
    };
    std::fs::write(path, new).map_err(|e| format!("{}: {e}", path.display()))
}
