//! The two GitHub REST calls the function needs, with timeouts, bounded retries and bounded
//! replies.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, USER_AGENT,
};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body, Incoming};
use serde::Deserialize;

use crate::config::{valid_branch, RepoName, Settings};
use crate::https::{self, HttpClient};

/// The most bytes of one GitHub reply the function reads. Its answers are a few KiB; a reply
/// past this fails that fork instead of filling the instance's memory (128 MB).
pub const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// The most redirects followed for one request. GitHub answers a call on a renamed or
/// transferred repository with one (301, or 307 for a POST); more than a few is a loop.
pub const MAX_REDIRECTS: usize = 5;

/// The most characters of a GitHub-provided text (a message, an error) kept for a log line or
/// the summary; the rest is cut and marked.
pub const MAX_MESSAGE_CHARS: usize = 500;

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
    /// Every attempt got an answer worth retrying (5xx or a rate limit).
    #[error("attempts exhausted after {attempts} tries, last status {status}, {wait}")]
    AttemptsExhausted {
        /// The tries made.
        attempts: u32,
        /// The last answer's status.
        status: StatusCode,
        /// What the last answer asked to wait.
        wait: Wait,
    },
    /// An answer worth retrying, but waiting as it asks would end past the invocation's deadline.
    #[error("last status {status}, {wait}: the retry does not fit the deadline ({left:?} left, try {attempt})")]
    RetryDoesNotFit {
        /// The answer's status.
        status: StatusCode,
        /// What it asked to wait.
        wait: Wait,
        /// The time left before the deadline, to the millisecond.
        left: Duration,
        /// The try that got this answer.
        attempt: u32,
    },
    /// GitHub's reply was longer than [`MAX_REPLY_BYTES`]; the rest was not read.
    #[error("GitHub's reply exceeded {0} bytes")]
    ReplyTooLarge(usize),
    /// A request took longer than its timeout.
    #[error("GitHub did not answer within {0:?}")]
    Timeout(Duration),
    /// The invocation's deadline passed before the fork was synced.
    #[error("the invocation's deadline passed")]
    DeadlineExceeded,
    /// The connection failed.
    #[error("cannot reach GitHub: {0}")]
    Transport(String),
    /// GitHub redirected the call to another host or scheme. It is not followed: the request
    /// carries the token, which is meant for the API host alone.
    #[error("GitHub redirected {from} to {to}, another host; not followed, as the call carries the token")]
    RedirectElsewhere {
        /// The URL called.
        from: String,
        /// Where the answer pointed.
        to: String,
    },
    /// The client cannot be built from the settings (at startup).
    #[error("{0}")]
    Setup(String),
    /// An answer this function does not understand.
    #[error("unexpected answer from GitHub: {0}")]
    Unexpected(String),
}

/// How long to wait before retrying, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// A rate limit's `retry-after` header.
    RetryAfter(Duration),
    /// Until a rate limit's `x-ratelimit-reset`.
    RateLimitReset(Duration),
    /// A rate limit that says neither when nor how long: a minute.
    RateLimitUnknown(Duration),
    /// Exponential backoff after a 5xx answer.
    Backoff(Duration),
}

impl Wait {
    /// The time to wait.
    pub fn duration(self) -> Duration {
        match self {
            Wait::RetryAfter(wait)
            | Wait::RateLimitReset(wait)
            | Wait::RateLimitUnknown(wait)
            | Wait::Backoff(wait) => wait,
        }
    }
}

impl fmt::Display for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wait::RetryAfter(wait) => write!(f, "Retry-After {wait:?}"),
            Wait::RateLimitReset(wait) => write!(f, "rate limit resets in {wait:?}"),
            Wait::RateLimitUnknown(wait) => {
                write!(f, "rate limited with no Retry-After, so waiting {wait:?}")
            }
            Wait::Backoff(wait) => write!(f, "backoff {wait:?}"),
        }
    }
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

