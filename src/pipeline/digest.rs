//! `digest`: make the week's digest for both audiences, write its files, and send it once.
//!
//! [`prepare_digests`] reads the store and renders each audience's digest in every format, as a
//! message ready to send; [`write_digests`] writes the `.html .txt .md .eml` files;
//! [`send_digests`] mails each audience that has recipients and was not sent this week yet (or
//! `force`), recording a send only once the server accepted it; [`send_chat_digests`] posts
//! each audience's digest to its chat channel, recorded on its own (mail and chat never block
//! or repeat each other).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::build::judge_with;
use super::deliver::{deliver, Parcel};
use super::error::RunError;
use super::hand::hand_posts;
use crate::chat::{self, deliver::Outcome, deliver::Sender, deliver::Target};
use crate::config::Config;
use crate::mail::{self, DigestMail};
use crate::normalise::one_line;
use crate::render;
use crate::render::digest::{self, Audience, Digest, Format, SendOutcome, Week};
use crate::render::templates::Templates;
use crate::render::Written;
use crate::store::{SentDigest, Store};

/// One audience's digest, rendered in every format and assembled as mail.
#[derive(Debug)]
pub struct PreparedDigest {
    /// Who it is for.
    pub audience: Audience,
    /// What it says (the model the templates rendered).
    pub digest: Digest,
    /// The HTML email body.
    pub html: String,
    /// The plain-text body.
    pub text: String,
    /// The Markdown version (for chat or Notion).
    pub markdown: String,
    /// The complete message (`.eml`).
    pub eml: Vec<u8>,
    /// The message, ready to send.
    pub message: lettre::Message,
    /// The message's Message-ID, recorded when it is sent.
    pub message_id: String,
    /// Real recipients from `[email]`, `To` and Bcc (empty: nobody to send to).
    pub recipients: Vec<String>,
}

impl PreparedDigest {
    /// The file name stem, e.g. `2024-W46-members`.
    pub fn stem(&self) -> String {
        format!("{}-{}", self.digest.week, self.audience.as_str())
    }

