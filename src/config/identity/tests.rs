use rsa::pkcs8::{EncodePrivateKey, LineEnding};

use super::*;
use crate::config::Config;
use crate::crypto::generate_p256;

const BASE: &str = "[server]\nlisten = \"127.0.0.1:8080\"\npublic_url = \"http://127.0.0.1:8080\"\n\
    [oidc]\nissuer = \"http://127.0.0.2:9100\"\nclient_id = \"c\"\n\
    client_secret = \"test-client-secret-0123\"\n";

/// `Ok(())`, or the key the config is refused on.
fn checked(extra: &str) -> Result<(), String> {
    Config::from_toml_str(&format!("{BASE}{extra}"), "t")
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn route(keys: &str) -> String {
    format!("[[routes]]\nprefix = \"/api\"\nupstream = \"http://127.0.0.1:9\"\n{keys}")
}

fn refused_on(extra: &str, key: &str) {
    let e = checked(extra).expect_err(extra);
    assert!(e.contains(key), "{extra}: {e}");
}

fn toml_string(s: &str) -> String {
    format!("{s:?}")
}

#[test]
fn an_identity_lives_at_most_a_minute() {
    for ok in ["1s", "30s", "60s", "1m"] {
        assert_eq!(
            checked(&route(&format!(
                "identity_header = \"X-Id\"\nidentity_ttl = \"{ok}\"\n"
            ))),
            Ok(()),
            "{ok}"
        );
    }
    for bad in ["0s", "500ms", "61s", "5m", "1h"] {
        refused_on(
            &route(&format!(
                "identity_header = \"X-Id\"\nidentity_ttl = \"{bad}\"\n"
            )),
            "routes.identity_ttl",
        );
    }
}

#[test]
fn an_identity_header_is_a_name_vestibule_neither_sets_nor_removes() {
    for bad in [
        "Authorization",
        "cookie",
        "Host",
        "X-Forwarded-For",
        "x-request-id",
        "Content-Length",
        "X_Identity",
        "X Identity",
        "",
    ] {
        refused_on(
            &route(&format!("identity_header = {}\n", toml_string(bad))),
            "routes.identity_header",
        );
    }
    // A name the route's own `headers` also set: one of them would be lost.
    refused_on(
        &route("identity_header = \"X-Id\"\nheaders = { \"x-id\" = \"static\" }\n"),
        "routes.identity_header",
    );
    for ok in [
        "X-Vestibule-Identity",
        "x-user-jwt",
        "X-Pomerium-Jwt-Assertion",
    ] {
        assert_eq!(
            checked(&route(&format!("identity_header = \"{ok}\"\n"))),
            Ok(())
        );
    }
}

#[test]
fn claims_vestibule_sets_itself_cannot_be_copied() {
    for claim in SET_BY_VESTIBULE.iter().chain(&[""]) {
        refused_on(
            &route(&format!(
                "identity_header = \"X-Id\"\nidentity_claims = [\"email\", \"{claim}\"]\n"
            )),
            "routes.identity_claims",
        );
    }
    assert_eq!(
        checked(&route(
            "identity_header = \"X-Id\"\nidentity_claims = [\"email\", \"acr\", \"roles\"]\n"
        )),
        Ok(())
    );
    assert_eq!(
        checked(&route("identity_header = \"X-Id\"\nidentity_claims = []\n")),
        Ok(()),
        "sub alone"
    );
}

#[test]
fn identity_options_need_an_identity_header() {
    refused_on(
        &route("identity_claims = [\"email\"]\n"),
        "routes.identity_header",
    );
    refused_on(
        &route("identity_audience = \"orders\"\n"),
        "routes.identity_header",
    );
    refused_on(
        &route("identity_header = \"X-Id\"\nidentity_audience = \" \"\n"),
        "routes.identity_audience",
    );
}

#[test]
fn a_configured_signing_key_must_sign_with_its_algorithm() {
    let p256 = generate_p256().expect("a key");
    let rsa = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .expect("RSA")
        .to_pkcs8_pem(LineEnding::LF)
        .expect("PEM");
    let key = |pem: &str| format!("[identity]\nsigning_key = {}\n", toml_string(pem));
    assert_eq!(checked(&key(&p256)), Ok(()));
    assert_eq!(
        checked(&format!("{}signing_key_alg = \"PS256\"\n", key(&rsa))),
        Ok(())
    );
    refused_on(&key(&rsa), "identity.signing_key");
    refused_on(
        &format!("{}signing_key_alg = \"RS256\"\n", key(&p256)),
        "identity.signing_key",
    );
    refused_on(&key("not a key"), "identity.signing_key");
    refused_on(
        "[identity]\nsigning_key_file = \"/nonexistent/key.pem\"\n",
        "identity.signing_key_file",
    );
    refused_on(
        &format!("{}signing_key_file = \"/tmp/k.pem\"\n", key(&p256)),
        "identity.signing_key_file",
    );
    refused_on(
        "[identity]\nsigning_key_alg = \"RS256\"\n",
        "identity.signing_key_alg",
    );
}

#[test]
fn an_rsa_key_under_2048_bits_is_refused_and_never_panics() {
    for (bits, alg) in [
        (512, "PS256"),
        (512, "RS256"),
        (1024, "RS256"),
        (1024, "PS256"),
    ] {
        let pem = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits)
            .expect("RSA")
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PEM");
        let extra = format!(
            "[identity]\nsigning_key = {}\nsigning_key_alg = \"{alg}\"\n",
            toml_string(&pem)
        );
        let err = checked(&extra).expect_err("refused");
        assert!(err.contains("at least 2048 bits"), "{bits} {alg}: {err}");
    }
}

#[test]
fn previous_keys_are_pem_text_or_files_private_or_public() {
    let private = generate_p256().expect("a key");
    let public = crate::crypto::PublicJwk::from_pem(private.as_bytes()).expect("key");
    let path = std::env::temp_dir().join(format!("vestibule-idk-{}.pem", public.kid));
    std::fs::write(&path, private.as_bytes()).expect("write");
    let listed = format!(
        "[identity]\nprevious_keys = [{}, {}]\n",
        toml_string(&private),
        toml_string(&path.display().to_string())
    );
    let result = checked(&listed);
    let _ = std::fs::remove_file(&path);
    assert_eq!(result, Ok(()));
    refused_on(
        "[identity]\nprevious_keys = [\"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\"]\n",
        "identity.previous_keys",
    );
    refused_on(
        "[identity]\nprevious_keys = [\"/nonexistent/old.pem\"]\n",
        "identity.previous_keys",
    );
}
