//! Which forks to sync, and the function's settings, from the environment and the event.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use fc_runtime::TimerEvent;
use serde::Deserialize;

/// Why the function's configuration or input cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A fork entry is not `owner/repo` or `owner/repo:branch`.
    #[error("invalid fork {entry:?}: {reason}")]
    InvalidFork {
        /// The entry as given.
        entry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The event is not JSON of a known shape.
    #[error("invalid event at `{path}`: {message}")]
    InvalidEvent {
        /// The JSON path of the bad value.
        path: String,
        /// What serde reported.
        message: String,
    },
    /// Neither the event nor `SYNC_FORKS` names a fork.
    #[error("no forks to sync: set SYNC_FORKS (e.g. \"owner/repo, owner/other:dev\") or send {{\"forks\": [\"owner/repo\"]}}")]
    NoForks,
    /// A numeric setting is not a positive number.
    #[error("{variable} must be a positive whole number, got {value:?}")]
    InvalidNumber {
        /// The environment variable.
        variable: &'static str,
        /// Its value.
        value: String,
    },
    /// A numeric setting is larger than it may be.
    #[error("{variable} must be at most {max}, got {value:?}")]
    NumberTooLarge {
        /// The environment variable.
        variable: &'static str,
        /// Its value.
        value: String,
        /// The largest value allowed.
        max: u64,
    },
    /// `SYNC_FORKS` names a fork that cannot be used.
    #[error("SYNC_FORKS: {0}")]
    InSyncForks(Box<ConfigError>),
    /// `GITHUB_API_URL` is not an absolute `http://` or `https://` URL.
    #[error("GITHUB_API_URL must be an absolute http:// or https:// URL without a query, such as https://api.github.com, got {0:?}")]
    InvalidApiUrl(String),
    /// `GITHUB_API_URL` carries a user name or password; the URL shown has it replaced.
    #[error("GITHUB_API_URL must not carry a user or password (`user:password@`): the function authenticates with GITHUB_TOKEN, and a password in the URL would be printed wherever the URL is; got {0:?}")]
    ApiUrlWithCredentials(String),
}

/// A fork to sync: a repository and, optionally, the branch (else its default branch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fork {
    /// `owner/repo`.
    pub repo: RepoName,
    /// The branch to sync; `None` means the repository's default branch.
    pub branch: Option<String>,
}

/// A validated GitHub repository name, `owner/repo`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoName {
    owner: String,
    name: String,
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

impl FromStr for RepoName {
    type Err = ConfigError;

    /// Accepts GitHub's rules: an owner of 1-39 letters, digits or inner hyphens, and a
    /// repository of 1-100 letters, digits, `-`, `_` or `.` other than `.` and `..`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| ConfigError::InvalidFork {
            entry: text.to_owned(),
            reason,
        };
        let (owner, name) = text
            .split_once('/')
            .ok_or_else(|| invalid("expected owner/repo"))?;
        let owner_ok = (1..=39).contains(&owner.len())
            && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !owner.starts_with('-')
            && !owner.ends_with('-');
        if !owner_ok {
            return Err(invalid(
                "the owner must be 1-39 letters, digits or inner hyphens",
            ));
        }
        let name_ok = (1..=100).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && name != "."
            && name != "..";
        if !name_ok {
            return Err(invalid(
                "the repository must be 1-100 letters, digits, '-', '_' or '.'",
            ));
        }
        Ok(Self {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl Fork {
    /// A fork from a repository name and an optional branch, both validated.
    fn new(repo: &str, branch: Option<&str>) -> Result<Self, ConfigError> {
        let repo: RepoName = repo.trim().parse()?;
        let branch = match branch.map(str::trim) {
            None => None,
            Some(branch) if valid_branch(branch) => Some(branch.to_owned()),
            Some(_) => {
                return Err(ConfigError::InvalidFork {
                    entry: format!("{repo}:{}", branch.unwrap_or_default()),
                    reason: "the branch must be a non-empty git branch name",
                })
            }
        };
        Ok(Self { repo, branch })
    }
}

impl FromStr for Fork {
    type Err = ConfigError;

    /// `owner/repo` or `owner/repo:branch`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once(':') {
            Some((repo, branch)) => Self::new(repo, Some(branch)),
            None => Self::new(text, None),
        }
    }
}

/// A plausible git branch name: no whitespace, control characters, `..`, or git's specials.
/// Also checks the default branch GitHub names before it reaches a log line or the summary.
pub fn valid_branch(branch: &str) -> bool {
    !branch.is_empty()
        && branch.len() <= 255
        && !branch.starts_with(['-', '/'])
        && !branch.ends_with(['/', '.'])
        && !branch.contains("..")
        && !branch.contains("@{")
        && !branch
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
}

