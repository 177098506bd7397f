//! Log lines on stdout, which FC ships to the function's logstore.
//!
//! The runtime prints FC's own markers (`FC Invoke Start RequestId: <id>`, ...) and installs a
//! small [`log`] backend that prefixes every line of the handler with the time and the request
//! id of the invocation it belongs to: `2024-05-01T08:00:00.123Z <request-id> [INFO] text`.

use std::cell::Cell;
use std::fmt;
use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};

tokio::task_local! {
    /// The id of the invocation the current task serves.
    static REQUEST_ID: String;
}

/// Runs `future` with `request_id` as the id that log lines from it carry.
pub(crate) async fn with_request_id<F: std::future::Future>(
    request_id: String,
    future: F,
) -> F::Output {
    REQUEST_ID.scope(request_id, future).await
}

/// The current task's request id, as [`with_request_id`] set it; `None` outside one.
pub(crate) fn current_request_id<T>(read: impl FnOnce(&str) -> T) -> Option<T> {
    REQUEST_ID.try_with(|id| read(id)).ok()
}

/// The longest line buffer kept for the next line; a longer line's buffer is freed after it.
const KEPT_LINE_BYTES: usize = 16 * 1024;

thread_local! {
    /// The buffer lines are built in, kept from line to line: once it has grown to fit the
    /// longest line, a line allocates nothing.
    static LINE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Builds one line with `build` and writes it, newline included, to stdout in one `write`
/// call, under stdout's lock: lines of concurrent invocations never interleave, and each is on
/// FC's pipe as soon as it is written. (stdout is line-buffered: a line written in pieces would
/// cost one `write` for the pieces and another for the newline.) A failed write (a closed
/// stdout) is ignored.
pub(crate) fn write_line(build: impl FnOnce(&mut Vec<u8>)) {
    write_line_to(|| std::io::stdout().lock(), build);
}

/// [`write_line`] to the writer `open` returns, which is opened once the line is built.
fn write_line_to<W: Write>(open: impl FnOnce() -> W, build: impl FnOnce(&mut Vec<u8>)) {
    // A line built while another one is (a `Display` that logs) finds no buffer and makes its own.
    let mut line = LINE.try_with(Cell::take).unwrap_or_default();
    line.clear();
    build(&mut line);
    line.push(b'\n');
    let _ = open().write_all(&line);
    if line.capacity() <= KEPT_LINE_BYTES {
        let _ = LINE.try_with(|kept| kept.set(line));
    }
}

/// Writes `line` (formatted) as one line on stdout; see [`write_line`].
pub(crate) fn print_line(line: fmt::Arguments<'_>) {
    write_line(|buffer| {
        let _ = buffer.write_fmt(line);
    });
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
        let (time, level, message) = (SystemTime::now(), record.level(), record.args());
        write_line(|line| {
            if current_request_id(|id| format_line(line, time, id, level, message)).is_none() {
                format_line(line, time, "-", level, message);
            }
        });
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

/// Appends one log line, without its newline, to `line`:
/// `<RFC 3339 UTC time> <request id> [LEVEL] <message>`.
pub(crate) fn format_line(
    line: &mut Vec<u8>,
    time: SystemTime,
    request_id: &str,
    level: Level,
    message: &fmt::Arguments<'_>,
) {
    line.extend_from_slice(&rfc3339(time));
    line.push(b' ');
    line.extend_from_slice(request_id.as_bytes());
    line.extend_from_slice(b" [");
    line.extend_from_slice(level.as_str().as_bytes());
    line.extend_from_slice(b"] ");
    let _ = line.write_fmt(*message);
}

/// `time` as RFC 3339 in UTC with milliseconds, e.g. `2023-12-26T07:49:00.000Z` (years past
/// 9999 keep their last four digits).
pub(crate) fn rfc3339(time: SystemTime) -> [u8; 24] {
    let since_epoch = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    let mut text = *b"0000-00-00T00:00:00.000Z";
    for (at, width, value) in [
        (0, 4, year),
        (5, 2, month),
        (8, 2, day),
        (11, 2, of_day / 3600),
        (14, 2, of_day % 3600 / 60),
        (17, 2, of_day % 60),
        (20, 3, u64::from(since_epoch.subsec_millis())),
    ] {
        let mut rest = value;
        for digit in text[at..at + width].iter_mut().rev() {
            *digit = b'0' + (rest % 10) as u8;
            rest /= 10;
        }
    }
    text
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
    use std::cell::RefCell;
    use std::time::Duration;

    #[test]
    fn times_are_rfc3339_utc() {
        let text = |time| String::from_utf8(rfc3339(time).to_vec()).unwrap();
        assert_eq!(text(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let timer = UNIX_EPOCH + Duration::from_millis(1_703_576_940_250);
        assert_eq!(text(timer), "2023-12-26T07:49:00.250Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(text(leap), "2000-02-29T00:00:00.000Z");
        let last = UNIX_EPOCH + Duration::from_millis(253_402_300_799_999);
        assert_eq!(text(last), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn lines_carry_time_request_id_and_level() {
        let mut line = Vec::new();
        format_line(
            &mut line,
            UNIX_EPOCH,
            "req-1",
            Level::Warn,
            &format_args!("disk {}", 90),
        );
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "1970-01-01T00:00:00.000Z req-1 [WARN] disk 90"
        );
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

    /// Records every `write` call it gets.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl Write for &mut Writes {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.push(bytes.to_vec());
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_is_one_write_even_when_built_while_another_is() {
        let (mut outer, mut inner) = (Writes::default(), Writes::default());
        // A `Display` that writes a line of its own while the outer line is being built.
        struct Logs<'a>(RefCell<&'a mut Writes>);
        impl fmt::Display for Logs<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut writes = self.0.borrow_mut();
                write_line_to(|| &mut **writes, |line| line.extend_from_slice(b"inner"));
                f.write_str("value")
            }
        }
        let logs = Logs(RefCell::new(&mut inner));
        for _ in 0..2 {
            write_line_to(
                || &mut outer,
                |line| {
                    let _ = write!(line, "outer {logs} and {}", "x".repeat(20_000));
                },
            );
        }
        let outer_line = format!("outer value and {}\n", "x".repeat(20_000));
        assert_eq!(outer.0, [outer_line.as_bytes(), outer_line.as_bytes()]);
        assert_eq!(inner.0, [b"inner\n", b"inner\n"]);
    }

    #[tokio::test]
    async fn the_request_id_is_task_local() {
        let seen = with_request_id("req-9".to_owned(), async {
            current_request_id(str::to_owned)
        })
        .await;
        assert_eq!(seen.as_deref(), Some("req-9"));
        assert_eq!(current_request_id(str::to_owned), None);
    }
}
