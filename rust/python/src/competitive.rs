//! `_core.CompetitiveMlp`: the MLP with competitive plasticity and energy counters.

use crate::config::extract;
use crate::convert::{c_slice, to_u32};
use crate::errors::IntoPyResult;
use crate::state::pickled_via_state;
use crate::threads;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use pyo3::types::PyList;
use pythonize::pythonize;
use synaplast_core::competitive::{Config, Layer, Mlp, Schedule, TrainSpec};

#[pyclass(module = "synaplast._core")]
pub struct CompetitiveMlp {
    inner: Mlp,
}

fn labels(y: &PyReadonlyArray1<'_, i64>, what: &str) -> PyResult<Vec<u32>> {
    to_u32(y.as_slice()?, what)
}

/// One `(n_out, n_in + 1)` array per layer of `pick(layer)` (`None` where empty).
fn layer_arrays<'py>(
    py: Python<'py>,
    m: &Mlp,
    pick: impl Fn(&Layer) -> &Vec<f32>,
) -> PyResult<Bound<'py, PyList>> {
    let out = PyList::empty(py);
    for l in m.layers() {
        let v = pick(l);
        if v.is_empty() {
            out.append(py.None())?;
        } else {
            out.append(PyArray1::from_slice(py, v).reshape([l.n_out, l.stride()])?)?;
        }
    }
    Ok(out)
}

#[pymethods]
impl CompetitiveMlp {
    #[new]
    fn new(config: &Bound<'_, PyAny>, seed: u64) -> PyResult<Self> {
        let cfg: Config = extract(config, "config")?;
        Ok(Self {
            inner: Mlp::new(cfg, seed).py()?,
        })
    }

    /// Train by `schedule`; returns the outcome (`samples`, `reached`, `history`).
    #[pyo3(signature = (x, y, schedule, eval_set = None))]
    fn train<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
        y: PyReadonlyArray1<'_, i64>,
        schedule: &Bound<'_, PyAny>,
        eval_set: Option<(PyReadonlyArray2<'_, f32>, PyReadonlyArray1<'_, i64>)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let schedule: Schedule = extract(schedule, "schedule")?;
        let xv = c_slice(&x, "x")?.to_vec();
        let yv = labels(&y, "class")?;
        let ev = match eval_set {
            Some((ex, ey)) => Some((
                c_slice(&ex, "the evaluation x")?.to_vec(),
                labels(&ey, "evaluation class")?,
            )),
            None => None,
        };
        let inner = &mut self.inner;
        let out = threads::run_interruptible(py, || {
            inner.train(&TrainSpec {
                x: &xv,
                y: &yv,
                eval: ev.as_ref().map(|(a, b)| (a.as_slice(), b.as_slice())),
                schedule,
            })
        })?;
        Ok(pythonize(py, &out)?)
    }

    fn forward<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let xv = c_slice(&x, "x")?.to_vec();
        let inner = &self.inner;
        let y = py.detach(|| threads::run(|| inner.forward(&xv))).py()?;
        let n_out = *inner.config().sizes.last().unwrap_or(&1);
        let n = y.len() / n_out.max(1);
        PyArray1::from_vec(py, y).reshape([n, n_out])
    }

    fn accuracy(
        &self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        y: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<f64> {
        let xv = c_slice(&x, "x")?.to_vec();
        let yv = labels(&y, "class")?;
        let inner = &self.inner;
        py.detach(|| threads::run(|| inner.accuracy(&xv, &yv))).py()
    }

    /// Consolidate every transient weight (caching; no-op otherwise).
    fn consolidate_all(&mut self) {
        self.inner.consolidate_all();
    }

    fn weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        layer_arrays(py, &self.inner, |l| &l.w)
    }
    fn initial_weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        layer_arrays(py, &self.inner, |l| &l.w_init)
    }
    fn long_weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        layer_arrays(py, &self.inner, |l| &l.long)
    }
    fn short_weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        layer_arrays(py, &self.inner, |l| &l.short)
    }
    /// Per-layer energy counters (list of dicts).
    fn energy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e: Vec<_> = self.inner.layers().iter().map(|l| l.energy).collect();
        Ok(pythonize(py, &e)?)
    }
    /// Per-layer `(M0_min, M1_min)`.
    fn minimal_energy(&self) -> Vec<(u64, f64)> {
        self.inner
            .minimal_energy()
            .iter()
            .map(|m| (m.writes, m.abs_change))
            .collect()
    }
    /// Plastic-unit masks of the hidden layers (the last step's for `'error'`).
    fn paths<'py>(&self, py: Python<'py>) -> Vec<Bound<'py, PyArray1<bool>>> {
        self.inner
            .paths()
            .iter()
            .map(|p| PyArray1::from_slice(py, p))
            .collect()
    }
    #[getter]
    fn samples_seen(&self) -> u64 {
        self.inner.samples_seen()
    }

    fn copy(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "CompetitiveMlp(sizes={:?}, samples_seen={})",
            self.inner.config().sizes,
            self.inner.samples_seen()
        )
    }
}

pickled_via_state!(CompetitiveMlp, Mlp);
