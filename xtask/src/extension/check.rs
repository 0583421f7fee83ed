//! Checks of an assembled extension folder, run before it is zipped: a broken reference or a
//! loosened permission fails the build rather than a shopper's browser or a store review.

use std::collections::BTreeSet;
use std::path::Path;

use pricewatch_core::Marketplace;
use serde_json::Value;

use crate::sh::Result;

/// The only permissions the extension may ask for.
const PERMISSIONS: &[&str] = &["storage", "alarms"];
/// Hosts granted at install besides the storefronts: a PriceWatch server on this machine,
/// the default. Other servers are asked for at run time (`optional_host_permissions`).
const LOCAL_SERVERS: &[&str] = &["http://127.0.0.1/*", "http://localhost/*"];
/// The extension pages' CSP: scripts from the package only, wasm allowed.
const CSP: &str = "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'";

/// Check the folder `dir` holds a consistent extension.
pub(crate) fn folder(dir: &Path) -> Result<()> {
    let text = std::fs::read_to_string(dir.join("manifest.json"))
        .map_err(|e| format!("{}/manifest.json: {e}", dir.display()))?;
    let manifest: Value = serde_json::from_str(&text).map_err(|e| format!("manifest.json: {e}"))?;
    let mut problems = manifest_problems(&manifest);
    for file in referenced_files(&manifest) {
        if !dir.join(&file).is_file() {
            problems.push(format!(
                "manifest.json names {file}, which is not in the folder"
            ));
        }
    }
    problems.extend(broken_page_references(dir)?);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "dist/extension is not shippable:\n  - {}",
            problems.join("\n  - ")
        ))
    }
}

