//! The thread pool kernels run in. Its default size, fixed when the first
//! kernel runs (or at `set_num_threads(0)`), is the first of
//! `SYNAPLAST_NUM_THREADS`, `RAYON_NUM_THREADS` and `OMP_NUM_THREADS` that
//! holds a positive count, else the number of cores: cluster engines (Dask,
//! Ray, Spark, joblib's loky) set `OMP_NUM_THREADS` for their workers, so
//! workers × kernel threads stay within the cores. Two C functions,
//! [`synaplast_get_num_threads`] and [`synaplast_set_num_threads`], let
//! threadpoolctl control the pool like an OpenMP runtime.
//!
//! Long calls go through [`run_interruptible`]: the work runs on a helper
//! thread while the calling Python thread waits in short slices, looking
//! for signals (Ctrl-C) between them; on one it cancels the call's
//! [`Token`], waits for the core to stop at its next check and raises the
//! signal's exception (`KeyboardInterrupt`).

use crate::errors::IntoPyResult;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use synaplast_core::cancel::{self, Token};
use synaplast_core::{Error, Result};

/// How long the waiting Python thread sleeps between looks for signals.
const POLL: Duration = Duration::from_millis(40);
/// Stack of the helper thread (the size of a main thread's, which ran the
/// outer loops before they moved to the helper).
const STACK: usize = 8 << 20;

static POOL: Mutex<Option<Arc<ThreadPool>>> = Mutex::new(None);

/// Environment variables read, in order, for the default number of threads.
const THREAD_VARIABLES: [&str; 3] = [
    "SYNAPLAST_NUM_THREADS",
    "RAYON_NUM_THREADS",
    "OMP_NUM_THREADS",
];

/// A positive thread count from a variable's value; OpenMP's nested form
/// `"4,2"` gives its outer level.
fn parse_count(value: &str) -> Option<usize> {
    let outer = value.split(',').next()?.trim();
    outer.parse::<usize>().ok().filter(|&n| n > 0)
}

/// The default number of kernel threads: the first variable of
/// [`THREAD_VARIABLES`] holding a positive count, else the number of cores.
pub fn default_num_threads() -> usize {
    THREAD_VARIABLES
        .iter()
        .find_map(|name| std::env::var(name).ok().and_then(|v| parse_count(&v)))
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

fn build_pool(n: usize) -> std::result::Result<Arc<ThreadPool>, String> {
    ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("synaplast-{i}"))
        .build()
        .map(Arc::new)
        .map_err(|e| format!("cannot start {n} threads: {e}"))
}

/// The pool kernels run in, started at its default size on first use
/// (`None` only if no thread can be started: then the caller's thread runs).
fn current_pool() -> Option<Arc<ThreadPool>> {
    let mut g = lock(&POOL);
    if g.is_none() {
        *g = build_pool(default_num_threads()).ok();
    }
    g.clone()
}

/// Run `f` in the selected pool. A panic (a bug in the core) becomes
/// `Error::Internal`, raised as `RuntimeError`, instead of reaching Python
/// as a `PanicException`; rayon hands panics of its workers to this caller.
pub fn run<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    run_with(&Token::default(), None, f)
}

/// [`run`] under the cancellation token `token`, in `pool` (the shared one
/// for `None`). The call always gets its own ambient token, so one that
/// rayon runs on a worker thread waiting inside another (cancelled) call
/// never sees that call's token.
fn run_with<T: Send>(
    token: &Token,
    pool: Option<Arc<ThreadPool>>,
    f: impl FnOnce() -> Result<T> + Send,
) -> Result<T> {
    let guarded = || {
        std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            Err(Error::Internal(msg))
        })
    };
    let scoped = || cancel::scope(token, guarded);
    match pool.or_else(current_pool) {
        Some(pool) => pool.install(scoped),
        None => scoped(),
    }
}

