//! Delivering a parcel — the messages of one kind and period for one channel — exactly once:
//! skipped when the store says it was delivered (unless `force`), resumed after the last
//! accepted message when a run stopped halfway, and each message recorded the moment the
//! platform accepted it. The digest's and the reminder's jobs build parcels; this sends them.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::RunError;
use crate::chat::deliver::{ChatError, Outcome, Sender, Target};
use crate::store::Store;
use crate::time::rfc3339_unix;

/// The messages of one kind and period for one channel.
#[derive(Debug)]
pub struct Parcel {
    /// `digest` or `remind`.
    pub kind: &'static str,
    /// `2024-W46` or `round-5`.
    pub period: String,
    /// The channel by role: `chat:members`, `chat:operators`, `dm:<member>`.
    pub channel: String,
    /// Where it goes, or why it cannot (a variable not set).
    pub target: Result<Target, ChatError>,
    /// The messages, in order.
    pub messages: Vec<Value>,
}

/// Sends `parcel` unless it was delivered before (or `force`), recording each accepted message.
pub async fn deliver(
    store: &mut Store,
    sender: &mut Sender,
    parcel: Parcel,
    force: bool,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Result<Outcome, RunError> {
    let Parcel {
        kind,
        period,
        channel,
        target,
        messages,
    } = parcel;
    let before = store.delivery(kind, &period, &channel)?;
    let start = match &before {
        Some(d) if d.complete() && !force => {
            return Ok(Outcome::AlreadyDelivered {
                channel,
                at: rfc3339_unix(d.sent_at, tz),
            })
        }
        Some(d) if !force => (d.parts as usize).min(messages.len()),
        _ => 0,
    };
    let target = match target {
        Ok(t) => t,
        Err(e) => {
            return Ok(Outcome::Failed {
                channel,
                accepted: 0,
                error: e.to_string(),
            })
        }
    };
    let total = messages.len() as u32;
    let mut accepted = 0;
    for (i, message) in messages.iter().enumerate().skip(start) {
        if let Err(e) = sender.post(&target, message).await {
            return Ok(Outcome::Failed {
                channel,
                accepted,
                error: e.to_string(),
            });
        }
        store.record_delivered((kind, &period, &channel), i as u32, total, now.timestamp())?;
        accepted += 1;
    }
    Ok(Outcome::Delivered {
        channel,
        messages: accepted,
    })
}
