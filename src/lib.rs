//! geultto-agg: the feed aggregator of the 글또 writing club.
//!
//! Data flows one way, one module per stage: [`config`] reads `feeds.toml` into a validated
//! roster; [`fetch`] polls every feed concurrently under global and per-host caps; [`parse`]
//! turns bytes into a feed model (encoding, repairs, dates); [`discover`] finds a blog's feed from its address; [`normalise`] turns entries into
//! posts with identity keys and plain text; [`store`] keeps everything in SQLite, one
//! transaction per feed; [`rounds`] judges who posted in which deadline round; [`render`] writes
//! the merged Atom feed, the page, the OPML roster and the weekly digest, which [`mail`] sends
//! over SMTP. [`pipeline`] strings the stages together for the commands, and
//! [`clock`] is the one place that reads the time.

pub mod cli;
pub mod clock;
pub mod config;
pub mod discover;
pub mod fetch;
pub mod health;
pub mod mail;
pub mod normalise;
pub mod parse;
pub mod pipeline;
pub mod render;
pub mod rounds;
pub mod store;
