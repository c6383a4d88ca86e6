//! `_core.SynapseMatrix`: sparse synapses with structural plasticity.

use crate::convert::{c_slice, matrix, owned, owned2, to_indptr, to_u32};
use crate::errors::IntoPyResult;
use crate::state::pickled_via_state;
use crate::threads;
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use synaplast_core::synapses::{Clamp, GrowInit};
use synaplast_core::{Error, SynapseMatrix as Core};

/// Products with fewer multiply-adds than this run without releasing the GIL
/// and read the caller's array in place: copying it would cost more than the
/// product, and with the GIL held no Python thread can change it meanwhile.
const SMALL_WORK: usize = 1 << 20;

fn is_small(batch: usize, n_in: usize, nnz: usize) -> bool {
    batch.saturating_mul(nnz.saturating_add(n_in)) < SMALL_WORK
}

#[pyclass(module = "synaplast._core")]
pub struct SynapseMatrix {
    pub inner: Core,
}

#[pymethods]
impl SynapseMatrix {
    #[new]
    #[pyo3(signature = (n_post, n_pre, binary = false))]
    fn new(n_post: usize, n_pre: usize, binary: bool) -> PyResult<Self> {
        Ok(Self {
            inner: Core::empty(n_post, n_pre, binary).py()?,
        })
    }

    #[staticmethod]
    #[pyo3(signature = (dense, binary = false))]
    fn from_dense(
        py: Python<'_>,
        dense: PyReadonlyArray2<'_, f32>,
        binary: bool,
    ) -> PyResult<Self> {
        let (d, r, c) = owned2(&dense)?;
        let inner = py
            .detach(|| threads::run(|| Core::from_dense(&d, r, c, binary)))
            .py()?;
        Ok(Self { inner })
    }

    #[staticmethod]
    #[pyo3(signature = (n_post, n_pre, post, pre, weights = None, binary = false))]
    fn from_coo(
        py: Python<'_>,
        n_post: usize,
        n_pre: usize,
        post: PyReadonlyArray1<'_, i64>,
        pre: PyReadonlyArray1<'_, i64>,
        weights: Option<PyReadonlyArray1<'_, f32>>,
        binary: bool,
    ) -> PyResult<Self> {
        let post = to_u32(post.as_slice()?, "postsynaptic index")?;
        let pre = to_u32(pre.as_slice()?, "presynaptic index")?;
        let w = weights.as_ref().map(owned).transpose()?;
        let inner = py
            .detach(|| Core::from_coo(n_post, n_pre, &post, &pre, w.as_deref(), binary))
            .py()?;
        Ok(Self { inner })
    }

