//! `discover`: blog addresses → their feeds, every input at once through one client (or by the
//! address rules alone, offline). It needs no roster: without one it uses the default settings.

use crate::config::Config;
use crate::discover::{self, Discovery};
use crate::fetch::Session;

/// Discovers the feeds of `inputs`, in the order given.
pub async fn discover_all(
    config: Option<&Config>,
    inputs: &[String],
    offline: bool,
) -> Vec<Discovery> {
    if offline {
        return inputs.iter().map(|u| discover::offline(u)).collect();
    }
    let settings = config.map(|c| c.fetch.settings.clone()).unwrap_or_default();
    let tz = config.map_or(chrono_tz::Asia::Seoul, |c| c.club.timezone);
    let session = Session::new(&settings);
    futures::future::join_all(inputs.iter().map(|u| discover::discover(&session, tz, u))).await
}
