//! A real SMTP server for tests, on a real 127.0.0.1 socket: it speaks enough SMTP for
//! lettre (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT), keeps every message it accepts,
//! and can be told to answer 4xx (try later), 5xx (refused), or to be down altogether.
//!
//! Shared by the API tests and the alert benchmark (`#[path]`-included there).

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

/// How the sink answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 250 to everything.
    Accept,
    /// 451 to MAIL FROM: a temporary failure.
    TempFail,
    /// 550 to RCPT TO: a permanent refusal.
    PermFail,
}

/// One accepted message.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA, dot-unstuffed, with CRLF line ends.
    pub data: Vec<u8>,
    /// When the sink accepted it (for latency measurements).
    pub at: Instant,
}

impl Received {
    /// The raw message as text.
    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }

    /// The parsed message (headers decoded, parts split).
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parsable message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The plain-text body.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    /// The HTML body.
    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    /// A header's raw value (first occurrence), trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        let raw = self.raw();
        let head = raw.split("\r\n\r\n").next().unwrap_or_default().to_owned();
        // Unfold continuation lines first.
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

struct Inner {
    messages: Mutex<Vec<Received>>,
    mode: Mutex<Mode>,
    arrived: Notify,
    /// Bumped to drop every open connection (going down).
    generation: watch::Sender<u64>,
}

/// The sink. Dropping it stops it.
pub struct SmtpSink {
    inner: Arc<Inner>,
    port: u16,
    accept: Mutex<Option<JoinHandle<()>>>,
}

impl SmtpSink {
    /// Start on a free port.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let port = listener.local_addr().expect("addr").port();
        let (generation, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            messages: Mutex::new(Vec::new()),
            mode: Mutex::new(Mode::Accept),
            arrived: Notify::new(),
            generation,
        });
        let sink = SmtpSink {
            inner,
            port,
            accept: Mutex::new(None),
        };
        sink.serve(listener);
        sink
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn serve(&self, listener: TcpListener) {
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let inner = inner.clone();
                let mut stop = inner.generation.subscribe();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = session(stream, inner.clone()) => {}
                        _ = stop.changed() => {}
                    }
                });
            }
        });
        *self.accept.lock().unwrap() = Some(task);
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().unwrap() = mode;
    }

    /// Stop listening and drop every open connection: clients get "connection refused".
    pub async fn go_down(&self) {
        if let Some(task) = self.accept.lock().unwrap().take() {
            task.abort();
        }
        self.inner.generation.send_modify(|g| *g += 1);
        // Let the aborted accept loop release the port.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    /// Listen again on the same port.
    pub async fn come_up(&self) {
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot rebind the sink on {}: {e}", self.port),
            }
        };
        self.serve(listener);
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.inner.messages.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.inner.messages.lock().unwrap().len()
    }

    /// Messages to `address`.
    pub fn to(&self, address: &str) -> Vec<Received> {
        self.messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Every recipient of every message, in arrival order (cheap: no message is copied).
    pub fn recipients(&self) -> Vec<String> {
        self.inner
            .messages
            .lock()
            .unwrap()
            .iter()
            .flat_map(|m| m.to.iter().cloned())
            .collect()
    }

    /// Wait until at least `n` messages have arrived, without copying them; panic after
    /// `timeout`.
    pub async fn wait_for_count(&self, n: usize, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.count();
            if got >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages within {timeout:?}, got {got}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until at least `n` messages have arrived, or panic after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.inner.arrived.notified();
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "expected {n} messages within {timeout:?}, got {}: {:?}",
                    got.len(),
                    got.iter().map(Received::subject).collect::<Vec<_>>()
                );
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(100)), notified).await;
        }
    }

    /// Wait until `address` has received `n` messages.
    pub async fn wait_for_to(&self, address: &str, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.to(address);
            if got.len() >= n {
                return got;
            }
            if Instant::now() >= deadline {
                panic!(
                    "expected {n} messages to {address} within {timeout:?}, got {}: {:?}",
                    got.len(),
                    got.iter().map(Received::subject).collect::<Vec<_>>()
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Ok(mut accept) = self.accept.lock() {
            if let Some(task) = accept.take() {
                task.abort();
            }
        }
        self.inner.generation.send_modify(|g| *g += 1);
    }
}

/// One SMTP session.
async fn session(stream: TcpStream, inner: Arc<Inner>) -> std::io::Result<()> {
    let (read, write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut writer = BufWriter::new(write);
    writer.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    writer.flush().await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        let upper = text.to_ascii_uppercase();
        let mode = *inner.mode.lock().unwrap();
        let answer: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            if mode == Mode::TempFail {
                b"451 4.3.0 try again later\r\n"
            } else {
                from = address_of(&text["MAIL FROM:".len()..]);
                to.clear();
                b"250 2.1.0 ok\r\n"
            }
        } else if upper.starts_with("RCPT TO:") {
            if mode == Mode::PermFail {
                b"550 5.1.1 mailbox unavailable\r\n"
            } else {
                to.push(address_of(&text["RCPT TO:".len()..]));
                b"250 2.1.5 ok\r\n"
            }
        } else if upper == "DATA" {
            if to.is_empty() {
                b"503 5.5.1 no recipients\r\n"
            } else {
                writer.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                writer.flush().await?;
                let mut data = Vec::new();
                loop {
                    line.clear();
                    if reader.read_until(b'\n', &mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    let body = if line.first() == Some(&b'.') {
                        &line[1..]
                    } else {
                        &line[..]
                    };
                    data.extend_from_slice(body);
                }
                inner.messages.lock().unwrap().push(Received {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                    at: Instant::now(),
                });
                inner.arrived.notify_waiters();
                b"250 2.0.0 queued\r\n"
            }
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            b"250 2.0.0 ok\r\n"
        } else if upper == "NOOP" {
            b"250 2.0.0 ok\r\n"
        } else if upper == "QUIT" {
            writer.write_all(b"221 2.0.0 bye\r\n").await?;
            writer.flush().await?;
            return Ok(());
        } else {
            b"502 5.5.2 command not recognised\r\n"
        };
        writer.write_all(answer).await?;
        writer.flush().await?;
    }
}

/// `<a@b>` (with possible parameters after it) → `a@b`.
fn address_of(arg: &str) -> String {
    let arg = arg.trim();
    match (arg.find('<'), arg.find('>')) {
        (Some(s), Some(e)) if s < e => arg[s + 1..e].to_owned(),
        _ => arg.split_whitespace().next().unwrap_or_default().to_owned(),
    }
}
