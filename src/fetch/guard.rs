//! The private-address guard: which IP addresses a member's URL may make us
//! connect to. Loopback, RFC 1918, link-local, unique-local, CGNAT, unspecified,
//! multicast and reserved addresses are refused, and so are the IPv6 forms that
//! embed such an IPv4 address (IPv4-mapped, -compatible and -translated, 6to4,
//! NAT64 and NAT64 local-use: each is judged by the IPv4 address it embeds),
//! unless `allow_private_addresses` is set or the address lies in one of the
//! `allow_addresses` CIDRs. The guard is applied three ways:
//! to IP literals in a URL, to every redirect target, and inside a custom DNS
//! resolver handed to reqwest, so a name that resolves to a private address is
//! never connected to (the address we check is the address we connect to).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// An IPv4 or IPv6 network in CIDR notation, e.g. `10.1.2.0/24` or `fd00::/8`.
///
/// A bare address parses as a single-host network (`/32` or `/128`). Host bits
/// below the prefix are cleared, so `10.1.2.3/24` is the network `10.1.2.0/24`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpCidr {
    addr: IpAddr,
    prefix: u8,
}

/// Why a string is not a valid CIDR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The part before `/` is not an IP address.
    #[error("`{0}` is not an IP address (expected e.g. 10.1.2.0/24 or fd00::/8)")]
    BadAddress(String),
    /// The part after `/` is not a number within the family's range.
    #[error("`{prefix}` is not a valid prefix length for {family} (0 to {max})")]
    BadPrefix {
        /// The prefix text as written.
        prefix: String,
        /// `IPv4` or `IPv6`.
        family: &'static str,
        /// The largest prefix length of that family.
        max: u8,
    },
}

impl IpCidr {
    /// Builds a network from an address and a prefix length, clearing host bits.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Self, CidrError> {
        let (family, max) = match addr {
            IpAddr::V4(_) => ("IPv4", 32),
            IpAddr::V6(_) => ("IPv6", 128),
        };
        if prefix > max {
            return Err(CidrError::BadPrefix {
                prefix: prefix.to_string(),
                family,
                max,
            });
        }
        let addr = match addr {
            IpAddr::V4(v4) => IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask32(prefix))),
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask128(prefix))),
        };
        Ok(Self { addr, prefix })
    }

    /// The network address (host bits cleared).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies in this network. IPv4-mapped IPv6 addresses
    /// (`::ffff:a.b.c.d`) are compared as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask32(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask128(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl FromStr for IpCidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr_text, prefix_text) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr_text
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| CidrError::BadAddress(addr_text.to_owned()))?;
        let (family, max) = match addr {
            IpAddr::V4(_) => ("IPv4", 32u8),
            IpAddr::V6(_) => ("IPv6", 128u8),
        };
        let prefix =
            match prefix_text {
                None => max,
                Some(p) => p.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(|| {
                    CidrError::BadPrefix {
                        prefix: p.to_owned(),
                        family,
                        max,
                    }
                })?,
            };
        Self::new(addr, prefix)
    }
}

impl fmt::Display for IpCidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Why an address is not public, in words for an operator; `None` for a public address.
pub(crate) fn restricted_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("unspecified (0.0.0.0/8)")
    } else if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private (RFC 1918)")
    } else if ip.is_link_local() {
        Some("link-local")
    } else if a == 100 && (64..128).contains(&b) {
        Some("shared carrier-grade NAT space (100.64.0.0/10)")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if ip.is_broadcast() || a >= 240 {
        Some("reserved")
    } else {
        None
    }
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified (::)");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if let Some(v4) = embedded_v4(ip) {
        return v4_reason(v4);
    }
    if seg[0] & 0xfe00 == 0xfc00 {
        Some("unique-local (fc00::/7)")
    } else if seg[0] & 0xffc0 == 0xfe80 {
        Some("link-local")
    } else if seg[0] & 0xffc0 == 0xfec0 {
        Some("site-local (fec0::/10)")
    } else if seg[0] & 0xff00 == 0xff00 {
        Some("multicast")
    } else {
        None
    }
}

