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
//!   (10000), `SYNC_FORKS_CONCURRENCY` (4), `SYNC_FORKS_MAX_ATTEMPTS` (3),
//!   `SYNC_FORKS_BUDGET_SECS` (60, used when FC does not send the function's timeout).
//!
//! The event may be a timer event whose payload is empty, a `SYNC_FORKS`-style list, or JSON
//! `{"forks": ["owner/repo", {"repo": "owner/repo", "branch": "dev"}]}`; or that JSON directly.
//! The answer is a summary with one entry per fork; if any fork ends in conflict or error, the
//! invocation fails (`SyncFailed`) and the summary is in the error's `details`.

mod config;
mod github;

use std::sync::Arc;
use std::time::Instant;

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

/// What every invocation shares.
struct Function {
    settings: Settings,
    github: GitHub,
}

async fn sync_forks(function: Arc<Function>, event: Event<Bytes>) -> Result<Summary, Diagnostic> {
    let settings = &function.settings;
    let forks = forks_for(&event.payload, settings.default_forks.as_deref())?;
    let deadline = event
        .context
        .deadline()
        .unwrap_or_else(|| Instant::now() + settings.budget);
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
            branch,
            status: if merge.merge_type == "none" {
                Status::UpToDate
            } else {
                Status::Synced
            },
            merge_type: Some(merge.merge_type),
            message: Some(merge.message),
            reason: None,
        },
        Err(error) => ForkReport {
            repo: fork.repo.to_string(),
            branch,
            status: if matches!(error, ForkError::Conflict(_)) {
                Status::Conflict
            } else {
                Status::Error
            },
            merge_type: None,
            message: None,
            reason: Some(error.to_string()),
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

#[tokio::main]
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
