//! The thread pool kernels run in. `set_num_threads(0)` returns to rayon's
//! global pool (sized by `RAYON_NUM_THREADS` or the number of cores).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use synaplast_core::{Error, Result};

static POOL: Mutex<Option<Arc<ThreadPool>>> = Mutex::new(None);

fn current_pool() -> Option<Arc<ThreadPool>> {
    POOL.lock().map(|p| p.clone()).unwrap_or(None)
}

/// Run `f` in the selected pool. A panic (a bug in the core) becomes
/// `Error::Internal`, raised as `RuntimeError`, instead of reaching Python
/// as a `PanicException`; rayon hands panics of its workers to this caller.
pub fn run<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
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
    match current_pool() {
        Some(pool) => pool.install(guarded),
        None => guarded(),
    }
}

/// Use `n` threads for all following kernels (0: rayon's default).
#[pyfunction]
pub fn set_num_threads(n: usize) -> PyResult<()> {
    let pool = if n == 0 {
        None
    } else {
        let p = ThreadPoolBuilder::new()
            .num_threads(n)
            .thread_name(|i| format!("synaplast-{i}"))
            .build()
            .map_err(|e| PyValueError::new_err(format!("cannot start {n} threads: {e}")))?;
        Some(Arc::new(p))
    };
    match POOL.lock() {
        Ok(mut g) => *g = pool,
        Err(poisoned) => *poisoned.into_inner() = pool,
    }
    Ok(())
}

/// Number of threads kernels run on.
#[pyfunction]
pub fn get_num_threads() -> usize {
    match current_pool() {
        Some(pool) => pool.current_num_threads(),
        None => rayon::current_num_threads(),
    }
}
