//! Building and running the HTTP application: `build(settings)` for the binary and the tests,
//! `router(state)` for handler tests with `oneshot`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::chart_cache::ChartCache;
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::{Db, DbError};
use crate::rate_limit::RateLimiter;
use crate::routes;
use crate::state::AppState;

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Secrets(#[from] crate::auth::secrets::SecretsError),
    #[error(transparent)]
    Mailer(#[from] crate::mail::mailer::MailerError),
    #[error("the webhook HTTP client: {0}")]
    Webhooks(#[from] reqwest::Error),
}

/// A built application: database open and migrated, port bound, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Open the database, migrate it and bind the port (port 0 picks a free one).
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        Application::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// As [`Application::build`], with the clock given (tests drive time).
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Application, StartError> {
        let db = Db::connect(&settings.database_url).await?;
        db.migrate(&settings.database_url).await?;
        let secrets =
            crate::auth::Secrets::load(&settings.auth.secret, &db.write, clock.now()).await?;
        let mailer = crate::mail::Mailer::new(&settings.mail)?;
        let webhooks = crate::webhooks::WebhookSender::new(
            Duration::from_secs(settings.alerts.webhook_timeout_secs.max(1)),
            settings.webhooks.allow_private_addresses,
        )?;
        let listener =
            TcpListener::bind(settings.bind)
                .await
                .map_err(|source| StartError::Bind {
                    addr: settings.bind,
                    source,
                })?;
        let crawl_hosts = Arc::new(crate::crawler::HostBook::from_settings(
            &settings.crawler,
            db.clone(),
        ));
        let state = AppState {
            db,
            settings: Arc::new(settings),
            clock,
            metrics: crate::metrics::handle(),
            limits: Arc::new(RateLimiter::default()),
            charts: Arc::new(ChartCache::default()),
            crawl_hosts,
            secrets: Arc::new(secrets),
            mailer,
            webhooks,
            wakeup: Arc::new(crate::alerts::Wakeup::default()),
        };
        Ok(Application { listener, state })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.settings.bind)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serve until `shutdown` resolves, then finish in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // The crawler runs beside the server and stops once the server has.
        let crawler = crate::crawler::start(&self.state).await;
        // So does the alert worker (its claims are leased, so stopping mid-round is safe).
        let alert_workers = crate::alerts::spawn(self.state.clone());
        // And the history packer (also the data migration of history written before it).
        let packer = crate::history_packer::spawn(self.state.db.clone());
        let app = router(self.state);
        let served = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        if let Some(crawler) = crawler {
            crawler.stop().await;
        }
        alert_workers.stop().await;
        packer.stop().await;
        served
    }
}

/// Every route, with the layers every response gets.
pub fn router(state: AppState) -> Router {
    let max_body = state.settings.ingest.max_body_bytes;
    Router::new()
        .merge(routes::health::router())
        .merge(routes::api::router())
        .merge(crate::web::router(&state.settings.web))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::alerts::worker::wake_on_ingest,
        ))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        .layer(TraceLayer::new_for_http())
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .with_state(state)
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
    // Give load balancers a moment to notice before the listener closes.
    tokio::time::sleep(Duration::from_millis(50)).await;
}