impl MergeUpstream {
    /// The answer with GitHub's texts cut to what a log line and the summary may hold.
    fn excerpted(self) -> Self {
        Self {
            message: excerpt(&self.message),
            merge_type: excerpt(&self.merge_type),
            base_branch: excerpt(&self.base_branch),
        }
    }
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
    http: HttpClient,
    /// Sent with every request; the token's value is marked sensitive, which `Debug` hides.
    headers: HeaderMap,
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
                ForkError::Setup(
                    "GITHUB_TOKEN contains characters not allowed in an HTTP header".into(),
                )
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let http = https::client(settings.request_timeout)
            .map_err(|error| ForkError::Setup(format!("cannot set up TLS: {error}")))?;
        Ok(Self {
            http,
            headers,
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
        let (status, body) = self.send(Method::GET, &url, Bytes::new(), deadline).await?;
        match status {
            StatusCode::OK => {
                let branch = serde_json::from_slice::<Repository>(&body)
                    .map_err(|error| unexpected(&error))?
                    .default_branch;
                if valid_branch(&branch) {
                    Ok(branch)
                } else {
                    Err(ForkError::Unexpected(format!(
                        "the default branch {:?} is not a branch name",
                        excerpt(&branch)
                    )))
                }
            }
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
        let body = serde_json::json!({ "branch": branch }).to_string();
        let (status, body) = self.send(Method::POST, &url, body.into(), deadline).await?;
        match status {
            StatusCode::OK => serde_json::from_slice(&body)
                .map(MergeUpstream::excerpted)
                .map_err(|error| unexpected(&error)),
            StatusCode::CONFLICT => Err(ForkError::Conflict(message(&body))),
            StatusCode::UNPROCESSABLE_ENTITY => Err(ForkError::NotSynced(message(&body))),
            other => Err(failure(other, &body)),
        }
    }

    /// Sends one request (`json` is its JSON body, empty for none), retrying 5xx answers and
    /// rate limits while attempts remain and the wait fits before `deadline`. Returns the final
    /// status and body (at most [`MAX_REPLY_BYTES`]).
    async fn send(
        &self,
        method: Method,
        url: &str,
        json: Bytes,
        deadline: Instant,
    ) -> Result<(StatusCode, Bytes), ForkError> {
        let uri: Uri = url
            .parse()
            .map_err(|error| ForkError::Transport(format!("{url} is no URL: {error}")))?;
        let mut attempt = 1;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(ForkError::DeadlineExceeded);
            }
            // One timeout for the whole exchange: connecting, redirects and reading the body.
            let timeout = self.request_timeout.min(remaining);
            let timed_out = tokio::time::Instant::now() + timeout;
            let response = tokio::time::timeout_at(
                timed_out,
                self.follow_redirects(method.clone(), uri.clone(), json.clone()),
            )
            .await
            .map_err(|_| ForkError::Timeout(timeout))??;
            let status = response.status();
            // An answer to retry is dropped unread: its body is not needed.
            let Some(wait) = retry_wait(status, response.headers(), attempt) else {
                let body = tokio::time::timeout_at(
                    timed_out,
                    read_capped(response.into_body(), MAX_REPLY_BYTES),
                )
                .await
                .map_err(|_| ForkError::Timeout(timeout))??;
                return Ok((status, body));
            };
            if attempt >= self.max_attempts {
                return Err(ForkError::AttemptsExhausted {
                    attempts: attempt,
                    status,
                    wait,
                });
            }
            if !fits_before(wait.duration(), deadline) {
                let left = deadline.saturating_duration_since(Instant::now());
                return Err(ForkError::RetryDoesNotFit {
                    status,
                    wait,
                    left: Duration::new(left.as_secs(), left.subsec_millis() * 1_000_000),
                    attempt,
                });
            }
            log::warn!("GitHub answered {status} for {url}; retrying in {wait}");
            tokio::time::sleep(wait.duration()).await;
            attempt += 1;
        }
    }

    /// Sends the request, following up to [`MAX_REDIRECTS`] redirects on the same host (a
    /// renamed repository's); returns the first answer that is not one.
    ///
    /// 307 and 308 repeat the method and body; 301, 302 and 303 turn anything but a `GET` or
    /// `HEAD` into a bodiless `GET`, as browsers and most HTTP clients do (RFC 9110, 15.4).
    async fn follow_redirects(
        &self,
        mut method: Method,
        mut uri: Uri,
        mut json: Bytes,
    ) -> Result<Response<Incoming>, ForkError> {
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .http
                .request(self.request(&method, &uri, &json))
                .await
                .map_err(|error| transport(&error, &method, &uri))?;
            let status = response.status();
            let Some(target) = redirect_target(status, response.headers(), &uri)? else {
                return Ok(response);
            };
            let keeps_method = matches!(
                status,
                StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
            );
            if !keeps_method && method != Method::GET && method != Method::HEAD {
                method = Method::GET;
                json = Bytes::new();
            }
            log::debug!("GitHub answered {status} for {uri}: following it to {target}");
            uri = target;
        }
        Err(ForkError::Unexpected(format!(
            "more than {MAX_REDIRECTS} redirects, the last to {uri}"
        )))
    }

    /// A request with the client's headers, and `json` as its body when not empty.
    fn request(&self, method: &Method, uri: &Uri, json: &Bytes) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(json.clone()));
        *request.method_mut() = method.clone();
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = self.headers.clone();
        if !json.is_empty() {
            request
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        request
    }
}

