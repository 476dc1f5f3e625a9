//! Mail: the digest's headers, one `multipart/alternative` message (plain text + HTML, UTF-8)
//! built with lettre, and its sending over SMTP with `starttls`, `tls` or `none`.
//!
//! [`digest_outgoing`] names a digest the same way every time: its sender (the configured one,
//! or a placeholder at the club's host), a `Message-ID` made of week, audience, time and a hash
//! of the text (lettre adds none unless asked, and some servers reject mail without one), and a
//! `List-Id` per audience. The message carries an RFC 2047 encoded subject (lettre encodes
//! non-ASCII words), `Date` from `--now` and `Auto-Submitted`. The MIME boundary is derived from
//! the content, so the same digest and `--now` give a byte-identical `.eml`. The password is read
//! from the environment variable named by `[email] password_env`, never from the config file.

use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Email, Security};
use crate::ids::{short_hash, stable_hash};

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Mail could not be built or sent. Nothing is recorded as sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// An address in `[email]` does not parse.
    #[error("[email] {field}: `{address}` is not a mail address ({message}); write e.g. \"글또 <bot@example.org>\"")]
    Address {
        /// Which setting holds it (`from`, `to`).
        field: &'static str,
        /// The address as written.
        address: String,
        /// What lettre said.
        message: String,
    },
    /// The message could not be assembled.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// `password_env` names a variable that is not set.
    #[error("[email] password_env names ${0}, which is not set; export the SMTP password in it (it never goes in feeds.toml)")]
    NoPassword(String),
    /// `username` is set without `password_env`.
    #[error("[email] username is set but password_env is not; name the environment variable holding the SMTP password")]
    NoPasswordEnv,
    /// The SMTP server refused or could not be reached.
    #[error("sending to {host}:{port} ({security}) failed: {message}. Check [email] smtp_host, smtp_port, security and the credentials")]
    Send {
        /// `[email] smtp_host`.
        host: String,
        /// `[email] smtp_port`.
        port: u16,
        /// `starttls`, `tls` or `none`.
        security: &'static str,
        /// What went wrong.
        message: String,
    },
}

/// A message to build.
#[derive(Debug, Clone)]
pub struct Outgoing {
    /// `From`: a mailbox, e.g. `글또 <bot@example.org>`.
    pub from: String,
    /// `To` (one or more).
    pub to: Vec<String>,
    /// Recipients on the envelope only: never written in a header (nor in the `.eml`).
    pub bcc: Vec<String>,
    /// `List-Unsubscribe` (RFC 2369), a `mailto:` or `https://` address.
    pub unsubscribe: Option<String>,
    /// Subject (UTF-8; encoded per RFC 2047 on the wire).
    pub subject: String,
    /// The plain-text alternative.
    pub text: String,
    /// The HTML alternative.
    pub html: String,
    /// `Date` (the run's `now`).
    pub date: DateTime<Utc>,
    /// `Message-ID`, with angle brackets.
    pub message_id: String,
    /// `List-Id`, e.g. `글또 digest <digest.geultto.github.io>`.
    pub list_id: String,
}

/// One audience's digest of one week, to be named and addressed by [`digest_outgoing`].
#[derive(Debug, Clone, Copy)]
pub struct DigestMail<'a> {
    /// The club's name (plain text).
    pub club: &'a str,
    /// The club site's host: the right-hand side of Message-IDs and List-Ids.
    pub host: &'a str,
    /// `[email] from`, when there is an `[email]` section.
    pub from: Option<&'a str>,
    /// The real `To` recipients (empty, and no `bcc`: the message is addressed to its sender,
    /// as a dry run).
    pub recipients: &'a [String],
    /// Recipients who must not see each other (the envelope only).
    pub bcc: &'a [String],
    /// `[email] unsubscribe`, for the members' digest.
    pub unsubscribe: Option<&'a str>,
    /// The ISO week, e.g. `2024-W46`.
    pub week: &'a str,
    /// `members` or `operators`.
    pub audience: &'a str,
    /// The mail subject.
    pub subject: &'a str,
    /// The plain-text body.
    pub text: &'a str,
    /// The HTML body.
    pub html: &'a str,
}

