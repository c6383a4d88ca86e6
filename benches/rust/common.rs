//! What the kernel benches share: the 1-vs-2-thread table's measurements
//! and format (`THREAD_RATIOS` of the kernels and the memory benches).

use rayon::ThreadPool;

/// CPU time of the calling thread so far (Linux's per-thread scheduler
/// statistics; NaN elsewhere). On a loaded machine the busiest thread's CPU
/// time bounds what a second thread can save, whatever the wall clock says.
pub fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e6)
}

/// `f()` (which hands its work to `pool`) and the CPU time, in ms, that the
/// busiest of `pool`'s workers spent meanwhile.
pub fn with_busiest_cpu<R>(pool: &ThreadPool, f: impl FnOnce() -> R) -> (R, f64) {
    let before = pool.broadcast(|_| thread_cpu_ms());
    let out = f();
    let after = pool.broadcast(|_| thread_cpu_ms());
    let busiest = before
        .iter()
        .zip(&after)
        .map(|(b, a)| a - b)
        .fold(0.0, f64::max);
    (out, busiest)
}

/// `RATIO_KERNELS=a,b`: only the kernels named are timed (a quicker look at
/// one); every kernel when unset.
pub fn wanted(kernel: &str) -> bool {
    let only = std::env::var("RATIO_KERNELS").unwrap_or_default();
    only.is_empty() || only.split(',').any(|o| o.trim() == kernel)
}

/// The head of the ratio table.
pub fn print_ratio_header() {
    println!(
        "| kernel | size | 1 thread (ms) | 2 threads (ms) | 1 / 2 threads | \
         busiest of 2 threads, CPU (ms) | 1 thread CPU / busiest |"
    );
    println!("|---|---|---|---|---|---|---|");
}

/// One row of the ratio table: the fastest wall time and the least busiest
/// worker's CPU time on 1 and on 2 threads.
pub fn print_ratio_row(kernel: &str, size: usize, best: [f64; 2], cpu: [f64; 2]) {
    println!(
        "| {kernel} | {size} | {:.3} | {:.3} | {:.2}x | {:.3} | {:.2}x |",
        best[0],
        best[1],
        best[0] / best[1],
        cpu[1],
        cpu[0] / cpu[1]
    );
}
