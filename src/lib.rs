//! geultto-agg: the feed aggregator of the 글또 writing club.
//!
//! Data flows one way, one module per stage: [`config`] reads `feeds.toml` into a validated
//! roster; [`fetch`] polls every feed concurrently under global and per-host caps; [`parse`]
//! turns bytes into a feed model (encoding, repairs, dates); [`normalise`] turns entries into
//! posts with identity keys and plain text; [`store`] keeps everything in SQLite, each feed
//! stored whole, several to a transaction; [`rounds`] judges who posted in which deadline round; [`render`] writes
//! the merged Atom feed, the page, the OPML roster, the weekly digest and the terminal tables,
//! and [`mail`] sends the digest over SMTP. [`discover`] finds a blog's feed from its address,
//! and [`health`] holds every rule about polling a feed and what to tell an operator.
//! [`pipeline`] strings the stages together for the commands, and [`edit`] changes the roster
//! file. Shared vocabulary lives in small rooms of its own: [`source`] (where a feed lives),
//! [`status`] (a round status), [`time`] (local dates and the effective-time rule), [`ids`]
//! (hashes and minted ids), and [`clock`], the one place that reads the time. [`reader`] reads a
//! post's page when its feed has no full text; [`chat`] is the room of the next stage.
//! `ARCHITECTURE.md` draws the house.

pub mod chat;
pub mod cli;
pub mod clock;
pub mod config;
pub mod discover;
pub mod edit;
pub mod fetch;
pub mod health;
pub mod ids;
pub mod mail;
pub mod normalise;
pub mod parse;
pub mod pipeline;
pub mod reader;
pub mod render;
pub mod rounds;
pub mod source;
pub mod status;
pub mod store;
pub mod time;
