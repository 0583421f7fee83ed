//! Typed, layered configuration: built-in defaults, then a TOML file, then `PRICEWATCH_*`
//! environment variables, then command-line flags (applied by the caller).
//!
//! Environment variables name a setting by its path with `__` between levels:
//! `PRICEWATCH_INGEST__MAX_BATCH=50` sets `ingest.max_batch`. `DATABASE_URL` and
//! `PRICEWATCH_BIND` are also read, as most deployments expect them. `pricewatch.example.toml`
//! at the repository root documents every setting.

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Everything the server can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub bind: SocketAddr,
    /// `sqlite://FILE` (created on first run) or `postgres://...`.
    pub database_url: String,
    /// The address users reach the website at, for links in emails.
    pub public_url: String,
    pub ingest: IngestSettings,
    pub log: LogSettings,
    /// The verification crawler: base URLs, politeness, scheduling.
    pub crawler: crate::crawler::CrawlerSettings,
    pub web: WebSettings,
    /// Sign-in by email code or link, sessions, admins.
    pub auth: crate::auth::AuthSettings,
    /// The SMTP server alerts and sign-in codes are sent through.
    pub mail: crate::mail::MailSettings,
    /// The alert worker, delivery retries, digests and per-user limits.
    pub alerts: crate::alerts::AlertSettings,
    /// Where users' webhooks may point.
    pub webhooks: crate::webhooks::WebhookSettings,
}

/// Where the website's files are.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// The website's pages, scripts and styles (the repository's `www/`).
    pub root: std::path::PathBuf,
    /// The wasm module and its JS glue built by `cargo xtask build-wasm` (`dist/pkg`).
    pub pkg: std::path::PathBuf,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            root: "www".into(),
            pkg: "dist/pkg".into(),
        }
    }
}

/// Limits on what reporters may send.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestSettings {
    /// Reports in one `POST /api/reports` batch.
    pub max_batch: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Reports one key may send per minute before getting 429.
    pub per_key_per_minute: u32,
    /// Requests one IP address may make to the report endpoints per minute.
    pub per_ip_per_minute: u32,
    /// How far in the future a report's `observed_at` may be (clock skew), in seconds.
    pub max_future_skew_secs: i64,
    /// How old a report may be, in seconds; nonces are remembered this long.
    pub max_age_secs: i64,
}

/// Logging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// A `tracing` filter, e.g. `info,pricewatch_server=debug`.
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://pricewatch.db".into(),
            public_url: "http://127.0.0.1:8080".into(),
            ingest: IngestSettings::default(),
            log: LogSettings::default(),
            crawler: crate::crawler::CrawlerSettings::default(),
            web: WebSettings::default(),
            auth: crate::auth::AuthSettings::default(),
            mail: crate::mail::MailSettings::default(),
            alerts: crate::alerts::AlertSettings::default(),
            webhooks: crate::webhooks::WebhookSettings::default(),
        }
    }
}

impl Default for IngestSettings {
    fn default() -> Self {
        IngestSettings {
            max_batch: 100,
            max_body_bytes: 256 * 1024,
            per_key_per_minute: 600,
            per_ip_per_minute: 1_200,
            max_future_skew_secs: 10 * 60,
            max_age_secs: 24 * 3600,
        }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            filter: "info".into(),
        }
    }
}

/// Why settings could not be loaded. Messages name the file, line or variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    File {
        path: String,
        source: Box<toml::de::Error>,
    },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("settings: {0}")]
    Invalid(String),
}