/// The message of a digest, with its sender, Message-ID (`<week.audience.time.hash@host>`)
/// and List-Id (`club audience <audience.digest.host>`). Without `[email]` the sender is a
/// placeholder `noreply@` the club's host.
pub fn digest_outgoing(d: &DigestMail<'_>, now: DateTime<Utc>) -> Outgoing {
    let from = d.from.map(str::to_string).unwrap_or_else(|| {
        format!(
            "\"{}\" <noreply@{}>",
            d.club.replace(['"', '\\'], ""),
            d.host
        )
    });
    let list_name: String = d
        .club
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '<' | '>' | '"' | '\\'))
        .collect();
    Outgoing {
        to: if d.recipients.is_empty() {
            vec![from.clone()]
        } else {
            d.recipients.to_vec()
        },
        bcc: d.bcc.to_vec(),
        unsubscribe: d.unsubscribe.map(str::to_string),
        from,
        subject: d.subject.to_string(),
        text: d.text.to_string(),
        html: d.html.to_string(),
        date: now,
        message_id: format!(
            "<{}.{}.{}.{}@{}>",
            d.week,
            d.audience,
            now.timestamp(),
            short_hash(d.text),
            d.host
        ),
        list_id: format!(
            "{} {} <{}.digest.{}>",
            list_name.trim(),
            d.audience,
            d.audience,
            d.host
        ),
    }
}

/// `List-Id` (RFC 2919).
#[derive(Debug, Clone)]
struct ListId(String);

impl Header for ListId {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Id")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListId(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe` (RFC 2369): where a reader leaves the list.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): autoresponders stay quiet.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_string())
    }
}

fn mailbox(field: &'static str, address: &str) -> Result<Mailbox, MailError> {
    address
        .trim()
        .parse()
        .map_err(|e: lettre::address::AddressError| MailError::Address {
            field,
            address: address.to_string(),
            message: e.to_string(),
        })
}

/// Builds the message.
pub fn build(o: &Outgoing) -> Result<Message, MailError> {
    let mut builder = Message::builder()
        .from(mailbox("from", &o.from)?)
        .subject(o.subject.clone())
        .date(SystemTime::from(o.date))
        .message_id(Some(o.message_id.clone()))
        .header(ListId(o.list_id.clone()))
        .header(AutoSubmitted);
    for to in &o.to {
        builder = builder.to(mailbox("to", to)?);
    }
    // lettre puts Bcc recipients on the envelope and drops the header from the message.
    for bcc in &o.bcc {
        builder = builder.bcc(mailbox("bcc", bcc)?);
    }
    if let Some(u) = &o.unsubscribe {
        builder = builder.header(ListUnsubscribe(u.clone()));
    }
    let boundary = format!(
        "geultto-{}",
        stable_hash(format!("{}\n{}\n{}", o.message_id, o.text, o.html).as_bytes())
    );
    let body = MultiPart::alternative()
        .boundary(boundary)
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(o.text.clone()),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(o.html.clone()),
        );
    builder
        .multipart(body)
        .map_err(|e| MailError::Build(e.to_string()))
}

/// A member's own reminder before a round closes: one plain-text message to one address.
#[derive(Debug, Clone, Copy)]
pub struct ReminderMail<'a> {
    /// `[email] from`.
    pub from: &'a str,
    /// The member's address.
    pub to: &'a str,
    /// The member's id (part of the Message-ID).
    pub member: &'a str,
    /// The round.
    pub round: u32,
    /// The club site's host: the right-hand side of the Message-ID.
    pub host: &'a str,
    /// The subject.
    pub subject: &'a str,
    /// The body.
    pub text: &'a str,
}

/// Builds a reminder: `text/plain` UTF-8, `Date` from `--now`, a Message-ID naming the round
/// and the member, `Auto-Submitted` so autoresponders stay quiet.
pub fn reminder(r: &ReminderMail<'_>, now: DateTime<Utc>) -> Result<Message, MailError> {
    let message_id = format!(
        "<round-{}.remind.{}.{}.{}@{}>",
        r.round,
        r.member,
        now.timestamp(),
        short_hash(r.text),
        r.host
    );
    Message::builder()
        .from(mailbox("from", r.from)?)
        .to(mailbox("to", r.to)?)
        .subject(r.subject.to_string())
        .date(SystemTime::from(now))
        .message_id(Some(message_id))
        .header(AutoSubmitted)
        .header(ContentType::TEXT_PLAIN)
        .body(r.text.to_string())
        .map_err(|e| MailError::Build(e.to_string()))
}

/// The message as an RFC 5322 file (`.eml`).
pub fn eml(message: &Message) -> Vec<u8> {
    message.formatted()
}

fn security_name(s: Security) -> &'static str {
    match s {
        Security::StartTls => "starttls",
        Security::Tls => "tls",
        Security::None => "none",
    }
}

/// The SMTP password from the environment, when `[email]` asks for one.
pub fn credentials(email: &Email) -> Result<Option<Credentials>, MailError> {
    match (&email.username, &email.password_env) {
        (Some(user), Some(var)) => {
            let password = std::env::var(var).map_err(|_| MailError::NoPassword(var.clone()))?;
            Ok(Some(Credentials::new(user.clone(), password)))
        }
        (Some(_), None) => Err(MailError::NoPasswordEnv),
        (None, _) => Ok(None),
    }
}

