use super::*;

fn full() -> Entry {
    Entry {
        handle: "q3Jd8sLw0xYtA1mN5bVcZe".into(),
        sub: "bench".into(),
        created_at: 1_796_097_063,
        device: Some(Device {
            user_agent: "Chrome on Linux".into(),
            ip: "127.0.0.0/24".into(),
        }),
        refresh_token: Some("p0zQe8S3x2Yv7LmN1kJhG4fD6sA9wE5rT2yU8iO3pQa".into()),
        sid: Some("Mhx9YAjDjNAWJ7JMYKekBQDFOuV9alRIIrR73p2yEuU".into()),
        registered_ms: 1_796_097_063_123,
    }
}

#[test]
fn an_entry_round_trips_through_its_compact_form_a_third_shorter_than_json_at_least() {
    let bare = Entry {
        device: None,
        refresh_token: None,
        sid: None,
        ..full()
    };
    for entry in [full(), bare] {
        let plain = entry.to_plain();
        assert_eq!(plain[0], VERSION);
        assert_eq!(Entry::from_plain(&plain), Some(entry));
    }
    let json = serde_json::to_vec(&full()).unwrap();
    assert!(full().to_plain().len() * 3 < json.len() * 2);
}

#[test]
fn an_entry_in_json_as_versions_before_wrote_it_still_reads() {
    // What `serde_json::to_vec(&entry)` wrote before the compact form, byte for byte; and the
    // shape of the first entries, before `sid` and `registered_ms`.
    let json = br#"{"handle":"q3Jd8sLw0xYtA1mN5bVcZe","sub":"bench","created_at":1796097063,"device":{"user_agent":"Chrome on Linux","ip":"127.0.0.0/24"},"refresh_token":"p0zQe8S3x2Yv7LmN1kJhG4fD6sA9wE5rT2yU8iO3pQa","sid":"Mhx9YAjDjNAWJ7JMYKekBQDFOuV9alRIIrR73p2yEuU","registered_ms":1796097063123}"#;
    assert_eq!(Entry::from_plain(json), Some(full()));
    let oldest = br#"{"handle":"h","sub":"s","created_at":1,"device":null,"refresh_token":null}"#;
    let entry = Entry::from_plain(oldest).unwrap();
    assert_eq!((entry.sid, entry.registered_ms), (None, 0));
}

#[test]
fn a_truncated_or_garbled_entry_reads_as_none() {
    let plain = full().to_plain();
    for cut in 0..plain.len() {
        assert_eq!(Entry::from_plain(&plain[..cut]), None, "cut at {cut}");
    }
    let mut longer = plain.clone();
    longer.push(0);
    assert_eq!(Entry::from_plain(&longer), None);
    for (i, b) in [(0, 2), (0, b'['), (1, 0xff)] {
        let mut garbled = plain.clone();
        garbled[i] = b;
        assert_ne!(Entry::from_plain(&garbled), Some(full()), "byte {i} = {b}");
    }
}
