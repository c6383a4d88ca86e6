//! What the kernel benches share.

/// CPU time of the calling thread so far (Linux's per-thread scheduler
/// statistics; NaN elsewhere). On a loaded machine the busiest thread's CPU
/// time bounds what a second thread can save, whatever the wall clock says.
pub fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e6)
}