/// `SYNC_FORKS`' format: entries `owner/repo` or `owner/repo:branch`, separated by commas
/// and/or whitespace (newlines included).
pub fn parse_fork_list(text: &str) -> Result<Vec<Fork>, ConfigError> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|entry| !entry.is_empty())
        .map(str::parse)
        .collect()
}

/// The JSON request: `{"forks": ["owner/repo", "owner/repo:dev", {"repo": "owner/repo", "branch": "dev"}]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SyncRequest {
    forks: Option<Vec<ForkSpec>>,
}

/// One entry of [`SyncRequest::forks`].
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ForkSpec {
    Short(String),
    Full {
        repo: String,
        branch: Option<String>,
    },
}

/// The forks an invocation syncs. The body may be empty, a timer event (whose `payload` is
/// empty, a JSON request, or a `SYNC_FORKS`-style list), or a JSON request; whatever names no
/// forks falls back to `default_forks` (the `SYNC_FORKS` variable).
pub fn forks_for(body: &[u8], default_forks: Option<&str>) -> Result<Vec<Fork>, ConfigError> {
    let from_env = || match default_forks {
        Some(text) => nonempty(
            parse_fork_list(text).map_err(|error| ConfigError::InSyncForks(Box::new(error)))?,
        ),
        None => Err(ConfigError::NoForks),
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return from_env();
    }
    let value: serde_json::Value = from_json(body)?;
    let is_timer = value.as_object().is_some_and(|object| {
        object.contains_key("triggerTime") || object.contains_key("triggerName")
    });
    let request: SyncRequest = if is_timer {
        let timer: TimerEvent = from_json(body)?;
        let payload = timer.payload.trim();
        if payload.is_empty() {
            return from_env();
        }
        if !payload.starts_with('{') {
            return nonempty(parse_fork_list(payload)?);
        }
        from_json(payload.as_bytes())?
    } else {
        from_json(body)?
    };
    match request.forks {
        None => from_env(),
        Some(specs) => nonempty(
            specs
                .into_iter()
                .map(|spec| match spec {
                    ForkSpec::Short(text) => text.parse(),
                    ForkSpec::Full { repo, branch } => Fork::new(&repo, branch.as_deref()),
                })
                .collect::<Result<_, _>>()?,
        ),
    }
}

/// `forks`, or [`ConfigError::NoForks`] when it is empty.
fn nonempty(forks: Vec<Fork>) -> Result<Vec<Fork>, ConfigError> {
    if forks.is_empty() {
        Err(ConfigError::NoForks)
    } else {
        Ok(forks)
    }
}

/// JSON to `T`, with errors that name the JSON path.
fn from_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ConfigError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| ConfigError::InvalidEvent {
        path: error.path().to_string(),
        message: error.inner().to_string(),
    })
}

/// The function's settings, read once at startup.
#[derive(Debug)]
pub struct Settings {
    /// `GITHUB_API_URL`, default `https://api.github.com`, without a trailing `/`.
    pub api_url: String,
    /// `SYNC_FORKS`: the forks synced when the event names none.
    pub default_forks: Option<String>,
    /// `SYNC_FORKS_REQUEST_TIMEOUT_MS`, default 10 000: the limit for one GitHub request.
    pub request_timeout: Duration,
    /// `SYNC_FORKS_CONCURRENCY`, default 4: forks synced at the same time.
    pub concurrency: usize,
    /// `SYNC_FORKS_MAX_ATTEMPTS`, default 3: tries per request on 5xx and rate limits.
    pub max_attempts: u32,
    /// `SYNC_FORKS_BUDGET_SECS`: the most time an invocation may take. Unset, a run ends 10 s
    /// before FC's deadline, or after 60 s where FC sends no timeout; FC's deadline bounds a
    /// set budget too (see `run_deadline`).
    pub budget: Option<Duration>,
}

/// FC's longest function timeout, one day: the bound of the time settings.
const ONE_DAY_SECS: u64 = 86_400;

