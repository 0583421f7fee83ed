//! The SMTP mailer: one pooled `lettre` transport per process, and the sorting of failures
//! into "try again later" and "give up".

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::Message;

use super::smtp::{Endpoint, SmtpError, SmtpPool};
use super::MailSettings;

/// One message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// A PNG shown inline by the HTML body as `cid:<id>`.
    pub inline_png: Option<(String, Vec<u8>)>,
    /// The one-click unsubscribe URL (RFC 8058), if the message is about a subscription.
    pub unsubscribe_url: Option<String>,
    /// A stable Message-ID (the same for every retry of one notification), so a receiving
    /// server that sees a retry of a message it already took can recognise it.
    pub message_id: Option<String>,
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The server is down, timed out or answered 4xx: try again later.
    #[error("temporary: {0}")]
    Transient(String),
    /// The server answered 5xx, or the message cannot be built (a bad address): give up.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// Why the mailer could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("mail.from {0:?} is not an address: {1}")]
    From(String, String),
    #[error("mail.smtp_host {0:?}: {1}")]
    Host(String, String),
}

/// The SMTP mailer. Cloning shares the connection pool.
#[derive(Clone)]
pub struct Mailer {
    pool: Arc<SmtpPool>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// A mailer for the configured server. Nothing is connected until the first send.
    pub fn new(settings: &MailSettings) -> Result<Mailer, MailerError> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e: lettre::address::AddressError| {
                MailerError::From(settings.from.clone(), e.to_string())
            })?;
        let host = settings.smtp_host.trim();
        if host.is_empty() {
            return Err(MailerError::Host(host.to_owned(), "empty host name".into()));
        }
        let credentials = (!settings.username.is_empty())
            .then(|| Credentials::new(settings.username.clone(), settings.password.clone()));
        let endpoint = Endpoint {
            host: host.to_owned(),
            port: settings.smtp_port,
            security: settings.security,
            credentials,
            timeout: Duration::from_secs(settings.timeout_secs.max(1)),
        };
        Ok(Mailer {
            pool: Arc::new(SmtpPool::new(endpoint, settings.pool_size.max(1) as usize)),
            from,
        })
    }

    /// Send one message.
    pub async fn send(&self, mail: &Outgoing) -> Result<(), SendError> {
        let message = self.build(mail)?;
        let envelope = message.envelope().clone();
        match self.pool.send(&envelope, &message.formatted()).await {
            Ok(_) => Ok(()),
            Err(SmtpError::Smtp(e)) if e.is_permanent() => Err(SendError::Permanent(format!(
                "the mail server refused the message ({})",
                e.status()
                    .map_or_else(|| "5xx".to_owned(), |c| c.to_string())
            ))),
            Err(SmtpError::Smtp(e)) if e.is_transient() => {
                tracing::debug!(error = %e, "SMTP send failed; will retry");
                Err(SendError::Transient(format!(
                    "the mail server asked to try later ({})",
                    e.status()
                        .map_or_else(|| "4xx".to_owned(), |c| c.to_string())
                )))
            }
            Err(e) => {
                tracing::debug!(error = %e, "SMTP send failed; will retry");
                Err(SendError::Transient(
                    "the mail server could not be reached".to_owned(),
                ))
            }
        }
    }

    fn build(&self, mail: &Outgoing) -> Result<Message, SendError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| SendError::Permanent(format!("not an email address: {e}")))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(mail.message_id.clone());
        if let Some(url) = &mail.unsubscribe_url {
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let html_part = SinglePart::html(mail.html.clone());
        let body = match &mail.inline_png {
            Some((cid, png)) => MultiPart::alternative()
                .singlepart(SinglePart::plain(mail.text.clone()))
                .multipart(
                    MultiPart::related().singlepart(html_part).singlepart(
                        Attachment::new_inline(cid.clone()).body(
                            png.clone(),
                            ContentType::parse("image/png")
                                .map_err(|e| SendError::Permanent(format!("content type: {e}")))?,
                        ),
                    ),
                ),
            None => MultiPart::alternative()
                .singlepart(SinglePart::plain(mail.text.clone()))
                .singlepart(html_part),
        };
        builder
            .multipart(body)
            .map_err(|e| SendError::Permanent(format!("the message cannot be built: {e}")))
    }
}
