//! Chat: the digest and the deadline reminders in Slack and Discord, next to `mail.rs` for
//! email.
//!
//! `slack` and `discord` build each platform's messages from the render stage's models (the
//! digest, the reminder, the operators' tally) — within the platform's limits (`limits`), split
//! into several messages when the week is long, with text from feeds escaped so a title can
//! never ping a channel or make a link. `deliver` sends them: where a message goes (a webhook
//! whose URL an environment variable holds, or Slack's Web API with a bot token), one at a time
//! and paced, a `429` waited out, and the platform's answer turned into accepted or refused.
//! Webhook URLs and tokens never appear in logs, errors or the store. The pipeline's digest and
//! reminder jobs call this room; nothing else does.

pub mod deliver;
pub mod discord;
pub mod limits;
pub mod slack;

use serde_json::Value;

use crate::config::ChatKind;
use crate::render::digest::Digest;
use crate::render::remind::{Reminder, Tally};

/// The webhook messages of one audience's digest on `kind`, in sending order.
pub fn digest_messages(kind: ChatKind, digest: &Digest) -> Vec<Value> {
    match kind {
        ChatKind::Slack => slack::digest(digest),
        ChatKind::Discord => discord::digest(digest),
    }
}

/// The members' channel reminder on `kind`, in sending order.
pub fn reminder_messages(kind: ChatKind, reminder: &Reminder) -> Vec<Value> {
    match kind {
        ChatKind::Slack => slack::reminder(reminder),
        ChatKind::Discord => discord::reminder(reminder),
    }
}

/// The operators' count of a reminder run on `kind`.
pub fn tally_message(kind: ChatKind, tally: &Tally) -> Value {
    match kind {
        ChatKind::Slack => slack::tally(tally),
        ChatKind::Discord => discord::tally(tally),
    }
}
