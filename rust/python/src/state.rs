//! Pickling through the core's one state format ([`Persist`]): an object
//! reduces to `(type(obj)._from_state, (state bytes,))`.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use synaplast_core::Persist;

/// What `__reduce__` returns.
pub type Reduced<'py> = (Bound<'py, PyAny>, (Bound<'py, PyBytes>,));

/// `(type(obj)._from_state, (bytes,))` for an object holding `inner`.
pub fn reduce<'py, T: Persist>(obj: &Bound<'py, PyAny>, inner: &T) -> PyResult<Reduced<'py>> {
    let py = obj.py();
    let restore = obj.get_type().getattr("_from_state")?;
    Ok((restore, (PyBytes::new(py, &inner.to_bytes()),)))
}
