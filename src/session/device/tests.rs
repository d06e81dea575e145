use super::*;

#[test]
fn user_agents_read_as_browser_on_system() {
    for (ua, expected) in [
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
             Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.5.0", "curl"),
        ("", "unknown"),
    ] {
        assert_eq!(summary(ua), expected, "{ua}");
    }
}

#[test]
fn addresses_are_cut_to_their_network() {
    let p = |s: &str| prefix(s.parse().expect("ip"));
    assert_eq!(p("203.0.113.77"), "203.0.113.0/24");
    assert_eq!(p("2001:db8:abcd:12::1"), "2001:db8:abcd::/48");
    assert_eq!(p("::ffff:192.0.2.9"), "192.0.2.0/24");
}
