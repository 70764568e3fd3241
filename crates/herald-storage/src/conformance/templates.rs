//! Conformance of [`crate::templates::TemplateStore`]: versions appended and kept, the save
//! preconditions, deletion that hides but never reuses a version number.

use chrono::{TimeZone, Utc};
use serde_json::json;

use super::Factory;
use crate::templates::{Expect, Saved, TemplateVersion};

fn saved(s: Saved) -> TemplateVersion {
    match s {
        Saved::New(v) => v,
        Saved::Conflict { current } => panic!("conflict, current version {current}"),
    }
}

pub fn templates_are_versioned(make: &Factory) {
    let store = make();
    let at = |s: i64| Utc.timestamp_opt(1_767_225_600 + s, 0).unwrap();
    let body =
        |n: u32| json!({"subject": format!("Hi {{{{ traits.name }}}} #{n}"), "body": "<p>x</p>"});
    let first = saved(
        store
            .save_template(
                "welcome",
                "Welcome",
                "email",
                &body(1),
                Expect::Absent,
                at(1),
            )
            .unwrap(),
    );
    assert_eq!((first.version, first.created_at), (1, at(1)));
    // Absent fails once it exists; a stale version fails; the right one appends.
    assert_eq!(
        store
            .save_template("welcome", "W", "email", &body(9), Expect::Absent, at(2))
            .unwrap(),
        Saved::Conflict { current: 1 }
    );
    assert_eq!(
        store
            .save_template("welcome", "W", "email", &body(9), Expect::Version(7), at(2))
            .unwrap(),
        Saved::Conflict { current: 1 }
    );
    let second = saved(
        store
            .save_template(
                "welcome",
                "Welcome!",
                "email",
                &body(2),
                Expect::Version(1),
                at(3),
            )
            .unwrap(),
    );
    assert_eq!(second.version, 2);
    let third = saved(
        store
            .save_template(
                "welcome",
                "Welcome!!",
                "email",
                &body(3),
                Expect::Any,
                at(4),
            )
            .unwrap(),
    );
    assert_eq!(third.version, 3);
    saved(
        store
            .save_template(
                "a-sms",
                "Code",
                "sms",
                &json!({"body": "{{ code }}"}),
                Expect::Any,
                at(5),
            )
            .unwrap(),
    );

    assert_eq!(
        store.template("welcome", None).unwrap(),
        Some(third.clone())
    );
    assert_eq!(
        store.template("welcome", Some(1)).unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.template("welcome", Some(4)).unwrap(), None);
    assert_eq!(store.template("nope", None).unwrap(), None);
    assert_eq!(
        store.template_versions("welcome").unwrap(),
        [third.clone(), second, first.clone()]
    );
    let listed = store.templates().unwrap();
    let summary: Vec<_> = listed
        .iter()
        .map(|t| {
            (
                t.id.as_str(),
                t.name.as_str(),
                t.channel.as_str(),
                t.version,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("a-sms", "Code", "sms", 1),
            ("welcome", "Welcome!!", "email", 3)
        ]
    );
    assert_eq!((listed[1].created_at, listed[1].updated_at), (at(1), at(4)));

    // Deleted: hidden, its numbered versions still found, and a new save goes on from 4.
    assert!(store.delete_template("welcome").unwrap());
    assert!(!store.delete_template("welcome").unwrap());
    assert_eq!(store.template("welcome", None).unwrap(), None);
    assert_eq!(store.template_versions("welcome").unwrap(), []);
    assert_eq!(store.template("welcome", Some(1)).unwrap(), Some(first));
    assert_eq!(store.templates().unwrap().len(), 1);
    assert_eq!(
        store
            .save_template("welcome", "W", "email", &body(9), Expect::Version(3), at(6))
            .unwrap(),
        Saved::Conflict { current: 0 }
    );
    let again = saved(
        store
            .save_template("welcome", "Back", "email", &body(4), Expect::Absent, at(7))
            .unwrap(),
    );
    assert_eq!(again.version, 4);
    let back = store.templates().unwrap();
    assert_eq!((back[1].version, back[1].created_at), (4, at(7)));
}

/// Concurrent saves of one template get distinct, consecutive version numbers.
pub fn concurrent_template_saves_get_consecutive_versions(make: &Factory) {
    let store = make();
    let now = Utc.timestamp_opt(1_767_225_600, 0).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..5)
                    .map(|i| {
                        let content = json!({"body": format!("{t}-{i}")});
                        saved(
                            store
                                .save_template("race", "Race", "sms", &content, Expect::Any, now)
                                .unwrap(),
                        )
                        .version
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut versions: Vec<u32> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=20).collect::<Vec<_>>());
    assert_eq!(store.template_versions("race").unwrap().len(), 20);
}
