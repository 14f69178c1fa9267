//! Alerts as e-mail: the local stand-in for SNS → e-mail, so the operations centre hears
//! about failed uploads from a local run too.
//!
//! With an SMTP URL configured, each alert is one message sent through that server
//! (lettre). Without one, it is an RFC 5322 `.eml` file in the outbox folder — openable in
//! any mail client — named `<UTC timestamp>-<hash of the message>.eml` and written
//! atomically, so whoever watches the folder never reads half a message.
//!
//! SMTP URLs: `smtp://[user[:password]@]host[:port]` (port 25 by default; user and password
//! percent-encoded, used for `AUTH PLAIN`/`LOGIN`). The password is never logged or shown.
//! This build has no TLS stack (it would double the crate's cold build): `smtps://` and
//! STARTTLS are refused rather than silently sent in clear, so point it at a local relay.
//!
//! Failures a retry can cure — connection refused, timeouts, `4xx` replies — are
//! [`PortError::Transient`]: the state machine retries OnFailure, so with the mail server
//! down the alert arrives once it is back. `5xx` replies are [`PortError::Permanent`].

use crate::fsutil::{blocking, port_error, write_atomically, Sync};
use lettre::message::header::{ContentType, To};
use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::{self, AsyncSmtpTransport};
use lettre::{AsyncTransport, Message, Tokio1Executor};
use percent_encoding::percent_decode_str;
use photopipe_pipeline::ports::{Alert, Alerts, PortError};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;
use url::{Host, Url};

/// Hex digits of the message hash in an outbox file name.
const NAME_HASH_HEX: usize = 12;

/// Where alerts go and who they are from.
#[derive(Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// `smtp://[user[:password]@]host[:port]`; `None` writes `.eml` files into `outbox`.
    pub smtp_url: Option<String>,
    pub outbox: PathBuf,
    pub from: String,
    /// One address, or several separated by commas.
    pub to: String,
    /// For connecting to the SMTP server and for each of its replies.
    pub timeout: Duration,
}

impl MailConfig {
    /// Outbox delivery into `outbox`, from `photopipe@localhost` to
    /// `operations@localhost`.
    pub fn new(outbox: impl Into<PathBuf>) -> Self {
        MailConfig {
            smtp_url: None,
            outbox: outbox.into(),
            from: "photopipe@localhost".to_owned(),
            to: "operations@localhost".to_owned(),
            timeout: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(redacted))
            .field("outbox", &self.outbox)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A [`MailConfig`] that cannot work: a bad address or SMTP URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfigError(String);

impl fmt::Display for MailConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MailConfigError {}

/// The [`Alerts`] port over SMTP or an outbox folder.
pub struct MailAlerts {
    from: Mailbox,
    to: Mailboxes,
    delivery: Delivery,
}

enum Delivery {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// `smtp://host:port`, without credentials, for messages.
        server: String,
    },
    Outbox(PathBuf),
}

impl fmt::Debug for MailAlerts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let delivery = match &self.delivery {
            Delivery::Smtp { server, .. } => server.clone(),
            Delivery::Outbox(dir) => dir.display().to_string(),
        };
        f.debug_struct("MailAlerts")
            .field("from", &self.from.to_string())
            .field("to", &self.to.to_string())
            .field("delivery", &delivery)
            .finish()
    }
}

impl MailAlerts {
    /// Checks the addresses and the SMTP URL; connects only when sending.
    pub fn new(config: &MailConfig) -> Result<Self, MailConfigError> {
        let invalid = |what: &str, err: &dyn fmt::Display| {
            MailConfigError(format!("invalid {what} address: {err}"))
        };
        let from = config.from.parse().map_err(|err| invalid("from", &err))?;
        let to = config.to.parse().map_err(|err| invalid("to", &err))?;
        let delivery = match &config.smtp_url {
            Some(url) => smtp_delivery(url, config.timeout)?,
            None => Delivery::Outbox(config.outbox.clone()),
        };
        Ok(MailAlerts { from, to, delivery })
    }

    fn message(&self, alert: &Alert) -> Result<Message, PortError> {
        Message::builder()
            .from(self.from.clone())
            .mailbox(To::from(self.to.clone()))
            .subject(one_line(&alert.subject))
            .message_id(None)
            .header(ContentType::TEXT_PLAIN)
            .body(alert.body.clone())
            .map_err(|err| PortError::Permanent(format!("cannot build the alert mail: {err}")))
    }
}

impl Alerts for MailAlerts {
    async fn send(&self, alert: &Alert) -> Result<(), PortError> {
        let message = self.message(alert)?;
        match &self.delivery {
            Delivery::Smtp { transport, server } => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|err| smtp_error(server, err)),
            Delivery::Outbox(dir) => {
                let bytes = message.formatted();
                let stamp = OffsetDateTime::now_utc()
                    .format(time::macros::format_description!(
                        "[year][month][day]T[hour][minute][second].[subsecond digits:3]Z"
                    ))
                    .expect("a UTC time formats");
                let hash = format!("{:x}", Sha256::digest(&bytes));
                let path = dir.join(format!("{stamp}-{}.eml", &hash[..NAME_HASH_HEX]));
                blocking(move || {
                    write_atomically(&path, &bytes, Sync::Flush)
                        .map_err(|err| port_error(path.display(), err))
                })
                .await
            }
        }
    }
}

/// Parses `smtp://[user[:password]@]host[:port]`.
fn smtp_delivery(url: &str, timeout: Duration) -> Result<Delivery, MailConfigError> {
    let refuse = |why: &str| MailConfigError(format!("SMTP URL {}: {why}", redacted(url)));
    let url = Url::parse(url).map_err(|err| refuse(&err.to_string()))?;
    match url.scheme() {
        "smtp" => {}
        "smtps" => return Err(refuse("TLS is not supported by this build; use smtp://")),
        _ => return Err(refuse("the scheme must be smtp://")),
    }
    if url.query().is_some() || !matches!(url.path(), "" | "/") {
        return Err(refuse("options and paths are not supported (no STARTTLS)"));
    }
    // lettre resolves a bare IPv6 address, not its bracketed URL form.
    let host = match url.host() {
        Some(Host::Ipv6(address)) => address.to_string(),
        Some(host) => host.to_string(),
        None => return Err(refuse("no host")),
    };
    let port = url.port().unwrap_or(25);
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host)
        .port(port)
        .timeout(Some(timeout));
    if !url.username().is_empty() {
        let decode = |text: &str| percent_decode_str(text).decode_utf8_lossy().into_owned();
        builder = builder.credentials(Credentials::new(
            decode(url.username()),
            decode(url.password().unwrap_or("")),
        ));
    }
    Ok(Delivery::Smtp {
        transport: builder.build(),
        server: format!("smtp://{}:{port}", url.host_str().unwrap_or(&host)),
    })
}

/// `url` with any password replaced, for messages.
fn redacted(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut url) if url.password().is_some() => {
            // Only fails for URLs that cannot have a password at all.
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => "(unparsable)".to_owned(),
    }
}

/// The subject on one line: the port promises printable ASCII, and a CR or LF that slipped
/// through must not start a header of its own.
fn one_line(subject: &str) -> String {
    subject
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `5xx` replies and local problems are permanent; refused connections, timeouts, `4xx`
/// replies and broken conversations are worth another try.
fn smtp_error(server: &str, err: smtp::Error) -> PortError {
    let message = format!("sending the alert through {server}: {err}");
    if err.is_permanent() || err.is_client() {
        PortError::Permanent(message)
    } else {
        PortError::Transient(message)
    }
}
