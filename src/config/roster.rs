//! The club's roster rules, checked against the whole roster.
//!
//! The validator refuses what cannot be read; these rules are different: a roster that breaks
//! them still loads (an operator may be mid-edit, or the club may have agreed an exception), so
//! `fetch` and `report` print them as warnings and `check` fails on them. Each message names the
//! member and what to change. The rules judge a [`Roster`], what they need of the file, which
//! `check` gets even from a file with other problems: each rule is applied as far as what it
//! needs could be read (the number of passes allowed, the number of rounds, the members).

use super::problem::{line_of, Problem};
use super::raw::RawMember;
use super::types::Config;

/// What the roster rules judge.
#[derive(Debug, Default)]
pub(super) struct Roster {
    /// How many rounds there are, when `[rounds]` says it.
    pub(super) rounds: Option<usize>,
    /// Passes each member may use, when `[rounds]` could be read.
    pub(super) passes: Option<u32>,
    /// The members that could be read, in file order.
    pub(super) members: Vec<RosterMember>,
}

/// One member as the roster rules see it; each number comes with its line, when known.
#[derive(Debug)]
pub(super) struct RosterMember {
    /// How messages name the member: `members[3] (minji)`.
    key: String,
    id: String,
    passes: Vec<(u32, Option<usize>)>,
    overrides: Vec<(u32, Option<usize>)>,
    joined_round: Option<u32>,
    left_round: Option<(u32, Option<usize>)>,
    /// Feeds the member lists that could be read.
    pub(super) feeds: usize,
}

impl RosterMember {
    /// The member `key` as written (`feeds`: how many of its feeds could be read).
    pub(super) fn of_raw(key: &str, m: &RawMember, feeds: usize, text: &str) -> RosterMember {
        let line = |span: std::ops::Range<usize>| Some(line_of(text, span.start));
        RosterMember {
            key: key.to_string(),
            id: m.id.get_ref().clone(),
            passes: m
                .passes
                .iter()
                .map(|p| (*p.get_ref(), line(p.span())))
                .collect(),
            overrides: m
                .overrides
                .iter()
                .filter_map(|(round, status)| Some((round.parse().ok()?, line(status.span()))))
                .collect(),
            joined_round: m.joined_round.as_ref().map(|r| *r.get_ref()),
            left_round: m
                .left_round
                .as_ref()
                .map(|r| (*r.get_ref(), line(r.span()))),
            feeds,
        }
    }
}

impl Roster {
    /// The roster of a valid config (no lines: the text is not at hand).
    fn of(config: &Config) -> Roster {
        let members = config
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| RosterMember {
                key: format!("members[{i}] ({})", m.id),
                id: m.id.clone(),
                passes: m.passes.iter().map(|p| (*p, None)).collect(),
                overrides: m.overrides.keys().map(|r| (*r, None)).collect(),
                joined_round: m.joined_round,
                left_round: m.left_round.map(|r| (r, None)),
                feeds: m.feeds.len(),
            });
        Roster {
            rounds: Some(config.rounds.due.len()),
            passes: Some(config.rounds.passes),
            members: members.collect(),
        }
    }

    /// Every rule the roster breaks, as far as it can be judged.
    pub(super) fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        for m in &self.members {
            self.member_problems(m, &mut problems);
        }
        problems
    }

    fn member_problems(&self, m: &RosterMember, out: &mut Vec<Problem>) {
        let mut push = |line: Option<usize>, field: &str, message: String| {
            out.push(Problem {
                line,
                key: format!("{}.{field}", m.key),
                message,
                suggestion: None,
            });
        };
        let id = &m.id;
        let mut passes = m.passes.clone();
        passes.sort_unstable_by_key(|(round, _)| *round);
        let rounds: Vec<u32> = passes.iter().map(|(round, _)| *round).collect();
        if let Some(allowed) = self.passes.filter(|a| passes.len() as u32 > *a) {
            push(
                passes.first().and_then(|(_, line)| *line),
                "passes",
                format!(
                    "member `{id}` has {} passes ({rounds:?}) but each member may use {allowed}; remove {} from `passes`",
                    passes.len(),
                    passes.len() as u32 - allowed
                ),
            );
        }
        for w in passes.windows(2) {
            let ((a, _), (b, line)) = (w[0], w[1]);
            if b == a + 1 {
                push(line, "passes", format!(
                    "member `{id}` passes rounds {a} and {b} in a row; passes may not be consecutive — record one as missed or override it"
                ));
            }
            if b == a {
                push(
                    line,
                    "passes",
                    format!("member `{id}` lists pass {a} twice; list it once"),
                );
            }
        }
        let Some(n) = self.rounds else {
            // Without the number of rounds, whether a round exists cannot be judged.
            return Self::left_before_joined(m, push);
        };
        let exists = |round: u32| round != 0 && round as usize <= n;
        for (round, line) in passes.iter().filter(|(r, _)| !exists(*r)) {
            push(*line, "passes", format!(
                "member `{id}` has a pass for round {round}, which does not exist (rounds are 1..={n})"
            ));
        }
        for (round, line) in m.overrides.iter().filter(|(r, _)| !exists(*r)) {
            push(*line, "overrides", format!(
                "member `{id}` has an override for round {round}, which does not exist (rounds are 1..={n})"
            ));
        }
        Self::left_before_joined(m, push);
    }

    fn left_before_joined(m: &RosterMember, mut push: impl FnMut(Option<usize>, &str, String)) {
        if let (Some(j), Some((l, line))) = (m.joined_round, m.left_round) {
            if l < j {
                push(line, "left_round", format!(
                    "member `{}` left (round {l}) before joining (round {j}); fix `left_round` or `joined_round`",
                    m.id
                ));
            }
        }
    }
}

/// Roster-rule problems: more passes than allowed, two passes in a row, passes or overrides for
/// rounds that do not exist, `left_round` before `joined_round`. Warnings in `fetch` and
/// `report`, errors in `check`.
pub fn roster_problems(config: &Config) -> Vec<String> {
    Roster::of(config)
        .problems()
        .into_iter()
        .map(|p| p.message)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra_rounds: &str, member_extra: &str) -> Config {
        crate::config::test_club(extra_rounds, member_extra)
    }

    #[test]
    fn roster_rules_catch_too_many_and_consecutive_passes() {
        let c = config(
            "passes = 2",
            "passes = [2, 3, 9]\noverrides = { 7 = \"submitted\" }",
        );
        let p = roster_problems(&c).join("\n");
        for want in [
            "has 3 passes",
            "rounds 2 and 3 in a row",
            "pass for round 9",
            "override for round 7",
        ] {
            assert!(p.contains(want), "missing {want:?} in {p}");
        }
        assert!(roster_problems(&config("", "passes = [1, 3]")).is_empty());
    }
}
