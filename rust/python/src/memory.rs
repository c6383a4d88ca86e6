//! `_core.AssocStore`: the counter store and retrieval kernels of the
//! associative memories (`synaplast_core::memory`).

use crate::errors::IntoPyResult;
use crate::threads;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use synaplast_core::memory::{retrieval, AssocStore as Core, Mode, Patterns, RetrieveParams, Rule};
use synaplast_core::EnergyCounters;

fn patterns(
    dim: usize,
    indptr: &PyReadonlyArray1<'_, i64>,
    indices: &PyReadonlyArray1<'_, i64>,
) -> PyResult<Patterns> {
    let indptr: Vec<usize> = indptr
        .as_slice()?
        .iter()
        .map(|&x| usize::try_from(x).map_err(|_| PyValueError::new_err("indptr is negative")))
        .collect::<PyResult<_>>()?;
    let indices: Vec<u32> = indices
        .as_slice()?
        .iter()
        .map(|&x| {
            u32::try_from(x)
                .map_err(|_| PyValueError::new_err(format!("unit index {x} is out of range")))
        })
        .collect::<PyResult<_>>()?;
    Patterns::new(dim, indptr, indices).py()
}

fn mode(name: &str, threshold: Option<f64>, l: usize, n_hypercolumns: usize) -> PyResult<Mode> {
    match name {
        "threshold" => Ok(Mode::Threshold(threshold)),
        "wta" => Ok(Mode::Wta(l)),
        "hypercolumn" => Ok(Mode::Hypercolumn(n_hypercolumns)),
        _ => Err(PyValueError::new_err(format!(
            "unknown retrieval {name:?}: expected threshold, wta or hypercolumn"
        ))),
    }
}

#[pyclass(module = "synaplast._core")]
pub struct AssocStore {
    pub inner: Core,
}

