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
    ] {
        let mut b = Browser::new();
        let s = b.start_login(&w.proxy, "/").await;
        let code = s.code(&w.idp, tweak);
        let before = w.before();
        let res = b.call_back(&w.proxy, &code, &s.state).await;
        w.refused(&format!("{tweak:?}"), res, 400, "invalid_id_token", before)
            .await;
    }
}
