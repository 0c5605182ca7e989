//! Property tests of the parsers that read outside input: file paths and
//! Mango selectors. Whatever the input, they never panic, and what they
//! accept satisfies the invariants the rest of the daemon relies on.

use foyerd::vault::files::FilePath;
use foyerd::vault::query::Selector;
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e9f64..1e9).prop_map(|f| json!(f)),
        "[a-z$._]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("$and".to_owned()),
                    Just("$or".to_owned()),
                    Just("$gt".to_owned()),
                    Just("$in".to_owned()),
                    Just("$exists".to_owned()),
                    Just("$eq".to_owned()),
                    "[a-z]{1,3}(\\.[a-z]{1,3})?",
                ],
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn file_paths_accepted_are_safe(raw in "[a-zA-Z0-9 ./\\x00\\x07é-]{0,40}") {
        if let Ok(p) = FilePath::parse(&raw) {
            for seg in &p.segments {
                prop_assert!(!seg.is_empty());
                prop_assert!(seg != "." && seg != "..");
                prop_assert!(!seg.contains('/') && !seg.contains('\0'));
                prop_assert!(!seg.chars().any(char::is_control));
                prop_assert!(seg.len() <= 255);
            }
            prop_assert!(!raw.starts_with('/'));
            // What was accepted prints and parses back to the same thing.
            let again = FilePath::parse(p.display().trim_start_matches('/')).expect("reparse");
            prop_assert_eq!(again.segments, p.segments);
        }
    }

    #[test]
    fn any_string_path_never_panics(raw in any::<String>()) {
        let _ = FilePath::parse(&raw);
    }

    #[test]
    fn selectors_never_panic(sel in json_value(), doc in json_value()) {
        if let Ok(s) = Selector::parse(&sel) {
            let _ = s.matches("some-id", &doc);
        }
    }
}
