//! Members' pages made ahead of the render, while a `fetch` run still waits on the network.
//!
//! A thread beside the run, reading the store through a connection of its own, judges and
//! renders the page of each member whose feeds of this run are all stored and committed, one of
//! them with something new in it ([`Completion`] says who). The render at the end judges every
//! member again from the whole store and keeps a page made here only when that member's
//! judgement is the very one the page was made from: a member's page is a function of their
//! judgement, the config and `now` alone, all fixed for the run. Any other page (a member whose
//! last feed came in the last answers, or whose judgement changed after, a post's page read
//! later, say) is made by the render, as it would be without this room. So the thousand pages
//! of a cold run are written while the run waits, and what is left after its last answer is
//! the judgement and the few pages of the last members. Nothing here can change an output: a
//! page that fails to be made ahead is made at the end, and its failure reported there.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::{Scope, ScopedJoinHandle};

use chrono::{DateTime, Utc};

use super::build::judge_members;
use super::error::RunError;
use super::hand::hand_posts;
use super::views::PageMaker;
use crate::config::Config;
use crate::ids::value_hash128;
use crate::render::templates::Templates;
use crate::render::Written;
use crate::rounds::HandPost;
use crate::store::Store;

/// The thread that makes members' pages ahead, and the way to hand it members.
pub(super) struct Ahead<'scope> {
    members: Option<mpsc::Sender<Vec<String>>>,
    worker: Option<ScopedJoinHandle<'scope, MadeAhead>>,
}

impl<'scope> Ahead<'scope> {
    /// Starts the thread in `scope`, reading the store at `path`, making pages of `config`'s
    /// members as they are at `now`.
    pub(super) fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        config: &'env Config,
        path: &Path,
        now: DateTime<Utc>,
    ) -> Ahead<'scope> {
        let (members, handed) = mpsc::channel();
        let path = path.to_path_buf();
        // Made here, once for the whole roster: records the thread allocated one by one would
        // stay scattered over the memory its batches come and go in, and keep all of it.
        let made = MadeAhead {
            pages: vec![None; config.members.len()],
            dir: config.output.dir.join("members"),
        };
        let worker = std::thread::Builder::new()
            .name("pages-ahead".into())
            .spawn_scoped(scope, move || work(config, &path, now, &handed, made))
            .ok();
        Ahead {
            members: Some(members),
            worker,
        }
    }

    /// Hands the thread members whose feeds of this run are all stored and committed.
    pub(super) fn make(&self, members: Vec<String>) {
        if members.is_empty() {
            return;
        }
        if let Some(to) = &self.members {
            // A thread that stopped takes no more: the render makes those pages.
            let _ = to.send(members);
        }
    }

    /// Waits for the pages handed so far, and says what was made.
    pub(super) fn finish(mut self) -> MadeAhead {
        self.members.take();
        self.worker
            .take()
            .and_then(|w| w.join().ok())
            .unwrap_or_default()
    }
}

/// The pages made ahead, by the member's place in the roster.
#[derive(Debug, Default)]
pub(super) struct MadeAhead {
    pages: Vec<Option<Made>>,
    /// Where the pages are (`members/` of the output folder).
    dir: PathBuf,
}

/// One page made ahead.
#[derive(Debug, Clone, Copy)]
struct Made {
    /// The hash of the member's judgement it was made from (`ids::value_hash128`).
    from: u128,
    /// The hash of its bytes (`ids::body_hash`, as a number).
    bytes: u128,
    /// Whether writing it changed the file.
    changed: bool,
}

impl MadeAhead {
    /// The write of the page of member `id`, at place `at` in the roster, when it was made from
    /// the judgement whose hash is `judged` (`ids::value_hash128`), and so holds the bytes
    /// rendering it now would give.
    pub(super) fn page(&self, at: usize, id: &str, judged: u128) -> Option<Written> {
        let made = self.pages.get(at).copied().flatten()?;
        (made.from == judged).then(|| Written {
            path: self.dir.join(format!("{id}.html")),
            changed: made.changed,
            removed: false,
            hash: Some(format!("{:032x}", made.bytes)),
        })
    }

