//! `_core.CompetitiveMlp`: the MLP with competitive plasticity and energy counters.

use crate::errors::IntoPyResult;
use crate::threads;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use synaplast_core::competitive::{
    Activation, Caching, Config, LayerEnergy, Mlp, OutputKind, PathMode, Sampling, Selection,
    TrainSpec,
};

/// `(samples, accuracy, M0, M1, M0_min, M1_min)` at one checkpoint.
type HistoryRow = (u64, f64, u64, f64, u64, f64);

/// Constructor arguments, kept for pickling.
type Args = (
    Vec<usize>,
    String,
    f32,
    String,
    f32,
    f32,
    Vec<f64>,
    String,
    Option<usize>,
    String,
    Option<(f32, f64, f32)>,
    usize,
    u64,
    f32,
);

#[pyclass(module = "synaplast._core")]
pub struct CompetitiveMlp {
    inner: Mlp,
    args: Args,
}

fn config(a: &Args) -> PyResult<Config> {
    let activation = match a.1.as_str() {
        "leaky_relu" => Activation::LeakyRelu(a.2),
        "relu" => Activation::Relu,
        "sigmoid" | "logistic" => Activation::Sigmoid,
        other => {
            return Err(PyValueError::new_err(format!(
                "activation must be 'leaky_relu', 'relu' or 'sigmoid', got {other:?}"
            )))
        }
    };
    let output = match a.3.as_str() {
        "linear" => OutputKind::LinearMse,
        "softmax" => OutputKind::SoftmaxXent,
        other => {
            return Err(PyValueError::new_err(format!(
                "output must be 'linear' or 'softmax', got {other:?}"
            )))
        }
    };
    let selection = match a.7.as_str() {
        "layer" => Selection::Layer,
        "neuron" => Selection::Neuron,
        other => {
            return Err(PyValueError::new_err(format!(
                "selection must be 'layer' or 'neuron', got {other:?}"
            )))
        }
    };
    let path_mode = match a.9.as_str() {
        "fixed" => PathMode::Fixed,
        "error" => PathMode::Error,
        other => {
            return Err(PyValueError::new_err(format!(
                "plastic_mode must be 'fixed' or 'error', got {other:?}"
            )))
        }
    };
    Ok(Config {
        sizes: a.0.clone(),
        activation,
        output,
        learning_rate: a.4,
        init_std: a.5,
        fractions: a.6.clone(),
        selection,
        plastic_units: a.8,
        path_mode,
        caching: a.10.map(|(decay, maintenance_cost, threshold)| Caching {
            decay,
            maintenance_cost,
            threshold,
        }),
        batch_size: a.11,
        error_clip: a.13,
    })
}

fn labels(y: &PyReadonlyArray1<'_, i64>, what: &str) -> PyResult<Vec<u32>> {
    y.as_slice()?
        .iter()
        .map(|&v| {
            u32::try_from(v)
                .map_err(|_| PyValueError::new_err(format!("{what} holds the invalid class {v}")))
        })
        .collect()
}

fn energy_dict<'py>(py: Python<'py>, e: &LayerEnergy) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("writes", e.writes)?;
    d.set_item("abs_change", e.abs_change)?;
    d.set_item("consolidation_writes", e.consolidation_writes)?;
    d.set_item("consolidation_energy", e.consolidation_energy)?;
    d.set_item("maintenance_energy", e.maintenance_energy)?;
    d.set_item("consolidations", e.consolidations)?;
    Ok(d)
}

