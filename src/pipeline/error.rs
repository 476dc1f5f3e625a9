//! The one error that stops a job: the store, the outputs or the mail could not be used, or the
//! command named something the roster lacks. A feed's failure is never one of these.

use crate::mail;
use crate::render::RenderError;
use crate::store::StoreError;

/// A failure that stops the run (per-feed failures never do).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The store could not be used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The outputs could not be written.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Mail could not be built or the password is missing.
    #[error(transparent)]
    Mail(#[from] mail::MailError),
    /// `--send` with neither an `[email]` nor a `[chat]` section.
    #[error("--send needs an [email] section (smtp_host, from, to) or a [chat] section (kind, members_webhook_env) in the config; see the README")]
    NoEmail,
    /// `--member` named nobody on the roster.
    #[error("no member `{0}` in the roster; check the id in feeds.toml")]
    UnknownMember(String),
}
