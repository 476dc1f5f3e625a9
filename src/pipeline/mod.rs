//! The jobs the commands run, each a straight line of stage calls.
//!
//! - `fetch_run.rs` — `fetch`: plan the roster's feeds, discover blog-only members' feeds
//!   (`discovery.rs`), fetch concurrently, parse and store each feed (`feed.rs`) in roster order
//!   (`roster_order.rs`), then build the outputs.
//!   Then `pages.rs` reads the pages of posts whose feed gives no full text.
//!   Meanwhile `ahead.rs` makes the pages of the members whose feeds are all in.
//! - `build.rs` — `build`, and the round judgement every output shares; `fresh.rs` — whether a
//!   run's outputs are already up to date (then a `fetch` run does not render them).
//! - `digest.rs` — `digest`: prepare, write and send the weekly digest (mail and chat).
//! - `remind.rs` — `remind`: the reminder before a round closes, to chat, DMs and mail.
//! - `deliver.rs` — one chat delivery exactly once, resumed after its last accepted message.
//! - `inspect.rs` — `inspect`: one feed as the tool sees it, store untouched.
//! - `discover.rs` — `discover`: blog addresses to feeds.
//! - `feeds.rs` — `feeds`: the store's view of every feed's health.
//!
//! Policies live in their own rooms (health, rounds, render, mail); this module only calls
//! them in order. A new stage joins as a file here, not as a branch in these.

mod ahead;
mod build;
mod deliver;
mod digest;
mod discover;
mod discovery;
mod error;
mod feed;
mod feeds;
mod fetch_run;
mod fresh;
mod hand;
mod inspect;
mod pages;
mod remind;
mod roster_order;
#[cfg(test)]
mod testing;
mod views;

pub use build::{build, judgement};
pub use digest::{
    prepare_digests, send_chat_digests, send_digests, write_digests, Digests, PreparedDigest,
};
pub use discover::discover_all;
pub use error::RunError;
pub use feeds::feed_lines;
pub use fetch_run::{fetch, FetchOptions, Progress};
pub use inspect::{inspect, InspectError};
pub use pages::read_page;
pub use remind::{prepare_reminder, send_reminder, Planned, PreparedReminder};

/// The one async runtime of a command: a few blocking threads (feeds are parsed on at most one
/// per core, local files are read on them), as every extra thread's malloc arena would hold
/// memory.
pub fn runtime(cores: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(cores + 2)
        .build()
}