impl Settings {
    /// Defaults, then `file` (if given), then the process environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        Settings::load_from(file, std::env::vars())
    }

    /// As [`Settings::load`], with the environment given (tests pass their own).
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut table = toml::Table::try_from(Settings::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if let Some(path) = file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: shown.clone(),
                source,
            })?;
            // Read the file as settings first: its errors carry the line and the key.
            toml::from_str::<Settings>(&text).map_err(|e| ConfigError::File {
                path: shown.clone(),
                source: Box::new(e),
            })?;
            let from_file: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::File {
                path: shown,
                source: Box::new(e),
            })?;
            merge(&mut table, from_file);
        }
        for (var, value) in env {
            let path: Vec<String> = if var == "DATABASE_URL" {
                vec!["database_url".into()]
            } else if let Some(rest) = var.strip_prefix("PRICEWATCH_") {
                if rest == "CONFIG" {
                    continue;
                }
                rest.split("__").map(str::to_ascii_lowercase).collect()
            } else {
                continue;
            };
            // The value as the scalar it looks like first; a setting that wants text gets the
            // text even when it looks like a number (a port-like name, a "1.5" label).
            let mut first_error = None;
            for candidate in [scalar(&value), toml::Value::String(value.clone())] {
                set_path(&mut table, &path, candidate);
                match toml::Value::Table(table.clone()).try_into::<Settings>() {
                    Ok(_) => {
                        first_error = None;
                        break;
                    }
                    Err(e) => {
                        first_error.get_or_insert_with(|| e.message().to_owned());
                    }
                }
            }
            if let Some(message) = first_error {
                return Err(ConfigError::Env { var, message });
            }
        }
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_owned()))
    }
}

/// An environment value as the TOML scalar it looks like (number, boolean), else a string.
fn scalar(value: &str) -> toml::Value {
    if let Ok(i) = value.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(b) = value.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    // Only plain decimal numbers: "inf" and "nan" parse as floats too, and are text here.
    if value.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
        if let Ok(f) = value.parse::<f64>() {
            if f.is_finite() {
                return toml::Value::Float(f);
            }
        }
    }
    toml::Value::String(value.to_owned())
}

fn set_path(table: &mut toml::Table, path: &[String], value: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cur = table;
    for p in parents {
        let entry = cur
            .entry(p.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let Some(t) = entry.as_table_mut() else {
            return;
        };
        cur = t;
    }
    cur.insert(last.clone(), value);
}

fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_serve_sqlite_on_localhost() {
        let s = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://pricewatch.db");
        assert_eq!(s.ingest.max_batch, 100);
    }

    #[test]
    fn environment_overrides_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\n[ingest]\nmax_batch = 10\nper_key_per_minute = 5\n",
        )
        .unwrap();
        let s = Settings::load_from(
            Some(&path),
            env(&[
                ("PRICEWATCH_INGEST__MAX_BATCH", "20"),
                ("DATABASE_URL", "postgres://x/y"),
                ("UNRELATED", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(s.bind.port(), 9000);
        assert_eq!(s.ingest.max_batch, 20);
        assert_eq!(s.ingest.per_key_per_minute, 5);
        assert_eq!(s.database_url, "postgres://x/y");
    }

    #[test]
    fn a_bad_file_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\n[ingest]\nmax_batchh = 10\n",
        )
        .unwrap();
        let err = Settings::load_from(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.toml"), "{err}");
        assert!(err.contains("line 3"), "{err}");
        assert!(err.contains("max_batchh"), "{err}");
    }

    #[test]
    fn the_example_file_is_a_valid_settings_file() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../pricewatch.example.toml");
        let s = Settings::load_from(Some(&path), env(&[])).unwrap();
        let d = Settings::default();
        assert_eq!(s.alerts.cooldown_secs, d.alerts.cooldown_secs);
        assert_eq!(s.auth.code_ttl_secs, d.auth.code_ttl_secs);
        assert_eq!(s.mail.pool_size, d.mail.pool_size);
    }

    #[test]
    fn variables_take_the_type_the_setting_wants() {
        let s = Settings::load_from(
            None,
            env(&[
                ("PRICEWATCH_CRAWLER__PER_HOST_RPS", "0.25"),
                ("PRICEWATCH_WEB__ROOT", "2024"),
                ("PRICEWATCH_LOG__FILTER", "1.5"),
            ]),
        )
        .unwrap();
        assert_eq!(s.crawler.per_host_rps, 0.25);
        assert_eq!(s.web.root, std::path::PathBuf::from("2024"));
        assert_eq!(s.log.filter, "1.5");
        let err = Settings::load_from(None, env(&[("PRICEWATCH_INGEST__MAX_BATCH", "lots")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PRICEWATCH_INGEST__MAX_BATCH"), "{err}");
    }

    #[test]
    fn a_bad_variable_is_named() {
        let err = Settings::load_from(None, env(&[("PRICEWATCH_BIND", "not-an-address")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("PRICEWATCH_BIND"), "{err}");
    }
}
