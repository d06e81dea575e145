//! What an upstream does with the identity Vestibule sends: fetch `/.well-known/jwks.json` and
//! verify the JWT with it. jsonwebtoken does the verifying (signature, `alg` against the key,
//! `iss`, `aud`, `exp`); nothing here checks a signature by hand.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Map, Value};

use super::proxy::Proxy;

/// A JWKS fetched from a proxy, as served.
pub struct Jwks {
    pub set: JwkSet,
    /// The document as JSON, to look for members that must not be there.
    pub json: Value,
}

impl Jwks {
    /// `GET /.well-known/jwks.json`: 200, JSON, cacheable for five minutes.
    pub async fn of(proxy: &Proxy) -> Jwks {
        let res = reqwest::get(proxy.url("/.well-known/jwks.json"))
            .await
            .expect("JWKS request");
        assert_eq!(res.status(), 200, "the JWKS is served");
        assert_eq!(res.headers()["cache-control"], "public, max-age=300");
        assert_eq!(res.headers()["content-type"], "application/json");
        let text = res.text().await.expect("body");
        Jwks {
            set: serde_json::from_str(&text).expect("a JWK set"),
            json: serde_json::from_str(&text).expect("JSON"),
        }
    }

    /// The `kid` of every published key.
    pub fn kids(&self) -> Vec<String> {
        self.set
            .keys
            .iter()
            .filter_map(|k| k.common.key_id.clone())
            .collect()
    }

    /// The claims of `jwt` when it verifies with one of these keys (by its `kid`) as an identity
    /// of `proxy` for `aud`; else why not.
    pub fn verify(
        &self,
        jwt: &str,
        proxy: &Proxy,
        aud: &str,
    ) -> Result<Map<String, Value>, String> {
        let header = jsonwebtoken::decode_header(jwt).map_err(|e| e.to_string())?;
        let kid = header.kid.ok_or("no kid")?;
        let jwk = self
            .set
            .find(&kid)
            .ok_or(format!("kid {kid} not published"))?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
        let mut v = Validation::new(header.alg);
        v.set_issuer(&[proxy.base.as_str()]);
        v.set_audience(&[aud]);
        v.set_required_spec_claims(&["iss", "aud", "sub", "iat", "exp"]);
        v.leeway = 0;
        jsonwebtoken::decode::<Map<String, Value>>(jwt, &key, &v)
            .map(|t| t.claims)
            .map_err(|e| e.to_string())
    }
}

/// The header's `kid`.
pub fn kid_of(jwt: &str) -> String {
    jsonwebtoken::decode_header(jwt)
        .expect("a JWT header")
        .kid
        .expect("kid")
}
