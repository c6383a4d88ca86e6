//! Map core errors onto Python exceptions.

use pyo3::exceptions::{
    PyKeyboardInterrupt, PyMemoryError, PyRuntimeError, PyTypeError, PyValueError,
};
use pyo3::PyErr;
use synaplast_core::Error;

pub fn to_py(e: Error) -> PyErr {
    match e {
        Error::Type(_) => PyTypeError::new_err(e.to_string()),
        Error::Memory(_) => PyMemoryError::new_err(e.to_string()),
        Error::Internal(_) => PyRuntimeError::new_err(e.to_string()),
        Error::Interrupted(_) => PyKeyboardInterrupt::new_err(e.to_string()),
        Error::Shape(_) | Error::Value(_) | Error::Index(_) => PyValueError::new_err(e.to_string()),
    }
}

/// `result.map_err(to_py)` as a method.
pub trait IntoPyResult<T> {
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPyResult<T> for synaplast_core::Result<T> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py)
    }
}
