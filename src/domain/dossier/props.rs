//! Properties of the transition table, over every status, action, actor and
//! kind of note (none, blank, written).

use std::collections::{HashMap, VecDeque};

use proptest::prelude::*;

use super::{Action, Actor, Refusal, Status, allowed, check};
use crate::domain::staff::StaffRole;

/// Cases per property (proptest's default, stated so the report can say it).
const CASES: u32 = 256;

/// A reason any action accepts.
const REASON: &str = "Thiếu bản sao giấy khai sinh.";

fn status() -> impl Strategy<Value = Status> {
    prop::sample::select(Status::ALL.to_vec())
}

fn action() -> impl Strategy<Value = Action> {
    prop::sample::select(Action::ALL.to_vec())
}

fn actor() -> impl Strategy<Value = Actor> {
    prop::sample::select(Actor::ALL.to_vec())
}

fn note() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "[ \t\n]{0,3}".prop_map(Some),
        "\\PC{1,20}".prop_map(Some),
    ]
}

fn is_blank(note: Option<&str>) -> bool {
    note.is_none_or(|n| n.trim().is_empty())
}

/// The statuses the table can lead to.
fn targets() -> Vec<Status> {
    Action::ALL.into_iter().map(Action::to).collect()
}

/// The shortest way from a draft to each status, by anyone, with reasons.
fn paths_from_draft() -> HashMap<Status, Vec<(Action, Actor)>> {
    let mut paths = HashMap::from([(Status::Draft, Vec::new())]);
    let mut queue = VecDeque::from([Status::Draft]);
    while let Some(status) = queue.pop_front() {
        for actor in Actor::ALL {
            for action in allowed(status, actor) {
                let to = action.to();
                if !paths.contains_key(&to) {
                    let mut path = paths[&status].clone();
                    path.push((action, actor));
                    paths.insert(to, path);
                    queue.push_back(to);
                }
            }
        }
    }
    paths
}

#[test]
fn every_role_is_an_actor() {
    for role in StaffRole::ALL {
        assert!(Actor::ALL.contains(&Actor::Staff(role)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// A move is allowed and leads where the table says, or it is refused
    /// for the reason the table gives.
    #[test]
    fn a_move_follows_the_table_or_is_refused(
        status in status(), action in action(), actor in actor(), note in note(),
    ) {
        let note = note.as_deref();
        match check(status, action, actor, note) {
            Ok(to) => {
                prop_assert_eq!(to, action.to());
                prop_assert!(targets().contains(&to));
                prop_assert_ne!(to, status);
                prop_assert!(action.from().contains(&status));
                prop_assert_eq!(actor, action.actor());
                prop_assert!(!action.needs_note() || !is_blank(note));
            }
            Err(Refusal::NotAllowed) => prop_assert_ne!(actor, action.actor()),
            Err(Refusal::WrongStatus(instead)) => {
                prop_assert_eq!(actor, action.actor());
                prop_assert!(!action.from().contains(&status));
                prop_assert!(!instead.contains(&action));
                prop_assert_eq!(instead, allowed(status, actor));
            }
            Err(Refusal::NoteRequired) => {
                prop_assert!(action.needs_note() && is_blank(note));
                prop_assert_eq!(check(status, action, actor, Some(REASON)), Ok(action.to()));
            }
        }
    }

    /// The actions offered are exactly those that succeed with a reason.
    #[test]
    fn allowed_lists_what_check_accepts(status in status(), actor in actor()) {
        let offered = allowed(status, actor);
        for action in Action::ALL {
            let accepted = check(status, action, actor, Some(REASON)).is_ok();
            prop_assert_eq!(offered.contains(&action), accepted, "{:?}", action);
        }
    }

    /// A terminal status has no way out, for anyone; every other status has one.
    #[test]
    fn terminal_statuses_have_no_way_out(
        status in status(), action in action(), actor in actor(), note in note(),
    ) {
        if status.is_terminal() {
            prop_assert!(check(status, action, actor, note.as_deref()).is_err());
            prop_assert!(allowed(status, actor).is_empty());
        } else {
            prop_assert!(Actor::ALL.into_iter().any(|a| !allowed(status, a).is_empty()));
        }
    }

    /// No action is allowed to an actor the table does not give it, whatever
    /// the status and the note; the agency admin takes no dossier action.
    #[test]
    fn only_the_actor_the_table_names_may_act(
        status in status(), action in action(), actor in actor(), note in note(),
    ) {
        if actor != action.actor() {
            prop_assert_eq!(check(status, action, actor, note.as_deref()), Err(Refusal::NotAllowed));
        }
        prop_assert!(allowed(status, Actor::Staff(StaffRole::AgencyAdmin)).is_empty());
    }

    /// Every status can be reached from a draft, by moves `check` accepts.
    #[test]
    fn every_status_is_reachable_from_draft(target in status()) {
        let paths = paths_from_draft();
        let path = paths.get(&target);
        prop_assert!(path.is_some(), "{:?} unreachable", target);
        let mut at = Status::Draft;
        for &(action, actor) in path.into_iter().flatten() {
            at = check(at, action, actor, Some(REASON)).expect("a step of the path");
        }
        prop_assert_eq!(at, target);
    }

    /// Any sequence of attempts from a draft: refused ones change nothing,
    /// accepted ones lead where the table says, never back to a draft, and
    /// nothing moves a dossier once it is terminal.
    #[test]
    fn any_walk_from_draft_stays_in_the_table(
        steps in prop::collection::vec((action(), actor(), note()), 0..40),
    ) {
        let mut at = Status::Draft;
        for (action, actor, note) in steps {
            match check(at, action, actor, note.as_deref()) {
                Ok(to) => {
                    prop_assert!(!at.is_terminal());
                    prop_assert_ne!(to, Status::Draft);
                    prop_assert_eq!(to, action.to());
                    if action == Action::RequestSupplement {
                        prop_assert!(!to.clock_runs());
                    }
                    at = to;
                }
                Err(_) => prop_assert!(!at.is_terminal() || allowed(at, actor).is_empty()),
            }
        }
    }
}
