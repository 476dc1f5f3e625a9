//! Chat delivery (to come): the digest and the deadline reminders in Slack and Discord.
//!
//! This room will own posting to chat, next to `mail.rs` for email: Slack incoming webhooks
//! (Block Kit) and bot-token direct messages, Discord webhooks (content and embeds), each message
//! built within its platform's limits and split when the week is long, text from feeds escaped
//! so a title can never ping a channel, and a platform's answer (accepted, refused, rate-limited)
//! turned into an outcome the pipeline records. Webhook URLs and tokens are read from the
//! environment variables `[chat]` names and never appear in logs, errors or the store.
//!
//! It will take the render stage's models (the digest, the reminder) and the config's `[chat]`
//! section; the pipeline's digest and reminder jobs call it. Nothing else imports it.

pub mod discord;
pub mod limits;
pub mod slack;