    #[staticmethod]
    #[pyo3(signature = (n_post, n_pre, indptr, indices, weights = None, binary = false))]
    fn from_csr(
        py: Python<'_>,
        n_post: usize,
        n_pre: usize,
        indptr: PyReadonlyArray1<'_, i64>,
        indices: PyReadonlyArray1<'_, i64>,
        weights: Option<PyReadonlyArray1<'_, f32>>,
        binary: bool,
    ) -> PyResult<Self> {
        let indptr = to_indptr(indptr.as_slice()?)?;
        let indices = to_u32(indices.as_slice()?, "presynaptic index")?;
        let w = weights.as_ref().map(owned).transpose()?;
        let inner = py
            .detach(|| Core::from_csr(n_post, n_pre, &indptr, &indices, w.as_deref(), binary))
            .py()?;
        Ok(Self { inner })
    }

    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.inner.n_post(), self.inner.n_pre())
    }
    #[getter]
    fn nnz(&self) -> usize {
        self.inner.nnz()
    }
    #[getter]
    fn binary(&self) -> bool {
        self.inner.is_binary()
    }
    #[getter]
    fn density(&self) -> f64 {
        self.inner.density()
    }
    fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
    }
    #[getter]
    fn indptr<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        PyArray1::from_iter(py, self.inner.indptr().iter().map(|&x| x as i64))
    }
    #[getter]
    fn indices<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        PyArray1::from_slice(py, self.inner.indices())
    }
    #[getter]
    fn weights<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f32>>> {
        self.inner.weights().map(|w| PyArray1::from_slice(py, w))
    }
    fn set_weights(&mut self, weights: PyReadonlyArray1<'_, f32>) -> PyResult<()> {
        self.inner.set_weights(weights.as_slice()?).py()
    }
    fn to_dense<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let d = py.detach(|| threads::run(|| self.inner.to_dense())).py()?;
        matrix(py, d, self.inner.n_post(), self.inner.n_pre())
    }
    fn row_sums<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let s = py
            .detach(|| threads::run(|| Ok(self.inner.row_sums())))
            .py()?;
        Ok(PyArray1::from_vec(py, s))
    }
    fn row_counts<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        PyArray1::from_iter(py, self.inner.row_counts().into_iter().map(|c| c as i64))
    }
    fn check_invariants(&self) -> PyResult<()> {
        self.inner.check_invariants().py()
    }
    fn copy(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }

    fn forward<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let batch = x.shape()[0];
        let y = if is_small(batch, self.inner.n_pre(), self.inner.nnz()) {
            let xs = c_slice(&x, "x")?;
            threads::run(|| self.inner.forward(xs, batch)).py()?
        } else {
            let (x, _, _) = owned2(&x)?;
            py.detach(|| threads::run(|| self.inner.forward(&x, batch)))
                .py()?
        };
        matrix(py, y, batch, self.inner.n_post())
    }

    fn backward<'py>(
        &self,
        py: Python<'py>,
        g: PyReadonlyArray2<'_, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let batch = g.shape()[0];
        let x = if is_small(batch, self.inner.n_post(), self.inner.nnz()) {
            let gs = c_slice(&g, "g")?;
            threads::run(|| self.inner.backward(gs, batch)).py()?
        } else {
            let (g, _, _) = owned2(&g)?;
            py.detach(|| threads::run(|| self.inner.backward(&g, batch)))
                .py()?
        };
        matrix(py, x, batch, self.inner.n_pre())
    }

    fn prune_below(&mut self, threshold: f32) -> PyResult<usize> {
        self.inner.prune_below(threshold).py()
    }
    fn prune_weakest(&mut self, py: Python<'_>, fraction: f64) -> PyResult<usize> {
        let inner = &mut self.inner;
        py.detach(|| threads::run(|| inner.prune_weakest(fraction)))
            .py()
    }
    fn prune_mask(&mut self, mask: PyReadonlyArray1<'_, bool>) -> PyResult<usize> {
        self.inner.prune_mask(mask.as_slice()?).py()
    }

    /// Grow synapses at the candidate positions `(post[k], pre[k])`, with
    /// `weights` or weights uniform in `init = (low, high)`.
    #[pyo3(signature = (post, pre, weights = None, init = (0.0, 0.0), seed = 0))]
    fn grow(
        &mut self,
        py: Python<'_>,
        post: PyReadonlyArray1<'_, i64>,
        pre: PyReadonlyArray1<'_, i64>,
        weights: Option<PyReadonlyArray1<'_, f32>>,
        init: (f32, f32),
        seed: u64,
    ) -> PyResult<usize> {
        let post = to_u32(post.as_slice()?, "postsynaptic candidate index")?;
        let pre = to_u32(pre.as_slice()?, "presynaptic candidate index")?;
        let w = weights.as_ref().map(owned).transpose()?;
        let inner = &mut self.inner;
        let init = GrowInit::Uniform(init.0, init.1);
        py.detach(|| threads::run(|| inner.grow(&post, &pre, w.as_deref(), init, seed)))
            .py()
    }

    /// Grow `per_row` synapses per row at random absent positions.
    #[pyo3(signature = (per_row, init = (0.0, 0.0), seed = 0))]
    fn grow_random(
        &mut self,
        py: Python<'_>,
        per_row: usize,
        init: (f32, f32),
        seed: u64,
    ) -> PyResult<usize> {
        let inner = &mut self.inner;
        let init = GrowInit::Uniform(init.0, init.1);
        py.detach(|| threads::run(|| inner.grow_random(per_row, init, seed)))
            .py()
    }

    #[pyo3(signature = (delta, w_min = f32::NEG_INFINITY, w_max = f32::INFINITY))]
    fn apply_delta(
        &mut self,
        py: Python<'_>,
        delta: PyReadonlyArray1<'_, f32>,
        w_min: f32,
        w_max: f32,
    ) -> PyResult<(u64, f64)> {
        let d = owned(&delta)?;
        let inner = &mut self.inner;
        py.detach(|| {
            threads::run(|| {
                inner.apply_delta(
                    &d,
                    Clamp {
                        min: w_min,
                        max: w_max,
                    },
                )
            })
        })
        .py()
    }

    #[pyo3(signature = (post, pre, rate, w_min = f32::NEG_INFINITY, w_max = f32::INFINITY))]
    fn hebbian_update(
        &mut self,
        py: Python<'_>,
        post: PyReadonlyArray2<'_, f32>,
        pre: PyReadonlyArray2<'_, f32>,
        rate: f32,
        w_min: f32,
        w_max: f32,
    ) -> PyResult<(u64, f64)> {
        let (post, batch, _) = owned2(&post)?;
        let (pre, batch_pre, _) = owned2(&pre)?;
        if batch != batch_pre {
            return Err(Error::Shape(format!(
                "post has {batch} samples but pre has {batch_pre}"
            )))
            .py();
        }
        let inner = &mut self.inner;
        py.detach(|| {
            threads::run(|| {
                inner.hebbian_update(
                    &post,
                    &pre,
                    batch,
                    rate,
                    Clamp {
                        min: w_min,
                        max: w_max,
                    },
                )
            })
        })
        .py()
    }

    /// `(M0_min, M1_min)` from `initial` to this matrix.
    fn minimal_energy_from(&self, initial: &SynapseMatrix) -> PyResult<(u64, f64)> {
        let m = self.inner.minimal_energy_from(&initial.inner).py()?;
        Ok((m.writes, m.abs_change))
    }

    /// `(writes, abs_change, grown, pruned)` since construction or reset.
    #[getter]
    fn counters(&self) -> (u64, f64, u64, u64) {
        let c = self.inner.counters();
        (c.writes, c.abs_change, c.grown, c.pruned)
    }
    fn reset_counters(&mut self) {
        self.inner.reset_counters();
    }

    fn __repr__(&self) -> String {
        format!(
            "SynapseMatrix(shape=({}, {}), nnz={}, binary={})",
            self.inner.n_post(),
            self.inner.n_pre(),
            self.inner.nnz(),
            self.inner.is_binary()
        )
    }
}

/// Winner mask (uint8) of the `k` largest entries of each row.
#[pyfunction]
pub fn kwta_mask<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'_, f32>,
    k: usize,
) -> PyResult<Bound<'py, PyArray2<u8>>> {
    let (x, r, c) = owned2(&x)?;
    let m = py
        .detach(|| threads::run(|| synaplast_core::winners::kwta_mask(&x, r, c, k)))
        .py()?;
    PyArray1::from_vec(py, m).reshape([r, c])
}

pickled_via_state!(SynapseMatrix, Core);