/// The IPv4 address an IPv6 address embeds, by the forms that carry one: IPv4-mapped
/// (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated), IPv4-translated
/// (`::ffff:0:a.b.c.d`, RFC 2765 SIIT) and NAT64 (`64:ff9b::/96`, RFC 6052) in the last 32 bits;
/// NAT64 local-use (`64:ff9b:1::/48`, RFC 8215) in the last 32 bits, as its common `/96`
/// prefixes place it; 6to4 (`2002::/16`, RFC 3056) in bits 16–47.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = ip.segments();
    let last32 = Ipv4Addr::from((u128::from(ip) & 0xffff_ffff) as u32);
    match seg {
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0, 0, ..] | [0, 0, 0, 0, 0xffff, 0, ..] => {
            Some(last32)
        }
        [0x64, 0xff9b, 0, 0, 0, 0, ..] | [0x64, 0xff9b, 1, ..] => Some(last32),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        _ => None,
    }
}

/// An address the policy refused, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub ip: IpAddr,
    pub reason: &'static str,
}

/// What an operator can do about a refusal.
const ADVICE: &str =
    "set [fetch] allow_private_addresses = true or add the address to allow_addresses";

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "address {} is {}: {ADVICE}", self.ip, self.reason)
    }
}

/// Which addresses may be connected to.
#[derive(Debug, Clone, Default)]
pub(crate) struct AddressPolicy {
    pub allow_private: bool,
    pub allow: Vec<IpCidr>,
}

impl AddressPolicy {
    /// `Ok` when `ip` may be connected to.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.allow_private || self.allow.iter().any(|net| net.contains(ip)) {
            return Ok(());
        }
        match restricted_reason(ip) {
            Some(reason) => Err(Refusal {
                ip: ip.to_canonical(),
                reason,
            }),
            None => Ok(()),
        }
    }
}

/// Errors of [`GuardedResolver`]; found again in reqwest's error chain by downcasting.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ResolveError {
    /// The system resolver failed.
    #[error("could not resolve host {host}: {source}")]
    Lookup {
        host: String,
        #[source]
        source: std::io::Error,
    },
    /// The name resolved, but only to refused addresses.
    #[error("host {host} resolves to {}, which is {}: {ADVICE}", refusal.ip, refusal.reason)]
    Refused { host: String, refusal: Refusal },
    /// The name resolved to nothing.
    #[error("host {host} has no addresses")]
    Empty { host: String },
}

