//! The thread pool kernels run in. `set_num_threads(0)` returns to rayon's
//! global pool (sized by `RAYON_NUM_THREADS` or the number of cores).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use rayon::{ThreadPool, ThreadPoolBuilder};
use std::sync::{Arc, Mutex};

static POOL: Mutex<Option<Arc<ThreadPool>>> = Mutex::new(None);

fn current_pool() -> Option<Arc<ThreadPool>> {
    POOL.lock().map(|p| p.clone()).unwrap_or(None)
}

/// Run `f` in the selected pool.
pub fn run<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    match current_pool() {
        Some(pool) => pool.install(f),
        None => f(),
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
    run(rayon::current_num_threads)
}
