//! Validation of where the tool talks to people: the `[chat]` section (platform, the names of
//! the environment variables that hold webhook URLs and the bot token, the reminder window) and
//! a member's own `email` and `slack_id`.
//!
//! Secrets never live in `feeds.toml`, so a `*_env` key must hold a variable's name; one that
//! holds something that looks like the secret itself (a URL, a token) is refused without
//! repeating its value, which would otherwise end up in a terminal or a CI log.

use std::time::Duration;

use toml::Spanned;

use super::raw::RawChat;
use super::types::{Chat, ChatKind};
use super::validate::Validator;

/// `remind` without `--round` reminds of a round closing within this (also without `[chat]`).
pub const REMIND_BEFORE: Duration = Duration::from_secs(30 * 3600);

impl Validator<'_> {
    /// The `[chat]` section.
    pub(super) fn chat(&mut self, raw: RawChat) -> Chat {
        let kind = match raw.kind.get_ref().as_str() {
            "slack" => ChatKind::Slack,
            "discord" => ChatKind::Discord,
            other => {
                self.problem(
                    Some(raw.kind.span()),
                    "chat.kind",
                    format!("`{other}` is not a chat platform; write \"slack\" or \"discord\""),
                );
                ChatKind::Slack
            }
        };
        let members_webhook_env =
            self.env_name(raw.members_webhook_env, "chat.members_webhook_env");
        let operators_webhook_env =
            self.env_name(raw.operators_webhook_env, "chat.operators_webhook_env");
        let bot_token_env = self.env_name(raw.bot_token_env.clone(), "chat.bot_token_env");
        if let (ChatKind::Discord, Some(span)) = (kind, raw.bot_token_env.as_ref()) {
            if bot_token_env.is_some() {
                self.problem(
                    Some(span.span()),
                    "chat.bot_token_env",
                    "direct messages are sent through Slack only; remove bot_token_env or set kind = \"slack\"",
                );
            }
        }
        if members_webhook_env.is_none()
            && operators_webhook_env.is_none()
            && bot_token_env.is_none()
        {
            self.problem(
                Some(raw.kind.span()),
                "chat",
                "[chat] names no channel; set members_webhook_env to the environment variable holding the members' channel webhook URL",
            );
        }
        Chat {
            kind,
            members_webhook_env,
            operators_webhook_env,
            bot_token_env,
            remind_before: self.duration(raw.remind_before, "chat.remind_before", REMIND_BEFORE),
        }
    }

    /// A `*_env` value: the name of an environment variable (empty: not set).
    fn env_name(&mut self, raw: Option<Spanned<String>>, key: &str) -> Option<String> {
        let raw = raw?;
        let name = raw.get_ref().trim();
        if name.is_empty() {
            return None;
        }
        let well_formed = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if well_formed {
            return Some(name.to_string());
        }
        let looks_secret = name.contains("://") || name.starts_with("xox");
        let message = if looks_secret {
            "this looks like the secret itself (a URL or a token), which must never be in feeds.toml; \
             put it in an environment variable and write that variable's name here, e.g. \"GEULTTO_CHAT_MEMBERS\""
                .to_string()
        } else {
            format!("`{name}` is not an environment variable name; use letters, digits and `_`, e.g. \"GEULTTO_CHAT_MEMBERS\"")
        };
        self.problem(Some(raw.span()), key, message);
        None
    }

    /// A member's `email` and `slack_id`.
    pub(super) fn contact(
        &mut self,
        email: Option<Spanned<String>>,
        slack_id: Option<Spanned<String>>,
        key: &str,
    ) -> (Option<String>, Option<String>) {
        let email = email.and_then(|e| {
            let text = e.get_ref().trim();
            let ok = text
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
                && !text.contains(char::is_whitespace);
            if !ok {
                self.problem(
                    Some(e.span()),
                    format!("{key}.email"),
                    format!("`{text}` is not a mail address; write e.g. \"minji@example.org\""),
                );
            }
            ok.then(|| text.to_string())
        });
        let slack_id = slack_id.and_then(|s| {
            let text = s.get_ref().trim();
            let ok = text.len() >= 3
                && text.starts_with(['U', 'W'])
                && text
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !ok {
                self.problem(
                    Some(s.span()),
                    format!("{key}.slack_id"),
                    format!("`{text}` is not a Slack user id; it looks like \"U0123ABCD\" (in Slack: the member's profile → ⋮ → Copy member ID)"),
                );
            }
            ok.then(|| text.to_string())
        });
        (email, slack_id)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{ChatKind, Config};

    const BASE: &str = r#"
[club]
name = "글또"
url = "https://geultto.github.io/"

[rounds]
start = "2024-09-29"
due = ["2024-10-13", "2024-10-27"]
"#;

    fn load(rest: &str) -> Result<Config, String> {
        let text = format!("{BASE}{rest}");
        super::super::validate::validate(&text, std::path::Path::new("feeds.toml")).map_err(|p| {
            p.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    #[test]
    fn chat_reads_names_of_variables_and_member_contacts() {
        let c = load(
            r#"
[chat]
kind = "slack"
members_webhook_env = "GEULTTO_CHAT_MEMBERS"
bot_token_env = "GEULTTO_SLACK_TOKEN"
remind_before = "1d"

[[members]]
id = "minji"
name = "김민지"
feeds = ["https://minji.tistory.com/rss"]
email = "minji@example.org"
slack_id = "U0123ABCD"
"#,
        )
        .unwrap();
        let chat = c.chat.unwrap();
        assert_eq!(chat.kind, ChatKind::Slack);
        assert_eq!(
            chat.members_webhook_env.as_deref(),
            Some("GEULTTO_CHAT_MEMBERS")
        );
        assert_eq!(chat.operators_webhook_env, None);
        assert_eq!(chat.remind_before.as_secs(), 86400);
        assert_eq!(c.members[0].email.as_deref(), Some("minji@example.org"));
        assert_eq!(c.members[0].slack_id.as_deref(), Some("U0123ABCD"));
    }

    #[test]
    fn a_secret_written_into_the_file_is_refused_without_repeating_it() {
        let err = load(
            r#"
[chat]
kind = "discord"
members_webhook_env = "https://discord.com/api/webhooks/1/SECRETTOKEN"
bot_token_env = "X"
"#,
        )
        .unwrap_err();
        assert!(err.contains("looks like the secret itself"), "{err}");
        assert!(!err.contains("SECRETTOKEN"), "{err}");
        assert!(err.contains("Slack only"), "{err}");
    }

    #[test]
    fn bad_kind_contacts_and_an_empty_section_are_each_reported() {
        let err = load(
            r#"
[chat]
kind = "teams"

[[members]]
id = "minji"
name = "김민지"
feeds = ["https://minji.tistory.com/rss"]
email = "minji"
slack_id = "@minji"
"#,
        )
        .unwrap_err();
        for needle in ["chat.kind", "names no channel", ".email", ".slack_id"] {
            assert!(err.contains(needle), "{needle} missing in {err}");
        }
    }
}
