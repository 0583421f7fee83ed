//! The website's pages and their security headers.

use crate::both_engines;
use crate::support::{spawn_app, Engine};

both_engines!(
    pages_are_served_with_security_headers,
    |engine: Engine| async move {
        let app = spawn_app(engine).await;
        for (path, marker) in [
            ("/", "Recently dropped prices"),
            ("/p/de/B0C1234567", "Price history"),
            ("/alerts", "My alerts"),
            ("/signin", "Sign in"),
            ("/account", "Account"),
            ("/admin", "Review queue"),
            ("/admin/crawl", "Crawler"),
            ("/crawl.js", "/api/admin/crawl-queue"),
            ("/app.js", "export async function api"),
        ] {
            let res = app.get(path).await;
            assert_eq!(res.status(), 200, "{path}");
            let csp = res.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(
                csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
                "{path}: {csp}"
            );
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert!(res.headers().contains_key("referrer-policy"), "{path}");
            assert_eq!(res.headers()["x-content-type-options"], "nosniff", "{path}");
            let body = res.text().await.unwrap();
            assert!(body.contains(marker), "{path}");
        }
        assert_eq!(app.get("/no-such-page.html").await.status(), 404);
    }
);

#[test]
fn pages_never_put_untrusted_text_in_markup() {
    // The pages build the DOM with textContent only; a grep keeps it that way.
    let www = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    for entry in std::fs::read_dir(&www).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("js") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for banned in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!text.contains(banned), "{} uses {banned}", path.display());
        }
    }
}
