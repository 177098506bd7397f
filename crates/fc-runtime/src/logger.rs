//! Log lines on stdout, which FC ships to the function's logstore.
//!
//! The runtime prints FC's own markers (`FC Invoke Start RequestId: <id>`, ...) and installs a
//! small [`log`] backend that prefixes every line of the handler with the time and the request
//! id of the invocation it belongs to: `2024-05-01T08:00:00.123Z <request-id> [INFO] text`.

use std::fmt;
use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

tokio::task_local! {
    /// The id of the invocation the current task serves.
    static REQUEST_ID: Arc<str>;
}

/// Runs `future` with `request_id` as the id that log lines from it carry.
pub(crate) async fn with_request_id<F: std::future::Future>(
    request_id: Arc<str>,
    future: F,
) -> F::Output {
    REQUEST_ID.scope(request_id, future).await
}

/// Writes one whole line to stdout; a failed write (closed stdout) is ignored.
pub(crate) fn print_line(line: fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// The `log` backend: one prefixed line per record on stdout.
struct StdoutLogger;

static LOGGER: StdoutLogger = StdoutLogger;

impl Log for StdoutLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let request_id = REQUEST_ID
            .try_with(Arc::clone)
            .unwrap_or_else(|_| Arc::from("-"));
        print_line(format_args!(
            "{}",
            format_line(
                SystemTime::now(),
                &request_id,
                record.level(),
                record.args()
            )
        ));
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }
}

/// Installs the backend with the level from `FC_LOG_LEVEL`, else `RUST_LOG`, else `info`.
/// Keeps a backend the program installed before, so a function may bring its own.
pub(crate) fn init() {
    let level = level_from(|name| std::env::var(name).ok());
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

/// The level filter named by `FC_LOG_LEVEL` or `RUST_LOG` (`error`, `warn`, `info`, `debug`,
/// `trace`, `off`); a value that names no level (such as module directives) gives `info`.
pub(crate) fn level_from(lookup: impl Fn(&str) -> Option<String>) -> LevelFilter {
    ["FC_LOG_LEVEL", "RUST_LOG"]
        .iter()
        .find_map(|name| lookup(name).and_then(|value| value.trim().parse().ok()))
        .unwrap_or(LevelFilter::Info)
}

/// One log line: `<RFC 3339 UTC time> <request id> [LEVEL] <message>`.
pub(crate) fn format_line(
    time: SystemTime,
    request_id: &str,
    level: Level,
    message: &fmt::Arguments<'_>,
) -> String {
    format!("{} {request_id} [{level}] {message}", rfc3339(time))
}

/// `time` as RFC 3339 in UTC with milliseconds, e.g. `2023-12-26T07:49:00.000Z`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        since_epoch.subsec_millis()
    )
}

/// Year, month and day of the given day since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let timer = UNIX_EPOCH + Duration::from_millis(1_703_576_940_250);
        assert_eq!(rfc3339(timer), "2023-12-26T07:49:00.250Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn lines_carry_time_request_id_and_level() {
        let line = format_line(
            UNIX_EPOCH,
            "req-1",
            Level::Warn,
            &format_args!("disk {}", 90),
        );
        assert_eq!(line, "1970-01-01T00:00:00.000Z req-1 [WARN] disk 90");
    }

    #[test]
    fn level_comes_from_fc_log_level_then_rust_log() {
        assert_eq!(level_from(crate::tests::fake_env(&[])), LevelFilter::Info);
        assert_eq!(
            level_from(crate::tests::fake_env(&[("RUST_LOG", "debug")])),
            LevelFilter::Debug
        );
        assert_eq!(
            level_from(crate::tests::fake_env(&[
                ("FC_LOG_LEVEL", "WARN"),
                ("RUST_LOG", "debug")
            ])),
            LevelFilter::Warn
        );
        assert_eq!(
            level_from(crate::tests::fake_env(&[("RUST_LOG", "hyper=debug")])),
            LevelFilter::Info
        );
    }

    #[tokio::test]
    async fn the_request_id_is_task_local() {
        let seen = with_request_id(Arc::from("req-9"), async {
            REQUEST_ID.try_with(|id| id.to_string()).ok()
        })
        .await;
        assert_eq!(seen.as_deref(), Some("req-9"));
        assert!(REQUEST_ID.try_with(|_| ()).is_err());
    }
}
