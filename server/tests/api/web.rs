//! The website's pages and their security headers.

use crate::both_engines;
use crate::support::{spawn_app, spawn_app_with, Engine};

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

both_engines!(
    the_wasm_package_goes_out_gzipped_to_browsers_that_take_it,
    |engine: Engine| async move {
        // `cargo xtask build-wasm` writes a `.gz` beside each file; the server picks by
        // Accept-Encoding and never compresses on the fly.
        let pkg = tempfile::tempdir().unwrap();
        std::fs::write(pkg.path().join("m_bg.wasm"), b"\0asm plain").unwrap();
        std::fs::write(pkg.path().join("m_bg.wasm.gz"), b"gzip bytes").unwrap();
        let dir = pkg.path().to_owned();
        let app = spawn_app_with(engine, move |s| s.web.pkg = dir).await;
        let url = format!("{}/pkg/m_bg.wasm", app.base);

        let gz = app
            .client
            .get(&url)
            .header("accept-encoding", "gzip, deflate, br")
            .send()
            .await
            .unwrap();
        assert_eq!(gz.status(), 200);
        assert_eq!(gz.headers()["content-encoding"], "gzip");
        assert_eq!(gz.headers()["content-type"], "application/wasm");
        assert_eq!(&gz.bytes().await.unwrap()[..], b"gzip bytes");

        let plain = app.client.get(&url).send().await.unwrap();
        assert!(!plain.headers().contains_key("content-encoding"));
        assert_eq!(&plain.bytes().await.unwrap()[..], b"\0asm plain");
    }
);

both_engines!(
    the_icon_answers_for_favicon_ico_too,
    |engine: Engine| async move {
        // Pages name /favicon.svg; browsers still ask for /favicon.ico on pages that do not.
        let app = spawn_app(engine).await;
        for path in ["/favicon.svg", "/favicon.ico"] {
            let res = app.get(path).await;
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(res.headers()["content-type"], "image/svg+xml", "{path}");
            assert!(res.text().await.unwrap().starts_with("<svg"), "{path}");
        }
    }
);
