//! Rounds and submissions: a pure function of (config, stored posts and fetch history, now).
//!
//! This module owns the club's rule of who posted in which deadline round. Only the status
//! vocabulary lives here so far; the judging itself arrives with the `report` command.

use std::fmt;
use std::str::FromStr;

/// A member's status in one round (SPEC §5), in precedence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Before `joined_round` or after `left_round`.
    Exempt,
    /// A post of enough (or unknown) length falls in the round.
    Submitted,
    /// The post appeared after the round closed, dated back into it.
    Late,
    /// A pass from the roster.
    Pass,
    /// The only posts are shorter than `min_chars`.
    Short,
    /// The round is still open.
    Pending,
    /// The round closed and nothing applies.
    Missed,
}

impl Status {
    /// The lower-case name used in config and machine output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Exempt => "exempt",
            Status::Submitted => "submitted",
            Status::Late => "late",
            Status::Pass => "pass",
            Status::Short => "short",
            Status::Pending => "pending",
            Status::Missed => "missed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text is not a status name.
#[derive(Debug, thiserror::Error)]
#[error("unknown status `{0}`")]
pub struct UnknownStatus(String);

impl FromStr for Status {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "exempt" => Status::Exempt,
            "submitted" => Status::Submitted,
            "late" => Status::Late,
            "pass" => Status::Pass,
            "short" => Status::Short,
            "pending" => Status::Pending,
            "missed" => Status::Missed,
            other => return Err(UnknownStatus(other.to_string())),
        })
    }
}