/// The result of a call running on the helper thread, once there is one.
struct Slot<T> {
    value: Mutex<Option<Result<T>>>,
    ready: Condvar,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T> Slot<T> {
    /// The result, waiting at most `timeout` (forever for `None`).
    fn wait(&self, timeout: Option<Duration>) -> Option<Result<T>> {
        let mut g = lock(&self.value);
        match timeout {
            Some(t) => {
                g = self
                    .ready
                    .wait_timeout_while(g, t, |v| v.is_none())
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
            None => {
                g = self
                    .ready
                    .wait_while(g, |v| v.is_none())
                    .unwrap_or_else(|p| p.into_inner());
            }
        }
        g.take()
    }
}

/// [`run`] `f` with the GIL released and Ctrl-C honoured: `f` runs on a
/// helper thread under a fresh cancellation [`Token`] while this thread
/// checks for signals every [`POLL`]. On a signal the token is cancelled,
/// the core stops at its next check (between batches, epochs, sequences,
/// chunks), and the signal handler's exception (`KeyboardInterrupt`) is
/// raised once `f` has returned, so nothing still runs on the caller's data.
/// Signals are only seen on the main thread (Python runs handlers there);
/// elsewhere this waits like [`run`]. Results are those of [`run`].
pub fn run_interruptible<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T> + Send,
) -> PyResult<T> {
    interruptible(py, None, f)
}

/// [`run_interruptible`] in a pool of its own, as large as the shared one,
/// for a call that waits on other calls (a partition's spike exchange). A
/// rayon worker that waits for its half of a join runs other jobs of its
/// pool meanwhile, and in the shared pool that could be a whole other
/// partition's run, which then waits in its exchange for the run beneath
/// it on the same stack: a deadlock. A pool per call cannot hold another
/// call's work.
pub fn run_interruptible_apart<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> Result<T> + Send,
) -> PyResult<T> {
    let pool = build_pool(get_num_threads()).map_err(PyRuntimeError::new_err)?;
    interruptible(py, Some(pool), f)
}

fn interruptible<T: Send>(
    py: Python<'_>,
    pool: Option<Arc<ThreadPool>>,
    f: impl FnOnce() -> Result<T> + Send,
) -> PyResult<T> {
    let token = Token::new();
    let slot = Slot {
        value: Mutex::new(None),
        ready: Condvar::new(),
    };
    std::thread::scope(|s| {
        let (worker_token, worker_slot) = (token.clone(), &slot);
        std::thread::Builder::new()
            .name("synaplast-call".into())
            .stack_size(STACK)
            .spawn_scoped(s, move || {
                let r = run_with(&worker_token, pool, f);
                *lock(&worker_slot.value) = Some(r);
                worker_slot.ready.notify_all();
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
        loop {
            if let Some(r) = py.detach(|| slot.wait(Some(POLL))) {
                return r.py();
            }
            if let Err(signal) = py.check_signals() {
                token.cancel();
                // The result (usually `Error::Interrupted`) is dropped: the
                // signal's exception is what the caller sees.
                let _ = py.detach(|| slot.wait(None));
                return Err(signal);
            }
        }
    })
}

/// Use `n` threads for all following kernels (0: the default, see
/// [`default_num_threads`], read again now).
#[pyfunction]
pub fn set_num_threads(n: usize) -> PyResult<()> {
    let n = if n == 0 { default_num_threads() } else { n };
    let pool = build_pool(n).map_err(PyValueError::new_err)?;
    *lock(&POOL) = Some(pool);
    Ok(())
}

/// Number of threads kernels run on.
#[pyfunction]
pub fn get_num_threads() -> usize {
    match current_pool() {
        Some(pool) => pool.current_num_threads(),
        None => 1,
    }
}

/// The most threads a C caller can ask for (a bad limit must not try to
/// start billions of threads).
const MAX_THREADS: usize = 4096;

/// threadpoolctl's view of the pool: its number of threads.
#[unsafe(no_mangle)]
pub extern "C" fn synaplast_get_num_threads() -> std::ffi::c_int {
    std::ffi::c_int::try_from(get_num_threads()).unwrap_or(std::ffi::c_int::MAX)
}

/// threadpoolctl's limit: run the kernels on `n` threads (`n <= 0`: the
/// default; at most [`MAX_THREADS`], as `set_num_threads` checks in Python).
/// Returns 0, or -1 if the threads cannot be started (the pool is then left
/// as it was).
#[unsafe(no_mangle)]
pub extern "C" fn synaplast_set_num_threads(n: std::ffi::c_int) -> std::ffi::c_int {
    let n = usize::try_from(n).unwrap_or(0).min(MAX_THREADS);
    match set_num_threads(n) {
        Ok(()) => 0,
        Err(_) => -1,
    }
}