#[pymethods]
impl AssocStore {
    #[new]
    #[pyo3(signature = (m, n, binary = false, auto = false))]
    fn new(m: usize, n: usize, binary: bool, auto: bool) -> PyResult<Self> {
        Ok(Self {
            inner: Core::new(m, n, binary, auto).py()?,
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
        py.detach(|| threads::run(|| inner.store(&u, &v))).py()
    }

    fn compress(&mut self, py: Python<'_>) -> bool {
        let inner = &mut self.inner;
        py.detach(|| threads::run(|| inner.compress()))
    }

    /// Retrieve; returns `(indptr, indices, iterations, synaptic_ops)`.
    #[pyo3(signature = (q_indptr, q_indices, rule, retrieval, threshold = None, l = 0,
                        n_hypercolumns = 0, n_iter = 1, adaptive = false, p01 = 0.0, p10 = 0.0,
                        anchor = false))]
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn retrieve<'py>(
        &self,
        py: Python<'py>,
        q_indptr: PyReadonlyArray1<'_, i64>,
        q_indices: PyReadonlyArray1<'_, i64>,
        rule: &str,
        retrieval: &str,
        threshold: Option<f64>,
        l: usize,
        n_hypercolumns: usize,
        n_iter: usize,
        adaptive: bool,
        p01: f64,
        p10: f64,
        anchor: bool,
    ) -> PyResult<(
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<u32>>,
        u64,
    )> {
        let q = patterns(self.inner.m(), &q_indptr, &q_indices)?;
        let params = RetrieveParams {
            rule: Rule::parse(rule).py()?,
            mode: mode(retrieval, threshold, l, n_hypercolumns)?,
            n_iter,
            adaptive,
            anchor,
            p01,
            p10,
        };
        let inner = &self.inner;
        let r = py
            .detach(|| threads::run(|| retrieval::retrieve(inner, &q, &params)))
            .py()?;
        Ok((
            PyArray1::from_iter(py, r.patterns.indptr.iter().map(|&x| x as i64)),
            PyArray1::from_iter(py, r.patterns.indices.iter().map(|&x| x as i64)),
            PyArray1::from_vec(py, r.iterations),
            r.synaptic_ops,
        ))
    }

    /// One-step dendritic potentials, `(n_queries, n)` float64.
    #[pyo3(signature = (q_indptr, q_indices, rule, p01 = 0.0, p10 = 0.0, n_hypercolumns = 0))]
    #[allow(clippy::too_many_arguments)]
    fn potentials<'py>(
        &self,
        py: Python<'py>,
        q_indptr: PyReadonlyArray1<'_, i64>,
        q_indices: PyReadonlyArray1<'_, i64>,
        rule: &str,
        p01: f64,
        p10: f64,
        n_hypercolumns: usize,
    ) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
        let q = patterns(self.inner.m(), &q_indptr, &q_indices)?;
        let rule = Rule::parse(rule).py()?;
        let inner = &self.inner;
        let mode = if n_hypercolumns > 0 {
            Mode::Hypercolumn(n_hypercolumns)
        } else {
            Mode::Wta(0)
        };
        let block = retrieval::self_block(inner, mode);
        let x = py
            .detach(|| threads::run(|| retrieval::potentials(inner, &q, rule, p01, p10, block)))
            .py()?;
        PyArray1::from_vec(py, x).reshape([q.len(), self.inner.n()])
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
        let c = self.inner.counters();
        let d = PyDict::new(py);
        d.set_item("writes", c.writes)?;
        d.set_item("abs_change", c.abs_change)?;
        d.set_item("grown", c.grown)?;
        d.set_item("pruned", c.pruned)?;
        Ok(d)
    }

    /// Dense `M11` (counts, or 0/1 for binary stores) as `(m, n)` uint32; for small memories.
    fn m11_dense<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, numpy::PyArray2<u32>>> {
        let (m, n) = (self.inner.m(), self.inner.n());
        let size = m
            .checked_mul(n)
            .filter(|&s| s <= 1 << 28)
            .ok_or_else(|| PyValueError::new_err("memory too large for a dense copy"))?;
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

    /// State for pickling.
    fn to_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (indptr, indices, counts) = self.inner.to_csr();
        let d = PyDict::new(py);
        d.set_item("m", self.inner.m())?;
        d.set_item("n", self.inner.n())?;
        d.set_item("binary", self.inner.is_binary())?;
        d.set_item("auto", self.inner.is_auto())?;
        d.set_item("inverted", self.inner.is_inverted())?;
        d.set_item(
            "indptr",
            PyArray1::from_iter(py, indptr.iter().map(|&x| x as i64)),
        )?;
        d.set_item("indices", PyArray1::from_vec(py, indices))?;
        d.set_item("counts", counts.map(|c| PyArray1::from_vec(py, c)))?;
        d.set_item("mu1", PyArray1::from_slice(py, self.inner.address_counts()))?;
        d.set_item("mv1", PyArray1::from_slice(py, self.inner.content_counts()))?;
        d.set_item("n_pairs", self.inner.n_pairs())?;
        let c = self.inner.counters();
        d.set_item("counters", (c.writes, c.abs_change, c.grown, c.pruned))?;
        Ok(d)
    }

    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (m, n, binary, auto, inverted, indptr, indices, counts, mu1, mv1, n_pairs, counters))]
    fn from_state(
        m: usize,
        n: usize,
        binary: bool,
        auto: bool,
        inverted: bool,
        indptr: PyReadonlyArray1<'_, i64>,
        indices: PyReadonlyArray1<'_, u32>,
        counts: Option<PyReadonlyArray1<'_, u32>>,
        mu1: PyReadonlyArray1<'_, u64>,
        mv1: PyReadonlyArray1<'_, u64>,
        n_pairs: u64,
        counters: (u64, f64, u64, u64),
    ) -> PyResult<Self> {
        let indptr: Vec<usize> = indptr
            .as_slice()?
            .iter()
            .map(|&x| usize::try_from(x).map_err(|_| PyValueError::new_err("indptr is negative")))
            .collect::<PyResult<_>>()?;
        let counts_v = counts.as_ref().map(|c| c.as_slice()).transpose()?;
        let inner = Core::from_parts(
            m,
            n,
            binary,
            auto,
            inverted,
            &indptr,
            indices.as_slice()?,
            counts_v,
            mu1.as_slice()?.to_vec(),
            mv1.as_slice()?.to_vec(),
            n_pairs,
            EnergyCounters {
                writes: counters.0,
                abs_change: counters.1,
                grown: counters.2,
                pruned: counters.3,
            },
        )
        .py()?;
        Ok(Self { inner })
    }
}
