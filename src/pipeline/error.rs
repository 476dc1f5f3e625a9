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
    /// `--send` before any `fetch` completed on the store: a digest or a reminder made now would
    /// announce nothing, or the whole history at once.
    #[error("no fetch has completed on the store {0} yet, so there is nothing true to send; run `geultto-agg fetch` first (nothing was sent or recorded)")]
    NeverFetched(std::path::PathBuf),
    /// `--member` named nobody on the roster.
    #[error("no member `{0}` in the roster; check the id in feeds.toml")]
    UnknownMember(String),
}
