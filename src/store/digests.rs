//! The digests that were sent: one row per (ISO week, audience), with the posts each carried.
//!
//! `digest --send` consults this before sending, so a cron retry never mails the same week to
//! the same audience twice (unless `--force`), and records a send only after the SMTP server
//! accepted it. The posts a sent digest carried decide which late-seen posts still need
//! announcing: a post first seen late is announced once, in the next digest not yet sent.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension};

use super::{Result, Store};

/// A digest that was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentDigest {
    /// ISO week, e.g. `2024-W46`.
    pub week: String,
    /// `members` or `operators`.
    pub audience: String,
    /// When the server accepted it (Unix seconds; the last send with `--force`).
    pub sent_at: i64,
    /// The Message-ID of the last send.
    pub message_id: String,
    /// How many recipients it went to.
    pub recipients: u32,
    /// How many times it was sent (more than 1 only with `--force`).
    pub sends: u32,
}

impl Store {
    /// The record of the digest of `week` sent to `audience`, if it was sent.
    pub fn digest_sent(&self, week: &str, audience: &str) -> Result<Option<SentDigest>> {
        self.conn
            .query_row(
                "SELECT week, audience, sent_at, message_id, recipients, sends
                 FROM digests_sent WHERE week = ?1 AND audience = ?2",
                [week, audience],
                |r| {
                    Ok(SentDigest {
                        week: r.get(0)?,
                        audience: r.get(1)?,
                        sent_at: r.get(2)?,
                        message_id: r.get(3)?,
                        recipients: r.get(4)?,
                        sends: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records that the digest of `week` went to `audience`, with the posts it carried, in one
    /// transaction. A repeated send (`--force`) updates the row and adds to the post list.
    pub fn record_digest_sent(&mut self, sent: &SentDigest, post_ids: &[i64]) -> Result<()> {
        self.immediate(|tx| {
            tx.execute(
                "INSERT INTO digests_sent(week, audience, sent_at, message_id, recipients, sends)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1)
                 ON CONFLICT(week, audience) DO UPDATE SET sent_at = excluded.sent_at,
                    message_id = excluded.message_id, recipients = excluded.recipients,
                    sends = sends + 1",
                params![
                    sent.week,
                    sent.audience,
                    sent.sent_at,
                    sent.message_id,
                    sent.recipients
                ],
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO digest_posts(week, audience, post_id) VALUES (?1, ?2, ?3)",
            )?;
            for id in post_ids {
                insert.execute(params![sent.week, sent.audience, id])?;
            }
            Ok(())
        })
    }

    /// Posts carried by a sent digest of any week other than `except_week`.
    pub fn posts_in_sent_digests(&self, except_week: &str) -> Result<HashSet<i64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT post_id FROM digest_posts WHERE week <> ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([except_week], |r| r.get::<_, i64>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<HashSet<_>>>()
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_send_is_recorded_once_and_a_forced_resend_counts() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("g.db")).unwrap();
        assert_eq!(s.digest_sent("2024-W46", "members").unwrap(), None);
        let sent = SentDigest {
            week: "2024-W46".into(),
            audience: "members".into(),
            sent_at: 100,
            message_id: "<a@b>".into(),
            recipients: 2,
            sends: 1,
        };
        s.record_digest_sent(&sent, &[]).unwrap();
        assert_eq!(
            s.digest_sent("2024-W46", "members").unwrap(),
            Some(sent.clone())
        );
        assert_eq!(s.digest_sent("2024-W46", "operators").unwrap(), None);
        s.record_digest_sent(
            &SentDigest {
                sent_at: 200,
                ..sent.clone()
            },
            &[],
        )
        .unwrap();
        let again = s.digest_sent("2024-W46", "members").unwrap().unwrap();
        assert_eq!((again.sent_at, again.sends), (200, 2));
        assert!(s.posts_in_sent_digests("2024-W47").unwrap().is_empty());
    }
}