    /// Each form of the digest with its file extension: `html`, `txt`, `md`, `eml`.
    pub fn files(&self) -> [(&'static str, &[u8]); 4] {
        [
            ("html", self.html.as_bytes()),
            ("txt", self.text.as_bytes()),
            ("md", self.markdown.as_bytes()),
            ("eml", self.eml.as_slice()),
        ]
    }
}

/// The digest of `week` for both audiences, rendered and assembled (nothing written or sent).
pub fn prepare_digests(
    config: &Config,
    store: &Store,
    week: Week,
    now: DateTime<Utc>,
) -> Result<Vec<PreparedDigest>, RunError> {
    let templates = Templates::load(config.output.templates.as_deref())?;
    let posts = store.all_posts()?;
    let already_sent = store.posts_in_sent_digests(&week.to_string())?;
    let health = store.feed_health()?;
    let hand = hand_posts(config, store)?;
    let judgement = judge_with(config, store, now, &hand)?;
    let inputs = digest::Inputs {
        config,
        posts: &posts,
        hand: &hand,
        already_sent: &already_sent,
        first_run: store.first_run_completed_at()?,
        judgement: &judgement,
        health: &health,
        now,
    };
    let club = one_line(&config.club.name);
    let mut out = Vec::new();
    for audience in Audience::ALL {
        let d = digest::model(&inputs, week, audience);
        let html = digest::render(&templates, &d, Format::Html)?;
        let text = digest::render(&templates, &d, Format::Text)?;
        let markdown = digest::render(&templates, &d, Format::Markdown)?;
        let (to, bcc, unsubscribe) = match (&config.email, audience) {
            (Some(e), Audience::Members) => (e.to.clone(), e.bcc.clone(), e.unsubscribe.as_deref()),
            (Some(e), Audience::Operators) => (e.operators.clone(), Vec::new(), None),
            (None, _) => (Vec::new(), Vec::new(), None),
        };
        let outgoing = mail::digest_outgoing(
            &DigestMail {
                club: &club,
                host: &config.club.host,
                from: config.email.as_ref().map(|e| e.from.as_str()),
                recipients: &to,
                bcc: &bcc,
                unsubscribe,
                week: &d.week,
                audience: audience.as_str(),
                subject: &d.subject,
                text: &text,
                html: &html,
            },
            now,
        );
        let message = mail::build(&outgoing)?;
        out.push(PreparedDigest {
            audience,
            eml: mail::eml(&message),
            message,
            message_id: outgoing.message_id,
            recipients: to.into_iter().chain(bcc).collect(),
            digest: d,
            html,
            text,
            markdown,
        });
    }
    Ok(out)
}

/// Writes each audience's `.html .txt .md .eml` into `dir` and says of each file whether it
/// changed. An audience whose digest of the week was mailed already keeps the files of the copy
/// that was sent (a new render has a new `Date` and Message-ID), unless `resend`.
pub fn write_digests(
    dir: &Path,
    store: &Store,
    prepared: &[PreparedDigest],
    resend: bool,
) -> Result<Digests, RunError> {
    let mut out = Digests::default();
    for p in prepared {
        let stem = p.stem();
        if !resend
            && store
                .digest_sent(&p.digest.week, p.audience.as_str())?
                .is_some()
        {
            out.kept.push(dir.join(format!("{stem}.*")));
            continue;
        }
        for (ext, bytes) in p.files() {
            let path = dir.join(format!("{stem}.{ext}"));
            out.written.push(render::write_atomic(&path, bytes)?);
        }
    }
    Ok(out)
}

/// The digest files of a run.
#[derive(Debug, Default)]
pub struct Digests {
    /// Files written or found unchanged.
    pub written: Vec<Written>,
    /// Audiences whose sent copy was kept (as `dir/stem.*`).
    pub kept: Vec<PathBuf>,
}

/// Posts each audience's digest to its chat channel (members' digest to the members' channel,
/// operators' to the operators'), once per week and channel unless `force`. The posts the
/// members' channel announced count as announced, as a mailed digest's do.
pub async fn send_chat_digests(
    config: &Config,
    store: &mut Store,
    prepared: &[PreparedDigest],
    force: bool,
    now: DateTime<Utc>,
) -> Result<Vec<Outcome>, RunError> {
    let Some(chat) = &config.chat else {
        return Ok(Vec::new());
    };
    let mut sender = Sender::new(&config.fetch.settings);
    let mut outcomes = Vec::new();
    for p in prepared {
        let channel = match p.audience {
            Audience::Members => "chat:members",
            Audience::Operators => "chat:operators",
        };
        let Some(target) = Target::for_channel(chat, channel) else {
            continue;
        };
        let parcel = Parcel {
            kind: "digest",
            period: p.digest.week.clone(),
            channel: channel.to_string(),
            target,
            messages: chat::digest_messages(chat.kind, &p.digest),
        };
        let outcome = deliver(store, &mut sender, parcel, force, now, config.club.timezone).await?;
        if p.audience == Audience::Members && matches!(outcome, Outcome::Delivered { .. }) {
            store.record_posts_announced(&p.digest.week, &p.digest.post_ids)?;
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Sends each prepared digest that has recipients and was not sent yet (or `force`), recording
/// each accepted send in the store. A failed send is not recorded.
pub async fn send_digests(
    config: &Config,
    store: &mut Store,
    prepared: Vec<PreparedDigest>,
    force: bool,
    now: DateTime<Utc>,
) -> Result<Vec<SendOutcome>, RunError> {
    let email = config.email.as_ref().ok_or(RunError::NoEmail)?;
    let mut outcomes = Vec::new();
    for p in prepared {
        if p.recipients.is_empty() {
            outcomes.push(SendOutcome::NoRecipients(p.audience));
            continue;
        }
        let week = p.digest.week.clone();
        if let Some(sent) = store.digest_sent(&week, p.audience.as_str())? {
            if !force {
                outcomes.push(SendOutcome::AlreadySent {
                    audience: p.audience,
                    sent_at: sent.sent_at,
                });
                continue;
            }
        }
        let credentials = mail::credentials(email)?;
        match mail::send(email, credentials, p.message).await {
            Ok(()) => {
                store.record_digest_sent(
                    &SentDigest {
                        week,
                        audience: p.audience.as_str().to_string(),
                        sent_at: now.timestamp(),
                        message_id: p.message_id.clone(),
                        recipients: p.recipients.len() as u32,
                        sends: 1,
                    },
                    &p.digest.post_ids,
                )?;
                outcomes.push(SendOutcome::Sent {
                    audience: p.audience,
                    recipients: p.recipients.len(),
                });
            }
            Err(error) => outcomes.push(SendOutcome::Failed {
                audience: p.audience,
                error,
            }),
        }
    }
    Ok(outcomes)
}