/// A reqwest DNS resolver that drops addresses the policy refuses, and fails
/// when nothing is left.
#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver {
    pub policy: Arc<AddressPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|source| ResolveError::Lookup {
                    host: host.clone(),
                    source,
                })?;
            let mut kept: Vec<SocketAddr> = Vec::new();
            let mut refused = None;
            for addr in found {
                match policy.check(addr.ip()) {
                    Ok(()) => kept.push(addr),
                    Err(r) => {
                        tracing::debug!(%host, ip = %addr.ip(), "dropping refused address");
                        refused.get_or_insert(r);
                    }
                }
            }
            if kept.is_empty() {
                let err = match refused {
                    Some(refusal) => ResolveError::Refused { host, refusal },
                    None => ResolveError::Empty { host },
                };
                return Err(Box::new(err) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_parses_v4_and_v6() {
        let c: IpCidr = "10.1.2.0/24".parse().unwrap();
        assert_eq!(c.to_string(), "10.1.2.0/24");
        assert!(c.contains(ip("10.1.2.200")));
        assert!(!c.contains(ip("10.1.3.1")));
        assert!(c.contains(ip("::ffff:10.1.2.7")));

        let c: IpCidr = "fd00::/8".parse().unwrap();
        assert!(c.contains(ip("fd12:3456::1")));
        assert!(!c.contains(ip("fe80::1")));
        assert!(!c.contains(ip("10.1.2.3")));
    }

    #[test]
    fn cidr_bare_address_is_single_host_and_host_bits_are_cleared() {
        let c: IpCidr = "127.0.0.2".parse().unwrap();
        assert_eq!(c.prefix(), 32);
        assert!(c.contains(ip("127.0.0.2")));
        assert!(!c.contains(ip("127.0.0.3")));
        let c: IpCidr = "10.1.2.3/24".parse().unwrap();
        assert_eq!(c.addr(), ip("10.1.2.0"));
        let c: IpCidr = "[::1]".parse().unwrap();
        assert_eq!(c.to_string(), "::1/128");
        let c: IpCidr = "0.0.0.0/0".parse().unwrap();
        assert!(c.contains(ip("8.8.8.8")));
        let c: IpCidr = "::/0".parse().unwrap();
        assert!(c.contains(ip("2001:db8::1")));
    }

    #[test]
    fn cidr_rejects_garbage() {
        assert!(matches!(
            "10.1.2/24".parse::<IpCidr>(),
            Err(CidrError::BadAddress(_))
        ));
        assert!(matches!(
            "10.0.0.0/33".parse::<IpCidr>(),
            Err(CidrError::BadPrefix { .. })
        ));
        assert!(matches!(
            "fd00::/129".parse::<IpCidr>(),
            Err(CidrError::BadPrefix { .. })
        ));
        assert!(matches!(
            "10.0.0.0/x".parse::<IpCidr>(),
            Err(CidrError::BadPrefix { .. })
        ));
        assert!("example.org/24".parse::<IpCidr>().is_err());
    }

    #[test]
    fn restricted_addresses_are_classified() {
        for (addr, restricted) in [
            ("127.0.0.1", true),
            ("127.9.9.9", true),
            ("10.0.0.1", true),
            ("172.16.0.1", true),
            ("172.32.0.1", false),
            ("192.168.1.1", true),
            ("169.254.169.254", true),
            ("100.64.0.1", true),
            ("100.127.255.255", true),
            ("100.128.0.1", false),
            ("0.0.0.0", true),
            ("224.0.0.1", true),
            ("255.255.255.255", true),
            ("8.8.8.8", false),
            ("::1", true),
            ("::", true),
            ("fc00::1", true),
            ("fd12::1", true),
            ("fe80::1", true),
            ("ff02::1", true),
            ("::ffff:127.0.0.1", true),
            ("::ffff:10.0.0.1", true),
            ("::ffff:8.8.8.8", false),
            ("64:ff9b::a00:1", true),
            ("64:ff9b::808:808", false),
            // IPv4-translated (RFC 2765 SIIT).
            ("::ffff:0:127.0.0.1", true),
            ("::ffff:0:10.1.2.3", true),
            ("::ffff:0:8.8.8.8", false),
            // 6to4: the IPv4 address in bits 16–47.
            ("2002:7f00:1::", true),
            ("2002:a00:1:1234::1", true),
            ("2002:c0a8:101::", true),
            ("2002:a9fe:a9fe::", true),
            ("2002:808:808::1", false),
            // NAT64 local-use: the IPv4 address in the last 32 bits.
            ("64:ff9b:1::7f00:1", true),
            ("64:ff9b:1::c0a8:101", true),
            ("64:ff9b:1:abcd::a00:1", true),
            ("64:ff9b:1::808:808", false),
            ("2001:4860:4860::8888", false),
        ] {
            assert_eq!(
                restricted_reason(ip(addr)).is_some(),
                restricted,
                "{addr}: {:?}",
                restricted_reason(ip(addr))
            );
        }
    }

    #[test]
    fn policy_allows_listed_networks_only() {
        let policy = AddressPolicy {
            allow_private: false,
            allow: vec!["127.0.0.2/32".parse().unwrap()],
        };
        assert!(policy.check(ip("127.0.0.2")).is_ok());
        assert!(policy.check(ip("::ffff:127.0.0.2")).is_ok());
        let refusal = policy.check(ip("127.0.0.3")).unwrap_err();
        assert!(refusal.to_string().contains("127.0.0.3 is loopback"));
        assert!(refusal.to_string().contains("allow_private_addresses"));
        assert!(policy.check(ip("93.184.216.34")).is_ok());
        let open = AddressPolicy {
            allow_private: true,
            allow: vec![],
        };
        assert!(open.check(ip("10.0.0.1")).is_ok());
    }
}
