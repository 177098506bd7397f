//! The two GitHub REST calls the function needs, with timeouts and bounded retries.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

use crate::config::{RepoName, Settings};

/// A GitHub token. It is only ever written into the `Authorization` header (marked sensitive);
/// `Debug` hides it and there is no `Display`.
pub struct GitHubToken(String);

impl GitHubToken {
    /// Wraps a token; an empty one is no token.
    pub fn new(token: String) -> Option<Self> {
        let token = token.trim().to_owned();
        (!token.is_empty()).then_some(Self(token))
    }
}

impl fmt::Debug for GitHubToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("GitHubToken(<redacted>)")
    }
}

/// Why a fork could not be synced.
#[derive(Debug, thiserror::Error)]
pub enum ForkError {
    /// 409: the fork's branch conflicts with upstream; a person must merge.
    #[error("merge conflict with upstream: {0}")]
    Conflict(String),
    /// 422: GitHub could not sync the branch (e.g. no upstream, or the branch is missing).
    #[error("GitHub could not sync the branch: {0}")]
    NotSynced(String),
    /// 404: no such repository, or the token cannot see it.
    #[error("repository not found (or not visible to the token)")]
    NotFound,
    /// 401/403: the token is missing, invalid or lacks permission.
    #[error("not authorised ({status}): {message}")]
    Unauthorized {
        /// The HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// Rate limited, and waiting for the reset does not fit the invocation's deadline.
    #[error("rate limited by GitHub; retry after {0:?} does not fit the deadline")]
    RateLimited(Duration),
    /// 5xx after every attempt.
    #[error("GitHub answered {0} after every attempt")]
    Server(u16),
    /// A request took longer than its timeout.
    #[error("GitHub did not answer within {0:?}")]
    Timeout(Duration),
    /// The invocation's deadline passed before the fork was synced.
    #[error("the invocation's deadline passed")]
    DeadlineExceeded,
    /// The connection failed.
    #[error("cannot reach GitHub: {0}")]
    Transport(String),
    /// An answer this function does not understand.
    #[error("unexpected answer from GitHub: {0}")]
    Unexpected(String),
}

/// What a successful `merge-upstream` call did.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct MergeUpstream {
    /// GitHub's message, e.g. "Successfully fetched and fast-forwarded from upstream ...".
    pub message: String,
    /// `fast-forward`, `merge`, or `none` (already up to date).
    pub merge_type: String,
    /// `owner:branch` of the upstream branch.
    pub base_branch: String,
}

/// The parts of `GET /repos/{owner}/{repo}` the function reads.
#[derive(Debug, Deserialize)]
struct Repository {
    default_branch: String,
}

/// A GitHub error body.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
}

/// The GitHub REST client.
#[derive(Debug)]
pub struct GitHub {
    http: reqwest::Client,
    api_url: String,
    request_timeout: Duration,
    max_attempts: u32,
}

/// The first wait before retrying a 5xx answer; doubled on every further attempt.
const BACKOFF: Duration = Duration::from_millis(500);

