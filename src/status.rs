//! A member's status in one round, as the club names it.
//!
//! Its own room because two stages speak it: the roster (an operator's `overrides` entry names a
//! status) and the judge (which gives one status per member and round). It imports neither.

use std::fmt;
use std::str::FromStr;

/// A member's status in one round, in the order the judge tries them: the first that applies
/// wins (an override comes between `exempt` and `submitted`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Before `joined_round` or after `left_round`: not judged.
    Exempt,
    /// A post of enough (or unknown) length falls in the round.
    Submitted,
    /// The post appeared after the round closed, dated back into it: an operator decides.
    Late,
    /// The member used one of their passes on this round.
    Pass,
    /// The round's only posts are shorter than `min_chars`.
    Short,
    /// The round is still open and nothing counted yet.
    Pending,
    /// The round closed, but not every feed of the member was read successfully long enough
    /// after the close: there is no evidence that nothing was posted, so nothing is charged.
    Unverified,
    /// The round closed, every feed was read after it, and nothing above applies.
    Missed,
}

impl Status {
    /// Every status, in precedence order.
    pub const ALL: [Status; 8] = [
        Status::Exempt,
        Status::Submitted,
        Status::Late,
        Status::Pass,
        Status::Short,
        Status::Pending,
        Status::Unverified,
        Status::Missed,
    ];

    /// The lower-case name used in the config and in machine output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Exempt => "exempt",
            Status::Submitted => "submitted",
            Status::Late => "late",
            Status::Pass => "pass",
            Status::Short => "short",
            Status::Pending => "pending",
            Status::Unverified => "unverified",
            Status::Missed => "missed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text names no status.
#[derive(Debug, thiserror::Error)]
#[error("unknown status `{0}`")]
pub struct UnknownStatus(String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_the_same_status() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>().unwrap(), status);
        }
        assert!("sumbitted".parse::<Status>().is_err());
    }
}
