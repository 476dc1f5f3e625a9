//! `remind`: the reminder before a round closes, to every channel the config names — the
//! members' chat channel (who is still pending, by team, with mentions), a direct message to
//! each pending member with a Slack id (with a bot token), a short mail to each pending member
//! with an address (with `[email]`), then the count to the operators' channel.
//!
//! [`prepare_reminder`] judges the rounds, picks the round and builds every message without
//! sending anything (what `remind` prints); [`send_reminder`] delivers each once per round —
//! every channel and every member recorded on their own, so one refusal neither blocks nor
//! repeats the others.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::build::judgement;
use super::deliver::{deliver, Parcel};
use super::error::RunError;
use crate::chat;
use crate::chat::deliver::{ChatError, Outcome, Sender, Target};
use crate::config::{ChatKind, Config};
use crate::mail::{self, ReminderMail};
use crate::render::remind::{self, NoRound, Reminder, Tally};
use crate::store::Store;
use crate::time::rfc3339_unix;

/// Everything a reminder run would send, built and not sent.
#[derive(Debug, Serialize)]
pub struct PreparedReminder {
    /// The round and its pending members.
    pub reminder: Reminder,
    /// The chat platform, when `[chat]` is set.
    pub platform: Option<&'static str>,
    /// Each message, in sending order (the operators' count last).
    pub messages: Vec<Planned>,
}