impl Settings {
    /// Reads the settings through `lookup` (the process environment in production).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let optional_number = |variable: &'static str, max: u64| match lookup(variable) {
            None => Ok(None),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(number) if number > max => Err(ConfigError::NumberTooLarge {
                    variable,
                    value,
                    max,
                }),
                Ok(number) if number > 0 => Ok(Some(number)),
                _ => Err(ConfigError::InvalidNumber { variable, value }),
            },
        };
        let number = |variable, default, max| {
            optional_number(variable, max).map(|number| number.unwrap_or(default))
        };
        let count = |variable, default| {
            number(variable, default, u32::MAX.into())
                .map(|number| u32::try_from(number).unwrap_or(u32::MAX))
        };
        let api_url = lookup("GITHUB_API_URL")
            .map(|url| url.trim().trim_end_matches('/').to_owned())
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| "https://api.github.com".to_owned());
        if let Some((scheme, rest)) = api_url.split_once("://") {
            let authority = rest.split('/').next().unwrap_or(rest);
            if let Some((_, host)) = authority.rsplit_once('@') {
                let path = &rest[authority.len()..];
                let shown = format!("{scheme}://***@{host}{path}");
                return Err(ConfigError::ApiUrlWithCredentials(shown));
            }
        }
        if !is_api_url(&api_url) {
            return Err(ConfigError::InvalidApiUrl(api_url));
        }
        Ok(Self {
            api_url,
            default_forks: lookup("SYNC_FORKS"),
            request_timeout: Duration::from_millis(number(
                "SYNC_FORKS_REQUEST_TIMEOUT_MS",
                10_000,
                ONE_DAY_SECS * 1000,
            )?),
            concurrency: usize::try_from(count("SYNC_FORKS_CONCURRENCY", 4)?).unwrap_or(usize::MAX),
            max_attempts: count("SYNC_FORKS_MAX_ATTEMPTS", 3)?,
            budget: optional_number("SYNC_FORKS_BUDGET_SECS", ONE_DAY_SECS)?
                .map(Duration::from_secs),
        })
    }
}

