//! Log lines on stdout, which FC ships to the function's logstore.
//!
//! The runtime prints FC's own markers (`FC Invoke Start RequestId: <id>`, ...) and installs a
//! small [`log`] backend that prefixes every line of the handler with the time and the request
//! id of the invocation it belongs to: `2024-05-01T08:00:00.123Z <request-id> [INFO] text`.

use std::cell::Cell;
use std::fmt;
use std::io::Write;
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use log::{Level, LevelFilter, Log, Metadata, Record};
use rustix::event::{poll, PollFd, PollFlags, Timespec};

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

/// The most log bytes waiting for stdout; a line that would go past it is dropped (and counted)
/// instead of waiting. 4 MiB: under 4% of FC's smallest instance (128 MB), and over 60 s of a
/// logstore's normal pace for an instance that logs a few lines per invocation. Only a stdout
/// nobody reads (a stalled log collector, a pipe nobody drains) fills it.
const QUEUE_BYTES: usize = 4 * 1024 * 1024;

thread_local! {
    /// The buffer lines are built in, kept from line to line: once it has grown to fit the
    /// longest line, a line allocates nothing.
    static LINE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// Lines waiting for stdout, written by a thread of their own.
///
/// Why a thread: a `write` to a pipe nobody drains blocks, and on the current-thread runtime a
/// blocked log line is a blocked server: every later invocation would time out. Here a line is
/// appended to a bounded queue under a short lock and the log thread does the blocking writes,
/// in order, each line whole. When stdout stays blocked until the queue is full, further lines
/// are dropped, never waited for, and the log thread says how many before the next lines it
/// writes: `... [WARN] fc-runtime dropped N log lines: stdout was not being read`.
pub(crate) struct LineQueue {
    state: Mutex<Queued>,
    /// Signalled when lines were added.
    added: Condvar,
    /// Signalled when the log thread has written all it had.
    written: Condvar,
    limit: usize,
}

struct Queued {
    pending: Vec<u8>,
    dropped: u64,
    writing: bool,
    /// Lines taken into the queue so far, and of those, written (or failed to be).
    taken: u64,
    written: u64,
    /// Lines in `pending`.
    pending_lines: u64,
}

/// How long an invocation's answer waits for its log lines to reach stdout: 100 ms.
///
/// FC may freeze the instance as soon as the answer is out; a line still queued then would reach
/// the logstore only at the next thaw, after other invocations' lines. The log thread writes a
/// line in microseconds, so the wait is normally that long; it is bounded for a stdout nobody
/// reads, and skipped while such a stdout has not taken a line since the last wait ran out.
const WRITTEN_WAIT: Duration = Duration::from_millis(100);

static STDOUT: LineQueue = LineQueue::new(QUEUE_BYTES);
/// Signalled when the log thread has written a batch.
static WRITTEN: tokio::sync::Notify = tokio::sync::Notify::const_new();
/// A wait for written lines ran out, and the log thread has written nothing since.
static STDOUT_STUCK: AtomicBool = AtomicBool::new(false);
static LOG_THREAD: OnceLock<bool> = OnceLock::new();

impl LineQueue {
    pub(crate) const fn new(limit: usize) -> Self {
        Self {
            state: Mutex::new(Queued {
                pending: Vec::new(),
                dropped: 0,
                writing: false,
                taken: 0,
                written: 0,
                pending_lines: 0,
            }),
            added: Condvar::new(),
            written: Condvar::new(),
            limit,
        }
    }

    fn state(&self) -> MutexGuard<'_, Queued> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes one whole line to `out` at once when nothing waits for the log thread and `out`
    /// takes it without blocking (see [`ATOMIC_LINE_BYTES`]); otherwise queues it for the log
    /// thread, or drops it when the queue is full. A line is written at once under the queue's
    /// lock, so lines keep their order.
    pub(crate) fn emit(&self, line: &[u8], out: impl AsFd) {
        let mut state = self.state();
        let mut rest = line;
        if line.len() <= ATOMIC_LINE_BYTES
            && state.pending.is_empty()
            && !state.writing
            && state.dropped == 0
            && writable(&out)
        {
            rest = match rustix::io::write(&out, line) {
                Ok(done) => &line[done..],
                // Interrupted before writing anything: the log thread writes it.
                Err(rustix::io::Errno::INTR) => line,
                // A failed write (a closed stdout) loses the line, as a print would.
                Err(_) => &[],
            };
            if rest.is_empty() {
                state.taken += 1;
                state.written += 1;
                STDOUT_STUCK.store(false, Ordering::Relaxed);
                return;
            }
        }
        self.push_locked(state, rest);
    }

    /// Appends one whole line, or drops it when the queue is full; never blocks on the writer.
    /// A line longer than the limit is taken when nothing else waits.
    #[cfg(test)]
    pub(crate) fn push(&self, line: &[u8]) {
        self.push_locked(self.state(), line);
    }

    fn push_locked(&self, mut state: MutexGuard<'_, Queued>, line: &[u8]) {
        if !state.pending.is_empty() && state.pending.len() + line.len() > self.limit {
            state.dropped += 1;
            return;
        }
        state.pending.extend_from_slice(line);
        state.taken += 1;
        state.pending_lines += 1;
        drop(state);
        self.added.notify_one();
    }

    /// The log thread's loop: waits for lines and writes them to `out`, forever.
    fn write_forever(&self, out: &mut impl Write) {
        let mut batch = Vec::new();
        loop {
            self.write_batch(out, &mut batch, None);
        }
    }

    /// Waits (up to `wait`, or for good) for lines and writes what is there to `out`; returns
    /// whether anything was written. `batch` is the buffer swapped with the queue's.
    pub(crate) fn write_batch(
        &self,
        out: &mut impl Write,
        batch: &mut Vec<u8>,
        wait: Option<Duration>,
    ) -> bool {
        let mut state = self.state();
        while state.pending.is_empty() && state.dropped == 0 {
            state = match wait {
                None => self
                    .added
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(wait) => {
                    let (state, timeout) = self
                        .added
                        .wait_timeout(state, wait)
                        .unwrap_or_else(PoisonError::into_inner);
                    if timeout.timed_out() {
                        return false;
                    }
                    state
                }
            };
        }
        batch.clear();
        std::mem::swap(batch, &mut state.pending);
        let dropped = std::mem::take(&mut state.dropped);
        let lines = std::mem::take(&mut state.pending_lines);
        state.writing = true;
        drop(state);
        // A failed write (a closed stdout) loses these lines, as a print would.
        let _ = out.write_all(batch);
        if dropped > 0 {
            // The lines were dropped because the batch filled the queue: they came after it.
            let notice =
                format_args!("fc-runtime dropped {dropped} log lines: stdout was not being read");
            let mut line = Vec::new();
            format_line(&mut line, SystemTime::now(), "-", Level::Warn, &notice);
            line.push(b'\n');
            let _ = out.write_all(&line);
        }
        let _ = out.flush();
        if batch.capacity() > QUEUE_BYTES {
            *batch = Vec::new();
        }
        let mut state = self.state();
        state.writing = false;
        state.written += lines;
        drop(state);
        STDOUT_STUCK.store(false, Ordering::Relaxed);
        self.written.notify_all();
        WRITTEN.notify_waiters();
        true
    }

    /// Waits up to `timeout` until every line queued so far is written.
    pub(crate) fn flush(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        while !state.pending.is_empty() || state.writing {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            state = self
                .written
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// The longest line written at once by the thread that logs it: `PIPE_BUF`, 4096 bytes on Linux.
///
/// A pipe reports `POLLOUT` while at least one of its buffers (a page) is free, and a write of at
/// most `PIPE_BUF` bytes to it is atomic: with a free page, it does not block (pipe(7) for
/// `PIPE_BUF`; Linux fs/pipe.c, `pipe_poll` and `pipe_write`, for the rest, not re-read for this
/// code). A regular file is always writable; a socket reports `POLLOUT` while a large share of its
/// send buffer is free (net/unix, net/ipv4, likewise not re-read), far more than a line.
const ATOMIC_LINE_BYTES: usize = 4096;

/// Whether `out` takes a write now: `poll` for `POLLOUT` without waiting.
fn writable(out: impl AsFd) -> bool {
    let mut fds = [PollFd::new(&out, PollFlags::OUT)];
    poll(&mut fds, Some(&Timespec::default())) == Ok(1) && fds[0].revents().contains(PollFlags::OUT)
}

/// Starts the log thread once; false when it could not be started (lines are then written
/// directly).
fn log_thread() -> bool {
    *LOG_THREAD.get_or_init(|| {
        std::thread::Builder::new()
            .name("fc-runtime-log".to_owned())
            .stack_size(64 * 1024)
            .spawn(|| STDOUT.write_forever(&mut std::io::stdout()))
            .is_ok()
    })
}

/// Waits until the lines logged so far are on stdout, up to [`WRITTEN_WAIT`] (see there).
pub(crate) async fn written() {
    if LOG_THREAD.get() != Some(&true) || STDOUT_STUCK.load(Ordering::Relaxed) {
        return;
    }
    let target = STDOUT.state().taken;
    let wait = async {
        loop {
            let notified = WRITTEN.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if STDOUT.state().written >= target {
                return;
            }
            notified.await;
        }
    };
    if tokio::time::timeout(WRITTEN_WAIT, wait).await.is_err() {
        STDOUT_STUCK.store(true, Ordering::Relaxed);
    }
}

/// Writes every line logged so far to stdout, waiting up to `timeout` (a stdout nobody reads
/// does not hold the process up for longer).
pub(crate) fn flush(timeout: Duration) {
    if LOG_THREAD.get() == Some(&true) {
        STDOUT.flush(timeout);
    }
}

/// Builds one line with `build` and queues it, newline included, for stdout (see
/// [`LineQueue`]): lines of concurrent invocations never interleave, and a stdout nobody reads
/// never blocks the caller. Control characters and invisible formatting characters in the
/// line are escaped by the builders ([`Escaped`]), so that a log line is one line whatever the
/// input.
pub(crate) fn write_line(build: impl FnOnce(&mut Vec<u8>)) {
    write_line_to(
        |line| {
            if log_thread() {
                STDOUT.emit(line, std::io::stdout());
            } else {
                let _ = std::io::stdout().lock().write_all(line);
            }
        },
        build,
    );
}

/// [`write_line`] to `emit`, which gets the whole line once it is built.
fn write_line_to(emit: impl FnOnce(&[u8]), build: impl FnOnce(&mut Vec<u8>)) {
    // A line built while another one is (a `Display` that logs) finds no buffer and makes its own.
    let mut line = LINE.try_with(Cell::take).unwrap_or_default();
    line.clear();
    build(&mut line);
    line.push(b'\n');
    emit(&line);
    if line.capacity() <= KEPT_LINE_BYTES {
        let _ = LINE.try_with(|kept| kept.set(line));
    }
}

/// Appends text to a line with the characters that could split it or hide text escaped:
/// control characters (`\n`, `\r`, `\t` as such, others as `\u{..}`), Unicode line and
/// paragraph separators, and the invisible formatting characters (bidi overrides and isolates,
/// zero-width spaces and joiners, the byte-order mark) as `\u{..}`. Everything else, other
/// non-ASCII text included, is kept.
///
/// A log line is cut at [`MAX_LINE_BYTES`] (see there), [`Escaped::finish`] saying how much.
pub(crate) struct Escaped<'a> {
    pub(crate) line: &'a mut Vec<u8>,
    limit: usize,
    cut: usize,
}

/// The longest log line: 1 MiB; the rest of a longer one is dropped (the line says how many
/// bytes). A handler that logs a 31 MiB payload would otherwise hold it twice more (the line
/// being built, and the line queued). SLS, behind FC's logstore, keeps far shorter log lines
/// whole (its own limit for one log was not confirmed).
const MAX_LINE_BYTES: usize = 1024 * 1024;

impl<'a> Escaped<'a> {
    /// Escapes into `line`, without a limit (text for a function, not a log line).
    fn all(line: &'a mut Vec<u8>) -> Self {
        Self {
            line,
            limit: usize::MAX,
            cut: 0,
        }
    }

    /// Escapes into the log line `line`, up to [`MAX_LINE_BYTES`].
    pub(crate) fn log_line(line: &'a mut Vec<u8>) -> Self {
        Self {
            line,
            limit: MAX_LINE_BYTES,
            cut: 0,
        }
    }

    /// Says how much of the line was cut, if any.
    pub(crate) fn finish(self) {
        if self.cut > 0 {
            let _ = write!(self.line, "... ({} more bytes not logged)", self.cut);
        }
    }
}

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let room = self.limit.saturating_sub(self.line.len());
        let mut end = room.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.cut += text.len() - end;
        let mut rest = &text[..end];
        while let Some((at, c)) = rest.char_indices().find(|&(_, c)| needs_escape(c)) {
            self.line.extend_from_slice(&rest.as_bytes()[..at]);
            let _ = match c {
                '\n' => write!(self.line, "\\n"),
                '\r' => write!(self.line, "\\r"),
                '\t' => write!(self.line, "\\t"),
                _ => write!(self.line, "\\u{{{:04x}}}", u32::from(c)),
            };
            rest = &rest[at + c.len_utf8()..];
        }
        self.line.extend_from_slice(rest.as_bytes());
        Ok(())
    }
}

/// Whether `c` is escaped in log lines: see [`Escaped`].
pub(crate) fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00ad}'
                | '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// `text` as the runtime's log lines show user text: control characters (`\n`, `\r`, `\t` as
/// such, others as `\u{..}`), Unicode line and paragraph separators and invisible formatting
/// characters (bidi overrides and isolates, zero-width spaces and joiners, the byte-order mark)
/// escaped as `\u{..}`, everything else kept. For user text a function puts in its answer or in
/// a line it writes itself. Borrowed when there is nothing to escape.
pub fn escape_line(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = Vec::with_capacity(text.len() + 8);
    let _ = fmt::Write::write_str(&mut Escaped::all(&mut escaped), text);
    std::borrow::Cow::Owned(String::from_utf8_lossy(&escaped).into_owned())
}

/// Writes `line` (formatted) as one line on stdout; see [`write_line`].
pub(crate) fn print_line(line: fmt::Arguments<'_>) {
    write_line(|buffer| {
        let mut escaped = Escaped::log_line(buffer);
        let _ = fmt::Write::write_fmt(&mut escaped, line);
        escaped.finish();
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
        flush(Duration::from_secs(1));
    }
}

/// Makes every panic one log line on stdout, written as the others are ([`write_line`]):
/// `<time> <request id> [ERROR] panicked at <file>:<line>:<column>: <message>`, the request id
/// that of the invocation that panicked (`-` outside one), the message escaped ([`Escaped`]).
///
/// Rust's default hook writes the message to stderr as it is, over as many lines as it holds:
/// `panic!("a\nFC Invoke End RequestId: x")` would print a line that FC's log readers take for
/// the runtime's own. No backtrace is printed, even with `RUST_BACKTRACE` set.
pub(crate) fn install_panic_hook() {
    std::panic::set_hook(Box::new(|panic| {
        let (time, message) = (SystemTime::now(), panic_text(panic.payload()));
        let format = |line: &mut Vec<u8>, request_id: &str| {
            let error = Level::Error;
            match panic.location() {
                Some(at) => format_line(
                    line,
                    time,
                    request_id,
                    error,
                    &format_args!("panicked at {at}: {message}"),
                ),
                // The standard library always gives a location today (`PanicHookInfo::location`).
                None => format_line(
                    line,
                    time,
                    request_id,
                    error,
                    &format_args!("panicked: {message}"),
                ),
            }
        };
        write_line(|line| {
            if current_request_id(|id| format(line, id)).is_none() {
                format(line, "-");
            }
        });
    }));
}

/// The panic's message when its payload is a string (as `panic!` makes it).
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "panic without a message"
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
/// `<RFC 3339 UTC time> <request id> [LEVEL] <message>`, the id and the message escaped
/// ([`Escaped`]).
pub(crate) fn format_line(
    line: &mut Vec<u8>,
    time: SystemTime,
    request_id: &str,
    level: Level,
    message: &fmt::Arguments<'_>,
) {
    line.extend_from_slice(&rfc3339(time));
    line.push(b' ');
    let mut escaped = Escaped::log_line(line);
    let _ = fmt::Write::write_str(&mut escaped, request_id);
    escaped.line.extend_from_slice(b" [");
    escaped.line.extend_from_slice(level.as_str().as_bytes());
    escaped.line.extend_from_slice(b"] ");
    let _ = fmt::Write::write_fmt(&mut escaped, *message);
    escaped.finish();
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

    #[test]
    fn a_line_is_whole_even_when_built_while_another_is() {
        let (mut outer, mut inner) = (Vec::<Vec<u8>>::new(), Vec::<Vec<u8>>::new());
        // A `Display` that writes a line of its own while the outer line is being built.
        struct Logs<'a>(RefCell<&'a mut Vec<Vec<u8>>>);
        impl fmt::Display for Logs<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut lines = self.0.borrow_mut();
                write_line_to(
                    |line| lines.push(line.to_vec()),
                    |line| line.extend_from_slice(b"inner"),
                );
                f.write_str("value")
            }
        }
        let logs = Logs(RefCell::new(&mut inner));
        for _ in 0..2 {
            write_line_to(
                |line| outer.push(line.to_vec()),
                |line| {
                    let _ = write!(line, "outer {logs} and {}", "x".repeat(20_000));
                },
            );
        }
        let outer_line = format!("outer value and {}\n", "x".repeat(20_000));
        assert_eq!(outer, [outer_line.as_bytes(), outer_line.as_bytes()]);
        assert_eq!(inner, [b"inner\n", b"inner\n"]);
    }

    #[test]
    fn user_text_cannot_split_a_line_or_hide_in_it() {
        let mut line = Vec::new();
        let key = "a\nFC Invoke End RequestId: real-1\r\t\u{1b}[2J";
        let branch = "main\u{202e}gnp.exe\u{200b}\u{2028}";
        format_line(
            &mut line,
            UNIX_EPOCH,
            "req\n2",
            Level::Error,
            &format_args!("bad {key} on {branch}, caf\u{e9} \\n kept"),
        );
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "1970-01-01T00:00:00.000Z req\\n2 [ERROR] bad a\\nFC Invoke End RequestId: real-1\\r\\t\\u{001b}[2J \
             on main\\u{202e}gnp.exe\\u{200b}\\u{2028}, caf\u{e9} \\n kept"
        );
        assert_eq!(escape_line("plain"), std::borrow::Cow::Borrowed("plain"));
        assert_eq!(escape_line("a\u{2066}b\n"), "a\\u{2066}b\\n");
    }

    #[test]
    fn a_log_line_is_cut_at_1_mib_and_says_so() {
        // 1 MiB as documented, not MAX_LINE_BYTES (kills `*` -> `+` and `/` in it).
        const MIB: usize = 1024 * 1024;
        let mut line = Vec::new();
        let huge = "é".repeat(MIB);
        format_line(
            &mut line,
            UNIX_EPOCH,
            "req-1",
            Level::Info,
            &format_args!("greeting {huge}"),
        );
        let line = String::from_utf8(line).unwrap();
        assert!(line.len() <= MIB + 64, "{}", line.len());
        let room = MIB - "1970-01-01T00:00:00.000Z req-1 [INFO] greeting ".len();
        // Cut on a character boundary: whole `é`s (2 bytes) only.
        let cut = huge.len() - (room - room % 2);
        let end = format!("é... ({cut} more bytes not logged)");
        assert!(
            line.ends_with(&end),
            "{}",
            line.chars().rev().take(60).collect::<String>()
        );
    }

    /// A stdout that blocks every write until it is let go.
    struct Blocked {
        gate: std::sync::mpsc::Receiver<()>,
        written: std::sync::Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Blocked {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let _ = self.gate.recv();
            self.written.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stdout_nobody_reads_never_blocks_a_line_and_drops_are_counted() {
        static QUEUE: LineQueue = LineQueue::new(1000);
        let (open, gate) = std::sync::mpsc::channel();
        let written = std::sync::Arc::new(Mutex::new(Vec::new()));
        let mut out = Blocked {
            gate,
            written: std::sync::Arc::clone(&written),
        };
        let writer = std::thread::spawn(move || {
            let mut batch = Vec::new();
            while QUEUE.write_batch(&mut out, &mut batch, Some(Duration::from_millis(500))) {}
        });
        // 1,000 lines of 100 bytes while the writer is stuck in its first write: each returns.
        let started = Instant::now();
        for n in 0..1000 {
            QUEUE.push(format!("{n:099}\n").as_bytes());
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        for _ in 0..1000 {
            let _ = open.send(());
        }
        writer.join().unwrap();
        let written = String::from_utf8(written.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = written.lines().collect();
        // Every line written is whole; what did not fit was dropped, and said so.
        let whole = lines.iter().filter(|line| line.len() == 99).count();
        let notices: Vec<u64> = lines
            .iter()
            .filter_map(|line| line.split("fc-runtime dropped ").nth(1))
            .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(whole + notices.len(), lines.len(), "{lines:?}");
        assert!(!notices.is_empty(), "{lines:?}");
        assert!(!lines[0].contains("dropped"), "{lines:?}");
        assert_eq!(whole as u64 + notices.iter().sum::<u64>(), 1000);
        assert!((10..=30).contains(&whole), "{whole}");
    }

    /// `count` lines of `size` bytes, each its number (from `first`) padded with zeros.
    fn numbered(first: usize, count: usize, size: usize) -> Vec<Vec<u8>> {
        (first..first + count)
            .map(|n| format!("{n:0width$}\n", width = size - 1).into_bytes())
            .collect()
    }

    #[test]
    fn short_lines_to_a_ready_stdout_are_written_at_once() {
        // No log thread here: a line that went to the queue would stay there.
        let queue = LineQueue::new(1 << 20);
        let (out, mut reader) = std::os::unix::net::UnixStream::pair().unwrap();
        for line in numbered(0, 200, 100) {
            queue.emit(&line, &out);
            let state = queue.state();
            assert!(state.pending.is_empty(), "a short line was queued");
            assert_eq!(state.taken, state.written);
            drop(state);
            let mut got = vec![0; line.len()];
            std::io::Read::read_exact(&mut reader, &mut got).unwrap();
            assert_eq!(got, line);
        }
        // A line longer than one atomic write goes through the log thread.
        queue.emit(&numbered(0, 1, ATOMIC_LINE_BYTES + 1)[0], &out);
        assert_eq!(queue.state().pending.len(), ATOMIC_LINE_BYTES + 1);
    }

    #[test]
    fn lines_queue_while_stdout_is_full_and_keep_their_order() {
        let queue = LineQueue::new(1 << 20);
        let (out, reader) = std::os::unix::net::UnixStream::pair().unwrap();
        // Nobody reads: lines are written at once until the socket is full, then queued; a
        // write that blocked would give up after 2 s instead of hanging the test.
        out.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
        let lines = numbered(0, 100_000, 100);
        let mut sent = 0;
        while queue.state().pending.is_empty() {
            let started = Instant::now();
            queue.emit(&lines[sent], &out);
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "line {sent} blocked"
            );
            sent += 1;
        }
        let direct = sent - 1;
        assert!(direct > 0);
        // Once one is queued, the next ones are too, even when the socket has room again.
        let mut reader = std::io::BufReader::new(reader);
        let mut got = Vec::new();
        for _ in 0..direct {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
            got.push(line.into_bytes());
        }
        for line in &lines[sent..sent + 10] {
            queue.emit(line, &out);
        }
        sent += 10;
        assert_eq!(queue.state().pending.len(), 11 * 100);
        assert!(queue.write_batch(&mut &out, &mut Vec::new(), Some(Duration::ZERO)));
        for _ in direct..sent {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut reader, &mut line).unwrap();
            got.push(line.into_bytes());
        }
        assert_eq!(got, lines[..sent]);
        // A batch without drops says nothing of them (kills `>` -> `>=` in write_batch, which
        // adds "dropped 0 log lines"): the next line is the one written next.
        std::io::Write::write_all(&mut &out, b"end\n").unwrap();
        let mut next = String::new();
        std::io::BufRead::read_line(&mut reader, &mut next).unwrap();
        assert_eq!(next, "end\n");
        let state = queue.state();
        assert_eq!((state.taken, state.written), (sent as u64, sent as u64));
    }

    /// Kills `+` -> `-` and `>` -> `>=` in `LineQueue::push_locked`: a line that fills the queue
    /// to its limit is taken, the next one is dropped and counted.
    #[test]
    fn the_queue_takes_lines_up_to_its_limit() {
        let queue = LineQueue::new(250);
        queue.push(&[b'a'; 100]);
        queue.push(&[b'b'; 150]);
        queue.push(b"c");
        let state = queue.state();
        assert_eq!(state.pending.len(), 250);
        assert_eq!((state.taken, state.pending_lines, state.dropped), (2, 2, 1));
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