/// One message a reminder run sends.
#[derive(Debug, Serialize)]
pub struct Planned {
    /// The channel by role: `chat:members`, `dm:<member>`, `mail:<member>`, `chat:operators`.
    pub channel: String,
    /// The platform payload (chat), or the mail's subject and text.
    pub payload: Value,
    /// The mail's recipient (mail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// The reminder of `round` (or of the open round closing within `remind_before`), built.
pub fn prepare_reminder(
    config: &Config,
    store: &Store,
    round: Option<u32>,
    now: DateTime<Utc>,
) -> Result<Result<PreparedReminder, NoRound>, RunError> {
    let tz = config.club.timezone;
    let judged = judgement(config, store, now)?;
    let window = config
        .chat
        .as_ref()
        .map_or(crate::config::REMIND_BEFORE, |c| c.remind_before);
    let picked = match remind::which_round(&judged.rounds, round, window, now, tz) {
        Ok(r) => r.clone(),
        Err(e) => return Ok(Err(e)),
    };
    let reminder = remind::model(config, &judged, &picked, now);
    let mut messages = Vec::new();
    if let Some(chat) = &config.chat {
        if chat.members_webhook_env.is_some() && reminder.pending > 0 {
            for payload in chat::reminder_messages(chat.kind, &reminder) {
                messages.push(planned("chat:members", payload));
            }
        }
        if chat.kind == ChatKind::Slack && chat.bot_token_env.is_some() {
            for m in reminder.members() {
                if let Some(payload) = chat::slack::direct(&reminder, m) {
                    messages.push(planned(&format!("dm:{}", m.id), payload));
                }
            }
        }
    }
    if config.email.is_some() {
        for m in reminder.members() {
            if let Some(to) = &m.email {
                messages.push(Planned {
                    channel: format!("mail:{}", m.id),
                    payload: serde_json::json!({
                        "subject": reminder.personal_subject(),
                        "text": reminder.personal_text(m),
                    }),
                    to: Some(to.clone()),
                });
            }
        }
    }
    if let Some(chat) = config
        .chat
        .as_ref()
        .filter(|c| c.operators_webhook_env.is_some())
    {
        let tally = expected_tally(&reminder, &messages);
        messages.push(planned(
            "chat:operators",
            chat::tally_message(chat.kind, &tally),
        ));
    }
    Ok(Ok(PreparedReminder {
        platform: config.chat.as_ref().map(|c| c.kind.as_str()),
        reminder,
        messages,
    }))
}

fn planned(channel: &str, payload: Value) -> Planned {
    Planned {
        channel: channel.to_string(),
        payload,
        to: None,
    }
}

/// The count the operators would hear if every message were accepted.
fn expected_tally(r: &Reminder, messages: &[Planned]) -> Tally {
    let count = |prefix: &str| {
        messages
            .iter()
            .filter(|m| m.channel.starts_with(prefix))
            .count()
    };
    Tally {
        round: r.round,
        reminded: r.pending,
        judged: r.judged,
        direct: count("dm:"),
        mails: count("mail:"),
    }
}

/// Sends every prepared message once per round (or again with `force`), recording each
/// channel and member on its own. The operators' count reports what was actually accepted.
pub async fn send_reminder(
    config: &Config,
    store: &mut Store,
    prepared: PreparedReminder,
    force: bool,
    now: DateTime<Utc>,
) -> Result<Vec<Outcome>, RunError> {
    let tz = config.club.timezone;
    let period = format!("round-{}", prepared.reminder.round);
    let mut sender = Sender::new(&config.fetch.settings);
    let mut outcomes = Vec::new();
    let mut tally = Tally {
        round: prepared.reminder.round,
        reminded: prepared.reminder.pending,
        judged: prepared.reminder.judged,
        direct: 0,
        mails: 0,
    };
    let mut groups: Vec<(String, Vec<Planned>)> = Vec::new();
    for m in prepared.messages {
        match groups.last_mut() {
            Some((channel, list)) if *channel == m.channel => list.push(m),
            _ => groups.push((m.channel.clone(), vec![m])),
        }
    }
    for (channel, list) in groups {
        let outcome = if channel.starts_with("mail:") {
            let run = MailRun {
                config,
                period: &period,
                round: tally.round,
                force,
                now,
            };
            send_mail(&run, store, &channel, list.first()).await?
        } else {
            let mut messages: Vec<Value> = list.into_iter().map(|m| m.payload).collect();
            if channel == "chat:operators" {
                if let Some(chat) = &config.chat {
                    messages = vec![chat::tally_message(chat.kind, &tally)];
                }
            }
            let parcel = Parcel {
                kind: "remind",
                period: period.clone(),
                target: config
                    .chat
                    .as_ref()
                    .and_then(|chat| Target::for_channel(chat, &channel))
                    .unwrap_or_else(|| Err(ChatError::NotConfigured(channel.clone()))),
                channel: channel.clone(),
                messages,
            };
            deliver(store, &mut sender, parcel, force, now, tz).await?
        };
        if matches!(
            outcome,
            Outcome::Delivered { .. } | Outcome::AlreadyDelivered { .. }
        ) {
            if channel.starts_with("dm:") {
                tally.direct += 1;
            } else if channel.starts_with("mail:") {
                tally.mails += 1;
            }
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// What every reminder mail of a run shares.
#[derive(Clone, Copy)]
struct MailRun<'a> {
    config: &'a Config,
    period: &'a str,
    round: u32,
    force: bool,
    now: DateTime<Utc>,
}

/// One member's reminder mail, once per round.
async fn send_mail(
    run: &MailRun<'_>,
    store: &mut Store,
    channel: &str,
    planned: Option<&Planned>,
) -> Result<Outcome, RunError> {
    let MailRun {
        config,
        period,
        round,
        force,
        now,
    } = *run;
    let (Some(email), Some(m)) = (&config.email, planned) else {
        return Ok(Outcome::Skipped {
            channel: channel.to_string(),
            why: "no [email] section".into(),
        });
    };
    if let Some(d) = store.delivery("remind", period, channel)? {
        if d.complete() && !force {
            return Ok(Outcome::AlreadyDelivered {
                channel: channel.to_string(),
                at: rfc3339_unix(d.sent_at, config.club.timezone),
            });
        }
    }
    let text = |key: &str| {
        m.payload
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let member = channel.trim_start_matches("mail:");
    let message = mail::reminder(
        &ReminderMail {
            from: &email.from,
            to: m.to.as_deref().unwrap_or_default(),
            member,
            round,
            host: &config.club.host,
            subject: text("subject"),
            text: text("text"),
        },
        now,
    );
    let sent = match message {
        Ok(message) => match mail::credentials(email) {
            Ok(credentials) => mail::send(email, credentials, message).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => {
            store.record_delivered(("remind", period, channel), 0, 1, now.timestamp())?;
            Ok(Outcome::Delivered {
                channel: channel.to_string(),
                messages: 1,
            })
        }
        Err(e) => Ok(Outcome::Failed {
            channel: channel.to_string(),
            accepted: 0,
            error: e.to_string(),
        }),
    }
}
