//! The invocation context: what FC tells the function about itself and this request.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue};

/// Metadata of one invocation, built from FC's `x-fc-*` request headers, falling back to the
/// environment FC sets for the instance. Every field is optional in practice: a missing or
/// malformed header gives `None` (or `0` for the numbers), never an error.
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct Context {
    /// `x-fc-request-id`; a locally generated `local-...` id when FC sent none.
    pub request_id: String,
    /// `x-fc-function-name`, else `FC_FUNCTION_NAME`.
    pub function_name: Option<String>,
    /// `x-fc-service-name` (FC 2.0 only).
    pub service_name: Option<String>,
    /// `x-fc-region`, else `FC_REGION`.
    pub region: Option<String>,
    /// `x-fc-account-id`, else `FC_ACCOUNT_ID`.
    pub account_id: Option<String>,
    /// `x-fc-qualifier`: the version or alias that was invoked.
    pub qualifier: Option<String>,
    /// `x-fc-version-id`, else `FC_FUNCTION_VERSION` or `FC_VER_ID`.
    pub version_id: Option<String>,
    /// `x-fc-function-memory`, else `FC_FUNCTION_MEMORY_SIZE`, in MB; `0` when unknown.
    pub memory_mb: u32,
    /// `x-fc-function-timeout` in seconds, where FC sends it.
    pub timeout: Option<Duration>,
    /// `x-fc-retry-count`; `0` when absent.
    pub retry_count: u32,
    /// `x-fc-service-logproject`: the SLS project stdout goes to.
    pub log_project: Option<String>,
    /// `x-fc-service-logstore`: the SLS logstore stdout goes to.
    pub log_store: Option<String>,
    /// The function role's temporary credentials, from headers or `ALIBABA_CLOUD_*`.
    pub credentials: Option<Credentials>,
    /// When the runtime received the request; the start of [`Context::deadline`].
    pub received_at: Option<Instant>,
}

impl Context {
    /// The instant by which the invocation must finish, when FC sent its timeout.
    pub fn deadline(&self) -> Option<Instant> {
        let received_at = self.received_at?;
        received_at.checked_add(self.timeout?)
    }

    /// Builds the context of one request from its headers and the instance's environment.
    #[cfg(test)]
    pub(crate) fn from_request(headers: &HeaderMap, env: &Environment) -> Self {
        Self::from_headers(&FcHeaders::find(headers), env)
    }

    /// Builds the context of one request from its `x-fc-*` headers and the instance's
    /// environment.
    pub(crate) fn from_headers(found: &FcHeaders<'_>, env: &Environment) -> Self {
        let text = |name: FcHeader| {
            found
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let number = |name: FcHeader| text(name).and_then(|value| value.parse::<u32>().ok());
        let credentials = match text(FcHeader::AccessKeyId) {
            Some(access_key_id) => Some(Credentials {
                access_key_id,
                access_key_secret: text(FcHeader::AccessKeySecret).unwrap_or_default(),
                security_token: text(FcHeader::SecurityToken).unwrap_or_default(),
            }),
            None => env.credentials.clone(),
        };
        Self {
            request_id: text(FcHeader::RequestId).unwrap_or_else(local_request_id),
            function_name: text(FcHeader::FunctionName).or_else(|| env.function_name.clone()),
            service_name: text(FcHeader::ServiceName),
            region: text(FcHeader::Region).or_else(|| env.region.clone()),
            account_id: text(FcHeader::AccountId).or_else(|| env.account_id.clone()),
            qualifier: text(FcHeader::Qualifier),
            version_id: text(FcHeader::VersionId).or_else(|| env.version_id.clone()),
            memory_mb: number(FcHeader::FunctionMemory)
                .or(env.memory_mb)
                .unwrap_or(0),
            timeout: number(FcHeader::FunctionTimeout).map(|secs| Duration::from_secs(secs.into())),
            retry_count: number(FcHeader::RetryCount).unwrap_or(0),
            log_project: text(FcHeader::LogProject),
            log_store: text(FcHeader::LogStore),
            credentials,
            received_at: Some(Instant::now()),
        }
    }
}

/// The `x-fc-*` headers the runtime reads, in the order of [`FC_HEADER_NAMES`].
#[derive(Clone, Copy)]
pub(crate) enum FcHeader {
    ControlPath,
    RequestId,
    FunctionName,
    ServiceName,
    Region,
    AccountId,
    Qualifier,
    VersionId,
    FunctionMemory,
    FunctionTimeout,
    RetryCount,
    LogProject,
    LogStore,
    AccessKeyId,
    AccessKeySecret,
    SecurityToken,
}

/// The name of each [`FcHeader`], lowercase as `http` stores names, after the `x-fc-` prefix.
const FC_HEADER_NAMES: [&str; 16] = [
    "control-path",
    "request-id",
    "function-name",
    "service-name",
    "region",
    "account-id",
    "qualifier",
    "version-id",
    "function-memory",
    "function-timeout",
    "retry-count",
    "service-logproject",
    "service-logstore",
    "access-key-id",
    "access-key-secret",
    "security-token",
];

/// The first value of each [`FcHeader`] in a request (the value `HeaderMap::get` gives).
pub(crate) struct FcHeaders<'a>([Option<&'a HeaderValue>; FC_HEADER_NAMES.len()]);

