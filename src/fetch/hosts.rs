//! Hosts, in the two senses the tool needs, each its own type so they are never mixed up:
//! a [`Hostname`] is the exact host a request went to (a Retry-After pause applies to it and
//! nothing else), and a [`Domain`] is its registrable domain, the key the per-host concurrency
//! cap is counted by. Domains follow the ICANN section of the Public Suffix List, so every
//! `*.tistory.com` blog shares one cap, and so does every `*.github.io` page (github.io is a
//! suffix only in the list's private section, which we ignore on purpose: those blogs all land
//! on the same servers).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use tokio::sync::Semaphore;

/// The exact, lowercased host of a URL: what a server's Retry-After pause applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hostname(String);

impl Hostname {
    /// The host of `url`, lowercased; `None` for a URL without one.
    pub fn of(url: &url::Url) -> Option<Hostname> {
        url.host_str().map(|h| Hostname(h.to_ascii_lowercase()))
    }

    /// The host as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Hostname {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A registrable domain (`tistory.com` for `a.tistory.com`): what the per-host cap counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Domain(String);

impl Domain {
    /// The registrable domain of `url`'s host; `None` for a URL without one.
    pub fn of(url: &url::Url) -> Option<Domain> {
        url.host_str().map(|h| Domain(registrable_domain(h)))
    }
}

/// The registrable domain of `host` under the ICANN section of the Public
/// Suffix List: `a.tistory.com` → `tistory.com`, `x.github.io` → `github.io`,
/// `blog.example.co.kr` → `example.co.kr`.
///
/// IP literals (with or without IPv6 brackets) give the IP itself; names the
/// list does not know (`localhost`, a bare suffix) give the lowercased name.
///
/// The `psl` crate answers with the longest matching rule, private section
/// included; when that rule is a private one we look up the name again with the
/// private rule's leftmost label removed, until an ICANN (or default) rule
/// answers. The ICANN suffix is always a proper suffix of the private one.
pub fn registrable_domain(host: &str) -> String {
    let name = host
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if let Ok(ip) = name.parse::<IpAddr>() {
        return ip.to_canonical().to_string();
    }
    icann_registrable(&name).unwrap_or(name)
}

fn icann_registrable(name: &str) -> Option<String> {
    let mut suffix = psl::suffix(name.as_bytes())?;
    while suffix.typ() == Some(psl::Type::Private) {
        let bytes = suffix.as_bytes();
        let dot = bytes.iter().position(|b| *b == b'.')?;
        suffix = psl::suffix(bytes.get(dot + 1..)?)?;
    }
    let suffix_len = suffix.as_bytes().len();
    // The name must hold at least one label before the suffix.
    let head = name.get(..name.len().checked_sub(suffix_len + 1)?)?;
    if head.is_empty() {
        return None;
    }
    let label = head.rsplit('.').next()?;
    let suffix_text = name.get(name.len() - suffix_len..)?;
    Some(format!("{label}.{suffix_text}"))
}

/// One semaphore per registrable domain: the run's hosts are known up front, and a host met
/// later (a discovery following a link) gets its semaphore on first use.
#[derive(Debug, Default)]
pub(crate) struct HostLimits {
    per_host: usize,
    semaphores: std::sync::Mutex<HashMap<Domain, Arc<Semaphore>>>,
}

impl HostLimits {
    /// Limits of `per_host` concurrent requests for each of `keys`; `per_host == 0` means no cap.
    pub fn new(per_host: usize, keys: impl IntoIterator<Item = Domain>) -> Self {
        let mut semaphores = HashMap::new();
        if per_host > 0 {
            for key in keys {
                semaphores
                    .entry(key)
                    .or_insert_with(|| Arc::new(Semaphore::new(per_host)));
            }
        }
        Self {
            per_host,
            semaphores: std::sync::Mutex::new(semaphores),
        }
    }

    /// The semaphore of `key` (created on first use), or `None` when hosts are not capped.
    pub fn get(&self, key: &Domain) -> Option<Arc<Semaphore>> {
        if self.per_host == 0 {
            return None;
        }
        let mut map = self
            .semaphores
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(Arc::clone(
            map.entry(key.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_host))),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn registrable_domain_uses_the_icann_section() {
        for (host, want) in [
            ("a.tistory.com", "tistory.com"),
            ("b.tistory.com", "tistory.com"),
            ("tistory.com", "tistory.com"),
            ("x.github.io", "github.io"),
            ("y.github.io", "github.io"),
            ("github.io", "github.io"),
            ("deep.x.github.io", "github.io"),
            ("someone.blogspot.com", "blogspot.com"),
            ("me.blogspot.co.uk", "blogspot.co.uk"),
            ("velog.io", "velog.io"),
            ("v2.velog.io", "velog.io"),
            ("blog.example.co.kr", "example.co.kr"),
            ("medium.com", "medium.com"),
            ("Blog.Naver.COM.", "naver.com"),
            ("brunch.co.kr", "brunch.co.kr"),
            ("x.herokuapp.com", "herokuapp.com"),
        ] {
            assert_eq!(registrable_domain(host), want, "{host}");
        }
    }

    #[test]
    fn registrable_domain_of_ip_literals_and_unknown_names() {
        assert_eq!(registrable_domain("127.0.0.2"), "127.0.0.2");
        assert_eq!(registrable_domain("[::1]"), "::1");
        assert_eq!(registrable_domain("2001:db8::1"), "2001:db8::1");
        assert_eq!(registrable_domain("localhost"), "localhost");
        assert_eq!(registrable_domain("io"), "io");
        assert_eq!(registrable_domain("feeds.internal"), "feeds.internal");
    }

    #[test]
    fn host_limits_share_a_semaphore_per_key() {
        let domain = |u: &str| Domain::of(&url::Url::parse(u).unwrap()).unwrap();
        let limits = HostLimits::new(
            2,
            [
                "https://a.tistory.com/rss",
                "https://b.tistory.com/rss",
                "https://velog.io/",
            ]
            .map(domain),
        );
        let a = limits.get(&domain("https://a.tistory.com/")).unwrap();
        let b = limits.get(&domain("https://c.tistory.com/")).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "one cap for every *.tistory.com blog");
        assert_eq!(a.available_permits(), 2);
        let x = domain("https://x.example/");
        assert!(HostLimits::new(0, [x.clone()]).get(&x).is_none());
        let late = limits.get(&domain("https://brunch.co.kr/@a")).unwrap();
        assert_eq!(
            late.available_permits(),
            2,
            "a host met later gets its own cap"
        );
        assert!(Arc::ptr_eq(
            &late,
            &limits.get(&domain("https://brunch.co.kr/")).unwrap()
        ));
    }

    #[test]
    fn a_hostname_is_the_exact_host_and_a_domain_its_registrable_part() {
        let u = url::Url::parse("https://Minji.Tistory.com/rss").unwrap();
        assert_eq!(Hostname::of(&u).unwrap().as_str(), "minji.tistory.com");
        assert_eq!(
            Domain::of(&u),
            Domain::of(&url::Url::parse("https://b.tistory.com/").unwrap())
        );
    }
}