/// An absolute `http://` or `https://` URL with a host and no query: what the API paths are
/// appended to.
fn is_api_url(url: &str) -> bool {
    url.parse::<http::Uri>().is_ok_and(|uri| {
        matches!(uri.scheme_str(), Some("http" | "https"))
            && uri.host().is_some_and(|host| !host.is_empty())
            && uri.query().is_none()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stack checks fork entries at preview with these same cases
    /// (tests/test_stack_forks.py): what it accepts is exactly one fork here.
    #[test]
    fn fork_entries_shared_with_the_stack_check() {
        let cases: serde_json::Value =
            serde_json::from_str(include_str!("../tests/fixtures/fork_entries.json")).unwrap();
        for (kind, valid) in [("valid", true), ("invalid", false)] {
            for entry in cases[kind].as_array().unwrap() {
                let entry = entry.as_str().unwrap();
                let one_fork = matches!(parse_fork_list(entry), Ok(forks) if forks.len() == 1);
                assert_eq!(one_fork, valid, "{entry:?} should be {kind}");
            }
        }
    }

    fn names(forks: &[Fork]) -> Vec<String> {
        forks
            .iter()
            .map(|fork| match &fork.branch {
                Some(branch) => format!("{}:{branch}", fork.repo),
                None => fork.repo.to_string(),
            })
            .collect()
    }

    #[test]
    fn the_list_format_takes_commas_and_whitespace() {
        let forks = parse_fork_list(" a/b,c-d/e.f:dev\n\tg/h_i , ").unwrap();
        assert_eq!(names(&forks), ["a/b", "c-d/e.f:dev", "g/h_i"]);
    }

    #[test]
    fn bad_names_are_refused_with_the_entry() {
        for bad in [
            "noslash", "-a/b", "a/..", "a/b c", "a//b", "a/b:", "a/b:x..y", "o/r/x",
        ] {
            let error = parse_fork_list(bad).unwrap_err().to_string();
            assert!(error.starts_with("invalid fork"), "{bad}: {error}");
        }
    }

    #[test]
    fn events_choose_the_forks() {
        let env = Some("a/b");
        assert_eq!(names(&forks_for(b"", env).unwrap()), ["a/b"]);
        assert_eq!(names(&forks_for(b"{}", env).unwrap()), ["a/b"]);
        let timer = br#"{"triggerTime":"t","triggerName":"n","payload":""}"#;
        assert_eq!(names(&forks_for(timer, env).unwrap()), ["a/b"]);
        // FC's sample timer event round-trips through the runtime's TimerEvent...
        let sample = include_bytes!("../tests/fixtures/timer_event.json");
        let event: TimerEvent = serde_json::from_slice(sample).unwrap();
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::from_slice::<serde_json::Value>(sample).unwrap()
        );
        // ...and its payload is no fork name: refused, not ignored.
        assert!(matches!(
            forks_for(sample, env),
            Err(ConfigError::InvalidFork { .. })
        ));
        let timer_list = br#"{"triggerTime":"t","triggerName":"n","payload":"x/y:dev z/w"}"#;
        assert_eq!(
            names(&forks_for(timer_list, env).unwrap()),
            ["x/y:dev", "z/w"]
        );
        let timer_json =
            br#"{"triggerTime":"t","triggerName":"n","payload":"{\"forks\":[\"x/y\"]}"}"#;
        assert_eq!(names(&forks_for(timer_json, env).unwrap()), ["x/y"]);
        let request = br#"{"forks":["x/y",{"repo":"z/w","branch":"dev"},{"repo":"q/r"}]}"#;
        assert_eq!(
            names(&forks_for(request, None).unwrap()),
            ["x/y", "z/w:dev", "q/r"]
        );
    }

    #[test]
    fn unusable_events_say_why() {
        assert!(matches!(forks_for(b"", None), Err(ConfigError::NoForks)));
        assert!(matches!(
            forks_for(b"{\"forks\":[]}", Some("a/b")),
            Err(ConfigError::NoForks)
        ));
        match forks_for(br#"{"forks":"a/b"}"#, None) {
            Err(ConfigError::InvalidEvent { path, .. }) => assert_eq!(path, "forks"),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            forks_for(b"{\"unknown\":1}", None),
            Err(ConfigError::InvalidEvent { .. })
        ));
    }

    #[test]
    fn settings_have_defaults_and_refuse_bad_numbers() {
        let settings = Settings::from_lookup(|_| None).unwrap();
        assert_eq!(settings.api_url, "https://api.github.com");
        assert_eq!(settings.request_timeout, Duration::from_secs(10));
        assert_eq!(settings.concurrency, 4);
        assert_eq!(settings.budget, None);
        let settings = Settings::from_lookup(|name| {
            (name == "SYNC_FORKS_BUDGET_SECS").then(|| " 290 ".to_owned())
        })
        .unwrap();
        assert_eq!(settings.budget, Some(Duration::from_secs(290)));
        let error = Settings::from_lookup(|name| {
            (name == "SYNC_FORKS_CONCURRENCY").then(|| "0".to_owned())
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "SYNC_FORKS_CONCURRENCY must be a positive whole number, got \"0\""
        );
        // A budget past FC's longest timeout would overflow the deadline: refused at startup.
        let error = Settings::from_lookup(|name| {
            (name == "SYNC_FORKS_BUDGET_SECS").then(|| "18446744073709551615".to_owned())
        })
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "SYNC_FORKS_BUDGET_SECS must be at most 86400, got \"18446744073709551615\""
        );
        let error = Settings::from_lookup(|name| {
            (name == "SYNC_FORKS_MAX_ATTEMPTS").then(|| "4294967296".to_owned())
        })
        .unwrap_err();
        assert!(error.to_string().contains("at most 4294967295"), "{error}");
    }

    #[test]
    fn the_api_url_must_be_absolute_http() {
        let api_url = |value: &str| {
            let value = value.to_owned();
            Settings::from_lookup(move |name| (name == "GITHUB_API_URL").then(|| value.clone()))
        };
        assert_eq!(
            api_url(" https://ghe.example.com/api/v3/ ")
                .unwrap()
                .api_url,
            "https://ghe.example.com/api/v3"
        );
        assert_eq!(
            api_url("http://127.0.0.1:8080").unwrap().api_url,
            "http://127.0.0.1:8080"
        );
        for bad in [
            "api.github.com",
            "ftp://api.github.com",
            "https://",
            "https://api.github.com/?x=1",
            "https://api github.com",
        ] {
            let error = api_url(bad).unwrap_err().to_string();
            assert!(
                error.starts_with("GITHUB_API_URL must be an absolute http:// or https:// URL"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn an_api_url_with_a_password_is_refused_without_showing_it() {
        for url in [
            "http://user:hunter2-secret@127.0.0.1:8080",
            "https://hunter2-secret@ghe.example.com/api/v3",
            "https://user:hunter2-secret@",
        ] {
            let error =
                Settings::from_lookup(|name| (name == "GITHUB_API_URL").then(|| url.to_owned()))
                    .unwrap_err()
                    .to_string();
            assert!(
                error.contains("must not carry a user or password"),
                "{error}"
            );
            assert!(!error.contains("hunter2"), "{error}");
        }
        let error = Settings::from_lookup(|name| {
            (name == "GITHUB_API_URL").then(|| "https://u:p@ghe.example.com/api/v3".to_owned())
        })
        .unwrap_err()
        .to_string();
        assert!(
            error.ends_with(r#"got "https://***@ghe.example.com/api/v3""#),
            "{error}"
        );
    }

    #[test]
    fn sync_forks_errors_name_the_variable() {
        let error = forks_for(b"", Some("a/b, not-a-repo")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "SYNC_FORKS: invalid fork \"not-a-repo\": expected owner/repo"
        );
        // SYNC_FORKS set but empty: the ordinary "no forks" explanation.
        let error = forks_for(b"", Some(" ")).unwrap_err();
        assert!(error
            .to_string()
            .starts_with("no forks to sync: set SYNC_FORKS"));
    }
}
