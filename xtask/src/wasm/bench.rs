//! `cargo xtask bench-wasm`: the package's size and its page-reading time in headless Chromium,
//! written into `BENCHMARKS.md` between the `wasm` markers.
//!
//! The page is a corpus page (`us-core-price-list-price`) grown to 1 MB with what makes real
//! product pages large: inline scripts full of other products' prices, sponsored carousels,
//! reviews. It is served at its Amazon URL and read as the content script reads it, on the
//! live DOM; the run checks the reading before any figure is written.

use serde_json::Value;
use std::fmt::Write as _;

use super::node::{self, read_json};
use super::pkg::{self, kib};
use crate::bench::{machine_line, write_section};
use crate::sh::{self, Result};

const START: &str = "<!-- wasm:start -->";
const END: &str = "<!-- wasm:end -->";
const PAGE: &str = "us-core-price-list-price";
const PAGE_BYTES: usize = 1_000_000;
const ITERATIONS: u32 = 50;
/// The budgets.
const SIZE_TARGET_KIB: f64 = 300.0;
const EXTRACT_TARGET_MS: f64 = 10.0;

pub fn run() -> Result<()> {
    if !node::available() {
        return Err("bench-wasm runs the package in Chromium through node: install node".into());
    }
    let built = pkg::build()?;
    let pages = sh::root().join("core/tests/pages");
    let side: Value = read_json(&pages.join(format!("{PAGE}.json")))?;
    let url = side["url"].as_str().ok_or("the side file has no url")?;
    let html = std::fs::read_to_string(pages.join(format!("{PAGE}.html")))
        .map_err(|e| format!("{PAGE}.html: {e}"))?;
    let big = sh::root().join("target/xtask-wasm-bench/page.html");
    if let Some(dir) = big.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&big, grow(&html, PAGE_BYTES)).map_err(|e| format!("{}: {e}", big.display()))?;

    let out = node::run_in_chromium(&built, &big, url, ITERATIONS, false)?;
    if out["reading"]["price"] != side["expect"]["price"] {
        return Err(format!(
            "the 1 MB page was read wrongly (price {}, expected {}): no figures written",
            out["reading"]["price"], side["expect"]["price"]
        ));
    }
    let section = render(&built, &out)?;
    write_section(&sh::root().join("BENCHMARKS.md"), START, END, &section)?;
    println!("{section}");
    Ok(())
}

/// `html` with noise inserted before `</body>` until it is at least `bytes` long.
fn grow(html: &str, bytes: usize) -> String {
    let at = html.rfind("</body>").unwrap_or(html.len());
    let (head, tail) = html.split_at(at);
    let mut out = String::with_capacity(bytes + html.len());
    out.push_str(head);
    let mut round = 0;
    while out.len() + tail.len() < bytes {
        out.push_str("<script type=\"text/javascript\">P.when('A').execute(function(A){var data=");
        for j in 0..40 {
            let _ = write!(
                out,
                "{{\"asin\":\"B0{round:04}{j:04}\",\"price\":\"${}.{:02}\",\"rank\":{j}}},",
                10 + j,
                round % 100
            );
        }
        out.push_str(
            "null;});</script><div class=\"a-carousel-container\"><ol class=\"a-carousel\">",
        );
        for k in 0..20 {
            let _ = write!(
                out,
                "<li class=\"a-carousel-card\"><div data-asin=\"B0X{round:03}{k:04}\"><a class=\"a-link-normal\" href=\"/dp/B0X{round:03}{k:04}\">Sponsored product {k} with a long title</a>\
                 <span class=\"a-price\" data-a-size=\"l\"><span class=\"a-offscreen\">${k}.99</span><span aria-hidden=\"true\"><span class=\"a-price-symbol\">$</span><span class=\"a-price-whole\">{k}<span class=\"a-price-decimal\">.</span></span><span class=\"a-price-fraction\">99</span></span></span>\
                 <i class=\"a-icon a-icon-star-small\"><span class=\"a-icon-alt\">4.5 out of 5 stars</span></i></div></li>"
            );
        }
        out.push_str("</ol></div><div class=\"review\"><span class=\"review-text\">Bought these last year for $49.99 and they are great, though the case is flimsy. Currently unavailable colours aside, recommended.</span></div>");
        round += 1;
    }
    out.push_str(tail);
    out
}