impl GitHub {
    /// A client for `settings.api_url` that sends `token` (when given) on every request.
    pub fn new(settings: &Settings, token: Option<GitHubToken>) -> Result<Self, ForkError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        headers.insert(
            "x-github-api-version",
            HeaderValue::from_static("2022-11-28"),
        );
        headers.insert(USER_AGENT, HeaderValue::from_static("fc-rust-sync-forks"));
        if let Some(GitHubToken(token)) = token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                ForkError::Unexpected(
                    "GITHUB_TOKEN contains characters not allowed in a header".into(),
                )
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(settings.request_timeout)
            .hickory_dns(true)
            .build()
            .map_err(|error| ForkError::Transport(error.to_string()))?;
        Ok(Self {
            http,
            api_url: settings.api_url.clone(),
            request_timeout: settings.request_timeout,
            max_attempts: settings.max_attempts,
        })
    }

    /// The repository's default branch.
    pub async fn default_branch(
        &self,
        repo: &RepoName,
        deadline: Instant,
    ) -> Result<String, ForkError> {
        let url = format!("{}/repos/{repo}", self.api_url);
        let (status, body) = self.send(Method::GET, &url, None, deadline).await?;
        match status {
            StatusCode::OK => serde_json::from_slice::<Repository>(&body)
                .map(|repository| repository.default_branch)
                .map_err(|error| ForkError::Unexpected(error.to_string())),
            other => Err(failure(other, &body)),
        }
    }

    /// `POST /repos/{owner}/{repo}/merge-upstream`: brings `branch` up to date with upstream by
    /// a fast-forward or a merge commit; never rewrites the fork's history.
    pub async fn merge_upstream(
        &self,
        repo: &RepoName,
        branch: &str,
        deadline: Instant,
    ) -> Result<MergeUpstream, ForkError> {
        let url = format!("{}/repos/{repo}/merge-upstream", self.api_url);
        let body = serde_json::json!({ "branch": branch });
        let (status, body) = self.send(Method::POST, &url, Some(&body), deadline).await?;
        match status {
            StatusCode::OK => serde_json::from_slice(&body)
                .map_err(|error| ForkError::Unexpected(error.to_string())),
            StatusCode::CONFLICT => Err(ForkError::Conflict(message(&body))),
            StatusCode::UNPROCESSABLE_ENTITY => Err(ForkError::NotSynced(message(&body))),
            other => Err(failure(other, &body)),
        }
    }

    /// Sends one request, retrying 5xx answers and rate limits while attempts remain and the
    /// wait fits before `deadline`. Returns the final status and body.
    async fn send(
        &self,
        method: Method,
        url: &str,
        json: Option<&serde_json::Value>,
        deadline: Instant,
    ) -> Result<(StatusCode, bytes::Bytes), ForkError> {
        let mut attempt = 1;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ForkError::DeadlineExceeded);
            }
            let timeout = self.request_timeout.min(remaining);
            let mut request = self.http.request(method.clone(), url).timeout(timeout);
            if let Some(json) = json {
                request = request.json(json);
            }
            let response = request
                .send()
                .await
                .map_err(|error| transport(&error, timeout))?;
            let status = response.status();
            let wait = retry_wait(status, response.headers(), attempt);
            let body = response
                .bytes()
                .await
                .map_err(|error| transport(&error, timeout))?;
            let Some(wait) = wait else {
                return Ok((status, body));
            };
            if attempt >= self.max_attempts || !fits_before(wait, deadline) {
                return Err(if status.is_server_error() {
                    ForkError::Server(status.as_u16())
                } else {
                    ForkError::RateLimited(wait)
                });
            }
            log::warn!("GitHub answered {status} for {url}; retrying in {wait:?}");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

/// How long to wait before retrying this answer, or `None` when it is final.
/// Rate limits (429, or 403 with `x-ratelimit-remaining: 0`) wait for `retry-after` or
/// `x-ratelimit-reset`; 5xx answers back off exponentially.
fn retry_wait(status: StatusCode, headers: &HeaderMap, attempt: u32) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
    };
    let rate_limited = status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN && header("x-ratelimit-remaining") == Some(0));
    if rate_limited {
        if let Some(seconds) = header("retry-after") {
            return Some(Duration::from_secs(seconds));
        }
        if let Some(reset) = header("x-ratelimit-reset") {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|since| since.as_secs())
                .unwrap_or(0);
            return Some(Duration::from_secs(reset.saturating_sub(now).max(1)));
        }
        return Some(Duration::from_secs(60));
    }
    if status.is_server_error() {
        return Some(BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1)));
    }
    None
}

/// Whether waiting `wait` from now still ends before `deadline`. Never overflows, however
/// large a `retry-after` or `x-ratelimit-reset` GitHub (or a proxy) sends.
fn fits_before(wait: Duration, deadline: Instant) -> bool {
    wait < deadline.saturating_duration_since(Instant::now())
}

/// The error for a final answer other than those a call handles itself.
fn failure(status: StatusCode, body: &[u8]) -> ForkError {
    match status {
        StatusCode::NOT_FOUND => ForkError::NotFound,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ForkError::Unauthorized {
            status: status.as_u16(),
            message: message(body),
        },
        other => ForkError::Unexpected(format!("HTTP {other}: {}", message(body))),
    }
}

