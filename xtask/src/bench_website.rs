//! `cargo xtask bench-website`: the website's product-page budget, measured in headless
//! Chromium against the server on 127.0.0.1 with demo data (the e2e harness), written into
//! `BENCHMARKS.md` between the `website` markers.
//!
//! - what the product page transfers on a first visit (every body as served, the wasm chart
//!   module included) and on a second one;
//! - the time from navigation start to the first chart drawn, first and second visits.
//!
//! The figures come from `e2e/bench/website.js`, which prints them as JSON.

use std::fmt::Write as _;
use std::process::Command;

use serde_json::Value;

use crate::bench::{machine_line, write_section};
use crate::sh::{self, Result};

const START: &str = "<!-- website:start -->";
const END: &str = "<!-- website:end -->";
/// Rounds of one first visit and one second visit.
const ROUNDS: u32 = 30;
/// The budget for the time to chart drawn on localhost.
const CHART_TARGET_MS: f64 = 300.0;

pub fn run() -> Result<()> {
    let prebuilt = crate::e2e::prepare()?;
    let env = crate::e2e::env(&prebuilt)?;
    let load_before = load_average();
    eprintln!("\n==> node bench/website.js ({ROUNDS} rounds of two product-page loads in headless Chromium)");
    let output = Command::new("node")
        .args(["bench/website.js", &ROUNDS.to_string()])
        .current_dir(sh::root().join("e2e"))
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .map_err(|e| format!("cannot start node: {e}"))?;
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    if !output.status.success() {
        return Err(format!("e2e/bench/website.js failed ({})", output.status));
    }
    let out: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("e2e/bench/website.js printed no JSON: {e}"))?;
    let load = load_before.max(load_average());
    let section = render(&out, load)?;
    write_section(&sh::root().join("BENCHMARKS.md"), START, END, &section)?;
    println!("{section}");
    Ok(())
}

/// The one-minute load average (0 when unknown): the machine is shared, and the tail
/// figures say how busy it was.
fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// Sorted millisecond timings under `key`.
fn timings(out: &Value, key: &str) -> Result<Vec<f64>> {
    let mut ms: Vec<f64> = out[key]
        .as_array()
        .ok_or_else(|| format!("the bench reported no {key}"))?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    if ms.is_empty() {
        return Err(format!("the bench reported no {key}"));
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

/// The nearest-rank percentile of sorted `ms`.
fn percentile(ms: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * ms.len() as f64).ceil() as usize;
    ms[rank.clamp(1, ms.len()) - 1]
}

/// Whether `ms` meet `target` at the median and at p95, in words.
fn verdict(ms: &[f64], target: f64) -> &'static str {
    match (percentile(ms, 50.0) < target, percentile(ms, 95.0) < target) {
        (true, true) => "met (p50 and p95)",
        (true, false) => "met at p50, missed at p95",
        _ => "MISSED",
    }
}

fn kib(bytes: f64) -> String {
    format!("{:.1} KiB", bytes / 1024.0)
}