/// The 1-minute load average: on a shared machine, the context the timings need.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into())
}

/// Sorted copies of a list of millisecond timings.
fn timings(out: &Value, key: &str) -> Result<Vec<f64>> {
    let mut ms: Vec<f64> = out[key]
        .as_array()
        .ok_or_else(|| format!("the run reported no {key}"))?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    if ms.is_empty() {
        return Err(format!("the run reported no {key}"));
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

/// The nearest-rank percentile of sorted `ms`.
fn percentile(ms: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * ms.len() as f64).ceil() as usize;
    ms[rank.clamp(1, ms.len()) - 1]
}

fn render(built: &pkg::Package, out: &Value) -> Result<String> {
    let extract = timings(out, "extract_ms")?;
    let parsed = timings(out, "parse_and_extract_ms")?;
    let mean = out["extract_batch_ms"].as_f64().unwrap_or(f64::NAN) / f64::from(ITERATIONS);
    let (_, gz) = built.sizes.total();
    let gz_kib = gz as f64 / 1024.0;
    let page_kb = out["page_bytes"].as_f64().unwrap_or(0.0) / 1000.0;
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };

    let mut s = String::new();
    let _ = writeln!(s, "{START}");
    let _ = writeln!(s, "### wasm (`cargo xtask bench-wasm`)\n");
    let _ = writeln!(
        s,
        "Measured {} (load average {}), in Chromium {} (headless). {}.\n",
        machine_line(),
        load_average(),
        out["browser"].as_str().unwrap_or("(version unknown)"),
        built.optimizer_note()
    );
    let _ = writeln!(s, "| figure | value | target |");
    let _ = writeln!(s, "|---|---:|---|");
    for (name, raw, gz) in &built.sizes.files {
        let _ = writeln!(
            s,
            "| `dist/pkg/{name}` | {} raw, {} gzip | |",
            kib(*raw),
            kib(*gz)
        );
    }
    let _ = writeln!(
        s,
        "| wasm + glue, gzip -9 | {} | < {SIZE_TARGET_KIB:.0} KiB: {} |",
        kib(gz),
        verdict(gz_kib < SIZE_TARGET_KIB)
    );
    let _ = writeln!(
        s,
        "| `extract()` on a {page_kb:.0} kB live page: median / p95 / mean of {ITERATIONS} | {:.2} / {:.2} / {mean:.2} ms | median < {EXTRACT_TARGET_MS:.0} ms: {} |",
        percentile(&extract, 50.0),
        percentile(&extract, 95.0),
        verdict(percentile(&extract, 50.0) < EXTRACT_TARGET_MS)
    );
    let _ = writeln!(
        s,
        "| `DOMParser` + `extract_document()` on the same text: median of {} | {:.2} ms | (an extension page reading fetched HTML) |",
        parsed.len(),
        percentile(&parsed, 50.0)
    );
    let _ = writeln!(
        s,
        "\nThe page is `core/tests/pages/{PAGE}.html` grown to {page_kb:.0} kB with inline scripts, carousels and reviews (other products' prices everywhere), served at its Amazon URL; the run checks the price read before writing these figures. Ten untimed runs come first (V8 tiers wasm up); timer resolution in the page is 0.1 ms, so the mean comes from one timed batch."
    );
    let _ = writeln!(s, "{END}");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_grows_past_the_size_with_its_own_end_kept_last() {
        let page = grow("<html><body><p id=\"x\">x</p></body></html>", 50_000);
        assert!(page.len() >= 50_000);
        assert!(page.starts_with("<html><body><p id=\"x\">x</p>"));
        assert!(page.ends_with("</body></html>"));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let ms = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&ms, 50.0), 2.0);
        assert_eq!(percentile(&ms, 95.0), 4.0);
        assert_eq!(percentile(&ms, 0.0), 1.0);
    }
}
