//! `_core.AssocStore`: the counter store and retrieval kernels of the
//! associative memories (`synaplast_core::memory`).

use crate::config::extract;
use crate::convert::{counters_dict, to_indptr, to_u32};
use crate::errors::IntoPyResult;
use crate::state::pickled_via_state;
use crate::threads;
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use synaplast_core::memory::{
    retrieval, AssocStore as Core, Patterns, RetrieveParams, StoreConfig,
};
use synaplast_core::Error;

/// Patterns of `dim` units from compressed rows.
fn patterns(
    dim: usize,
    indptr: &PyReadonlyArray1<'_, i64>,
    indices: &PyReadonlyArray1<'_, i64>,
) -> PyResult<Patterns> {
    let indptr = to_indptr(indptr.as_slice()?)?;
    let indices = to_u32(indices.as_slice()?, "unit index")?;
    Patterns::new(dim, indptr, indices).py()
}

/// Retrieved patterns as compressed rows, steps per query and synaptic operations.
type Retrieved<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<u32>>,
    u64,
);

/// New states as compressed rows and the next step's noise rates.
type Next<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray2<f64>>,
);

#[pyclass(module = "synaplast._core")]
pub struct AssocStore {
    pub inner: Core,
}

#[pymethods]
impl AssocStore {
    #[new]
    fn new(config: &Bound<'_, PyAny>) -> PyResult<Self> {
        let cfg: StoreConfig = extract(config, "config")?;
        Ok(Self {
            inner: Core::with_config(&cfg).py()?,
        })
    }

    /// Store pairs given as compressed rows (pass the addresses twice for auto).
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

    /// Store pairs keeping only the synapses onto the content units `lo..hi`
    /// (one column shard; unit and pair counts are the whole memory's).
    #[allow(clippy::too_many_arguments)]
    fn store_columns(
        &mut self,
        py: Python<'_>,
        u_indptr: PyReadonlyArray1<'_, i64>,
        u_indices: PyReadonlyArray1<'_, i64>,
        v_indptr: PyReadonlyArray1<'_, i64>,
        v_indices: PyReadonlyArray1<'_, i64>,
        lo: usize,
        hi: usize,
    ) -> PyResult<()> {
        let u = patterns(self.inner.m(), &u_indptr, &u_indices)?;
        let v = patterns(self.inner.n(), &v_indptr, &v_indices)?;
        let inner = &mut self.inner;
        threads::run_interruptible(py, || inner.store_columns(&u, &v, lo, hi))
    }

    /// Add the pairs stored in `other` (same shape and kind).
    fn merge(&mut self, py: Python<'_>, other: PyRef<'_, AssocStore>) -> PyResult<()> {
        let theirs = &other.inner;
        let inner = &mut self.inner;
        threads::run_interruptible(py, || inner.merge(theirs))
    }

    /// An independent copy (a multi-chunk `partial_fit` stores into one).
    fn copy(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }

    fn compress(&mut self, py: Python<'_>) -> PyResult<bool> {
        let inner = &mut self.inner;
        py.detach(|| threads::run(|| Ok(inner.compress()))).py()
    }

