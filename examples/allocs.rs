//! Bench-only (`bash bench/allocs`): Vestibule with dhat's heap profiler as the global
//! allocator, to count the allocations of a proxied request. Every 100 ms the running totals go
//! to the file named by `ALLOC_STATS`, as "<blocks> <bytes>"; the script reads them before and
//! after a wrk run and divides by the requests wrk made.
//!
//!   ALLOC_STATS=/tmp/allocs.txt cargo run --release --example allocs -- CONFIG

use std::process::ExitCode;
use std::time::Duration;

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() -> ExitCode {
    // Heap mode counts every block; its report (per allocation site) goes to `DHAT_OUT`, if set.
    let report = std::env::var("DHAT_OUT").unwrap_or_else(|_| "/dev/null".into());
    let _profiler = dhat::Profiler::builder().file_name(report).build();
    let (Some(config), Ok(stats)) = (std::env::args().nth(1), std::env::var("ALLOC_STATS")) else {
        eprintln!("usage: ALLOC_STATS=FILE allocs CONFIG");
        return ExitCode::from(2);
    };
    let config = match vestibule::config::Deployment::load(std::path::Path::new(&config)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("allocs: {e}");
            return ExitCode::from(2);
        }
    };
    std::thread::spawn(move || {
        loop {
            let s = dhat::HeapStats::get();
            let _ = std::fs::write(&stats, format!("{} {}\n", s.total_blocks, s.total_bytes));
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    match vestibule::server::run(config, None) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("allocs: {e}");
            ExitCode::FAILURE
        }
    }
}
