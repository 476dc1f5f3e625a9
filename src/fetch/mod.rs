//! Placeholder until the fetch branch lands.
use std::str::FromStr;
/// CIDR.
#[derive(Debug, Clone)]
pub struct IpCidr;
impl FromStr for IpCidr {
    type Err = ();
    fn from_str(_s: &str) -> Result<Self, ()> {
        Ok(IpCidr)
    }
}
/// Stable FNV-1a 64 hex (placeholder).
pub fn stable_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}
