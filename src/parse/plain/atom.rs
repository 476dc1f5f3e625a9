//! The plain reader's Atom: a `feed` document's elements read as feed-rs's Atom reader reads
//! them — ids and texts as written, `type="text"` and `"html"` texts, people, links,
//! categories, dates through the same date parser — giving up on what it does not reproduce
//! (XHTML texts and content, content by `src` or of another type, Media RSS, comment feeds).

use feed_rs::model::{Category, Content, Entry, Feed, FeedType, Generator, Image, Person, Text};
use mediatype::{names, MediaTypeBuf};

use super::{empty_feed, Next, Ns, Start, Walk};

impl Walk<'_> {
    /// The `feed` root's children.
    pub(super) fn atom_feed(&mut self, root: &Start) -> Option<Feed> {
        let mut feed = empty_feed(FeedType::Atom);
        feed.language = root.attr("xml:lang").map(str::to_string);
        while let Next::Start(child) = self.next_outside_text()? {
            if child.ns != Ns::Atom {
                self.skip()?;
                continue;
            }
            match child.name {
                "id" => {
                    if let Some(id) = self.text()? {
                        feed.id = id;
                    }
                }
                "title" => feed.title = Some(self.atom_text(&child)?),
                "updated" => {
                    if let Some(text) = self.text()? {
                        feed.updated = super::parse_date(&text, self.tz);
                    }
                }
                "author" => feed.authors.extend(self.atom_person("author")?),
                "contributor" => feed.contributors.extend(self.atom_person("contributor")?),
                "link" => {
                    feed.links.extend(self.atom_link(&child));
                    self.skip()?;
                }
                "category" => {
                    feed.categories.extend(atom_category(&child));
                    self.skip()?;
                }
                "generator" => {
                    feed.generator = self.text()?.map(|text| Generator {
                        content: text.trim().to_string(),
                        uri: child.attr("uri").map(str::to_string),
                        version: child.attr("version").map(str::to_string),
                    });
                }
                "icon" => feed.icon = self.atom_image()?,
                "logo" => feed.logo = self.atom_image()?,
                "rights" => feed.rights = Some(self.atom_text(&child)?),
                "subtitle" => feed.description = Some(self.atom_text(&child)?),
                "entry" => feed.entries.push(self.atom_entry()?),
                _ => self.skip()?,
            }
        }
        Some(feed)
    }

    /// One `entry`'s children.
    fn atom_entry(&mut self) -> Option<Entry> {
        let mut entry = Entry::default();
        while let Next::Start(child) = self.next_outside_text()? {
            match (child.ns, child.name) {
                (Ns::Atom, "id") => {
                    if let Some(id) = self.text()? {
                        entry.id = id;
                    }
                }
                (Ns::Atom, "title") => entry.title = Some(self.atom_text(&child)?),
                (Ns::Atom, "updated") => {
                    if let Some(text) = self.text()? {
                        entry.updated = super::parse_date(&text, self.tz);
                    }
                }
                (Ns::Atom, "published" | "pubDate") => {
                    if let Some(text) = self.text()? {
                        entry.published = super::parse_date(&text, self.tz);
                    }
                }
                (Ns::Atom, "author") => entry.authors.extend(self.atom_person("author")?),
                (Ns::Atom, "contributor") => {
                    entry.contributors.extend(self.atom_person("contributor")?);
                }
                (Ns::Atom, "content") => {
                    entry.base = None;
                    entry.language = child.attr("xml:lang").map(str::to_string);
                    entry.content = Some(self.atom_content(&child)?);
                }
                (Ns::Atom, "link") => {
                    entry.links.extend(self.atom_link(&child));
                    self.skip()?;
                }
                (Ns::Atom, "summary") => entry.summary = Some(self.atom_text(&child)?),
                (Ns::Atom, "category") => {
                    entry.categories.extend(atom_category(&child));
                    self.skip()?;
                }
                (Ns::Atom, "rights") => entry.rights = Some(self.atom_text(&child)?),
                (Ns::Declined, _) => return None,
                _ => self.skip()?,
            }
        }
        Some(entry)
    }

    /// An Atom text construct of `type="text"` (the default) or `"html"`: its text (an empty
    /// element gives an empty one), trimmed.
    fn atom_text(&mut self, start: &Start) -> Option<Text> {
        let content_type = match start.attr("type").unwrap_or("text") {
            "text" => MediaTypeBuf::new(names::TEXT, names::PLAIN),
            "html" | "text/html" => MediaTypeBuf::new(names::TEXT, names::HTML),
            _ => return None,
        };
        let content = self.text()?.unwrap_or_default();
        Some(Text {
            content_type,
            src: None,
            content: content.trim().to_string(),
        })
    }

    /// An entry's `content` of a text type (not by `src`, not XHTML or another type).
    fn atom_content(&mut self, start: &Start) -> Option<Content> {
        if start.attr("src").is_some()
            || !matches!(
                start.attr("type"),
                None | Some("text" | "html" | "text/html")
            )
        {
            return None;
        }
        let text = self.atom_text(start)?;
        Some(Content {
            body: Some(text.content),
            content_type: text.content_type,
            length: None,
            src: None,
        })
    }

    /// An `author` or `contributor`: a person when it has a name or an e-mail address.
    fn atom_person(&mut self, role: &str) -> Option<Option<Person>> {
        let (mut name, mut uri, mut email) = (None, None, None);
        while let Next::Start(child) = self.next_outside_text()? {
            let text = self.text()?;
            match (child.name, text) {
                ("name", Some(text)) => name = Some(text),
                ("uri", text) => uri = text,
                ("email", text) => email = text,
                _ => {}
            }
        }
        Some((name.is_some() || email.is_some()).then(|| Person {
            name,
            uri,
            email,
            role: Some(role.to_string()),
        }))
    }

    /// An `icon` or `logo`: its address, resolved against the base when it parses.
    fn atom_image(&mut self) -> Option<Option<Image>> {
        Some(self.text()?.map(|raw| Image {
            uri: super::resolve(&raw, self.base.as_ref()).unwrap_or(raw),
            title: None,
            link: None,
            width: None,
            height: None,
            description: None,
        }))
    }
}

/// An Atom `category`: its `term` (none without one), `scheme` and `label`.
fn atom_category(start: &Start) -> Option<Category> {
    Some(Category {
        term: start.attr("term")?.trim().to_string(),
        scheme: start.attr("scheme").map(str::to_string),
        label: start.attr("label").map(str::to_string),
        subcategories: Vec::new(),
    })
}
