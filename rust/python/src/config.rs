//! Typed configurations across the boundary: a `TypedDict` in `_core.pyi`
//! is read once into the core's config struct (serde through pythonize),
//! so field names, defaults and enum spellings live in the core only.

use pyo3::exceptions::{PyException, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pythonize::Depythonizer;
use serde::de::DeserializeOwned;

/// Read `obj` into `T`. The error names the offending field (`what['field']`)
/// and is a `TypeError` for a value of the wrong type, else a `ValueError`.
pub fn extract<T: DeserializeOwned>(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let mut de = Depythonizer::from_object(obj);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let py = obj.py();
        let path = e.path().to_string();
        let err: PyErr = e.into_inner().into();
        let msg = err.value(py).to_string();
        let text = if path == "." {
            format!("{what}: {msg}")
        } else {
            format!("{what}['{path}']: {msg}")
        };
        // Serde's own messages arrive as plain `Exception`s.
        let plain = err.get_type(py).is(py.get_type::<PyException>());
        if err.is_instance_of::<PyTypeError>(py) || (plain && msg.starts_with("invalid type")) {
            PyTypeError::new_err(text)
        } else {
            PyValueError::new_err(text)
        }
    })
}
