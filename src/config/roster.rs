//! The club's roster rules, checked against the whole roster.
//!
//! The validator refuses what cannot be read; these rules are different: a roster that breaks
//! them still loads (an operator may be mid-edit, or the club may have agreed an exception), so
//! `fetch` and `report` print them as warnings and `check` fails on them. Each message names the
//! member and what to change.

use super::types::Config;

/// Roster-rule problems: more passes than allowed, two passes in a row, passes or overrides for
/// rounds that do not exist, `left_round` before `joined_round`. Warnings in `fetch` and
/// `report`, errors in `check`.
pub fn roster_problems(config: &Config) -> Vec<String> {
    let n = config.rounds.due.len() as u32;
    let mut problems = Vec::new();
    for m in &config.members {
        let mut passes = m.passes.clone();
        passes.sort_unstable();
        if passes.len() as u32 > config.rounds.passes {
            problems.push(format!(
                "member `{}` has {} passes ({:?}) but each member may use {}; remove {} from `passes`",
                m.id,
                passes.len(),
                passes,
                config.rounds.passes,
                passes.len() as u32 - config.rounds.passes
            ));
        }
        for w in passes.windows(2) {
            if w[1] == w[0] + 1 {
                problems.push(format!(
                    "member `{}` passes rounds {} and {} in a row; passes may not be consecutive — record one as missed or override it",
                    m.id, w[0], w[1]
                ));
            }
            if w[1] == w[0] {
                problems.push(format!(
                    "member `{}` lists pass {} twice; list it once",
                    m.id, w[0]
                ));
            }
        }
        for p in &passes {
            if *p == 0 || *p > n {
                problems.push(format!("member `{}` has a pass for round {p}, which does not exist (rounds are 1..={n})", m.id));
            }
        }
        for r in m.overrides.keys() {
            if *r == 0 || *r > n {
                problems.push(format!(
                    "member `{}` has an override for round {r}, which does not exist (rounds are 1..={n})",
                    m.id
                ));
            }
        }
        if let (Some(j), Some(l)) = (m.joined_round, m.left_round) {
            if l < j {
                problems.push(format!("member `{}` left (round {l}) before joining (round {j}); fix `left_round` or `joined_round`", m.id));
            }
        }
    }
    problems
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
