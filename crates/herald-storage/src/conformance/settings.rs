//! Conformance of [`crate::settings::SettingsStore`]: versions, compare-and-set, names apart.

use super::Factory;

pub fn settings_documents_change_by_compare_and_set(make: &Factory) {
    let store = make();
    assert_eq!(store.settings_document("messaging").unwrap(), None);
    // Only a first save expects version 0, and only one of two first saves wins.
    assert_eq!(
        store
            .save_settings_document("messaging", "{\"a\":1}", 1, 10)
            .unwrap(),
        None
    );
    assert_eq!(store.settings_document("messaging").unwrap(), None);
    assert_eq!(
        store
            .save_settings_document("messaging", "{\"a\":1}", 0, 10)
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        store
            .save_settings_document("messaging", "{\"a\":9}", 0, 11)
            .unwrap(),
        None
    );
    let first = store.settings_document("messaging").unwrap().unwrap();
    assert_eq!(
        (first.document.as_str(), first.version, first.updated_ms),
        ("{\"a\":1}", 1, 10)
    );
    assert_eq!(
        store
            .save_settings_document("messaging", "{\"a\":2}", 1, 20)
            .unwrap(),
        Some(2)
    );
    // A change made with version 1 in hand after version 2 was saved changes nothing.
    assert_eq!(
        store
            .save_settings_document("messaging", "{\"a\":3}", 1, 30)
            .unwrap(),
        None
    );
    let second = store.settings_document("messaging").unwrap().unwrap();
    assert_eq!(
        (second.document.as_str(), second.version, second.updated_ms),
        ("{\"a\":2}", 2, 20)
    );
    assert_eq!(store.settings_document("other").unwrap(), None);
    assert_eq!(
        store.save_settings_document("other", "[]", 0, 5).unwrap(),
        Some(1)
    );
    assert_eq!(
        store
            .settings_document("messaging")
            .unwrap()
            .unwrap()
            .version,
        2
    );
}
