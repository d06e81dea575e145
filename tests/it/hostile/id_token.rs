//! ID tokens that must not make a session: each broken in one precise way by the test IdP.

use super::World;
use crate::common::*;

#[actix_web::test]
async fn id_token_attacks_are_refused() {
    let mut w = World::new(false, &[]).await;
    for tweak in [
        Tweak::WrongAud,
        Tweak::WrongNonce,
        Tweak::MissingNonce,
        Tweak::WrongIss,
        Tweak::WrongAzp,
        Tweak::ExtraAudNoAzp,
        Tweak::Expired,
        Tweak::IatInFuture,
        Tweak::MissingSub,
        Tweak::UnknownKid,
        Tweak::AlgNone,
        Tweak::HsWithPublicKey,
        Tweak::TamperedSignature,
        Tweak::MissingExp,
        Tweak::MissingIat,
        Tweak::NbfInFuture,
        Tweak::UnadvertisedAlg,
        Tweak::EmbeddedJwk,
        Tweak::Jku,
        Tweak::X5u,
        Tweak::LogoutToken,
    ] {
        let mut b = Browser::new();
        let s = b.start_login(&w.proxy, "/").await;
        let code = s.code(&w.idp, tweak);
        let before = w.before();
        let res = b.call_back(&w.proxy, &code, &s.state).await;
        w.refused(&format!("{tweak:?}"), res, 400, "invalid_id_token", before)
            .await;
        // A key named by the token itself is the attacker's: only the IdP's JWKS is trusted.
        assert_eq!(
            w.idp.calls(&w.idp.state.attacker_key_fetches),
            0,
            "{tweak:?}: the key the header points to is never fetched"
        );
    }
}

#[actix_web::test]
async fn an_id_token_in_a_refused_algorithm_gets_a_page_that_names_it_and_the_fix() {
    let mut w = World::new(false, &[]).await;
    for (tweak, alg) in [(Tweak::HsWithPublicKey, "HS256"), (Tweak::AlgNone, "none")] {
        let mut b = Browser::new();
        let s = b.start_login(&w.proxy, "/").await;
        let code = s.code(&w.idp, tweak);
        let before = w.before();
        let res = b.call_back(&w.proxy, &code, &s.state).await;
        assert_eq!(res.status(), 400);
        let page = res.text().await.expect("page");
        assert!(page.contains("invalid_id_token"), "{page}");
        // (JSON or HTML, the algorithm's name is quoted either way.)
        let named = [format!("\\\"{alg}\\\""), format!("&quot;{alg}&quot;")];
        assert!(
            named.iter().any(|n| page.contains(n.as_str())),
            "names {alg}: {page}"
        );
        assert!(page.contains("RS256"), "names what to use instead: {page}");
        w.unchanged(&format!("{tweak:?}"), before).await;
    }
}
