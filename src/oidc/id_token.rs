//! Step (E): ID token validation with `openidconnect`'s verifier (signature by the IdP's JWKS,
//! `iss`, `aud`, `exp`, `nonce`), restricted to the IdP's asymmetric algorithms, plus the two
//! checks the crate leaves to clients: `azp`, and `iat` not in the future.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier};
use openidconnect::{ClaimsVerificationError, ClientId, Nonce, SignatureVerificationError};

use super::discovery::Loaded;
use super::{OidcError, Provider};
use crate::support::{now_unix, read};

/// Allowed clock skew for `iat` in the future (ID tokens and logout tokens).
pub(super) const IAT_FUTURE_SKEW_SECS: i64 = 300;

impl Provider {
    fn verifier(&self, loaded: &Loaded) -> CoreIdTokenVerifier<'static> {
        let jwks = (*read(&self.jwks).clone()).clone();
        CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.client_id.clone()),
            loaded.issuer.clone(),
            jwks,
        )
        .set_allowed_algs(loaded.id_token_algs.clone())
        .set_issue_time_verifier_fn(|iat| {
            if iat.timestamp() > now_unix() + IAT_FUTURE_SKEW_SECS {
                Err("issued in the future".into())
            } else {
                Ok(())
            }
        })
    }

    /// Validates signature (refetching the JWKS once, rate-limited, for an unknown key id), `iss`,
    /// `aud`, `azp`, `exp`, `iat` and `nonce`; returns all claims of the token.
    pub(super) async fn validate_id_token(
        &self,
        loaded: &Loaded,
        token: &CoreIdToken,
        nonce: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, OidcError> {
        let nonce = Nonce::new(nonce.to_owned());
        let azp = |c: &CoreIdTokenClaims| c.authorized_party().map(|a| a.to_string());
        let first = token.claims(&self.verifier(loaded), &nonce).map(azp);
        let azp = match first {
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) if self.refetch_jwks(loaded).await => {
                token.claims(&self.verifier(loaded), &nonce).map(azp)
            }
            other => other,
        }
        .map_err(|e| OidcError::InvalidIdToken(e.to_string()))?;
        // OIDC Core 3.1.3.7 step 5, which openidconnect leaves to the client: a present `azp`
        // must be this client. (Extra untrusted audiences are already refused by the verifier.)
        if azp.is_some_and(|a| a != self.client_id) {
            return Err(OidcError::InvalidIdToken("`azp` is not this client".into()));
        }
        payload_claims(&token.to_string())
            .ok_or_else(|| OidcError::InvalidIdToken("unreadable payload".into()))
    }
}

/// The claims of a compact JWS whose signature was already verified.
fn payload_claims(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    decode_json(jwt.split('.').nth(1)?)
}

/// A base64url JSON segment of a JWS.
pub(super) fn decode_json<T: serde::de::DeserializeOwned>(segment: &str) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(segment.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}