/// Where a redirect answer to a request for `from` points, or `None` when `status` is no
/// redirect or it has no `location`. A target on another scheme, host or port is refused
/// ([`ForkError::RedirectElsewhere`]). A relative target (`/path`) is taken on `from`'s host.
fn redirect_target(
    status: StatusCode,
    headers: &HeaderMap,
    from: &Uri,
) -> Result<Option<Uri>, ForkError> {
    if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    let Some(location) = headers.get(LOCATION) else {
        return Ok(None);
    };
    let unusable = || {
        ForkError::Unexpected(format!(
            "GitHub redirected {from} to {:?}, which is no URL",
            excerpt(&String::from_utf8_lossy(location.as_bytes()))
        ))
    };
    let target: Uri = location
        .to_str()
        .map_err(|_| unusable())?
        .parse()
        .map_err(|_| unusable())?;
    if target.scheme().is_none() && target.authority().is_none() {
        if !target.path().starts_with('/') {
            return Err(unusable());
        }
        let mut parts = target.into_parts();
        parts.scheme = from.scheme().cloned();
        parts.authority = from.authority().cloned();
        return Uri::from_parts(parts).map(Some).map_err(|_| unusable());
    }
    if target.scheme() != from.scheme() || target.authority() != from.authority() {
        return Err(ForkError::RedirectElsewhere {
            from: from.to_string(),
            to: excerpt(&target.to_string()),
        });
    }
    Ok(Some(target))
}

/// `body`, read up to `limit` bytes. A longer reply (announced by its `content-length` or found
/// while reading) is [`ForkError::ReplyTooLarge`] and the rest is left unread, so memory stays
/// within `limit`.
async fn read_capped(body: Incoming, limit: usize) -> Result<Bytes, ForkError> {
    let announced = body.size_hint().lower();
    if usize::try_from(announced).map_or(true, |announced| announced > limit) {
        return Err(ForkError::ReplyTooLarge(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<LengthLimitError>() => Err(ForkError::ReplyTooLarge(limit)),
        Err(error) => Err(ForkError::Transport(with_causes(
            "reading GitHub's reply",
            error.as_ref(),
        ))),
    }
}

/// How long to wait before retrying this answer, or `None` when it is final.
/// Rate limits (429, or 403 with `x-ratelimit-remaining: 0`) wait for `retry-after` or
/// `x-ratelimit-reset`; 5xx answers back off exponentially.
fn retry_wait(status: StatusCode, headers: &HeaderMap, attempt: u32) -> Option<Wait> {
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
            return Some(Wait::RetryAfter(Duration::from_secs(seconds)));
        }
        if let Some(reset) = header("x-ratelimit-reset") {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|since| since.as_secs())
                .unwrap_or(0);
            return Some(Wait::RateLimitReset(Duration::from_secs(
                reset.saturating_sub(now).max(1),
            )));
        }
        return Some(Wait::RateLimitUnknown(Duration::from_secs(60)));
    }
    if status.is_server_error() {
        return Some(Wait::Backoff(
            BACKOFF * 2u32.saturating_pow(attempt.saturating_sub(1)),
        ));
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

/// GitHub's `message` from an error body (an [`excerpt`]), or a placeholder.
fn message(body: &[u8]) -> String {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|error| error.message)
        .filter(|message| !message.is_empty())
        .map_or_else(|| "(no message)".to_owned(), |message| excerpt(&message))
}

/// An answer that does not parse. serde's message may quote GitHub's text, so it is cut too.
fn unexpected(error: &serde_json::Error) -> ForkError {
    ForkError::Unexpected(excerpt(&error.to_string()))
}

