//! The merged Atom 1.0 feed (`atom.xml`, RFC 4287).
//!
//! One entry per non-history post, newest effective time first (ties by id), at most
//! `[output] entries`. Each entry carries its stable `tag:` id, the member as author (name and
//! blog), the original post as `rel="alternate"`, the team as category, published/updated, a
//! plain-text summary, optionally the sanitised full text as `type="html"`, and an `atom:source`
//! naming the member's feed. The feed's own `updated` is its newest entry's, so an unchanged store
//! renders byte-identical XML. Every text field (titles, summary, names, category, source title)
//! is plain text with markup-looking text defused ([`super::xml_text`]).
//!
//! A team's feed (`teams/<slug>.xml`, [`render_team`]) is the same document made from the team's
//! posts: its entries are written exactly as in `atom.xml` (the same ids), under the team's own
//! title, id and `rel="self"`.

use atom_syndication::{
    Category, Content, Entry, Feed, Generator, Link, Person, Source, Text, WriteConfig,
};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;

use super::{sanitise_html, xml_text, RenderError};
use crate::config::{Config, ContentMode};
use crate::ids::feed_source_id;
use crate::normalise::{clean_text, upper_percent_escapes};
use crate::source::FeedSource;
use crate::store::StoredPost;
use crate::time::{instant, local_midnight};

/// What distinguishes one of our feeds from another: its title, its own address (also its id)
/// and the page it belongs to.
struct Head {
    title: String,
    subtitle: String,
    self_url: String,
    alternate: String,
}

/// Renders atom.xml from the given posts (already newest first and limited).
pub fn render(
    config: &Config,
    posts: &[StoredPost],
    now: DateTime<Utc>,
) -> Result<Vec<u8>, RenderError> {
    let club = xml_text(&config.club.name);
    let head = Head {
        subtitle: format!("{club} 멤버들의 새 글"),
        title: club,
        self_url: config.output.feed_url.to_string(),
        alternate: config.club.url.to_string(),
    };
    render_feed(config, &head, posts, now)
}

/// Renders a team's feed (`teams/<slug>.xml`) from the team's posts (newest first, limited):
/// entries exactly as in `atom.xml` (the same ids), its own title and address.
pub fn render_team(
    config: &Config,
    team: &str,
    slug: &str,
    posts: &[StoredPost],
    now: DateTime<Utc>,
) -> Result<Vec<u8>, RenderError> {
    let club = xml_text(&config.club.name);
    let team = if team.trim().is_empty() {
        "팀 미지정".to_string()
    } else {
        xml_text(team)
    };
    let page = config
        .output
        .feed_url
        .join(&format!("index.html#team-{slug}"))
        .map_or_else(|_| config.club.url.to_string(), |u| u.to_string());
    let head = Head {
        title: format!("{club} · {team}"),
        subtitle: format!("{club} {team} 팀 멤버들의 새 글"),
        self_url: super::slug::team_feed_url(config, slug),
        alternate: page,
    };
    render_feed(config, &head, posts, now)
}

