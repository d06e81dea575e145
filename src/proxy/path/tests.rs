use super::*;

fn verdict(raw: &str) -> Result<(), PathError> {
    Canonical::new(raw).check(false)
}

#[test]
fn plain_paths_pass_and_fold_to_lower_case() {
    for (raw, folded) in [
        ("/", "/"),
        ("/api", "/api"),
        ("/api/", "/api/"),
        ("/API/Users/42", "/api/users/42"),
        ("/api/x..y/.well-known/a.b", "/api/x..y/.well-known/a.b"),
        ("/api/%E2%9C%93", "/api/\u{2713}"),
        ("/api/caf%C3%A9", "/api/caf\u{e9}"),
        ("/api/a%20b", "/api/a b"),
        ("/api/100%25", "/api/100%"),
        ("/api/stra%C3%9Fe", "/api/strasse"),
    ] {
        let c = Canonical::new(raw);
        assert_eq!(c.folded(), folded, "{raw}");
        assert_eq!(c.check(false), Ok(()), "{raw}");
    }
}

#[test]
fn every_ambiguous_spelling_is_refused() {
    use PathError::*;
    for (raw, why) in [
        ("/api//admin/x", EmptySegment),
        ("//api/admin", EmptySegment),
        ("/api/admin%2Fx", EncodedSlash),
        ("/api/admin%2fx", EncodedSlash),
        ("/api/admin%5Cx", EncodedSlash),
        ("/api/admin%5cx", EncodedSlash),
        ("/api/admin\\x", Backslash),
        ("/api/admin;x/x", Parameter),
        ("/api/admin%3Bx/x", Parameter),
        ("/api/admin./x", TrailingDotOrSpace),
        ("/api/admin%2e/x", TrailingDotOrSpace),
        ("/api/admin%20/x", TrailingDotOrSpace),
        ("/api/admin /x", TrailingDotOrSpace),
        ("/api/x/..", DotSegment),
        ("/api/./x", DotSegment),
        ("/api/%2e%2e/admin", DotSegment),
        ("/api/%2E%2e/admin", DotSegment),
        ("/api/.%2e/admin", DotSegment),
        ("/api/%2e/x", DotSegment),
        ("/api/x/..%2Fadmin", DotSegment),
        ("/api/x/..%5Cadmin", DotSegment),
        ("/api/x/..\\admin", Backslash),
        ("/api/a%00b", Control),
        ("/api/a%0Ab", Control),
        ("/api/a%7Fb", Control),
        ("/api/%zz", BadEncoding),
        ("/api/%2", BadEncoding),
        ("/api/admin%252Fx", BadEncoding),
        ("/api/%252e%252e/admin", BadEncoding),
        ("/api/a%253Bb", BadEncoding),
        ("/api/%2561dmin/x", BadEncoding),
        ("/api/adm%2569n/x", BadEncoding),
        ("/api/%25%36%31dmin/x", BadEncoding),
        ("/api/%2525", BadEncoding),
        ("/api/x/%C0%AE%C0%AE/admin/x", BadEncoding),
        ("/api/admin%C0%AF/x", BadEncoding),
        ("/api/admin%C1%9C/x", BadEncoding),
        ("/api/%E0%80%AE", BadEncoding),
        ("/api/%ED%A0%80", BadEncoding),
        ("/api/%F4%90%80%80", BadEncoding),
        ("/api/caf%E9", BadEncoding),
        ("/api/admin%3F/x", EncodedDelimiter),
        ("/api/admin%23/x", EncodedDelimiter),
    ] {
        // (An encoded slash in a dot segment is reported as the dot segment.)
        let got = verdict(raw);
        assert!(got.is_err(), "{raw} must be refused");
        if why != EncodedSlash {
            assert_eq!(got, Err(why), "{raw}");
        }
    }
}

#[test]
fn the_folded_form_is_the_most_lenient_reading() {
    // Whatever an upstream could read as /api/admin/x folds to it, so it gets admin's route.
    for raw in [
        "/api/ADMIN/x",
        "/api/Admin/x",
        "/api//admin/x",
        "/api/admin%2Fx",
        "/api/admin%5Cx",
        "/api\\admin\\x",
        "/api/admin;jsessionid=1/x",
        "/api/admin./x",
        "/api/admin%20/x",
        "/api/admin.%20./x",
        "/api/%61dmin/x",
        "/%41PI/admin/x",
        "/api/adm\u{131}n/x",
        "/api/adm%C4%B1n/x",
        "/api/adm%C4%B0n/x",
        "/api/ADM\u{130}N/x",
    ] {
        assert_eq!(Canonical::new(raw).folded(), "/api/admin/x", "{raw}");
    }
    assert_eq!(
        Canonical::new("/api/payment\u{17f}/x").folded(),
        "/api/payments/x"
    );
}

#[test]
fn an_allowed_encoded_slash_passes_but_other_flaws_do_not() {
    assert_eq!(Canonical::new("/api/a%2Fb").check(true), Ok(()));
    assert_eq!(
        Canonical::new("/api/a%2Fb").check(false),
        Err(PathError::EncodedSlash)
    );
    assert_eq!(
        Canonical::new("/api/..%2Fb").check(true),
        Err(PathError::DotSegment)
    );
    let c = Canonical::new("/api/a%2Fb/c");
    assert!(c.encoded_slash_within(2));
    assert!(!c.encoded_slash_within(1));
}

#[test]
fn under_matches_whole_segments() {
    assert!(under("/api", "/api"));
    assert!(under("/api/x", "/api"));
    assert!(under("/api/", "/api"));
    assert!(!under("/apix", "/api"));
    assert!(!under("/ap", "/api"));
    assert!(under("/anything", "/"));
}
