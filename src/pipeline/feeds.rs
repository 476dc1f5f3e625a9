//! `feeds`: reads what the store remembers of every feed, and the discovery cache of members who
//! gave only a blog, for the health table.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::error::RunError;
use crate::config::Config;
use crate::render::feeds::{self, FeedLine, FeedsInputs};
use crate::store::Store;

/// Health of every feed of the roster, in roster order.
pub fn feed_lines(
    config: &Config,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<Vec<FeedLine>, RunError> {
    let health = store.feed_health()?;
    let mut discovered = HashMap::new();
    for member in config.members.iter().filter(|m| m.feeds.is_empty()) {
        if let Some(row) = store.discovered(&member.id)? {
            discovered.insert(member.id.clone(), row);
        }
    }
    Ok(feeds::lines(&FeedsInputs {
        config,
        health: &health,
        discovered: &discovered,
        now,
    }))
}