fn render_feed(
    config: &Config,
    head: &Head,
    posts: &[StoredPost],
    now: DateTime<Utc>,
) -> Result<Vec<u8>, RenderError> {
    let tz = config.club.timezone;
    let mut entries: Vec<Entry> = posts.iter().filter_map(|p| entry(config, p, now)).collect();
    make_updated_unique(&mut entries);
    let updated = entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(|| local(tz, start_instant(config)));
    let feed = Feed {
        title: Text::plain(head.title.clone()),
        id: head.self_url.clone(),
        updated,
        authors: vec![Person {
            name: xml_text(&config.club.name),
            email: None,
            uri: Some(config.club.url.to_string()),
            ..Default::default()
        }],
        links: vec![
            Link {
                href: head.self_url.clone(),
                rel: "self".to_string(),
                mime_type: Some("application/atom+xml".to_string()),
                ..Default::default()
            },
            Link {
                href: head.alternate.clone(),
                rel: "alternate".to_string(),
                mime_type: Some("text/html".to_string()),
                ..Default::default()
            },
        ],
        generator: Some(Generator {
            value: "geultto-agg".to_string(),
            uri: None,
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
        subtitle: Some(Text::plain(head.subtitle.clone())),
        lang: Some("ko".to_string()),
        entries,
        ..Default::default()
    };
    let mut out = b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n".to_vec();
    let config = WriteConfig {
        write_document_declaration: false,
        indent_size: Some(2),
    };
    out = feed
        .write_with_config(out, config)
        .map_err(|e| RenderError::Atom(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// Readers and the W3C validator flag two entries with the same `updated`: a later entry in
/// feed order that collides is moved back by whole seconds until its value is unique.
fn make_updated_unique(entries: &mut [Entry]) {
    let mut used = std::collections::HashSet::new();
    for e in entries.iter_mut() {
        while !used.insert(e.updated) {
            e.updated -= chrono::Duration::seconds(1);
        }
    }
}

/// Dates readers find plausible: not before 1990, not after `now`.
fn plausible(t: i64, now: DateTime<Utc>) -> i64 {
    t.clamp(PLAUSIBLE_FROM, now.timestamp().max(PLAUSIBLE_FROM))
}

/// 1990-01-01T00:00:00Z.
const PLAUSIBLE_FROM: i64 = 631_152_000;

/// A link in canonical ASCII form (non-ASCII percent-encoded, escapes upper-case).
pub(crate) fn ascii_link(s: &str) -> Option<String> {
    web_url(s).map(|u| upper_percent_escapes(&u))
}

fn local(tz: Tz, t: i64) -> DateTime<FixedOffset> {
    instant(t).with_timezone(&tz).fixed_offset()
}

/// The cohort's start at local midnight: the `updated` of a feed with no entries yet.
fn start_instant(config: &Config) -> i64 {
    local_midnight(config.rounds.start, config.club.timezone).timestamp()
}

/// An absolute http(s) URL, or `None`.
fn web_url(s: &str) -> Option<String> {
    url::Url::parse(s)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .map(|u| u.to_string())
}

fn entry(config: &Config, post: &StoredPost, now: DateTime<Utc>) -> Option<Entry> {
    let member = config.member(&post.member_id)?;
    let tz = config.club.timezone;
    let blog = member
        .blog
        .as_ref()
        .and_then(|b| ascii_link(b.as_str()))
        .or_else(|| post.feed_site_link.as_deref().and_then(ascii_link));
    let link = post
        .link
        .as_deref()
        .and_then(ascii_link)
        .or_else(|| blog.clone())
        .unwrap_or_else(|| config.club.url.to_string());
    let effective = plausible(post.effective, now);
    let published = local(tz, effective);
    let updated_t = post
        .updated
        .filter(|u| *u > effective && *u <= post.first_seen.max(effective) + 86400)
        .map(|u| plausible(u, now))
        .unwrap_or(effective);
    let updated = local(tz, updated_t);
    let title = xml_text(&post.title);
    let title = if title.is_empty() {
        "(제목 없음)".to_string()
    } else {
        title
    };
    // An entry needs a summary or content: the title stands in for an empty summary.
    let summary = Some(xml_text(&post.summary))
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| title.clone());
    let content = match (config.output.content, &post.content) {
        // Markup stays markup: only control characters and U+FFFD are removed from HTML.
        (ContentMode::Full, Some(html)) => {
            Some(clean_text(&sanitise_html(html, Some(&link))).replace('\u{fffd}', ""))
        }
        _ => None,
    }
    // HTML the sanitiser emptied (it was all script) is no content: readers and the W3C
    // validator reject a blank one, and the summary stands alone.
    .filter(|html| !html.trim().is_empty())
    .map(|html| Content {
        value: Some(html),
        content_type: Some("html".to_string()),
        ..Default::default()
    });
    let source = source(config, post, blog.as_deref(), updated, now);
    Some(Entry {
        title: Text::plain(title),
        id: post.atom_id.clone(),
        updated,
        authors: vec![Person {
            name: xml_text(&member.name),
            email: None,
            uri: blog,
            ..Default::default()
        }],
        categories: (!member.team.trim().is_empty())
            .then(|| Category {
                term: xml_text(&member.team),
                scheme: None,
                label: None,
            })
            .into_iter()
            .collect(),
        links: vec![Link {
            href: link,
            rel: "alternate".to_string(),
            mime_type: Some("text/html".to_string()),
            ..Default::default()
        }],
        published: Some(published),
        summary: Some(Text::plain(summary)),
        content,
        source: Some(source),
        ..Default::default()
    })
}

/// `atom:source`: the member's feed, with an id that is always an absolute IRI.
fn source(
    config: &Config,
    post: &StoredPost,
    blog: Option<&str>,
    fallback_updated: DateTime<FixedOffset>,
    now: DateTime<Utc>,
) -> Source {
    // A post recorded by hand comes from no feed (no feed carries it): its source is the
    // member, with no feed address of its own.
    let by_hand = post.feeds == 0;
    let feed_url = match &post.feed {
        FeedSource::Url(u) if !by_hand => ascii_link(u.as_str()),
        _ => None,
    };
    let id = post
        .feed_uid
        .as_deref()
        .and_then(|id| {
            let opaque = (id.starts_with("tag:") || id.starts_with("urn:"))
                && id.is_ascii()
                && !id.contains(char::is_whitespace);
            if opaque {
                Some(id.to_string())
            } else {
                ascii_link(id)
            }
        })
        .or_else(|| feed_url.clone())
        .or_else(|| post.feed_site_link.as_deref().and_then(ascii_link))
        .unwrap_or_else(|| {
            let key = if by_hand {
                "by-hand".to_string()
            } else {
                post.feed.key()
            };
            feed_source_id(&config.club.host, &post.member_id, &key)
        });
    let mut links = Vec::new();
    if let Some(site) = post
        .feed_site_link
        .as_deref()
        .and_then(ascii_link)
        .or_else(|| blog.and_then(ascii_link))
    {
        links.push(Link {
            href: site,
            rel: "alternate".to_string(),
            mime_type: Some("text/html".to_string()),
            ..Default::default()
        });
    }
    if let Some(url) = feed_url {
        links.push(Link {
            href: url,
            rel: "self".to_string(),
            ..Default::default()
        });
    }
    let title = post
        .feed_title
        .as_deref()
        .map(xml_text)
        .filter(|t| !t.is_empty());
    let member_name = config
        .member(&post.member_id)
        .map(|m| xml_text(&m.name))
        .unwrap_or_default();
    Source {
        title: Text::plain(title.unwrap_or(member_name)),
        id,
        updated: post
            .feed_updated
            .filter(|t| *t >= PLAUSIBLE_FROM && *t <= now.timestamp())
            .map(|t| local(config.club.timezone, t))
            .unwrap_or(fallback_updated),
        links,
        ..Default::default()
    }
}
