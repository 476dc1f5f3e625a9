//! Deliveries to chat channels and to members' own addresses: which message kind for which
//! period reached which channel, message by message.
//!
//! `digest --send` and `remind --send` consult this before posting, so a cron retry never posts
//! the same week or round to the same channel twice (unless `--force`), and record each message
//! only once the platform accepted it. A delivery of several messages stopped halfway (a
//! refusal, a killed run) is resumed after its last accepted message. Email digests keep their
//! own table (`digests_sent`): one channel failing neither blocks nor repeats the other.

use rusqlite::{params, OptionalExtension};

use super::{Result, Store};

/// One delivery's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `digest` or `remind`.
    pub kind: String,
    /// The ISO week (`2024-W46`) or the round (`round-5`).
    pub period: String,
    /// The channel by role: `chat:members`, `chat:operators`, `dm:<member>`, `mail:<member>`.
    pub channel: String,
    /// Messages accepted so far.
    pub parts: u32,
    /// Messages the delivery has.
    pub total: u32,
    /// When the last message was accepted (Unix seconds).
    pub sent_at: i64,
    /// How many times it was started (more than 1 only with `--force`).
    pub sends: u32,
}

impl Delivery {
    /// Every message was accepted.
    pub fn complete(&self) -> bool {
        self.parts >= self.total
    }
}

impl Store {
    /// The record of `kind` for `period` on `channel`, if any message of it was accepted.
    pub fn delivery(&self, kind: &str, period: &str, channel: &str) -> Result<Option<Delivery>> {
        self.conn
            .query_row(
                "SELECT kind, period, channel, parts, total, sent_at, sends FROM deliveries
                 WHERE kind = ?1 AND period = ?2 AND channel = ?3",
                [kind, period, channel],
                |r| {
                    Ok(Delivery {
                        kind: r.get(0)?,
                        period: r.get(1)?,
                        channel: r.get(2)?,
                        parts: r.get(3)?,
                        total: r.get(4)?,
                        sent_at: r.get(5)?,
                        sends: r.get(6)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records that message `part` (0-based) of `total` was accepted at `at`. The first message
    /// of a repeated delivery (`--force`) counts one more send.
    pub fn record_delivered(
        &mut self,
        (kind, period, channel): (&str, &str, &str),
        part: u32,
        total: u32,
        at: i64,
    ) -> Result<()> {
        self.immediate(|tx| {
            tx.execute(
                "INSERT INTO deliveries(kind, period, channel, parts, total, sent_at, sends)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1)
                 ON CONFLICT(kind, period, channel) DO UPDATE SET parts = excluded.parts,
                    total = excluded.total, sent_at = excluded.sent_at,
                    sends = sends + (excluded.parts = 1)",
                params![kind, period, channel, part + 1, total, at],
            )?;
            Ok(())
        })
    }

    /// Records that the members' chat digest of `week` carried these posts, so a post first
    /// seen late is announced once, as the email digest does.
    pub fn record_posts_announced(&mut self, week: &str, post_ids: &[i64]) -> Result<()> {
        self.immediate(|tx| {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO digest_posts(week, audience, post_id) VALUES (?1, 'chat', ?2)",
            )?;
            for id in post_ids {
                insert.execute(params![week, id])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delivery_is_recorded_message_by_message_and_a_forced_one_counts_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("g.db")).unwrap();
        let key = ("digest", "2024-W46", "chat:members");
        assert_eq!(s.delivery(key.0, key.1, key.2).unwrap(), None);
        s.record_delivered(key, 0, 3, 100).unwrap();
        let d = s.delivery(key.0, key.1, key.2).unwrap().unwrap();
        assert_eq!((d.parts, d.total, d.complete(), d.sends), (1, 3, false, 1));
        s.record_delivered(key, 1, 3, 101).unwrap();
        s.record_delivered(key, 2, 3, 102).unwrap();
        let d = s.delivery(key.0, key.1, key.2).unwrap().unwrap();
        assert_eq!(
            (d.parts, d.complete(), d.sent_at, d.sends),
            (3, true, 102, 1)
        );
        // --force starts again from the first message.
        s.record_delivered(key, 0, 2, 200).unwrap();
        let d = s.delivery(key.0, key.1, key.2).unwrap().unwrap();
        assert_eq!((d.parts, d.total, d.complete(), d.sends), (1, 2, false, 2));
        assert_eq!(
            s.delivery("digest", "2024-W46", "chat:operators").unwrap(),
            None
        );
    }
}