/// Sends the message over SMTP as `[email]` says.
pub async fn send(
    email: &Email,
    credentials: Option<Credentials>,
    message: Message,
) -> Result<(), MailError> {
    let fail = |message: String| MailError::Send {
        host: email.smtp_host.clone(),
        port: email.smtp_port,
        security: security_name(email.security),
        message,
    };
    let builder = match email.security {
        Security::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&email.smtp_host)
                .map_err(|e| fail(e.to_string()))?
        }
        Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&email.smtp_host)
            .map_err(|e| fail(e.to_string()))?,
        Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&email.smtp_host),
    };
    let mut builder = builder.port(email.smtp_port).timeout(Some(SMTP_TIMEOUT));
    if let Some(c) = credentials {
        builder = builder.credentials(c);
    }
    let transport = builder.build();
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outgoing() -> Outgoing {
        Outgoing {
            from: "글또 <bot@example.org>".into(),
            to: vec!["members@example.org".into()],
            bcc: vec!["quiet@example.org".into()],
            unsubscribe: Some("mailto:ops@example.org?subject=unsubscribe".into()),
            subject: "[글또 10기] 이번 주 새 글 3편 · 2024-W46".into(),
            text: "텍스트".into(),
            html: "<p>HTML</p>".into(),
            date: DateTime::parse_from_rfc3339("2024-11-20T12:00:00+09:00")
                .unwrap()
                .with_timezone(&Utc),
            message_id: "<2024-W46.members.x@geultto.github.io>".into(),
            list_id: "글또 10기 digest <digest.geultto.github.io>".into(),
        }
    }

    #[test]
    fn the_message_is_multipart_alternative_with_an_encoded_subject_and_ids() {
        let bytes = eml(&build(&outgoing()).unwrap());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains("Content-Type: multipart/alternative;"),
            "{text}"
        );
        assert!(text.contains("Subject: =?utf-8?"), "{text}");
        assert!(
            text.contains("Message-ID: <2024-W46.members.x@geultto.github.io>"),
            "{text}"
        );
        assert!(
            text.contains("Date: Wed, 20 Nov 2024 03:00:00 +0000"),
            "{text}"
        );
        assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
        assert!(
            text.contains("List-Unsubscribe: <mailto:ops@example.org?subject=unsubscribe>"),
            "{text}"
        );
        // A Bcc recipient is on the envelope, never in a header.
        assert!(!text.contains("quiet@example.org"), "{text}");
        let message = build(&outgoing()).unwrap();
        let envelope: Vec<String> = message
            .envelope()
            .to()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(envelope, ["members@example.org", "quiet@example.org"]);
        assert!(text.is_ascii(), "headers and bodies are 7-bit on the wire");
        // Deterministic: the same input gives the same bytes.
        assert_eq!(bytes, eml(&build(&outgoing()).unwrap()));
    }

    #[test]
    fn a_digest_is_named_by_week_audience_time_and_text() {
        let now = DateTime::parse_from_rfc3339("2024-11-20T12:00:00+09:00")
            .unwrap()
            .with_timezone(&Utc);
        let mail = DigestMail {
            club: "글또 \"10기\" (테스트)",
            host: "geultto.github.io",
            from: None,
            recipients: &[],
            bcc: &[],
            unsubscribe: None,
            week: "2024-W46",
            audience: "operators",
            subject: "제목",
            text: "본문",
            html: "<p>본문</p>",
        };
        let o = digest_outgoing(&mail, now);
        assert_eq!(o.from, "\"글또 10기 (테스트)\" <noreply@geultto.github.io>");
        assert_eq!(
            o.to,
            std::slice::from_ref(&o.from),
            "no recipients: addressed to itself"
        );
        assert_eq!(
            o.message_id,
            format!(
                "<2024-W46.operators.{}.{}@geultto.github.io>",
                now.timestamp(),
                short_hash("본문")
            )
        );
        assert_eq!(
            o.list_id,
            "글또 10기 테스트 operators <operators.digest.geultto.github.io>"
        );
        let other = digest_outgoing(
            &DigestMail {
                text: "다른 본문",
                ..mail
            },
            now,
        );
        assert_ne!(other.message_id, o.message_id);
    }

    #[test]
    fn a_bad_address_names_the_setting() {
        let mut o = outgoing();
        o.to = vec!["not an address".into()];
        let e = build(&o).unwrap_err().to_string();
        assert!(
            e.contains("[email] to") && e.contains("not an address"),
            "{e}"
        );
    }
}