    /// Whether any page made ahead changed a file.
    pub(super) fn changed_any(&self) -> bool {
        self.pages.iter().flatten().any(|m| m.changed)
    }

    /// How many pages were made ahead.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.pages.iter().flatten().count()
    }
}

/// The thread's work: the members handed to it, judged and their pages written, batch by
/// batch (what came in meanwhile joins the batch), until the run stops handing them.
fn work(
    config: &Config,
    path: &Path,
    now: DateTime<Utc>,
    handed: &mpsc::Receiver<Vec<String>>,
    mut made: MadeAhead,
) -> MadeAhead {
    let Ok(kit) = Kit::open(config, path, now) else {
        return made;
    };
    while let Ok(mut batch) = handed.recv() {
        while let Ok(more) = handed.try_recv() {
            batch.extend(more);
        }
        if kit.make(&batch, &mut made).is_err() {
            break;
        }
    }
    made
}

/// What the thread makes pages with: its own reading connection, the templates, the posts
/// recorded by hand, and each member's place in the roster.
struct Kit<'a> {
    config: &'a Config,
    store: Store,
    templates: Templates,
    hand: Vec<HandPost>,
    maker: PageMaker<'a>,
    now: DateTime<Utc>,
    places: HashMap<&'a str, usize>,
}

impl<'a> Kit<'a> {
    fn open(config: &'a Config, path: &Path, now: DateTime<Utc>) -> Result<Kit<'a>, RunError> {
        let store = Store::open_reader(path)?;
        let hand = hand_posts(config, &store)?;
        Ok(Kit {
            config,
            templates: Templates::load(config.output.templates.as_deref())?,
            hand,
            maker: PageMaker::new(config, now),
            store,
            now,
            places: config
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| (m.id.as_str(), i))
                .collect(),
        })
    }

    /// Judges `members` and writes their pages, noting each in `made`.
    fn make(&self, members: &[String], made: &mut MadeAhead) -> Result<(), RunError> {
        let ids: Vec<&str> = members.iter().map(String::as_str).collect();
        let judgement = judge_members(self.config, &self.store, self.now, &ids, &self.hand)?;
        let pending: Vec<_> = judgement
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (i, m, made.dir.join(format!("{}.html", m.id))))
            .collect();
        let written = self.maker.make(&self.templates, &judgement, &pending)?;
        for (i, w) in written {
            let Some(m) = judgement.members.get(i) else {
                continue;
            };
            let bytes = w
                .hash
                .as_deref()
                .and_then(|h| u128::from_str_radix(h, 16).ok());
            let slot = self
                .places
                .get(m.id.as_str())
                .and_then(|&at| made.pages.get_mut(at));
            if let (Some(slot), Some(bytes)) = (slot, bytes) {
                *slot = Some(Made {
                    from: value_hash128(m),
                    bytes,
                    changed: w.changed,
                });
            }
        }
        Ok(())
    }
}

/// Which members' feeds of a run are all stored, those of them with something new in a feed:
/// the members whose pages can be made ahead once the group that stored their last feed is
/// committed.
#[derive(Debug, Default)]
pub(super) struct Completion {
    /// Per member, the feeds of this run not stored yet.
    left: HashMap<String, usize>,
    /// Members with a feed fetched and read this run (not a 304, not a failure).
    new: HashSet<String>,
    /// Members done since the last [`Completion::take_done`].
    done: Vec<String>,
}

impl Completion {
    /// The run's feeds, by member: one item per feed polled.
    pub(super) fn new<'a>(feeds: impl IntoIterator<Item = &'a str>) -> Completion {
        let mut left: HashMap<String, usize> = HashMap::new();
        for member in feeds {
            *left.entry(member.to_string()).or_default() += 1;
        }
        Completion {
            left,
            ..Completion::default()
        }
    }

    /// Notes that a feed of `member` was stored, `read` when it was fetched and read (its body
    /// new).
    pub(super) fn stored(&mut self, member: &str, read: bool) {
        let Some(left) = self.left.get_mut(member) else {
            return;
        };
        if read {
            self.new.insert(member.to_string());
        }
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.left.remove(member);
            if self.new.remove(member) {
                self.done.push(member.to_string());
            }
        }
    }

    /// The members done since the last call: all their feeds stored, one of them read.
    pub(super) fn take_done(&mut self) -> Vec<String> {
        std::mem::take(&mut self.done)
    }
}

