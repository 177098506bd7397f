//! Syncs GitHub forks with their upstream repositories, run by an FC timer trigger.
//!
//! For each fork it calls GitHub's `merge-upstream`, which fast-forwards the branch or makes a
//! merge commit, and never rewrites the fork's history. A conflict is reported, not resolved.
//!
//! Environment:
//! - `GITHUB_TOKEN`: a token allowed to push to the forks (sent as `Authorization: Bearer`).
//! - `SYNC_FORKS`: the forks, `owner/repo` or `owner/repo:branch` separated by commas or
//!   whitespace; without a branch the repository's default branch is synced.
//! - `GITHUB_API_URL` (default `https://api.github.com`), `SYNC_FORKS_REQUEST_TIMEOUT_MS`
//!   (10000), `SYNC_FORKS_CONCURRENCY` (4), `SYNC_FORKS_MAX_ATTEMPTS` (3).
//! - `SYNC_FORKS_BUDGET_SECS` (optional): the most time one invocation may take. Unset, a run
//!   ends [`DEFAULT_DEADLINE_MARGIN`] (10 s) before the deadline FC gives the invocation (its
//!   timeout; at least [`MIN_DEFAULT_BUDGET`] after the start), or after [`NO_DEADLINE_BUDGET`]
//!   (60 s) where FC sends no timeout. Set or not, the run ends [`FC_DEADLINE_MARGIN`] (2 s)
//!   before FC's deadline at the latest.
//!
//! The event may be a timer event whose payload is empty, a `SYNC_FORKS`-style list, or JSON
//! `{"forks": ["owner/repo", {"repo": "owner/repo", "branch": "dev"}]}`; or that JSON directly.
//! The answer is a summary with one entry per fork; if any fork ends in conflict or error, the
//! invocation fails (`SyncFailed`) and the summary is in the error's `details`.
//!
//! Every GitHub reply is read up to 1 MiB ([`github::MAX_REPLY_BYTES`]), and GitHub's texts in
//! log lines and the summary are cut to 500 characters ([`github::MAX_MESSAGE_CHARS`]). A
//! redirect on the API's host (a renamed repository) is followed, up to
//! [`github::MAX_REDIRECTS`] times; one to another host is not, as the call carries the token.

mod config;
mod github;
mod https;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fc_runtime::{Diagnostic, Event};
use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use crate::config::{forks_for, Fork, RepoName, Settings};
use crate::github::{ForkError, GitHub, GitHubToken, MergeUpstream};

/// The outcome of one fork.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Synced,
    UpToDate,
    Conflict,
    Error,
}

impl Status {
    /// The name the summary uses for this outcome.
    fn label(self) -> &'static str {
        match self {
            Status::Synced => "synced",
            Status::UpToDate => "up_to_date",
            Status::Conflict => "conflict",
            Status::Error => "error",
        }
    }
}