/// The match pattern of every storefront core knows, `https://www.amazon.de/*`.
pub(crate) fn storefront_patterns() -> BTreeSet<String> {
    Marketplace::ALL
        .into_iter()
        .map(|m| format!("https://www.{}/*", m.domain()))
        .collect()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// What is wrong with the manifest's shape, permissions, match patterns and CSP.
pub(crate) fn manifest_problems(manifest: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut expect = |ok: bool, problem: &str| {
        if !ok {
            problems.push(problem.to_owned());
        }
    };
    expect(
        manifest["manifest_version"] == 3,
        "manifest_version must be 3",
    );
    expect(
        manifest["version"] == env!("CARGO_PKG_VERSION"),
        "the manifest's version must be the workspace version (Cargo.toml)",
    );
    expect(
        manifest["background"]["type"] == "module"
            && manifest["background"]["service_worker"].is_string(),
        "background must be a module service worker",
    );
    expect(
        manifest["content_security_policy"]["extension_pages"] == CSP,
        "content_security_policy.extension_pages must be exactly the shipped CSP",
    );
    let permissions = strings(&manifest["permissions"]);
    expect(
        permissions
            .iter()
            .all(|p| PERMISSIONS.contains(&p.as_str())),
        "permissions may only be storage and alarms",
    );

    let storefronts = storefront_patterns();
    let scripts = manifest["content_scripts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    expect(!scripts.is_empty(), "there must be a content script");
    for script in &scripts {
        let matches: BTreeSet<String> = strings(&script["matches"]).into_iter().collect();
        expect(
            matches == storefronts,
            "every content script must match exactly the storefronts core knows",
        );
    }
    let hosts: BTreeSet<String> = strings(&manifest["host_permissions"]).into_iter().collect();
    let allowed: BTreeSet<String> = storefronts
        .iter()
        .cloned()
        .chain(LOCAL_SERVERS.iter().map(|s| (*s).to_owned()))
        .collect();
    expect(
        hosts == allowed,
        "host_permissions must be the storefronts and the local server, nothing broader",
    );
    for entry in manifest["web_accessible_resources"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let matches: BTreeSet<String> = strings(&entry["matches"]).into_iter().collect();
        expect(
            matches.is_subset(&storefronts),
            "web_accessible_resources may only be exposed to the storefronts",
        );
    }
    problems
}

/// Every file the manifest names (globs excepted).
pub(crate) fn referenced_files(manifest: &Value) -> Vec<String> {
    let mut files = Vec::new();
    let mut add = |v: &Value| {
        if let Some(s) = v.as_str() {
            if !s.contains('*') {
                files.push(s.to_owned());
            }
        }
    };
    for icon in manifest["icons"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
    {
        add(icon);
    }
    for icon in manifest["action"]["default_icon"]
        .as_object()
        .into_iter()
        .flat_map(|o| o.values())
    {
        add(icon);
    }
    add(&manifest["action"]["default_popup"]);
    add(&manifest["options_ui"]["page"]);
    add(&manifest["background"]["service_worker"]);
    for script in manifest["content_scripts"].as_array().into_iter().flatten() {
        for file in script["js"].as_array().into_iter().flatten() {
            add(file);
        }
        for file in script["css"].as_array().into_iter().flatten() {
            add(file);
        }
    }
    for entry in manifest["web_accessible_resources"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for file in entry["resources"].as_array().into_iter().flatten() {
            add(file);
        }
    }
    files
}

/// Local files that the folder's pages and modules name (`src=`, `href=`, `import ... from`,
/// `chrome.runtime.getURL(...)`) but the folder lacks.
fn broken_page_references(dir: &Path) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for file in files_under(dir)? {
        let Some(ext) = file.extension().and_then(|e| e.to_str()) else {
            continue;
        };
        if ext != "html" && ext != "js" {
            continue;
        }
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let base = file.parent().unwrap_or(dir);
        for reference in local_references(&text) {
            // getURL names a path from the extension's root; the rest are relative to the file.
            let (from_root, path) = match reference.strip_prefix('/') {
                Some(rest) => (true, rest.to_owned()),
                None => (false, reference.clone()),
            };
            let target = if from_root {
                dir.join(&path)
            } else {
                base.join(&path)
            };
            if !target.is_file() {
                let shown = file
                    .strip_prefix(dir)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                problems.push(format!(
                    "{shown} names {reference}, which is not in the folder"
                ));
            }
        }
    }
    Ok(problems)
}

/// The local paths a page or script refers to. `getURL('x')` paths come back as `/x`.
pub(crate) fn local_references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (open, close) in [
        ("src=\"", '"'),
        ("href=\"", '"'),
        ("from './", '\''),
        ("from '../", '\''),
        ("getURL('", '\''),
    ] {
        let mut rest = text;
        while let Some(at) = rest.find(open) {
            rest = &rest[at + open.len()..];
            let Some(end) = rest.find(close) else { break };
            let value = &rest[..end];
            rest = &rest[end..];
            let path = match open {
                "from './" => format!("./{value}"),
                "from '../" => format!("../{value}"),
                "getURL('" => format!("/{value}"),
                _ => value.to_owned(),
            };
            let external = path.contains("://") || path.starts_with('#') || path.contains("${");
            let page_query = path.split(['?', '#']).next().unwrap_or_default().to_owned();
            if !external && !page_query.is_empty() && page_query != "/" {
                found.push(page_query);
            }
        }
    }
    found
}

fn files_under(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))? {
            let path = entry.map_err(|e| format!("{}: {e}", d.display()))?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Value {
        let text = std::fs::read_to_string(crate::sh::root().join("manifest.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_shipped_manifest_passes_every_check() {
        assert_eq!(manifest_problems(&shipped()), Vec::<String>::new());
    }

    #[test]
    fn the_content_script_matches_all_nineteen_storefronts() {
        let patterns = storefront_patterns();
        assert_eq!(patterns.len(), 19);
        assert!(patterns.contains("https://www.amazon.co.jp/*"));
        assert!(patterns.contains("https://www.amazon.com.tr/*"));
    }

    #[test]
    fn a_loosened_match_pattern_or_extra_permission_is_refused() {
        let mut manifest = shipped();
        manifest["content_scripts"][0]["matches"] = serde_json::json!(["<all_urls>"]);
        manifest["permissions"] = serde_json::json!(["storage", "alarms", "tabs"]);
        manifest["host_permissions"]
            .as_array_mut()
            .unwrap()
            .push("https://*/*".into());
        let problems = manifest_problems(&manifest).join("\n");
        assert!(problems.contains("content script"), "{problems}");
        assert!(problems.contains("permissions may only"), "{problems}");
        assert!(problems.contains("host_permissions"), "{problems}");
    }

    #[test]
    fn a_loosened_csp_is_refused() {
        let mut manifest = shipped();
        manifest["content_security_policy"]["extension_pages"] =
            "script-src 'self' 'unsafe-eval'; object-src 'self'".into();
        assert_eq!(manifest_problems(&manifest).len(), 1);
    }

    #[test]
    fn the_manifest_names_its_scripts_pages_and_icons() {
        let files = referenced_files(&shipped());
        for file in [
            "background.js",
            "content.js",
            "panel.js",
            "frame.html",
            "early.js",
            "pkg/pricewatch_wasm.nomodules.js",
            "popup.html",
            "options.html",
            "icons/128.png",
            "pkg/pricewatch_wasm_bg.wasm",
        ] {
            assert!(files.iter().any(|f| f == file), "{file} not in {files:?}");
        }
    }

    #[test]
    fn local_references_are_found_and_external_ones_ignored() {
        let text = r#"<script src="popup.js"></script><a href="https://x.org/a">x</a>
            <a href="options.html?x=1">o</a>
            import init from './pkg/pricewatch_wasm.js';
            import { x } from '../lib/api.js';
            chrome.runtime.getURL('pkg/pricewatch_wasm_bg.wasm'); chrome.runtime.getURL('')
            chrome.runtime.getURL(`popup.html${q}`)"#;
        assert_eq!(
            local_references(text),
            vec![
                "popup.js",
                "options.html",
                "./pkg/pricewatch_wasm.js",
                "../lib/api.js",
                "/pkg/pricewatch_wasm_bg.wasm",
            ]
        );
    }
}
