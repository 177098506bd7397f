//! The HTTP client the GitHub calls go through: hyper's HTTP/1.1 client (the hyper the runtime
//! already links) with rustls on ring for TLS and the Mozilla roots compiled in (webpki-roots),
//! so the bootstrap needs no CA files on the instance or in the image.
//!
//! Names are resolved by the system resolver (glibc's `getaddrinfo`, on tokio's blocking pool)
//! in the zip's dynamically linked build. The static build for a `FROM scratch` image
//! (`-C target-feature=+crt-static`) resolves them with hickory instead: a static glibc cannot
//! load the NSS modules `getaddrinfo` needs, and the image has none. Cargo selects hickory from
//! the same cfg (see this crate's Cargo.toml), so the build needs no feature flag.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::crypto::ring::{cipher_suite, ALL_KX_GROUPS};
use rustls::crypto::{
    CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::PrivateKeyDer;
use rustls::sign::SigningKey;
use rustls::SignatureScheme;
use webpki::ring as algorithm;

/// The client: pooled keep-alive connections, `http://` (a test double) and `https://` URLs.
pub type HttpClient = Client<HttpsConnector<HttpConnector<Resolver>>, Full<Bytes>>;

/// A client whose TCP connects give up after `connect_timeout`.
pub fn client(connect_timeout: Duration) -> Result<HttpClient, rustls::Error> {
    let mut http = HttpConnector::new_with_resolver(resolver());
    // The TLS layer above handles https:// URLs; this one must let them through.
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    http.set_nodelay(true);
    let https = HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(crypto_provider())?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// rustls on ring as `rustls::crypto::ring::default_provider()` sets it up, with two parts left
/// out; building it from that function would keep both in the binary. Together they are
/// 106,640 B of the binary and 3.5% of the zip (measured with rustc 1.95).
///
/// - The ChaCha20-Poly1305 cipher suites (about 50 KB of ring's code): only AES-GCM is
///   offered. Every TLS 1.3 server implements `TLS_AES_128_GCM_SHA256` (RFC 8446, 9.1: "MUST
///   implement"), and the TLS 1.2 suites kept are ECDHE with AES-GCM, those RFC 7525 (4.2)
///   recommends, with their ECDSA twins. ChaCha20 is for CPUs without AES instructions; FC's
///   x86-64 instances have them.
/// - Loading private keys (RSA and ECDSA signing): a client certificate is never sent, so
///   [`NoClientKeys`] refuses every key.
///
/// Key exchange groups and the signature algorithms that verify the server's certificate chain
/// are ring's full sets, as in rustls' ring provider (0.23; its `SUPPORTED_SIG_ALGS`). Both TLS
/// 1.3 and 1.2 stay: `GITHUB_API_URL` may name a GitHub Enterprise Server.
fn crypto_provider() -> CryptoProvider {
    CryptoProvider {
        cipher_suites: vec![
            cipher_suite::TLS13_AES_128_GCM_SHA256,
            cipher_suite::TLS13_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        kx_groups: ALL_KX_GROUPS.to_vec(),
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &SystemRandom,
        key_provider: &NoClientKeys,
    }
}

/// The certificate signature algorithms ring verifies, and which of them each TLS signature
/// scheme may use: rustls' ring provider's table.
static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        algorithm::ECDSA_P256_SHA256,
        algorithm::ECDSA_P256_SHA384,
        algorithm::ECDSA_P384_SHA256,
        algorithm::ECDSA_P384_SHA384,
        algorithm::ED25519,
        algorithm::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        algorithm::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        algorithm::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        algorithm::RSA_PKCS1_2048_8192_SHA256,
        algorithm::RSA_PKCS1_2048_8192_SHA384,
        algorithm::RSA_PKCS1_2048_8192_SHA512,
        algorithm::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        algorithm::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        algorithm::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        (
            SignatureScheme::ECDSA_NISTP384_SHA384,
            &[algorithm::ECDSA_P384_SHA384, algorithm::ECDSA_P256_SHA384],
        ),
        (
            SignatureScheme::ECDSA_NISTP256_SHA256,
            &[algorithm::ECDSA_P256_SHA256, algorithm::ECDSA_P384_SHA256],
        ),
        (SignatureScheme::ED25519, &[algorithm::ED25519]),
        (
            SignatureScheme::RSA_PSS_SHA512,
            &[algorithm::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA384,
            &[algorithm::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PSS_SHA256,
            &[algorithm::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA512,
            &[algorithm::RSA_PKCS1_2048_8192_SHA512],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA384,
            &[algorithm::RSA_PKCS1_2048_8192_SHA384],
        ),
        (
            SignatureScheme::RSA_PKCS1_SHA256,
            &[algorithm::RSA_PKCS1_2048_8192_SHA256],
        ),
    ],
};

/// The operating system's random numbers, through ring.
#[derive(Debug)]
struct SystemRandom;

impl SecureRandom for SystemRandom {
    fn fill(&self, buffer: &mut [u8]) -> Result<(), GetRandomFailed> {
        use ring::rand::SecureRandom as _;
        ring::rand::SystemRandom::new()
            .fill(buffer)
            .map_err(|_| GetRandomFailed)
    }
}

/// Refuses every private key: this client never authenticates with a certificate of its own.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(
        &self,
        _: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General(
            "sync-forks sends no client certificate and loads no private key".into(),
        ))
    }
}

/// The system resolver.
#[cfg(not(target_feature = "crt-static"))]
pub type Resolver = hyper_util::client::legacy::connect::dns::GaiResolver;

#[cfg(not(target_feature = "crt-static"))]
fn resolver() -> Resolver {
    Resolver::new()
}

/// hickory, configured from `/etc/resolv.conf` and `/etc/hosts` as glibc would be.
#[cfg(target_feature = "crt-static")]
pub use hickory::Resolver;

#[cfg(target_feature = "crt-static")]
fn resolver() -> Resolver {
    Resolver::from_system_config()
}

#[cfg(target_feature = "crt-static")]
mod hickory {
    use std::future::Future;
    use std::io;
    use std::net::SocketAddr;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll};

    use hickory_resolver::config::LookupIpStrategy;
    use hickory_resolver::TokioResolver;
    use hyper_util::client::legacy::connect::dns::Name;

    /// A resolver for hyper's connector. A system configuration that cannot be read fails each
    /// lookup with the reason, not the start of the function.
    #[derive(Clone)]
    pub struct Resolver(Arc<Result<TokioResolver, String>>);

    impl Resolver {
        pub fn from_system_config() -> Self {
            let resolver = TokioResolver::builder_tokio()
                .map(|mut builder| {
                    // Both address families, for the connector's happy eyeballs.
                    builder.options_mut().ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
                    builder.build()
                })
                .map_err(|error| {
                    format!("cannot read the DNS configuration (/etc/resolv.conf): {error}")
                });
            Self(Arc::new(resolver))
        }
    }

    impl tower_service::Service<Name> for Resolver {
        type Response = std::vec::IntoIter<SocketAddr>;
        type Error = io::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, io::Error>> + Send>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, name: Name) -> Self::Future {
            let resolver = Arc::clone(&self.0);
            Box::pin(async move {
                let resolver = resolver
                    .as_ref()
                    .as_ref()
                    .map_err(|unreadable| io::Error::other(unreadable.clone()))?;
                let found = resolver
                    .lookup_ip(name.as_str())
                    .await
                    .map_err(io::Error::other)?;
                // The connector fills in the port.
                let addresses: Vec<SocketAddr> =
                    found.iter().map(|ip| SocketAddr::new(ip, 0)).collect();
                Ok(addresses.into_iter())
            })
        }
    }
}
