//! geultto-agg: the feed aggregator of the 글또 writing club.

pub mod fetch;
