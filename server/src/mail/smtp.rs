//! The SMTP connections behind the mailer: lettre's protocol client on sockets opened here,
//! with `TCP_NODELAY`, kept open in a small pool.
//!
//! lettre writes a message's body and then the end-of-data marker (`\r\n.\r\n`) as a second,
//! small write. With Nagle's algorithm on, that marker waits until the server acknowledges
//! the body, and the server delays that acknowledgement (about 40 ms on Linux) because it is
//! waiting for the rest of the message: every message cost about 45 ms per connection
//! (22 messages/s). lettre's `AsyncSmtpTransport` opens its own sockets and its executor trait
//! is sealed, so it cannot be given a socket option; its public `AsyncSmtpConnection` can be
//! given a stream, so the connections (and the pool that lettre's transport provided) are
//! made here.

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::response::Response;
use lettre::transport::smtp::Error;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::SmtpSecurity;

/// A pooled connection idle longer than this is closed rather than reused (servers drop idle
/// clients after a few minutes; lettre's pool used the same limit).
const MAX_IDLE: Duration = Duration::from_secs(60);

/// Where and how to connect.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub credentials: Option<Credentials>,
    /// Bounds connecting (with the greeting, TLS and AUTH) and each message's exchange.
    pub timeout: Duration,
}

/// Why a send failed: an SMTP or network error from lettre, or a timeout here.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SmtpError {
    #[error(transparent)]
    Smtp(#[from] Error),
    #[error("connection error: {0}")]
    Io(#[from] io::Error),
    #[error("the mail server did not answer in time")]
    Timeout,
}

/// At most `size` connections, reused while they work.
pub(crate) struct SmtpPool {
    endpoint: Endpoint,
    hello: ClientId,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    permits: Semaphore,
}

impl SmtpPool {
    pub fn new(endpoint: Endpoint, size: usize) -> SmtpPool {
        SmtpPool {
            endpoint,
            hello: ClientId::default(),
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(size.max(1)),
        }
    }

    /// Send one message on a pooled connection (opening one when none is idle).
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<Response, SmtpError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| io::Error::other("the mailer is shut down"))?;
        let mut conn = self.checkout().await?;
        let result = tokio::time::timeout(self.endpoint.timeout, conn.send(envelope, message))
            .await
            .map_err(|_| SmtpError::Timeout)
            .and_then(|r| r.map_err(SmtpError::from));
        match &result {
            // lettre marks a connection broken after any error it saw on it.
            _ if conn.has_broken() => conn.abort().await,
            Ok(_) | Err(SmtpError::Smtp(_)) => self.park(conn),
            Err(_) => conn.abort().await,
        }
        result
    }

    fn park(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push((conn, Instant::now()));
        }
    }

    /// An idle connection that still answers (a NOOP, as lettre's pool checked), or a new one.
    async fn checkout(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        loop {
            let parked = self.idle.lock().ok().and_then(|mut idle| idle.pop());
            let Some((mut conn, since)) = parked else {
                return self.connect().await;
            };
            if since.elapsed() < MAX_IDLE && conn.test_connected().await {
                return Ok(conn);
            }
            conn.abort().await;
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        tokio::time::timeout(self.endpoint.timeout, self.open())
            .await
            .map_err(|_| SmtpError::Timeout)?
    }

    async fn open(&self) -> Result<AsyncSmtpConnection, SmtpError> {
        let e = &self.endpoint;
        let tcp = TcpStream::connect((e.host.as_str(), e.port)).await?;
        // The point of this module: see the module docs.
        tcp.set_nodelay(true)?;
        let mut conn = match e.security {
            SmtpSecurity::None => {
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?
            }
            SmtpSecurity::Starttls => {
                let mut conn =
                    AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?;
                conn.starttls(TlsParameters::new(e.host.clone())?, &self.hello)
                    .await?;
                conn
            }
            SmtpSecurity::Tls => {
                // TLS from the first byte: lettre's TLS (its roots and settings) on this
                // socket, then the SMTP greeting over it.
                #[allow(deprecated)]
                let mut stream =
                    lettre::transport::smtp::client::AsyncNetworkStream::use_existing_tokio1(
                        Box::new(tcp),
                    );
                stream
                    .upgrade_tls(TlsParameters::new(e.host.clone())?)
                    .await?;
                AsyncSmtpConnection::connect_with_transport(
                    Box::new(TlsOverTcp(stream)),
                    &self.hello,
                )
                .await?
            }
        };
        if let Some(credentials) = &e.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }
}

/// lettre's TLS stream (which speaks `futures-io`) as the tokio stream its client takes.
#[allow(deprecated)]
#[derive(Debug)]
struct TlsOverTcp(lettre::transport::smtp::client::AsyncNetworkStream);

impl AsyncRead for TlsOverTcp {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        match futures_io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, unfilled) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for TlsOverTcp {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

impl AsyncTokioStream for TlsOverTcp {
    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.0.peer_addr()
    }
}
