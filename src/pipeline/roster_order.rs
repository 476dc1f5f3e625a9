//! Roster order: results that finish in any order, handed on in each member's feed order.
//!
//! A member's feeds are stored in the order the roster lists them, whatever order their
//! servers answer in: the first-listed feed's link and id win a cross-post, and the ids minted on
//! a first run do not depend on which server was quicker. A result that arrives before an
//! earlier feed of its member is held until that one arrives.

use std::collections::{HashMap, VecDeque};

/// Holds back results until every earlier feed of the same member has been handed on.
#[derive(Debug)]
pub struct RosterOrder<T> {
    /// Per member, the indexes still to hand on, in roster order.
    due: HashMap<String, VecDeque<usize>>,
    /// The member of each index.
    member_of: HashMap<usize, String>,
    /// Results that arrived before an earlier feed of their member.
    held: HashMap<usize, T>,
}

impl<T> RosterOrder<T> {
    /// The expected results as (member, index), each member's in roster order.
    pub fn new<'a>(expected: impl IntoIterator<Item = (&'a str, usize)>) -> Self {
        let mut due: HashMap<String, VecDeque<usize>> = HashMap::new();
        let mut member_of = HashMap::new();
        for (member, index) in expected {
            due.entry(member.to_string()).or_default().push_back(index);
            member_of.insert(index, member.to_string());
        }
        Self {
            due,
            member_of,
            held: HashMap::new(),
        }
    }

    /// Takes the result for `index` and returns what may be handed on now, in order: nothing
    /// when an earlier feed of its member is still out; else this result and the later ones of
    /// its member that were waiting for it. An index nobody expected is handed on at once.
    pub fn arrive(&mut self, index: usize, result: T) -> Vec<(usize, T)> {
        let Some(queue) = self
            .member_of
            .get(&index)
            .and_then(|member| self.due.get_mut(member))
        else {
            return vec![(index, result)];
        };
        if queue.front() != Some(&index) {
            self.held.insert(index, result);
            return Vec::new();
        }
        let mut ready = vec![(index, result)];
        queue.pop_front();
        while let Some(next) = queue.front().copied() {
            let Some(waiting) = self.held.remove(&next) else {
                break;
            };
            queue.pop_front();
            ready.push((next, waiting));
        }
        ready
    }

    /// Whatever is still held, by index: only a result that never arrived (a lost task) leaves
    /// later ones behind, and they are still worth handing on.
    pub fn rest(&mut self) -> Vec<(usize, T)> {
        let mut left: Vec<(usize, T)> = self.held.drain().collect();
        left.sort_by_key(|(i, _)| *i);
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_members_feeds_are_handed_on_in_roster_order() {
        // minji lists feeds 0 then 2; jihoon lists 1.
        let mut order = RosterOrder::new([("minji", 0), ("jihoon", 1), ("minji", 2)]);
        assert!(
            order.arrive(2, "minji second").is_empty(),
            "held for feed 0"
        );
        assert_eq!(order.arrive(1, "jihoon"), [(1, "jihoon")]);
        assert_eq!(
            order.arrive(0, "minji first"),
            [(0, "minji first"), (2, "minji second")]
        );
        assert!(order.rest().is_empty());
    }

    #[test]
    fn results_behind_a_lost_one_are_still_handed_on() {
        let mut order = RosterOrder::new([("a", 0), ("a", 1), ("a", 2)]);
        assert!(order.arrive(2, 'c').is_empty());
        assert!(order.arrive(1, 'b').is_empty());
        assert_eq!(order.rest(), [(1, 'b'), (2, 'c')]);
        let mut other = RosterOrder::new([("a", 0)]);
        assert_eq!(other.arrive(7, 'x'), [(7, 'x')], "unexpected: at once");
    }
}