    /// Retrieve; returns `(indptr, indices, iterations, synaptic_ops)`.
    fn retrieve<'py>(
        &self,
        py: Python<'py>,
        q_indptr: PyReadonlyArray1<'_, i64>,
        q_indices: PyReadonlyArray1<'_, i64>,
        params: &Bound<'_, PyAny>,
    ) -> PyResult<Retrieved<'py>> {
        let params: RetrieveParams = extract(params, "params")?;
        let q = patterns(self.inner.m(), &q_indptr, &q_indices)?;
        let inner = &self.inner;
        let r = threads::run_interruptible(py, || retrieval::retrieve(inner, &q, &params))?;
        Ok((
            PyArray1::from_iter(py, r.patterns.indptr.iter().map(|&x| x as i64)),
            PyArray1::from_iter(py, r.patterns.indices.iter().map(|&x| x as i64)),
            PyArray1::from_vec(py, r.iterations),
            r.synaptic_ops,
        ))
    }

    /// One-step dendritic potentials under `params` (rule, noise rates and,
    /// for hypercolumn retrieval, the self-connection block), `(n_queries, n)`.
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
        let block = retrieval::self_block(inner, p.mode);
        let x = threads::run_interruptible(py, || {
            retrieval::potentials(inner, &q, p.rule, p.p01, p.p10, block)
        })?;
        PyArray1::from_vec(py, x).reshape([q.len(), self.inner.n()])
    }

    /// Query-anchored evidence of the states' added parts under the rates
    /// `p01`, `p10`, `(n_queries, n)` (without the step-1 potentials).
    #[allow(clippy::too_many_arguments)]
    fn added_potentials<'py>(
        &self,
        py: Python<'py>,
        q_indptr: PyReadonlyArray1<'_, i64>,
        q_indices: PyReadonlyArray1<'_, i64>,
        s_indptr: PyReadonlyArray1<'_, i64>,
        s_indices: PyReadonlyArray1<'_, i64>,
        p01: f64,
        p10: f64,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let q = patterns(self.inner.m(), &q_indptr, &q_indices)?;
        let states = patterns(self.inner.n(), &s_indptr, &s_indices)?;
        let inner = &self.inner;
        let x = threads::run_interruptible(py, || {
            retrieval::added_potentials(inner, &q, &states, p01, p10)
        })?;
        PyArray1::from_vec(py, x).reshape([q.len(), self.inner.n()])
    }

    /// Check retrieval parameters against the memory without retrieving.
    fn check_retrieval(&self, params: &Bound<'_, PyAny>) -> PyResult<()> {
        let p: RetrieveParams = extract(params, "params")?;
        retrieval::check(&self.inner, &p).py()
    }

    /// The mean activity of the stored contents.
    #[getter]
    fn mean_activity(&self) -> f64 {
        retrieval::mean_activity(&self.inner)
    }

    /// One retrieval step's outputs from the potentials `x` (`(n_queries, n)`):
    /// `(indptr, indices, noise)` of the new states and the next step's
    /// noise rates (`(n_queries, 2)`); `state_lens` are the current states'
    /// sizes and `noise` their rates.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn next_states<'py>(
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f64>,
        state_lens: PyReadonlyArray1<'_, i64>,
        q_indptr: PyReadonlyArray1<'_, i64>,
        q_indices: PyReadonlyArray1<'_, i64>,
        noise: PyReadonlyArray2<'_, f64>,
        params: &Bound<'_, PyAny>,
        mean_activity: f64,
    ) -> PyResult<Next<'py>> {
        let p: RetrieveParams = extract(params, "params")?;
        let [nq, n] = [x.shape()[0], x.shape()[1]];
        // The queries' address units matter only in auto-association (m = n).
        let q = patterns(u32::MAX as usize, &q_indptr, &q_indices)?;
        let lens = state_lens.as_slice()?;
        if q.len() != nq || lens.len() != nq || noise.shape() != [nq, 2] {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "{nq} rows of potentials need {nq} queries, state sizes and noise rows"
            )));
        }
        let (x, noise) = (x.as_slice()?, noise.as_slice()?);
        let steps: Vec<(Vec<u32>, (f64, f64))> = py.detach(|| {
            (0..nq)
                .map(|r| {
                    let len = usize::try_from(lens[r]).unwrap_or(0);
                    let nz = (noise[2 * r], noise[2 * r + 1]);
                    retrieval::next_state(
                        &x[r * n..(r + 1) * n],
                        len,
                        q.row(r),
                        nz,
                        &p,
                        mean_activity,
                    )
                })
                .collect()
        });
        let mut indptr = vec![0i64];
        let mut indices = Vec::new();
        let mut rates = Vec::with_capacity(2 * nq);
        for (y, (a, b)) in steps {
            indices.extend(y.iter().map(|&j| j as i64));
            indptr.push(indices.len() as i64);
            rates.extend([a, b]);
        }
        Ok((
            PyArray1::from_vec(py, indptr),
            PyArray1::from_vec(py, indices),
            PyArray1::from_vec(py, rates).reshape([nq, 2])?,
        ))
    }

    #[getter]
    fn shape(&self) -> (usize, usize) {
        (self.inner.m(), self.inner.n())
    }
    #[getter]
    fn binary(&self) -> bool {
        self.inner.is_binary()
    }
    #[getter]
    fn auto(&self) -> bool {
        self.inner.is_auto()
    }
    #[getter]
    fn inverted(&self) -> bool {
        self.inner.is_inverted()
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
    fn stored_entries(&self) -> usize {
        self.inner.stored_entries()
    }
    #[getter]
    fn p1(&self) -> f64 {
        self.inner.p1()
    }
    fn memory_bytes(&self) -> usize {
        self.inner.memory_bytes()
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

    /// Dense `M11` (counts, or 0/1 for binary stores) as `(m, n)` uint32; for small memories.
    fn m11_dense<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<u32>>> {
        let (m, n) = (self.inner.m(), self.inner.n());
        let size = m
            .checked_mul(n)
            .filter(|&s| s <= 1 << 28)
            .ok_or_else(|| Error::Value("memory too large for a dense copy".into()))
            .py()?;
        let mut d = vec![0u32; size];
        for i in 0..m {
            let row = self.inner.row(i);
            let cnt = self.inner.row_counts(i);
            if self.inner.is_inverted() {
                d[i * n..(i + 1) * n].iter_mut().for_each(|x| *x = 1);
            }
            for (t, &j) in row.iter().enumerate() {
                d[i * n + j as usize] = if self.inner.is_binary() {
                    u32::from(!self.inner.is_inverted())
                } else {
                    cnt[t]
                };
            }
        }
        PyArray1::from_vec(py, d).reshape([m, n])
    }
}

pickled_via_state!(AssocStore, Core);