#[cfg(test)]
mod tests {
    use super::super::build::{build, refresh};
    use super::super::testing::{post, read};
    use super::*;
    use crate::source::FeedSource;
    use chrono::TimeZone;
    use std::os::unix::fs::MetadataExt;

    const CLUB: &str = r#"[club]
name = "글또"
url = "https://geultto.github.io/"
timezone = "Asia/Seoul"
[rounds]
start = "2024-09-29"
every_days = 14
count = 5
[[members]]
id = "a"
name = "가"
feeds = ["https://a.example/rss"]
[[members]]
id = "b"
name = "나"
feeds = ["https://b.example/rss"]
"#;

    #[test]
    fn a_page_made_ahead_is_kept_only_while_its_member_is_judged_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_str(CLUB, &dir.path().join("feeds.toml")).unwrap();
        let mut store = Store::open(&dir.path().join("g.db")).unwrap();
        let sources: Vec<(String, FeedSource)> = config
            .members
            .iter()
            .map(|m| (m.id.clone(), m.feeds[0].clone()))
            .collect();
        let rows = store.sync_feeds(&sources).unwrap();
        // Inside round 2 (2024-10-13 to 10-27).
        let now = Utc.with_ymd_and_hms(2024, 10, 20, 3, 0, 0).unwrap();
        let t = now.timestamp();
        read(&mut store, &rows[0], &[post(1, "a", t - 3600)], t);
        read(&mut store, &rows[1], &[post(2, "b", t - 3600)], t);
        let made = std::thread::scope(|s| {
            let ahead = Ahead::start(s, &config, store.path(), now);
            ahead.make(vec!["a".into(), "b".into()]);
            ahead.finish()
        });
        let page = |id: &str| dir.path().join(format!("public/members/{id}.html"));
        let ino = |id: &str| std::fs::metadata(page(id)).unwrap().ino();
        assert_eq!(made.len(), 2);
        assert!(std::fs::read_to_string(page("a")).unwrap().contains("글 1"));
        assert!(std::fs::read_to_string(page("b")).unwrap().contains("글 2"));
        let (a, b) = (ino("a"), ino("b"));

        // b posts again before the run's render: b's page made ahead is out of date.
        let both = [post(3, "b", t - 60), post(2, "b", t - 3600)];
        read(&mut store, &rows[1], &both, t + 60);
        let (written, rendered) = refresh(&config, &store, now, Some(&made)).unwrap();
        assert!(rendered);
        assert_eq!(
            ino("a"),
            a,
            "a's page, judged the same, is not written again"
        );
        assert_ne!(ino("b"), b, "b's page is made again");
        assert!(std::fs::read_to_string(page("b")).unwrap().contains("글 3"));
        let a_write = written.iter().find(|w| w.path == page("a")).unwrap();
        assert!(a_write.changed, "said written, as it was in this run");

        // What the run left is what rendering everything from the store gives.
        let again = build(&config, &store, now).unwrap();
        let changed: Vec<_> = again.iter().filter(|w| w.changed).collect();
        assert!(changed.is_empty(), "{changed:?}");
    }

    #[test]
    fn a_member_is_done_once_every_feed_is_stored_and_one_was_read() {
        let mut c = Completion::new(["a", "a", "b", "c"]);
        c.stored("a", true);
        c.stored("b", false);
        c.stored("c", true);
        assert_eq!(c.take_done(), ["c"], "b read nothing; a has a feed left");
        c.stored("a", false);
        assert_eq!(c.take_done(), ["a"]);
        assert!(c.take_done().is_empty(), "each member is handed once");
        c.stored("a", true);
        c.stored("z", true);
        assert!(c.take_done().is_empty(), "no feeds of this run are left");
    }
}
