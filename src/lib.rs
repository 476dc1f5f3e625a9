//! geultto-agg: the feed aggregator of the 글또 writing club.
pub mod config;
pub mod fetch;
pub mod normalise;
pub mod parse;
pub mod rounds;
pub mod store;