/// GitHub's `message` from an error body, or a placeholder.
fn message(body: &[u8]) -> String {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|error| error.message)
        .filter(|message| !message.is_empty())
        .unwrap_or_else(|| "(no message)".to_owned())
}

/// A reqwest failure as a [`ForkError`], with the chain of causes (reqwest's own message only
/// names the URL, not why the connection failed). Neither names a request header.
fn transport(error: &reqwest::Error, timeout: Duration) -> ForkError {
    if error.is_timeout() {
        return ForkError::Timeout(timeout);
    }
    let mut message = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        message = format!("{message}: {inner}");
        cause = inner.source();
    }
    ForkError::Transport(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_shows() {
        let token = GitHubToken::new(" test-token-not-real ".into()).unwrap();
        assert_eq!(format!("{token:?}"), "GitHubToken(<redacted>)");
        let settings = Settings::from_lookup(|_| None).unwrap();
        let client = GitHub::new(&settings, Some(token)).unwrap();
        assert!(!format!("{client:?}").contains("test-token-not-real"));
        assert!(GitHubToken::new("  ".into()).is_none());
    }

    #[test]
    fn merge_upstream_fixtures_round_trip() {
        for fixture in [
            include_str!("../tests/fixtures/merge_upstream_fast_forward.json"),
            include_str!("../tests/fixtures/merge_upstream_merge.json"),
            include_str!("../tests/fixtures/merge_upstream_none.json"),
        ] {
            let parsed: MergeUpstream = serde_json::from_str(fixture).unwrap();
            let original: serde_json::Value = serde_json::from_str(fixture).unwrap();
            assert_eq!(serde_json::to_value(&parsed).unwrap(), original);
        }
        let conflict = include_str!("../tests/fixtures/merge_upstream_conflict.json");
        assert_eq!(message(conflict.as_bytes()), "There are merge conflicts");
    }

    #[test]
    fn huge_waits_do_not_fit_and_do_not_overflow() {
        let deadline = Instant::now() + Duration::from_secs(30);
        assert!(fits_before(Duration::from_secs(1), deadline));
        assert!(!fits_before(Duration::from_secs(31), deadline));
        assert!(!fits_before(Duration::MAX, deadline));
        let mut headers = HeaderMap::new();
        headers.insert(
            "retry-after",
            HeaderValue::from_static("18446744073709551615"),
        );
        let wait = retry_wait(StatusCode::TOO_MANY_REQUESTS, &headers, 1).unwrap();
        assert!(!fits_before(wait, deadline));
    }

    #[tokio::test]
    async fn connection_failures_say_why_without_the_token() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = closed.local_addr().unwrap();
        drop(closed);
        let settings = Settings::from_lookup(|name| {
            (name == "GITHUB_API_URL").then(|| format!("http://{address}"))
        })
        .unwrap();
        let token = GitHubToken::new("test-token-not-real".into());
        let github = GitHub::new(&settings, token).unwrap();
        let repo: RepoName = "octo/ff".parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let error = github
            .merge_upstream(&repo, "main", deadline)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("cannot reach GitHub: "), "{error}");
        assert!(error.contains("refused"), "{error}");
        assert!(!error.contains("test-token-not-real"), "{error}");
    }

    #[test]
    fn retries_follow_rate_limit_headers_and_back_off_on_5xx() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_wait(StatusCode::OK, &headers, 1), None);
        assert_eq!(retry_wait(StatusCode::FORBIDDEN, &headers, 1), None);
        assert_eq!(
            retry_wait(StatusCode::BAD_GATEWAY, &headers, 2),
            Some(BACKOFF * 2)
        );
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(
            retry_wait(StatusCode::TOO_MANY_REQUESTS, &headers, 1),
            Some(Duration::from_secs(3))
        );
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("0"));
        assert_eq!(
            retry_wait(StatusCode::FORBIDDEN, &headers, 1),
            Some(Duration::from_secs(1))
        );
    }
}
