//! The crate's one error type and the one place that turns an error into an HTTP response.

use std::fmt;

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde::Serialize;

/// The response header FC reads to tell a successful invocation (200) from a failed one (404).
pub(crate) const X_FC_STATUS: &str = "x-fc-status";

/// What a failed handler or hook reports to the caller: FC's `errorType` and `errorMessage`,
/// plus optional structured `details` (for example a per-item summary of a batch job).
///
/// Any error that implements [`Display`](fmt::Display) converts into a `Diagnostic`, so a
/// handler may return `Result<R, E>` for its own `E`, or build a `Diagnostic` directly when it
/// wants to choose the `errorType` or attach details.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// A short name for the kind of error, e.g. `"GreetError"`.
    #[serde(rename = "errorType")]
    pub error_type: String,
    /// What the error displays; nothing else about the handler's internals.
    #[serde(rename = "errorMessage")]
    pub error_message: String,
    /// Structured data the caller can act on; omitted from the body when `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl Diagnostic {
    /// A diagnostic with the given `errorType` and `errorMessage` and no details.
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            error_message: error_message.into(),
            details: None,
        }
    }

    /// Attaches structured details, serialised as the body's `details` field.
    #[must_use]
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

impl<E: fmt::Display> From<E> for Diagnostic {
    /// `errorType` is the error's type name without its module path or generics
    /// (`my_fn::GreetError` -> `GreetError`), `errorMessage` its `Display` output.
    fn from(error: E) -> Self {
        Self::new(short_type_name::<E>(), error.to_string())
    }
}

/// The last path segment of a type's name, without generic arguments.
fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let last = base.rsplit("::").next().unwrap_or(base);
    last.trim_start_matches(['&', ' '])
}

/// Everything that can go wrong in the runtime: at startup, or while answering one request.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A port variable is set but is not a port number.
    #[error("{variable} must be a TCP port number (0-65535), got {value:?}")]
    InvalidPort {
        /// The environment variable that was read.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address that was tried.
        address: std::net::SocketAddrV4,
        /// Why it failed.
        source: std::io::Error,
    },
    /// No route for this path.
    #[error("no route for {method} {path}")]
    NotFound {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
    },
    /// A known path asked for with the wrong method.
    #[error("{path} does not accept {method}; use {allowed}")]
    MethodNotAllowed {
        /// The request's method.
        method: String,
        /// The request's path.
        path: String,
        /// The method the path accepts.
        allowed: &'static str,
    },
    /// FC 2.0 forwarded an HTTP-trigger request; this runtime serves event functions only.
    #[error("HTTP-trigger invocations (x-fc-control-path: /http-invoke) are not supported: this function takes events on POST /invoke")]
    HttpTriggerUnsupported,
    /// The request body is larger than the configured limit.
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The request body could not be read from the connection.
    #[error("cannot read the request body: {0}")]
    BodyRead(String),
    /// The request body is not the JSON the handler expects.
    #[error("invalid payload at `{path}`: {message}")]
    InvalidPayload {
        /// The JSON path of the offending value (`.` for the document itself).
        path: String,
        /// What serde reported.
        message: String,
    },
    /// The handler's result could not be serialised to JSON.
    #[error("cannot serialise the handler's response: {0}")]
    InvalidResponse(String),
    /// The handler (or a hook) returned an error.
    #[error("{}: {}", .0.error_type, .0.error_message)]
    Handler(Diagnostic),
    /// The handler (or a hook) panicked; the message is the panic payload when it is a string.
    #[error("handler panicked: {0}")]
    Panic(String),
}

/// Shows the `Display` text, so that `main() -> Result<(), fc_runtime::Error>` prints a readable
/// message when the runtime cannot start.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Error {
    /// The HTTP status this error answers with. FC's contract for a failed invocation is 404 on
    /// both the status and `x-fc-status`, so every failure answers 404 except a wrong method
    /// (405) and an oversized body (413), which still carry `x-fc-status: 404`.
    fn status(&self) -> StatusCode {
        match self {
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::NOT_FOUND,
        }
    }

    /// The JSON body FC passes to the caller.
    fn diagnostic(self) -> Diagnostic {
        let error_type = match &self {
            Self::Handler(_) => "",
            Self::Panic(_) => "Panic",
            Self::NotFound { .. } => "NotFound",
            Self::MethodNotAllowed { .. } => "MethodNotAllowed",
            Self::HttpTriggerUnsupported => "HttpTriggerUnsupported",
            Self::PayloadTooLarge { .. } => "PayloadTooLarge",
            Self::BodyRead(_) => "BodyReadError",
            Self::InvalidPayload { .. } => "InvalidPayload",
            Self::InvalidResponse(_) => "InvalidResponse",
            Self::InvalidPort { .. } | Self::Bind { .. } => "StartupError",
        };
        match self {
            Self::Handler(diagnostic) => diagnostic,
            Self::Panic(message) => Diagnostic::new(error_type, message),
            other => Diagnostic::new(error_type, other.to_string()),
        }
    }

    /// The one place that turns an error into a response: its status, `x-fc-status: 404` and
    /// a JSON body `{"errorType": ..., "errorMessage": ...}` (plus `details` when given).
    pub(crate) fn into_response(self) -> Response<Full<Bytes>> {
        let status = self.status();
        let diagnostic = self.diagnostic();
        let body = serde_json::to_vec(&diagnostic).unwrap_or_else(|_| {
            br#"{"errorType":"InvalidResponse","errorMessage":"cannot serialise the error"}"#
                .to_vec()
        });
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(X_FC_STATUS, HeaderValue::from_static("404"));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("no greeting for {0}")]
    struct GreetError(String);

    #[test]
    fn display_errors_become_diagnostics_named_after_their_type() {
        let diagnostic = Diagnostic::from(GreetError("bob".into()));
        assert_eq!(diagnostic.error_type, "GreetError");
        assert_eq!(diagnostic.error_message, "no greeting for bob");
        assert_eq!(Diagnostic::from("text").error_type, "str");
    }

    #[test]
    fn debug_shows_the_message() {
        let error = Error::InvalidPort {
            variable: "FC_SERVER_PORT",
            value: "abc".into(),
        };
        assert_eq!(
            format!("{error:?}"),
            "FC_SERVER_PORT must be a TCP port number (0-65535), got \"abc\""
        );
    }

    #[test]
    fn details_are_serialised_only_when_present() {
        let plain = serde_json::to_value(Diagnostic::new("A", "b")).unwrap();
        assert_eq!(
            plain,
            serde_json::json!({"errorType": "A", "errorMessage": "b"})
        );
        let detailed =
            serde_json::to_value(Diagnostic::new("A", "b").with_details(serde_json::json!([1])))
                .unwrap();
        assert_eq!(detailed["details"], serde_json::json!([1]));
    }
}
