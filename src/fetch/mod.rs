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
