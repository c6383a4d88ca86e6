//! NumPy ↔ Rust conversions shared by the binding files.

use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Indices as `u32`, rejecting negative or too large values (`what` names them).
pub fn to_u32(v: &[i64], what: &str) -> PyResult<Vec<u32>> {
    v.iter()
        .map(|&x| {
            u32::try_from(x)
                .map_err(|_| PyValueError::new_err(format!("{what} {x} is out of range")))
        })
        .collect()
}

/// Owned copy of a contiguous 1-d array (taken before the GIL is released).
pub fn owned<T: numpy::Element + Copy>(a: &PyReadonlyArray1<'_, T>) -> PyResult<Vec<T>> {
    Ok(a.as_slice()?.to_vec())
}

/// Owned copy of a contiguous 2-d float32 array with its `(rows, cols)`.
pub fn owned2(a: &PyReadonlyArray2<'_, f32>) -> PyResult<(Vec<f32>, usize, usize)> {
    let s = a.shape();
    Ok((a.as_slice()?.to_vec(), s[0], s[1]))
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