fn render(out: &Value, load: f64) -> Result<String> {
    let cold = timings(out, "cold_ms")?;
    let warm = timings(out, "warm_ms")?;
    let bytes = |key: &str| out[key].as_f64().unwrap_or(0.0);
    let mut s = String::new();
    let _ = writeln!(s, "{START}");
    let _ = writeln!(s, "### website (`cargo xtask bench-website`)\n");
    let _ = writeln!(
        s,
        "Measured {}, in {} (headless), against the debug server on 127.0.0.1 (SQLite, demo data).\n",
        machine_line(),
        out["browser"].as_str().unwrap_or("Chromium"),
    );
    let _ = writeln!(s, "| figure | value | target |");
    let _ = writeln!(s, "|---|---:|---|");
    let _ = writeln!(
        s,
        "| product page, first visit: bodies as served ({} requests) | {} ({} uncompressed) | |",
        out["requests"].as_u64().unwrap_or(0),
        kib(bytes("cold_encoded_bytes")),
        kib(bytes("cold_decoded_bytes")),
    );
    let _ = writeln!(
        s,
        "| the same, over the wire with headers | {} | |",
        kib(bytes("cold_transferred_bytes"))
    );
    let _ = writeln!(
        s,
        "| second visit, over the wire (cached files revalidated or reused) | {} | |",
        kib(bytes("warm_transferred_bytes"))
    );
    let _ = writeln!(
        s,
        "| navigation start to chart drawn, first visit (caches cleared): p50 / p95 of {} | {:.0} / {:.0} ms | < {CHART_TARGET_MS:.0} ms: {} |",
        cold.len(),
        percentile(&cold, 50.0),
        percentile(&cold, 95.0),
        verdict(&cold, CHART_TARGET_MS)
    );
    let _ = writeln!(
        s,
        "| the same, second visit: p50 / p95 of {} | {:.0} / {:.0} ms | < {CHART_TARGET_MS:.0} ms: {} |",
        warm.len(),
        percentile(&warm, 50.0),
        percentile(&warm, 95.0),
        verdict(&warm, CHART_TARGET_MS)
    );
    let _ = writeln!(s, "\n| file (first visit) | as served | uncompressed |");
    let _ = writeln!(s, "|---|---:|---:|");
    for r in out["resources"].as_array().into_iter().flatten() {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} |",
            r["path"].as_str().unwrap_or("?"),
            kib(r["encoded"].as_f64().unwrap_or(0.0)),
            kib(r["decoded"].as_f64().unwrap_or(0.0)),
        );
    }
    let _ = writeln!(
        s,
        "\nThe page is `/p/us/{{asin}}` of a demo product with a year of history ({} daily buckets in the default chart). Time to chart is product.js's `performance.mark('chart-drawn')`, set once the wasm renderer has drawn the first chart, from navigation start: the HTML, the scripts, the wasm module compiled, `/api/me`, the product and its history fetched, the chart drawn. First visits clear Chromium's HTTP and code caches before loading (CDP `Network.clearBrowserCache`). Bytes come from the Resource Timing API. The one-minute load average reached {load:.1} during the run on these {} cores (the machine is shared), which is what the p95 figures carry.",
        out["buckets"].as_u64().unwrap_or(0),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let _ = writeln!(s, "{END}");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        serde_json::json!({
            "browser": "Chromium 1",
            "cold_ms": [120.0, 130.0, 140.0, 400.0],
            "warm_ms": [60.0, 70.0],
            "cold_encoded_bytes": 204_800,
            "cold_decoded_bytes": 512_000,
            "cold_transferred_bytes": 210_000,
            "warm_transferred_bytes": 3_000,
            "requests": 9,
            "resources": [{"path": "/pkg/pricewatch_wasm_bg.wasm", "encoded": 102_400, "decoded": 409_600}],
            "buckets": 366,
        })
    }

    #[test]
    fn the_section_gives_sizes_and_times_against_the_budget() {
        let section = render(&sample(), 0.5).unwrap();
        assert!(section.starts_with(START) && section.trim_end().ends_with(END));
        assert!(
            section.contains("| 200.0 KiB (500.0 KiB uncompressed) |"),
            "{section}"
        );
        assert!(
            section.contains("130 / 400 ms | < 300 ms: met at p50, missed at p95"),
            "{section}"
        );
        assert!(
            section.contains("60 / 70 ms | < 300 ms: met (p50 and p95)"),
            "{section}"
        );
        assert!(
            section.contains("| `/pkg/pricewatch_wasm_bg.wasm` | 100.0 KiB | 400.0 KiB |"),
            "{section}"
        );
        assert!(section.contains("load average reached 0.5"), "{section}");
    }

    #[test]
    fn a_run_without_timings_writes_nothing() {
        assert!(render(&serde_json::json!({"cold_ms": [], "warm_ms": [1.0]}), 0.0).is_err());
    }
}