/// GitHub-provided `text` as a log line or the summary may hold it: on one line (control
/// characters become spaces) and at most [`MAX_MESSAGE_CHARS`] characters, cut on a character
/// boundary and marked with the original length.
pub fn excerpt(text: &str) -> String {
    let mut kept: String = text
        .chars()
        .take(MAX_MESSAGE_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(MAX_MESSAGE_CHARS).is_some() {
        kept.push_str(&format!("… (truncated from {} bytes)", text.len()));
    }
    kept
}

/// A failed request as a [`ForkError`]: the method, the URL and the chain of causes (the
/// client's own message says only which stage failed, not why). None names a request header.
fn transport(error: &hyper_util::client::legacy::Error, method: &Method, uri: &Uri) -> ForkError {
    ForkError::Transport(with_causes(&format!("{method} {uri}"), error))
}

/// `context: error: cause: cause ...`.
fn with_causes(context: &str, error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = format!("{context}: {error}");
    let mut cause = error.source();
    while let Some(inner) = cause {
        message = format!("{message}: {inner}");
        cause = inner.source();
    }
    message
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
        assert!(!fits_before(wait.duration(), deadline));
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
            Some(Wait::Backoff(BACKOFF * 2))
        );
        assert_eq!(
            retry_wait(StatusCode::TOO_MANY_REQUESTS, &headers, 1),
            Some(Wait::RateLimitUnknown(Duration::from_secs(60)))
        );
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(
            retry_wait(StatusCode::TOO_MANY_REQUESTS, &headers, 1),
            Some(Wait::RetryAfter(Duration::from_secs(3)))
        );
        let mut headers = HeaderMap::new();
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("0"));
        assert_eq!(
            retry_wait(StatusCode::FORBIDDEN, &headers, 1),
            Some(Wait::RateLimitReset(Duration::from_secs(1)))
        );
    }

    #[test]
    fn giving_up_says_why() {
        let exhausted = ForkError::AttemptsExhausted {
            attempts: 3,
            status: StatusCode::TOO_MANY_REQUESTS,
            wait: Wait::RetryAfter(Duration::from_secs(2)),
        };
        assert_eq!(
            exhausted.to_string(),
            "attempts exhausted after 3 tries, last status 429 Too Many Requests, Retry-After 2s"
        );
        let late = ForkError::RetryDoesNotFit {
            status: StatusCode::TOO_MANY_REQUESTS,
            wait: Wait::RetryAfter(Duration::from_secs(120)),
            left: Duration::from_millis(16_250),
            attempt: 1,
        };
        assert_eq!(
            late.to_string(),
            "last status 429 Too Many Requests, Retry-After 120s: \
             the retry does not fit the deadline (16.25s left, try 1)"
        );
        let server = ForkError::AttemptsExhausted {
            attempts: 3,
            status: StatusCode::BAD_GATEWAY,
            wait: Wait::Backoff(Duration::from_secs(2)),
        };
        assert_eq!(
            server.to_string(),
            "attempts exhausted after 3 tries, last status 502 Bad Gateway, backoff 2s"
        );
        assert_eq!(
            ForkError::ReplyTooLarge(MAX_REPLY_BYTES).to_string(),
            "GitHub's reply exceeded 1048576 bytes"
        );
    }

    #[test]
    fn github_texts_are_cut_on_a_char_boundary_and_marked() {
        assert_eq!(MAX_MESSAGE_CHARS, 500);
        assert_eq!(excerpt("Bad credentials"), "Bad credentials");
        assert_eq!(excerpt("two\nlines\r\t"), "two lines  ");
        let exact = "é".repeat(MAX_MESSAGE_CHARS);
        assert_eq!(excerpt(&exact), exact);
        // 10 MB of two-byte characters, with a three-byte one at the cut.
        let huge = format!("{}€{}", "é".repeat(499), "é".repeat(5_000_000));
        let cut = excerpt(&huge);
        let (kept, marker) = cut.split_once('…').unwrap();
        assert_eq!(kept.chars().count(), MAX_MESSAGE_CHARS);
        assert!(kept.ends_with("é€"), "{kept}");
        assert_eq!(marker, " (truncated from 10001001 bytes)");
        assert!(cut.len() < 1100, "{}", cut.len());
        let body = serde_json::json!({ "message": huge }).to_string();
        assert_eq!(message(body.as_bytes()), cut);
    }
}
