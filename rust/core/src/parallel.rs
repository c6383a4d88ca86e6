//! When a kernel splits its work across threads.
//!
//! Handing work to rayon's workers and joining them costs microseconds
//! (much more on a loaded machine, where a sleeping worker waits for a
//! core), so a second thread makes a small kernel slower. Each parallel
//! kernel therefore states the work of one item (a row, a sample, a block)
//! in simple operations (multiply-adds, comparisons, moved values) and
//! splits only into tasks of at least its [`Split::min_task_work`]: a
//! smaller loop runs on the calling thread. Items are independent or
//! reduced in a fixed order, so the result is the same either way.
//!
//! Use: `.par_chunks_mut(c).with_min_len(SPLIT.min_items(work_per_chunk))`
//! for rayon's indexed iterators, or `if SPLIT.parallel(total) { .. }`.
//!
//! The thresholds are measured: `THREAD_CROSSOVER=1 cargo bench --bench
//! kernels` times each kernel over sizes with 1 thread and with 2 threads
//! splitting every loop ([`force_split`]) and prints the work at which the
//! split starts to pay.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set by [`force_split`] (calibration only).
static FORCED: AtomicBool = AtomicBool::new(false);

/// Calibration only (the crossover bench): while the returned guard lives,
/// every loop of two or more items splits, whatever its work, so that the
/// cost of a split can be measured at sizes that normally run serially.
/// Results do not change (see the module notes), only the speed. The switch
/// is process-wide, so no test may use it (tests run side by side); the
/// guard turns it off again even if the measurement panics.
#[doc(hidden)]
#[must_use = "splitting is forced only while the guard lives"]
pub fn force_split() -> ForcedSplit {
    FORCED.store(true, Ordering::Relaxed);
    ForcedSplit(())
}

/// Turns [`force_split`] off when dropped.
#[doc(hidden)]
pub struct ForcedSplit(());

impl Drop for ForcedSplit {
    fn drop(&mut self) {
        FORCED.store(false, Ordering::Relaxed);
    }
}

fn forced() -> bool {
    FORCED.load(Ordering::Relaxed)
}

/// The least work per parallel task of one kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// Simple operations a task must hold for a split to pay off.
    pub min_task_work: usize,
}

impl Split {
    pub const fn new(min_task_work: usize) -> Self {
        Split { min_task_work }
    }

    /// Fewest items per task for items of `item_work` operations each (for
    /// rayon's `with_min_len`): a loop of fewer than twice as many items
    /// runs on the calling thread.
    pub fn min_items(self, item_work: usize) -> usize {
        if forced() {
            return 1;
        }
        self.min_task_work.div_ceil(item_work.max(1)).max(1)
    }

    /// Whether a loop of `total_work` operations is worth splitting in two
    /// (and there is a second thread).
    pub fn parallel(self, total_work: usize) -> bool {
        (forced() || total_work >= 2 * self.min_task_work) && rayon::current_num_threads() > 1
    }
}

/// Kernels without a measurement of their own: about 20–50 µs of work on
/// one core, well above the cost of a split on a busy machine.
pub const DEFAULT: Split = Split::new(1 << 16);

/// A copy of `v`, split across threads when large. Copies of a whole
/// network (every competitive training call makes one, so that a failed
/// call changes nothing; the benches copy a fresh structural network per
/// run) would otherwise be a serial part, with the page faults of their
/// fresh memory. Only inside a thread pool (a kernel call): a copy made
/// elsewhere stays on the calling thread rather than start rayon's global
/// pool. A copy is the same bits whoever makes it.
pub(crate) fn copy_of<T: Copy + Default + Send + Sync>(v: &[T]) -> Vec<T> {
    use rayon::prelude::*;
    if rayon::current_thread_index().is_none() || !DEFAULT.parallel(v.len()) {
        return v.to_vec();
    }
    // Zeroed memory is mapped on first write, here by the copying threads.
    let mut out = vec![T::default(); v.len()];
    out.par_chunks_mut(DEFAULT.min_task_work)
        .zip(v.par_chunks(DEFAULT.min_task_work))
        .for_each(|(o, s)| o.copy_from_slice(s));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;

    #[test]
    fn copies_are_exact_in_and_out_of_a_pool() {
        let v: Vec<u32> = (0..300_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        assert_eq!(copy_of(&v), v);
        for threads in [1, 2, 3] {
            assert_eq!(crate::test_util::in_pool(threads, || copy_of(&v)), v);
        }
        assert!(copy_of::<f32>(&[]).is_empty());
    }

    #[test]
    fn small_loops_stay_on_the_calling_thread() {
        let split = Split::new(1000);
        assert_eq!(split.min_items(10), 100);
        assert_eq!(split.min_items(0), 1000);
        assert_eq!(split.min_items(5000), 1);
        let caller = crate::test_util::in_pool(2, || {
            let me = std::thread::current().id();
            // 150 items of 10: under two tasks' worth, so one task, here.
            (0..150)
                .into_par_iter()
                .with_min_len(split.min_items(10))
                .all(|_| std::thread::current().id() == me)
        });
        assert!(caller);
        assert!(!crate::test_util::in_pool(1, || split.parallel(10_000)));
        assert!(crate::test_util::in_pool(2, || split.parallel(2000)));
        assert!(!crate::test_util::in_pool(2, || split.parallel(1999)));
    }
}
