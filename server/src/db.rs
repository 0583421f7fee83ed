//! The database: SQLite (embedded default, one file, WAL) or PostgreSQL (scale-out), behind
//! one `sqlx::Any` pool so that one query text serves both.
//!
//! Queries use `$1` placeholders (both engines accept them), BIGINT for ids, times (UTC ms),
//! money (minor units) and flags (0/1), because those decode the same way from both drivers.
//! Where the engines differ (work-queue claims) the code asks [`Db::backend`].

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::AnyPool;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Set on every SQLite connection: WAL lets readers run beside the writer; NORMAL
/// synchronous is durable across process crashes in WAL mode; the busy timeout makes a
/// second process wait instead of failing.
///
/// Ingest rewrites the same hot pages (products, recent points, index leaves) in every
/// transaction: checkpointing every 10,000 WAL pages (40 MB) instead of SQLite's 1,000 copies
/// each hot page back once per many transactions, not once per few; and a 32 MiB page cache
/// (instead of 2 MiB; the read connections set their own below) keeps the writer's pages in
/// memory rather than re-read.
///
/// A multi-row statement inside a transaction keeps a statement journal (to undo just that
/// statement on a constraint failure); past 64 KiB SQLite spills it to a temporary file,
/// and ingest's batch inserts all do: in a profile those writes were a quarter of the
/// writer thread's samples. In memory it costs at most one statement's changed pages.
const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA busy_timeout = 10000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA wal_autocheckpoint = 10000",
    "PRAGMA cache_size = -32768",
    "PRAGMA temp_store = MEMORY",
];

/// Also set on the read connections: reads go through the OS page cache by memory mapping
/// instead of a `read()` call per page (a chart is a few dozen pages), and each connection
/// keeps 16 MiB of pages (the default is 2 MiB) so hot products' pages stay decoded.
const SQLITE_READ_PRAGMAS: &[&str] = &[
    "PRAGMA mmap_size = 1073741824",
    "PRAGMA cache_size = -16384",
];

/// Which engine a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl FromStr for Backend {
    type Err = DbError;
    fn from_str(url: &str) -> Result<Self, Self::Err> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(DbError::UnsupportedUrl(redact(url)))
        }
    }
}

/// Why the database could not be opened or migrated.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://...")]
    UnsupportedUrl(String),
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("migrating {url}: {source}")]
    Migrate {
        url: String,
        source: sqlx::migrate::MigrateError,
    },
}

/// Connection pools. SQLite allows one writer at a time, so writes go through a pool of one
/// connection (no `SQLITE_BUSY` upgrade deadlocks) while reads use several; on PostgreSQL both
/// are the same pool.
///
/// No pool pings a connection before lending it (`test_before_acquire`, on by default in
/// sqlx): every connection is already pinged when it is given back, which drops one broken
/// by a failed statement, so the second ping only cost a round trip per checkout. On
/// PostgreSQL that was 0.14 ms of a cold chart's ~3 ms (p50, history benchmark). A
/// connection the database closed while it sat idle (a restart) now fails the one request
/// that draws it, and is dropped when given back.
#[derive(Clone, Debug)]
pub struct Db {
    pub read: AnyPool,
    pub write: AnyPool,
    pub backend: Backend,
}

impl Db {
    /// Open the database at `url`, creating a SQLite file on first run.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let backend: Backend = url.parse()?;
        let err = |source| DbError::Connect {
            url: redact(url),
            source,
        };
        match backend {
            Backend::Sqlite => {
                let url = sqlite_create_url(url);
                let opts = |extra: &'static [&'static str]| {
                    AnyPoolOptions::new()
                        .acquire_timeout(Duration::from_secs(30))
                        .test_before_acquire(false)
                        .after_connect(move |conn, _| {
                            Box::pin(async move {
                                for pragma in SQLITE_PRAGMAS.iter().chain(extra) {
                                    sqlx::query(pragma).execute(&mut *conn).await?;
                                }
                                Ok(())
                            })
                        })
                };
                let write = opts(&[])
                    .max_connections(1)
                    .connect(&url)
                    .await
                    .map_err(err)?;
                let read = opts(SQLITE_READ_PRAGMAS)
                    .max_connections(8)
                    .connect(&url)
                    .await
                    .map_err(err)?;
                Ok(Db {
                    read,
                    write,
                    backend,
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .test_before_acquire(false)
                    .connect(url)
                    .await
                    .map_err(err)?;
                Ok(Db {
                    read: pool.clone(),
                    write: pool,
                    backend,
                })
            }
        }
    }

    /// Bring the schema up to date. Safe to run from several replicas at once on PostgreSQL
    /// (sqlx takes an advisory lock).
    pub async fn migrate(&self, url: &str) -> Result<(), DbError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.write)
            .await
            .map_err(|source| DbError::Migrate {
                url: redact(url),
                source,
            })
    }

    /// Whether the database answers, for `/readyz`.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }
}

/// `sqlite://file.db` opens read-write and creates the file when missing.
fn sqlite_create_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// Begin a transaction with PostgreSQL settings that last until it ends (`SET LOCAL`), sent
/// with the `BEGIN` in one round trip (a simple query may hold several statements): ingest
/// and the alert worker begin one per batch, and a separate statement for the settings was
/// a round trip more each time. Names and values are fixed strings, never user input.
/// SQLite gets a plain `BEGIN`.
///
/// The settings used are planner methods turned off for a statement whose good plan is
/// known and which the planner's guess (no statistics yet, a table small enough to look
/// cheap to scan) would make far worse, and `plan_cache_mode`.
pub async fn begin_with<'c>(
    conn: &'c mut sqlx::AnyConnection,
    backend: Backend,
    settings: &[(&str, &str)],
) -> Result<sqlx::Transaction<'c, sqlx::Any>, sqlx::Error> {
    use sqlx::Connection;
    if backend != Backend::Postgres || settings.is_empty() {
        return conn.begin().await;
    }
    let mut statement = String::from("BEGIN");
    for (name, value) in settings {
        statement.push_str(&format!("; SET LOCAL {name} = '{value}'"));
    }
    conn.begin_with(statement).await
}

/// A URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn urls_name_their_backend() {
        assert_eq!("sqlite://x.db".parse::<Backend>().unwrap(), Backend::Sqlite);
        assert_eq!(
            "postgres://h/db".parse::<Backend>().unwrap(),
            Backend::Postgres
        );
        assert!("mysql://h/db".parse::<Backend>().is_err());
    }

    #[test]
    fn sqlite_files_are_created_on_first_run() {
        assert_eq!(sqlite_create_url("sqlite://x.db"), "sqlite://x.db?mode=rwc");
        assert_eq!(sqlite_create_url("sqlite::memory:"), "sqlite::memory:");
    }
}
