//! NumPy ↔ Rust conversions shared by the binding files.

use crate::errors::IntoPyResult;
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use synaplast_core::Error;

/// Indices as `u32`, rejecting negative or too large values (`what` names them).
pub fn to_u32(v: &[i64], what: &str) -> PyResult<Vec<u32>> {
    v.iter()
        .map(|&x| u32::try_from(x).map_err(|_| Error::Index(format!("{what} {x} is out of range"))))
        .collect::<synaplast_core::Result<_>>()
        .py()
}

/// Compressed-row pointers as `usize`, rejecting negative entries.
pub fn to_indptr(v: &[i64]) -> PyResult<Vec<usize>> {
    v.iter()
        .map(|&x| {
            usize::try_from(x).map_err(|_| Error::Value("indptr has a negative entry".into()))
        })
        .collect::<synaplast_core::Result<_>>()
        .py()
}

/// Owned copy of a contiguous 1-d array (taken before the GIL is released).
pub fn owned<T: numpy::Element + Copy>(a: &PyReadonlyArray1<'_, T>) -> PyResult<Vec<T>> {
    Ok(a.as_slice()?.to_vec())
}

/// The values of a row-major array. `as_slice` also accepts Fortran order,
/// whose values the kernels would read transposed.
pub fn c_slice<'a, T: numpy::Element, D: numpy::ndarray::Dimension>(
    a: &'a PyReadonlyArray<'_, T, D>,
    what: &str,
) -> PyResult<&'a [T]> {
    if !a.is_c_contiguous() {
        return Err(Error::Value(format!(
            "{what} must be a C-ordered (row-major) contiguous array"
        )))
        .py();
    }
    Ok(a.as_slice()?)
}

/// Owned copy of a row-major 2-d float32 array with its `(rows, cols)`.
pub fn owned2(a: &PyReadonlyArray2<'_, f32>) -> PyResult<(Vec<f32>, usize, usize)> {
    let s = a.shape();
    Ok((c_slice(a, "the array")?.to_vec(), s[0], s[1]))
}

/// A `rows × cols` NumPy array that takes ownership of `v` (no copy).
pub fn matrix<'py>(
    py: Python<'py>,
    v: Vec<f32>,
    rows: usize,
    cols: usize,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    PyArray1::from_vec(py, v).reshape([rows, cols])
}

/// A store's energy counters as the dict the Python reports read.
pub fn counters_dict<'py>(
    py: Python<'py>,
    c: &synaplast_core::energy::EnergyCounters,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    let d = pyo3::types::PyDict::new(py);
    d.set_item("writes", c.writes)?;
    d.set_item("abs_change", c.abs_change)?;
    d.set_item("grown", c.grown)?;
    d.set_item("pruned", c.pruned)?;
    Ok(d)
}
