use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;

/// A stderr stand-in: what was written, kept for the test to read.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("sink").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A stderr nobody reads: every write blocks until the test lets it go.
/// A stderr that hangs in every write until released, saying when it first hangs.
struct Stalled(Mutex<mpsc::Receiver<()>>, Mutex<Option<mpsc::Sender<()>>>);

impl Write for Stalled {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(hung) = self.1.lock().expect("hung").take() {
            let _ = hung.send(());
        }
        let _ = self.0.lock().expect("stall").recv();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn lines_are_written_whole_and_in_order_within_a_flush_interval() {
    let sink = Sink::default();
    let (writer, _guard) = LogWriter::spawn(sink.clone()).expect("thread");
    for i in 0..1000 {
        (&writer)
            .write_all(format!("line {i}\n").as_bytes())
            .expect("write");
    }
    let deadline = std::time::Instant::now() + FLUSH_EVERY * 50;
    let expected: String = (0..1000).map(|i| format!("line {i}\n")).collect();
    loop {
        let written = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        if written == expected {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not written in time: {} of {} bytes",
            written.len(),
            expected.len()
        );
        std::thread::sleep(FLUSH_EVERY / 4);
    }
}

#[test]
fn dropping_the_guard_writes_what_is_still_waiting() {
    let sink = Sink::default();
    let (writer, guard) = LogWriter::spawn(sink.clone()).expect("thread");
    (&writer).write_all(b"last words\n").expect("write");
    drop(guard);
    assert_eq!(sink.0.lock().expect("sink").as_slice(), b"last words\n");
}

#[test]
fn a_stalled_stderr_drops_and_counts_lines_instead_of_blocking_the_caller() {
    let (release, stalled) = mpsc::channel();
    let (hung, is_hung) = mpsc::channel();
    let stderr = Stalled(Mutex::new(stalled), Mutex::new(Some(hung)));
    let (writer, guard) = LogWriter::spawn(stderr).expect("thread");
    let line = [b'x'; 1023]
        .iter()
        .copied()
        .chain([b'\n'])
        .collect::<Vec<u8>>();
    // One line first, until the writer thread hangs writing it: else, on a busy machine, it could
    // take a large part of the flood below as its first batch, and the rest would fit.
    (&writer).write_all(&line).expect("write");
    is_hung
        .recv()
        .expect("the writer thread writes the first line");
    let before = dropped_lines();
    let started = std::time::Instant::now();
    // Twice the capacity: the writer thread is stuck on its first batch, so at least the second
    // half cannot fit.
    for _ in 0..(2 * CAPACITY / line.len()) {
        (&writer).write_all(&line).expect("write");
    }
    let took = started.elapsed();
    let dropped = dropped_lines() - before;
    // Let the writer go, so that the guard's drop can finish (before any assertion, so that a
    // failing one cannot leave the test waiting for the writer forever).
    std::thread::spawn(move || while release.send(()).is_ok() {});
    drop(guard);
    assert!(
        took < Duration::from_secs(10),
        "appending never waits for the writer: {took:?}"
    );
    assert!(
        dropped >= (CAPACITY / line.len()) as u64 / 2,
        "dropped lines are counted: {dropped}"
    );
}
