//! `_core.LeanStore`: a lean column shard of a Willshaw memory
//! (`synaplast_core::memory::LeanStore`).

use crate::config::extract;
use crate::convert::{counters_dict, to_indptr, to_u32};
use crate::errors::IntoPyResult;
use crate::threads;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use synaplast_core::memory::{LeanStore as Core, Patterns, RetrieveParams, StoreConfig};

fn patterns(
    dim: usize,
    indptr: &PyReadonlyArray1<'_, i64>,
    indices: &PyReadonlyArray1<'_, i64>,
) -> PyResult<Patterns> {
    let indptr = to_indptr(indptr.as_slice()?)?;
    let indices = to_u32(indices.as_slice()?, "unit index")?;
    Patterns::new(dim, indptr, indices).py()
}

/// Selected units as `(indptr, units, potentials)`.
type Selected<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<f64>>,
);

#[pyclass(module = "synaplast._core")]
pub struct LeanStore {
    pub inner: Core,
}

#[pymethods]
impl LeanStore {
    /// An empty shard of the Willshaw memory `config` holding the content units `lo..hi`.
    #[new]
    fn new(config: &Bound<'_, PyAny>, lo: usize, hi: usize) -> PyResult<Self> {
        let cfg: StoreConfig = extract(config, "config")?;
        Ok(Self {
            inner: Core::new(&cfg, lo, hi).py()?,
        })
    }

    /// Store pairs given as compressed rows of the whole patterns.
    fn store(
        &mut self,
        py: Python<'_>,
        u_indptr: PyReadonlyArray1<'_, i64>,
        u_indices: PyReadonlyArray1<'_, i64>,
        v_indptr: PyReadonlyArray1<'_, i64>,
        v_indices: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<()> {
        let u = patterns(self.inner.m(), &u_indptr, &u_indices)?;
        let v = patterns(self.inner.n(), &v_indptr, &v_indices)?;
        let inner = &mut self.inner;
        threads::run_interruptible(py, || inner.store(&u, &v))
    }

    /// Merge the pending writes into the rows.
    fn flush(&mut self, py: Python<'_>) -> PyResult<()> {
        let inner = &mut self.inner;
        py.detach(|| {
            threads::run(|| {
                inner.flush();
                Ok(())
            })
        })
        .py()
    }

    /// An independent copy.
    fn copy(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }

    /// Check retrieval parameters against the memory without retrieving.
    fn check_retrieval(&self, params: &Bound<'_, PyAny>) -> PyResult<()> {
        let p: RetrieveParams = extract(params, "params")?;
        self.inner.check_retrieval(&p).py()
    }

    /// One-step potentials of this shard's columns, `(n_queries, hi − lo)`.
    fn potentials<'py>(
        &self,
        py: Python<'py>,
        q_indptr: PyReadonlyArray1<'_, i64>,
        q_indices: PyReadonlyArray1<'_, i64>,
        params: &Bound<'_, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let p: RetrieveParams = extract(params, "params")?;
        let q = patterns(self.inner.m(), &q_indptr, &q_indices)?;
        let inner = &self.inner;
        let x = threads::run_interruptible(py, || inner.potentials(&q, &p))?;
        let (lo, hi) = self.inner.columns();
        PyArray1::from_vec(py, x).reshape([q.len(), hi - lo])
    }

    /// One-step threshold selection or l-WTA candidates among this shard's
    /// columns: `(indptr, units, potentials)`.
    fn select<'py>(
        &self,
        py: Python<'py>,
        q_indptr: PyReadonlyArray1<'_, i64>,
        q_indices: PyReadonlyArray1<'_, i64>,
        params: &Bound<'_, PyAny>,
    ) -> PyResult<Selected<'py>> {
        let p: RetrieveParams = extract(params, "params")?;
        let q = patterns(self.inner.m(), &q_indptr, &q_indices)?;
        let inner = &self.inner;
        let s = threads::run_interruptible(py, || inner.select(&q, &p))?;
        Ok((
            PyArray1::from_iter(py, s.indptr.iter().map(|&x| x as i64)),
            PyArray1::from_iter(py, s.units.iter().map(|&x| x as i64)),
            PyArray1::from_iter(py, s.counts.iter().map(|&x| x as f64)),
        ))
    }

    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.inner.m(), self.inner.n())
    }
    #[getter]
    fn columns(&self) -> (usize, usize) {
        self.inner.columns()
    }
    #[getter]
    fn binary(&self) -> bool {
        true
    }
    #[getter]
    fn auto(&self) -> bool {
        self.inner.is_auto()
    }
    #[getter]
    fn inverted(&self) -> bool {
        false
    }
    #[getter]
    fn n_pairs(&self) -> u64 {
        self.inner.n_pairs()
    }
    #[getter]
    fn nonsilent(&self) -> u64 {
        self.inner.nonsilent()
    }
    #[getter]
    fn stored_entries(&self) -> u64 {
        self.inner.nonsilent()
    }
    #[getter]
    fn pending_entries(&self) -> usize {
        self.inner.pending_entries()
    }
    #[getter]
    fn p1(&self) -> f64 {
        self.inner.p1()
    }
    fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
    }
    #[getter]
    fn mean_activity(&self) -> f64 {
        self.inner.mean_activity()
    }
    #[getter]
    fn address_counts<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        PyArray1::from_slice(py, self.inner.address_counts())
    }
    #[getter]
    fn content_counts<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        PyArray1::from_slice(py, self.inner.content_counts())
    }
    #[getter]
    fn counters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        counters_dict(py, self.inner.counters())
    }
}
