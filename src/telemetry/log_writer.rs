//! [`LogWriter`]: where formatted log lines go. A line is appended to a shared buffer (one short
//! lock, a copy); a thread of its own writes the buffer to stderr every [`FLUSH_EVERY`], or as
//! soon as it holds [`FLUSH_AT`] bytes.
//!
//! Why not a channel with a line per message (`tracing-appender`, used before): its writer
//! thread drains the queue, then parks, so nearly every line found it parked and paid a `futex`
//! wake on the request's worker thread (about 1.3 µs of system time per request at 40,000
//! lines a second), plus an allocation per line. Here a worker thread never makes a syscall for
//! a line: the writer wakes on its own clock, and is woken early only once per [`FLUSH_AT`]
//! bytes.
//!
//! Bounded: past [`CAPACITY`] bytes waiting (a stalled stderr: a log collector that stopped
//! reading), new lines are dropped, never waited for, and counted ([`dropped_lines`], exported
//! as `vestibule_log_lines_dropped_total`).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// The longest a line waits before it is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// A buffer this full is written at once (about 200 request lines).
const FLUSH_AT: usize = 64 * 1024;
/// The most that may wait to be written: a few seconds of a busy replica's request log.
pub const CAPACITY: usize = 16 * 1024 * 1024;

/// Lines the writer dropped since start, all writers together.
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// How many lines were dropped because the buffer was full.
pub fn dropped_lines() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

struct State {
    pending: Vec<u8>,
    closing: bool,
}

impl Shared {
    // A panic while the lock is held (none can: the critical sections only copy) must not stop
    // the logs: the buffer is still a buffer.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Cheap to clone; every clone appends to the same buffer.
#[derive(Clone)]
pub struct LogWriter(Arc<Shared>);

/// Keep until exit: dropping it writes what is still waiting, then stops the thread.
pub struct LogWriterGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LogWriter {
    /// A writer to `out`, with its thread (named `vestibule-log`).
    pub fn spawn<W: Write + Send + 'static>(out: W) -> std::io::Result<(Self, LogWriterGuard)> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                pending: Vec::with_capacity(FLUSH_AT * 2),
                closing: false,
            }),
            wake: Condvar::new(),
        });
        let thread = std::thread::Builder::new()
            .name("vestibule-log".into())
            .spawn({
                let shared = shared.clone();
                move || write_until_closed(&shared, out)
            })?;
        Ok((
            LogWriter(shared.clone()),
            LogWriterGuard {
                shared,
                thread: Some(thread),
            },
        ))
    }

    fn append(&self, line: &[u8]) {
        let mut state = self.0.lock();
        if state.pending.len() + line.len() > CAPACITY {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let before = state.pending.len();
        state.pending.extend_from_slice(line);
        let crossed = before < FLUSH_AT && state.pending.len() >= FLUSH_AT;
        drop(state);
        if crossed {
            self.0.wake.notify_one();
        }
    }
}

/// The writer thread: takes the whole buffer (leaving an empty one of the same capacity, so
/// appends do not reallocate), writes it outside the lock, and waits for the next round.
fn write_until_closed<W: Write>(shared: &Shared, mut out: W) {
    let mut batch: Vec<u8> = Vec::with_capacity(FLUSH_AT * 2);
    loop {
        let closing = {
            let mut state = shared.lock();
            if state.pending.len() < FLUSH_AT && !state.closing {
                state = shared
                    .wake
                    .wait_timeout(state, FLUSH_EVERY)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            std::mem::swap(&mut state.pending, &mut batch);
            state.closing
        };
        if !batch.is_empty() {
            // A failed write (stderr closed) loses this batch; there is nowhere to report it.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
        }
        if closing {
            let rest = std::mem::take(&mut shared.lock().pending);
            let _ = out.write_all(&rest).and_then(|()| out.flush());
            return;
        }
    }
}

impl Drop for LogWriterGuard {
    fn drop(&mut self) {
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Write for &LogWriter {
    /// One call per line: `tracing`'s formatter hands each whole line to one `write_all`.
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = &'a LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

#[cfg(test)]
mod tests;