/// One fork's line in the summary.
#[derive(Debug, Serialize)]
struct ForkReport {
    repo: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    branch: Option<String>,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    merge_type: Option<String>,
    /// GitHub's message on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// Why the fork was not synced.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The invocation's answer.
#[derive(Debug, Serialize)]
struct Summary {
    synced: usize,
    up_to_date: usize,
    conflict: usize,
    error: usize,
    forks: Vec<ForkReport>,
}

/// How long before FC's deadline a run ends at the latest: the time to build, log and send the
/// summary before FC kills the instance. Every GitHub request and retry wait ends by the run's
/// deadline, so what is left after it is only that work and the way back to FC.
const FC_DEADLINE_MARGIN: Duration = Duration::from_secs(2);

/// How long before FC's deadline a run ends when `SYNC_FORKS_BUDGET_SECS` is not set: room
/// beyond [`FC_DEADLINE_MARGIN`] so that no GitHub call is started in the run's last seconds.
const DEFAULT_DEADLINE_MARGIN: Duration = Duration::from_secs(10);

/// The shortest run when `SYNC_FORKS_BUDGET_SECS` is not set: a function whose timeout is 11 s
/// or less still gets a second (or up to FC's deadline less [`FC_DEADLINE_MARGIN`]).
const MIN_DEFAULT_BUDGET: Duration = Duration::from_secs(1);

/// The budget when neither `SYNC_FORKS_BUDGET_SECS` nor FC's timeout is known (a call without
/// `x-fc-function-timeout`).
const NO_DEADLINE_BUDGET: Duration = Duration::from_secs(60);

/// The deadline of a run that started at `start`: `start + budget`, else
/// [`DEFAULT_DEADLINE_MARGIN`] before FC's deadline (at least [`MIN_DEFAULT_BUDGET`] after
/// `start`), else `start +` [`NO_DEADLINE_BUDGET`]; and in every case no later than FC's
/// deadline less [`FC_DEADLINE_MARGIN`] (never before `start`: a timeout shorter than that
/// margin leaves no time, and every fork says the deadline passed).
fn run_deadline(start: Instant, budget: Option<Duration>, fc_deadline: Option<Instant>) -> Instant {
    let own = match (budget, fc_deadline) {
        (Some(budget), _) => start + budget,
        (None, Some(fc_deadline)) => fc_deadline
            .checked_sub(DEFAULT_DEADLINE_MARGIN)
            .unwrap_or(start)
            .max(start + MIN_DEFAULT_BUDGET),
        (None, None) => start + NO_DEADLINE_BUDGET,
    };
    match fc_deadline {
        Some(fc_deadline) => {
            let before_fc = fc_deadline
                .checked_sub(FC_DEADLINE_MARGIN)
                .map_or(start, |before_fc| before_fc.max(start));
            own.min(before_fc)
        }
        None => own,
    }
}

/// What every invocation shares.
struct Function {
    settings: Settings,
    github: GitHub,
}

async fn sync_forks(function: Arc<Function>, event: Event<Bytes>) -> Result<Summary, Diagnostic> {
    let settings = &function.settings;
    let forks = forks_for(&event.payload, settings.default_forks.as_deref())?;
    let start = event.context.received_at.unwrap_or_else(Instant::now);
    let deadline = run_deadline(start, settings.budget, event.context.deadline());
    log::debug!(
        "{} forks; the run ends in {:?}",
        forks.len(),
        deadline.saturating_duration_since(Instant::now())
    );
    let reports: Vec<ForkReport> = stream::iter(forks)
        .map(|fork| sync_fork(&function.github, fork, deadline))
        .buffered(settings.concurrency)
        .collect()
        .await;
    let count = |status| {
        reports
            .iter()
            .filter(|report| report.status == status)
            .count()
    };
    let summary = Summary {
        synced: count(Status::Synced),
        up_to_date: count(Status::UpToDate),
        conflict: count(Status::Conflict),
        error: count(Status::Error),
        forks: reports,
    };
    let failed: Vec<String> = summary
        .forks
        .iter()
        .filter(|report| matches!(report.status, Status::Conflict | Status::Error))
        .map(|report| report.repo.clone())
        .collect();
    if failed.is_empty() {
        return Ok(summary);
    }
    let message = format!(
        "{} of {} forks not synced: {}",
        failed.len(),
        summary.forks.len(),
        failed.join(", ")
    );
    let details = serde_json::to_value(&summary).unwrap_or_default();
    Err(Diagnostic::new("SyncFailed", message).with_details(details))
}

/// Syncs one fork and logs one line about it.
async fn sync_fork(github: &GitHub, fork: Fork, deadline: Instant) -> ForkReport {
    let mut branch = fork.branch;
    let outcome = merge(github, &fork.repo, &mut branch, deadline).await;
    let report = match outcome {
        Ok(merge) => ForkReport {
            repo: fork.repo.to_string(),
            branch: branch.as_deref().map(shown),
            status: if merge.merge_type == "none" {
                Status::UpToDate
            } else {
                Status::Synced
            },
            merge_type: Some(shown(&merge.merge_type)),
            message: Some(shown(&merge.message)),
            reason: None,
        },
        Err(error) => ForkReport {
            repo: fork.repo.to_string(),
            branch: branch.as_deref().map(shown),
            status: if matches!(error, ForkError::Conflict(_)) {
                Status::Conflict
            } else {
                Status::Error
            },
            merge_type: None,
            message: None,
            reason: Some(shown(&error.to_string())),
        },
    };
    let level = match report.status {
        Status::Synced | Status::UpToDate => log::Level::Info,
        Status::Conflict | Status::Error => log::Level::Warn,
    };
    log::log!(
        level,
        "{} ({}): {}: {}",
        report.repo,
        report.branch.as_deref().unwrap_or("default branch"),
        report.status.label(),
        report
            .reason
            .as_deref()
            .or(report.message.as_deref())
            .unwrap_or("")
    );
    report
}

/// Text from GitHub or from the fork list as the summary and the log show it: control characters,
/// bidi overrides and zero-width characters escaped (`\u{202e}`), so that a branch name cannot
/// hide or reorder what a reader sees, nor split a log line.
fn shown(text: &str) -> String {
    fc_runtime::escape_line(text).into_owned()
}

/// Merges upstream into `branch`, first filling in the default branch when none is given.
async fn merge(
    github: &GitHub,
    repo: &RepoName,
    branch: &mut Option<String>,
    deadline: Instant,
) -> Result<MergeUpstream, ForkError> {
    let name = match branch {
        Some(name) => name.clone(),
        None => branch
            .insert(github.default_branch(repo, deadline).await?)
            .clone(),
    };
    github.merge_upstream(repo, &name, deadline).await
}

// The current-thread runtime, as in the `hello` template: the function waits on GitHub, and FC's
// fractional vCPU has no second core for worker threads to use.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), fc_runtime::Error> {
    let settings = Settings::from_lookup(|name| std::env::var(name).ok())
        .unwrap_or_else(|error| startup_failure(&error));
    let token = std::env::var("GITHUB_TOKEN")
        .ok()
        .and_then(GitHubToken::new);
    let github = GitHub::new(&settings, token).unwrap_or_else(|error| startup_failure(&error));
    let function = Arc::new(Function { settings, github });
    fc_runtime::run(move |event| sync_forks(Arc::clone(&function), event)).await
}