fn layer_arrays<'py>(
    py: Python<'py>,
    m: &Mlp,
    pick: impl Fn(&synaplast_core::competitive::Layer) -> &Vec<f32>,
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
    #[pyo3(signature = (sizes, activation, leaky_slope, output, learning_rate, init_std,
        fractions, selection, plastic_units, plastic_mode, cache, batch_size, seed,
        error_clip = f32::INFINITY))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        sizes: Vec<usize>,
        activation: String,
        leaky_slope: f32,
        output: String,
        learning_rate: f32,
        init_std: f32,
        fractions: Vec<f64>,
        selection: String,
        plastic_units: Option<usize>,
        plastic_mode: String,
        cache: Option<(f32, f64, f32)>,
        batch_size: usize,
        seed: u64,
        error_clip: f32,
    ) -> PyResult<Self> {
        let args: Args = (
            sizes,
            activation,
            leaky_slope,
            output,
            learning_rate,
            init_std,
            fractions,
            selection,
            plastic_units,
            plastic_mode,
            cache,
            batch_size,
            seed,
            error_clip,
        );
        let inner = Mlp::new(config(&args)?, seed).py()?;
        Ok(Self { inner, args })
    }

    /// Train; returns `(samples, reached, history)` with history rows
    /// `(samples, accuracy, M0, M1, M0_min, M1_min)`.
    #[pyo3(signature = (x, y, sampling, max_samples, eval_x, eval_y, eval_every, target_accuracy, seed))]
    #[allow(clippy::too_many_arguments)]
    fn train(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        y: PyReadonlyArray1<'_, i64>,
        sampling: &str,
        max_samples: u64,
        eval_x: Option<PyReadonlyArray2<'_, f32>>,
        eval_y: Option<PyReadonlyArray1<'_, i64>>,
        eval_every: u64,
        target_accuracy: Option<f64>,
        seed: u64,
    ) -> PyResult<(u64, bool, Vec<HistoryRow>)> {
        let sampling = match sampling {
            "replacement" => Sampling::Replacement,
            "shuffle" => Sampling::Shuffle,
            other => {
                return Err(PyValueError::new_err(format!(
                    "sampling must be 'replacement' or 'shuffle', got {other:?}"
                )))
            }
        };
        let xv = x.as_slice()?.to_vec();
        let yv = labels(&y, "y")?;
        let ev = match (eval_x, eval_y) {
            (Some(ex), Some(ey)) => Some((ex.as_slice()?.to_vec(), labels(&ey, "eval y")?)),
            (None, None) => None,
            _ => {
                return Err(PyTypeError::new_err(
                    "eval_x and eval_y must be given together",
                ))
            }
        };
        let inner = &mut self.inner;
        let out = py
            .detach(|| {
                threads::run(|| {
                    let spec = TrainSpec {
                        x: &xv,
                        y: &yv,
                        sampling,
                        max_samples,
                        eval: ev.as_ref().map(|(a, b)| (a.as_slice(), b.as_slice())),
                        eval_every,
                        target_accuracy,
                        seed,
                    };
                    inner.train(&spec)
                })
            })
            .py()?;
        let hist = out
            .history
            .iter()
            .map(|c| {
                (
                    c.samples,
                    c.accuracy,
                    c.writes,
                    c.abs_change,
                    c.min_writes,
                    c.min_abs_change,
                )
            })
            .collect();
        Ok((out.samples, out.reached, hist))
    }

    fn forward<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let xv = x.as_slice()?.to_vec();
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
        let xv = x.as_slice()?.to_vec();
        let yv = labels(&y, "y")?;
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
    fn energy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for l in self.inner.layers() {
            out.append(energy_dict(py, &l.energy)?)?;
        }
        Ok(out)
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

    fn __getnewargs__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let a = self.args.clone();
        let head = (a.0, a.1, a.2, a.3, a.4, a.5, a.6).into_pyobject(py)?;
        let tail = (a.7, a.8, a.9, a.10, a.11, a.12, a.13).into_pyobject(py)?;
        let items: Vec<Bound<'py, PyAny>> = head.iter().chain(tail.iter()).collect();
        PyTuple::new(py, items)
    }

    fn __getstate__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("version", 1)?;
        let flat = |pick: fn(&synaplast_core::competitive::Layer) -> &Vec<f32>| {
            self.inner
                .layers()
                .iter()
                .map(|l| PyArray1::from_slice(py, pick(l)))
                .collect::<Vec<_>>()
        };
        d.set_item("weights", flat(|l| &l.w))?;
        d.set_item("init", flat(|l| &l.w_init))?;
        d.set_item("long", flat(|l| &l.long))?;
        d.set_item("short", flat(|l| &l.short))?;
        let e: Vec<(u64, f64, u64, f64, f64, u64)> = self
            .inner
            .layers()
            .iter()
            .map(|l| {
                let e = l.energy;
                (
                    e.writes,
                    e.abs_change,
                    e.consolidation_writes,
                    e.consolidation_energy,
                    e.maintenance_energy,
                    e.consolidations,
                )
            })
            .collect();
        d.set_item("energy", e)?;
        d.set_item("paths", self.paths(py))?;
        d.set_item("samples_seen", self.inner.samples_seen())?;
        d.set_item("calls", self.inner.calls())?;
        Ok(d)
    }

    fn __setstate__(&mut self, state: &Bound<'_, PyDict>) -> PyResult<()> {
        let get = |k: &str| {
            state
                .get_item(k)?
                .ok_or_else(|| PyValueError::new_err(format!("pickled CompetitiveMlp lacks '{k}'")))
        };
        let arrays = |k: &str| -> PyResult<Vec<Vec<f32>>> {
            get(k)?
                .extract::<Vec<PyReadonlyArray1<f32>>>()?
                .iter()
                .map(|a| Ok(a.as_slice()?.to_vec()))
                .collect()
        };
        let energy: Vec<(u64, f64, u64, f64, f64, u64)> = get("energy")?.extract()?;
        let paths: Vec<Vec<bool>> = get("paths")?
            .extract::<Vec<PyReadonlyArray1<bool>>>()?
            .iter()
            .map(|a| Ok(a.as_slice()?.to_vec()))
            .collect::<PyResult<_>>()?;
        let long = arrays("long")?;
        let short = arrays("short")?;
        let caching = self.inner.config().caching.is_some();
        self.inner = Mlp::from_state(
            self.inner.config().clone(),
            self.inner.seed(),
            arrays("weights")?,
            arrays("init")?,
            if caching { long } else { Vec::new() },
            if caching { short } else { Vec::new() },
            energy
                .into_iter()
                .map(|e| LayerEnergy {
                    writes: e.0,
                    abs_change: e.1,
                    consolidation_writes: e.2,
                    consolidation_energy: e.3,
                    maintenance_energy: e.4,
                    consolidations: e.5,
                })
                .collect(),
            paths,
            get("samples_seen")?.extract()?,
            get("calls")?.extract()?,
        )
        .py()?;
        Ok(())
    }

    fn copy(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            args: self.args.clone(),
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
