//! Buffers whose size a caller chooses (shapes, batch sizes, unit counts).
//!
//! `vec![x; n]` aborts the process when the allocation fails and, with
//! overcommit, a buffer larger than the machine gets the process killed
//! later. These helpers refuse such sizes with [`Error::Memory`] first.

use crate::error::{Error, Result};

/// Requests below this size are not checked against the free memory (reading
/// it costs more than they do).
const SMALL: u128 = 64 << 20;

/// Bytes the process can still hope to get: available memory plus free swap,
/// or the address-space or cgroup limit when lower (Linux); unlimited elsewhere. Read per
/// large request, since other processes change it.
fn memory_limit() -> u128 {
    let mut limit = u128::MAX;
    if let Ok(info) = std::fs::read_to_string("/proc/meminfo") {
        let kib = |key: &str| {
            info.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u128>().ok())
        };
        if let Some(mem) = kib("MemAvailable:") {
            limit = (mem + kib("SwapFree:").unwrap_or(0)) * 1024;
        }
    }
    // An address-space cap (ulimit -v, RLIMIT_AS) minus what is mapped now.
    let cap = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            let line = l.lines().find(|l| l.starts_with("Max address space"))?;
            line.split_whitespace().nth(3)?.parse::<u128>().ok()
        });
    let mapped = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmSize:"))?;
            Some(line.split_whitespace().nth(1)?.parse::<u128>().ok()? * 1024)
        });
    if let (Some(cap), Some(mapped)) = (cap, mapped) {
        limit = limit.min(cap.saturating_sub(mapped));
    }
    if let Ok(s) = std::fs::read_to_string("/sys/fs/cgroup/memory.max") {
        if let Ok(cg) = s.trim().parse::<u128>() {
            limit = limit.min(cg);
        }
    }
    limit
}

/// Refuse `n` elements of `T` for `what` if they cannot fit in memory.
pub(crate) fn check_fits<T>(n: usize, what: &str) -> Result<()> {
    let bytes = (n as u128) * (std::mem::size_of::<T>() as u128);
    if bytes > isize::MAX as u128 || (bytes > SMALL && bytes > memory_limit()) {
        return Err(Error::Memory(format!(
            "{what} needs {bytes} bytes ({n} elements), more than this machine has free"
        )));
    }
    Ok(())
}

/// `n` copies of `value`, or [`Error::Memory`] instead of an abort.
pub(crate) fn filled<T: Clone>(n: usize, value: T, what: &str) -> Result<Vec<T>> {
    check_fits::<T>(n, what)?;
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::Memory(format!(
            "cannot allocate {what}: {n} elements of {} bytes",
            std::mem::size_of::<T>()
        ))
    })?;
    v.resize(n, value);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_sizes_are_refused() {
        let e = filled(usize::MAX / 2, 0.0f32, "the test buffer").unwrap_err();
        assert!(matches!(e, Error::Memory(_)), "{e}");
        assert!(e.message().contains("the test buffer"));
        assert_eq!(filled(3, 1u8, "small").unwrap(), vec![1, 1, 1]);
    }
}
