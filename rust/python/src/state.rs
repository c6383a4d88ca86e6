//! Pickling through the core's one state format ([`Persist`]): an object
//! reduces to `(type(obj)._from_state, (state bytes,))`.
//!
//! [`pickled_via_state!`] gives a binding class `__reduce__` and the
//! `_from_state` classmethod in one line, so every learner pickles the same way.

/// `pickled_via_state!(PyClass, CoreType)` for a `#[pyclass]` with a field
/// `inner: CoreType` where `CoreType: Persist`.
macro_rules! pickled_via_state {
    ($py:ty, $core:ty) => {
        #[pyo3::pymethods]
        impl $py {
            /// Pickle through the core's versioned state bytes.
            fn __reduce__<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<(
                pyo3::Bound<'py, pyo3::PyAny>,
                (pyo3::Bound<'py, pyo3::types::PyBytes>,),
            )> {
                use pyo3::types::PyAnyMethods;
                use synaplast_core::Persist;
                let py = slf.py();
                let restore = slf.as_any().get_type().getattr("_from_state")?;
                let bytes = slf.borrow().inner.to_bytes();
                Ok((restore, (pyo3::types::PyBytes::new(py, &bytes),)))
            }

            /// Rebuild from [`__reduce__`]'s state; every field is validated.
            #[classmethod]
            fn _from_state(
                _cls: &pyo3::Bound<'_, pyo3::types::PyType>,
                state: &[u8],
            ) -> pyo3::PyResult<Self> {
                use crate::errors::IntoPyResult;
                use synaplast_core::Persist;
                // Through `threads::run`, so that a check a tampered state slips
                // past ends as `RuntimeError`, never as a panic in Python.
                let inner = crate::threads::run(|| <$core>::from_bytes(state)).py()?;
                Ok(Self { inner })
            }
        }
    };
}

pub(crate) use pickled_via_state;