/// Reports a configuration error and exits with status 1.
fn startup_failure(error: &dyn std::error::Error) -> ! {
    eprintln!("sync-forks cannot start: {error}");
    std::process::exit(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_budget_binds_before_fc_s_deadline_less_the_margin() {
        assert_eq!(FC_DEADLINE_MARGIN, Duration::from_secs(2));
        let start = Instant::now();
        let secs = Duration::from_secs;
        // A budget shorter than FC's timeout binds.
        assert_eq!(
            run_deadline(start, Some(secs(20)), Some(start + secs(30))),
            start + secs(20)
        );
        // A budget longer than FC's timeout: FC's deadline less the margin.
        assert_eq!(
            run_deadline(start, Some(secs(60)), Some(start + secs(30))),
            start + secs(28)
        );
        assert_eq!(
            run_deadline(start, Some(secs(29)), Some(start + secs(30))),
            start + secs(28)
        );
        // No timeout from FC: the budget alone.
        assert_eq!(run_deadline(start, Some(secs(60)), None), start + secs(60));
        // A timeout shorter than the margin leaves no time, never a deadline before the start.
        assert_eq!(
            run_deadline(start, Some(secs(60)), Some(start + secs(1))),
            start
        );
    }

    #[test]
    fn without_a_budget_the_run_ends_10_s_before_fc_s_deadline() {
        assert_eq!(DEFAULT_DEADLINE_MARGIN, Duration::from_secs(10));
        let start = Instant::now();
        let secs = Duration::from_secs;
        assert_eq!(
            run_deadline(start, None, Some(start + secs(300))),
            start + secs(290)
        );
        // A short timeout still leaves a second, unless FC's deadline less 2 s comes first.
        assert_eq!(
            run_deadline(start, None, Some(start + secs(11))),
            start + secs(1)
        );
        assert_eq!(
            run_deadline(start, None, Some(start + secs(5))),
            start + secs(1)
        );
        assert_eq!(
            run_deadline(start, None, Some(start + Duration::from_millis(2500))),
            start + Duration::from_millis(500)
        );
        assert_eq!(run_deadline(start, None, Some(start + secs(1))), start);
        // Neither a budget nor FC's timeout: 60 s.
        assert_eq!(run_deadline(start, None, None), start + secs(60));
    }
}
