//! The harness (zero-to-production's `TestApp`, split by noun): a Vestibule built from a
//! [`TestConfig`] and started in this process ([`Proxy`]) or as the binary ([`Binary`]); a
//! cookie-keeping [`Browser`] with a method per endpoint; a test IdP that can be made to
//! misbehave ([`TestIdp`]); a real `redis-server` ([`RedisServer`]); an upstream API that reports
//! what reached it ([`Upstream`]); an OTLP trace receiver ([`Collector`]); what an upstream does
//! with Vestibule's identity ([`Jwks`]); and plain HTTP helpers ([`http`]).

pub mod apps;
pub mod binary;
pub mod browser;
pub mod collector;
pub mod config;
pub mod http;
pub mod idp;
pub mod jwks;
pub mod poll;
pub mod proxy;
pub mod redis;
pub mod redis_ha;
pub mod relay;
pub mod secrets;
pub mod sse;
pub mod tls;
pub mod upstream;

pub use apps::TestApps;
pub use binary::Binary;
pub use browser::Browser;
pub use collector::Collector;
pub use config::{Raw, TestConfig, TestRoute};
pub use http::{urlencode, wait_for};
pub use idp::{TestIdp, Tweak};
pub use jwks::{Jwks, kid_of};
pub use poll::eventually;
pub use proxy::{FORM, Proxy, logout_form};
pub use redis::RedisServer;
pub use redis_ha::{RedisCluster, RedisSentinels};
pub use relay::Relay;
pub use sse::EventStream;
pub use tls::TestTls;
pub use upstream::Upstream;
