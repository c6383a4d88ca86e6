//! Errors of the core. The binding layer maps them onto Python exceptions
//! (`Shape`/`Value`/`Index` → `ValueError`, `Type` → `TypeError`,
//! `Memory` → `MemoryError`, `Internal` → `RuntimeError`, `Interrupted` →
//! `KeyboardInterrupt`).

use thiserror::Error as ThisError;

#[derive(Debug, Clone, PartialEq, ThisError)]
pub enum Error {
    /// Array dimensions that do not fit together.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A value outside its allowed range (rates, fractions, counts).
    #[error("invalid value: {0}")]
    Value(String),
    /// A neuron or synapse index outside the matrix.
    #[error("index out of range: {0}")]
    Index(String),
    /// An operation that does not exist for this kind of storage.
    #[error("unsupported operation: {0}")]
    Type(String),
    /// A buffer larger than the machine can hold, refused before allocating.
    #[error("out of memory: {0}")]
    Memory(String),
    /// A broken invariant (a bug): a panic caught at the binding boundary.
    #[error("internal error: {0}")]
    Internal(String),
    /// The call was cancelled through its [`crate::cancel::Token`] (Ctrl-C).
    #[error("interrupted: {0}")]
    Interrupted(String),
}

impl Error {
    /// The message without the kind prefix of `Display`.
    pub fn message(&self) -> &str {
        match self {
            Error::Shape(m)
            | Error::Value(m)
            | Error::Index(m)
            | Error::Type(m)
            | Error::Memory(m)
            | Error::Internal(m)
            | Error::Interrupted(m) => m,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Check that a dense row-major buffer holds `rows × cols` values.
pub(crate) fn check_len(name: &str, len: usize, rows: usize, cols: usize) -> Result<()> {
    match rows.checked_mul(cols) {
        Some(n) if n == len => Ok(()),
        _ => Err(Error::Shape(format!(
            "{name} has {len} values, expected {rows} x {cols}"
        ))),
    }
}

/// `a × b` for a buffer size, an error naming `what` if it overflows.
pub(crate) fn size_mul(a: usize, b: usize, what: &str) -> Result<usize> {
    a.checked_mul(b)
        .ok_or_else(|| Error::Memory(format!("{what} of {a} x {b} elements is too large")))
}