impl<'a> FcHeaders<'a> {
    /// One pass over the request's headers. (A `HeaderMap::get` per name parses and hashes each
    /// of the sixteen names on every invocation: measured with callgrind on hello, 13% of the
    /// instructions per invocation went to that, and one pass cuts the total by 7%.)
    pub(crate) fn find(headers: &'a HeaderMap) -> Self {
        let mut found = [None; FC_HEADER_NAMES.len()];
        for (name, value) in headers {
            let Some(short) = name.as_str().strip_prefix("x-fc-") else {
                continue;
            };
            if let Some(index) = FC_HEADER_NAMES.iter().position(|known| *known == short) {
                found[index].get_or_insert(value);
            }
        }
        Self(found)
    }

    /// The first value of `name`, if the request has it.
    pub(crate) fn get(&self, name: FcHeader) -> Option<&'a HeaderValue> {
        self.0[name as usize]
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.request_id)
            .field("function_name", &self.function_name)
            .field("service_name", &self.service_name)
            .field("region", &self.region)
            .field("account_id", &self.account_id)
            .field("qualifier", &self.qualifier)
            .field("version_id", &self.version_id)
            .field("memory_mb", &self.memory_mb)
            .field("timeout", &self.timeout)
            .field("retry_count", &self.retry_count)
            .field("log_project", &self.log_project)
            .field("log_store", &self.log_store)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

/// Temporary STS credentials of the function's role. `Debug` shows only the access key id.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Credentials {
    /// The access key id.
    pub access_key_id: String,
    /// The access key secret (never shown by `Debug`).
    pub access_key_secret: String,
    /// The STS security token (never shown by `Debug`).
    pub security_token: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field("security_token", &"<redacted>")
            .finish()
    }
}

/// The instance-wide values FC puts in the environment, read once at startup.
#[derive(Clone, Debug, Default)]
pub(crate) struct Environment {
    function_name: Option<String>,
    region: Option<String>,
    account_id: Option<String>,
    version_id: Option<String>,
    memory_mb: Option<u32>,
    credentials: Option<Credentials>,
}

impl Environment {
    /// Reads the process environment.
    pub(crate) fn from_process() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads through `lookup`, so tests need not change the process environment.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        Self {
            function_name: var("FC_FUNCTION_NAME"),
            region: var("FC_REGION"),
            account_id: var("FC_ACCOUNT_ID"),
            version_id: var("FC_FUNCTION_VERSION").or_else(|| var("FC_VER_ID")),
            memory_mb: var("FC_FUNCTION_MEMORY_SIZE").and_then(|value| value.trim().parse().ok()),
            credentials: var("ALIBABA_CLOUD_ACCESS_KEY_ID").map(|access_key_id| Credentials {
                access_key_id,
                access_key_secret: var("ALIBABA_CLOUD_ACCESS_KEY_SECRET").unwrap_or_default(),
                security_token: var("ALIBABA_CLOUD_SECURITY_TOKEN").unwrap_or_default(),
            }),
        }
    }
}

