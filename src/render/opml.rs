//! The roster as OPML 2.0: `members.opml` and `opml export`.
//!
//! One folder outline per team and one `type="rss"` outline per member — its first-listed feed,
//! so a reader subscribed to the file gets a cross-poster's posts once — so any reader (Feedly,
//! NetNewsWire, Miniflux, newsboat, Thunderbird) can subscribe to every member at once; the
//! member id, team and other feeds (`moreFeeds`, space-separated) ride in attributes of our own
//! namespace ([`NAMESPACE`]), so `opml import` (the roster-editing room, [`crate::edit::opml`])
//! rebuilds the same roster. Each team's folder names the team's own feed (`teams/<slug>.xml`)
//! in the attribute `geultto:teamFeed`.
//!
//! Names a reader shows (the club's, the teams', the members') are plain text with
//! markup-looking text defused ([`super::xml_text`]); the attributes of our namespace carry the
//! id and team exactly as configured, and `opml import` undoes the defusing of the names.

use std::path::Path;

use quick_xml::escape::escape;

use super::slug::{team_feed_url, team_slugs};
use super::xml_text;
use crate::config::Config;
use crate::normalise::one_line;
use crate::source::FeedSource;

/// The namespace of the member id and team attributes.
pub const NAMESPACE: &str = "https://geultto.github.io/ns/geultto-agg/opml/1";

/// The roster as OPML 2.0. Local feed paths are written relative to the config's folder.
pub fn export(config: &Config) -> Vec<u8> {
    let base = config.path.parent().unwrap_or(Path::new(""));
    let club = xml_text(&one_line(&config.club.name));
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<opml version=\"2.0\" xmlns:geultto=\"{NAMESPACE}\">\n  <head>\n    <title>{} 멤버 블로그</title>\n    <ownerName>{}</ownerName>\n    <docs>http://opml.org/spec2.opml</docs>\n  </head>\n  <body>\n",
        escape(club.as_str()),
        escape(club.as_str())
    ));
    for (team, slug) in team_slugs(config) {
        let team = team.as_str();
        let label = if team.trim().is_empty() {
            "팀 미지정".to_string()
        } else {
            xml_text(team)
        };
        // The team's own feed rides on the folder, in our namespace: a folder has no `xmlUrl`,
        // so readers (and `opml import`) still take it for a folder.
        out.push_str(&format!(
            "    <outline text=\"{0}\" title=\"{0}\" geultto:teamFeed=\"{1}\">\n",
            escape(label.as_str()),
            escape(team_feed_url(config, &slug).as_str())
        ));
        for m in config.members.iter().filter(|m| m.team == team) {
            let common = format!(
                "text=\"{name}\" title=\"{name}\"{blog} geultto:id=\"{id}\" geultto:team=\"{team}\"",
                name = escape(xml_text(&m.name).as_str()),
                blog = m
                    .blog
                    .as_ref()
                    .map(|b| format!(" htmlUrl=\"{}\"", escape(b.as_str())))
                    .unwrap_or_default(),
                id = escape(m.id.as_str()),
                team = escape(m.team.as_str()),
            );
            if m.feeds.is_empty() {
                // A blog without a known feed: a link outline, so import keeps the member.
                let url = m.blog.as_ref().map(|b| b.to_string()).unwrap_or_default();
                out.push_str(&format!(
                    "      <outline type=\"link\" {common} url=\"{}\"/>\n",
                    escape(url.as_str())
                ));
            }
            // One outline per member, so a reader subscribed to the file gets a cross-poster's
            // posts once: the first-listed feed (whose links are the ones published); the
            // others ride in our namespace, for `opml import`.
            let mut urls = m.feeds.iter().map(|feed| match feed {
                FeedSource::Url(u) => u.to_string(),
                FeedSource::Path(p) => p
                    .strip_prefix(base)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned(),
            });
            if let Some(first) = urls.next() {
                let more: Vec<String> = urls.collect();
                let more = if more.is_empty() {
                    String::new()
                } else {
                    format!(" geultto:moreFeeds=\"{}\"", escape(more.join(" ").as_str()))
                };
                out.push_str(&format!(
                    "      <outline type=\"rss\" {common} xmlUrl=\"{}\"{more}/>\n",
                    escape(first.as_str())
                ));
            }
        }
        out.push_str("    </outline>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out.into_bytes()
}
