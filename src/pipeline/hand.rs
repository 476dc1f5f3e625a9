//! Posts recorded by hand (`extra_posts`): the roster's entries completed with what their pages
//! gave — the roster's title and date win, the page's fill in, the page's length is the post's
//! length. They are judged and published like any post: in rounds, `atom.xml`, the page and the
//! digest.

use chrono::{DateTime, Utc};

use super::error::RunError;
use crate::config::Config;
use crate::ids::TagContext;
use crate::rounds::HandPost;
use crate::source::FeedSource;
use crate::store::{Store, StoredPost};
use crate::time::{local_date, local_midnight};

/// Every member's posts recorded by hand, completed from their pages; an entry with no date of
/// its own whose page gave none (or was not read yet) is left out until its page gives one.
pub fn hand_posts(config: &Config, store: &Store) -> Result<Vec<HandPost>, RunError> {
    let tz = config.club.timezone;
    let mut posts = Vec::new();
    for member in &config.members {
        for e in &member.extra_posts {
            let page = store.page(e.url.as_str())?;
            let page_date = page
                .as_ref()
                .and_then(|p| p.published)
                .map(|t| local_date(t, tz));
            let Some(date) = e.date.or(page_date) else {
                continue;
            };
            let title = if e.title.trim().is_empty() {
                page.as_ref()
                    .and_then(|p| p.title.clone())
                    .unwrap_or_default()
            } else {
                e.title.clone()
            };
            posts.push(HandPost {
                member_id: member.id.clone(),
                url: e.url.clone(),
                title,
                date,
                chars: page.and_then(|p| p.chars),
            });
        }
    }
    Ok(posts)
}

/// A post recorded by hand as the merged feed and the page show it: its id is minted from the
/// member, the address and the date, so it stays the same across runs.
pub fn as_stored(config: &Config, hand: &HandPost) -> StoredPost {
    let t = local_midnight(hand.date, config.club.timezone).timestamp();
    let tag = TagContext {
        authority: config.club.host.clone(),
        date: hand.date.to_string(),
    };
    let blog = config
        .member(&hand.member_id)
        .and_then(|m| m.blog.as_ref())
        .map(|b| b.to_string());
    StoredPost {
        id: 0,
        atom_id: tag.post_id(&hand.member_id, &format!("by-hand:{}", hand.url), 1),
        member_id: hand.member_id.clone(),
        title: hand.title.clone(),
        link: Some(hand.url.to_string()),
        published: Some(t),
        updated: None,
        first_seen: t,
        effective: t,
        summary: String::new(),
        content: None,
        chars: hand.chars.map(|c| c as i64),
        chars_source: hand.chars.map(|_| "page".to_string()),
        history: false,
        feed: FeedSource::Url(hand.url.clone()),
        feed_title: None,
        feed_uid: None,
        feed_site_link: blog,
        feed_updated: None,
        feeds: 0,
    }
}

/// The newest `limit` posts of `stored` and `hand` together, newest first (ties by id), as the
/// merged feed and the page list them.
pub fn newest(
    config: &Config,
    mut stored: Vec<StoredPost>,
    hand: &[HandPost],
    now: DateTime<Utc>,
) -> Vec<StoredPost> {
    let now = now.timestamp();
    stored.extend(
        hand.iter()
            .map(|h| as_stored(config, h))
            // Dated after now: not published yet.
            .filter(|p| p.effective <= now),
    );
    stored.sort_by(|a, b| {
        b.effective
            .cmp(&a.effective)
            .then_with(|| b.atom_id.cmp(&a.atom_id))
    });
    stored.truncate(config.output.entries);
    stored
}