/// A unique id for a request FC did not name (local runs), so log lines can still be told apart.
fn local_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    let sequence = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("local-{started:x}-{sequence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn every_header_is_read() {
        let map = headers(&[
            ("x-fc-request-id", "req-1"),
            ("x-fc-function-name", "sync-forks"),
            ("x-fc-service-name", "svc"),
            ("x-fc-region", "cn-hangzhou"),
            ("x-fc-account-id", "1234"),
            ("x-fc-qualifier", "live"),
            ("x-fc-version-id", "3"),
            ("x-fc-function-memory", "512"),
            ("x-fc-function-timeout", "60"),
            ("x-fc-retry-count", "2"),
            ("x-fc-service-logproject", "proj"),
            ("x-fc-service-logstore", "store"),
            ("x-fc-access-key-id", "AKID"),
            ("x-fc-access-key-secret", "the-secret"),
            ("x-fc-security-token", "the-token"),
        ]);
        let context = Context::from_request(&map, &Environment::default());
        assert_eq!(context.request_id, "req-1");
        assert_eq!(context.function_name.as_deref(), Some("sync-forks"));
        assert_eq!(context.service_name.as_deref(), Some("svc"));
        assert_eq!(context.region.as_deref(), Some("cn-hangzhou"));
        assert_eq!(context.account_id.as_deref(), Some("1234"));
        assert_eq!(context.qualifier.as_deref(), Some("live"));
        assert_eq!(context.version_id.as_deref(), Some("3"));
        assert_eq!(context.memory_mb, 512);
        assert_eq!(context.timeout, Some(Duration::from_secs(60)));
        assert_eq!(context.retry_count, 2);
        assert_eq!(context.log_project.as_deref(), Some("proj"));
        assert_eq!(context.log_store.as_deref(), Some("store"));
        let credentials = context.credentials.clone().unwrap();
        assert_eq!(credentials.access_key_secret, "the-secret");
        assert_eq!(credentials.security_token, "the-token");
        let deadline = context.deadline().unwrap();
        assert!(deadline > Instant::now() + Duration::from_secs(59));
    }

    #[test]
    fn a_repeated_header_gives_its_first_value_as_get_does() {
        let mut map = headers(&[("x-fc-request-id", "first"), ("x-other", "x")]);
        map.append("x-fc-request-id", HeaderValue::from_static("second"));
        map.append("x-fc-region", HeaderValue::from_static(" "));
        map.append("x-fc-region", HeaderValue::from_static("cn-shanghai"));
        let context = Context::from_request(&map, &Environment::default());
        assert_eq!(context.request_id, "first");
        // The first value is blank, so no region, though a later value names one (as with `get`).
        assert_eq!(context.region, None);
        assert_eq!(map.get("x-fc-region").unwrap(), " ");
    }

    #[test]
    fn no_headers_gives_defaults_and_a_local_id() {
        let context = Context::from_request(&HeaderMap::new(), &Environment::default());
        assert!(context.request_id.starts_with("local-"));
        assert_eq!(context.function_name, None);
        assert_eq!(context.memory_mb, 0);
        assert_eq!(context.timeout, None);
        assert_eq!(context.deadline(), None);
        assert_eq!(context.credentials, None);
        let other = Context::from_request(&HeaderMap::new(), &Environment::default());
        assert_ne!(context.request_id, other.request_id);
    }

    #[test]
    fn malformed_numbers_are_ignored() {
        let map = headers(&[
            ("x-fc-function-memory", "lots"),
            ("x-fc-function-timeout", "-1"),
            ("x-fc-retry-count", "1.5"),
        ]);
        let mut map = map;
        map.insert("x-fc-region", HeaderValue::from_bytes(b"\xffbad").unwrap());
        map.insert(
            "x-fc-request-id",
            HeaderValue::from_bytes(b"req-\xff").unwrap(),
        );
        map.insert(
            "x-fc-access-key-id",
            HeaderValue::from_bytes(b"\xfe").unwrap(),
        );
        let env = Environment::from_lookup(|name| {
            (name == "FC_FUNCTION_MEMORY_SIZE").then(|| "128MB".to_owned())
        });
        let context = Context::from_request(&map, &env);
        assert!(context.request_id.starts_with("local-"));
        assert_eq!(context.credentials, None);
        assert_eq!(context.memory_mb, 0);
        assert_eq!(context.timeout, None);
        assert_eq!(context.retry_count, 0);
        assert_eq!(context.region, None);
    }

    #[test]
    fn environment_fills_what_headers_lack() {
        let env = Environment::from_lookup(|name| {
            let value = match name {
                "FC_FUNCTION_NAME" => "from-env",
                "FC_REGION" => "cn-shanghai",
                "FC_FUNCTION_MEMORY_SIZE" => "1024",
                "FC_VER_ID" => "7",
                "ALIBABA_CLOUD_ACCESS_KEY_ID" => "ENVKEY",
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET" => "env-secret",
                "ALIBABA_CLOUD_SECURITY_TOKEN" => "env-token",
                _ => return None,
            };
            Some(value.to_owned())
        });
        let context = Context::from_request(&headers(&[("x-fc-region", "cn-beijing")]), &env);
        assert_eq!(context.function_name.as_deref(), Some("from-env"));
        assert_eq!(context.region.as_deref(), Some("cn-beijing"));
        assert_eq!(context.memory_mb, 1024);
        assert_eq!(context.version_id.as_deref(), Some("7"));
        assert_eq!(
            context.credentials.map(|c| c.security_token).as_deref(),
            Some("env-token")
        );
    }

    #[test]
    fn debug_redacts_the_secret_and_token() {
        let map = headers(&[
            ("x-fc-access-key-id", "AKID"),
            ("x-fc-access-key-secret", "the-secret"),
            ("x-fc-security-token", "the-token"),
        ]);
        let shown = format!("{:?}", Context::from_request(&map, &Environment::default()));
        assert!(shown.contains("AKID"));
        assert!(!shown.contains("the-secret"));
        assert!(!shown.contains("the-token"));
    }
}
