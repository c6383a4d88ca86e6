//! `_core.EPropNetwork`: recurrent spiking networks learning with e-prop.

// PyO3 methods mirror the core signatures.
#![allow(clippy::too_many_arguments, clippy::type_complexity)]

use crate::errors::IntoPyResult;
use crate::threads;
use numpy::{
    PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use synaplast_core::eprop::{Batch, Config, Loss, Network, Optimizer, Stats, Surrogate};
use synaplast_core::{EnergyCounters, SynapseMatrix};

fn get<'py, T: FromPyObjectOwned<'py>>(
    d: &Bound<'py, PyDict>,
    key: &str,
    default: T,
) -> PyResult<T> {
    match d.get_item(key)? {
        Some(v) if !v.is_none() => v.extract::<T>().map_err(|e| {
            PyTypeError::new_err(format!("config[{key:?}]: {}", Into::<PyErr>::into(e)))
        }),
        _ => Ok(default),
    }
}

fn parse_config(d: &Bound<'_, PyDict>) -> PyResult<Config> {
    let def = Config::default();
    let surrogate: String = get(d, "surrogate", "piecewise_linear".to_string())?;
    let loss: String = get(d, "loss", "mse".to_string())?;
    let optimizer: String = get(d, "optimizer", "gradient_descent".to_string())?;
    let cutoff: i64 = get(d, "cutoff", -1)?;
    let t_ref: i64 = get(d, "t_ref", 0)?;
    if t_ref < 0 || t_ref > u32::MAX as i64 {
        return Err(PyValueError::new_err(
            "t_ref must be a non-negative step count",
        ));
    }
    let cfg = Config {
        n_in: get(d, "n_in", def.n_in)?,
        n_rec: get(d, "n_rec", def.n_rec)?,
        n_out: get(d, "n_out", def.n_out)?,
        dt: get(d, "dt", def.dt)?,
        tau_m: get(d, "tau_m", def.tau_m)?,
        tau_out: get(d, "tau_out", def.tau_out)?,
        v_th: get(d, "v_th", def.v_th)?,
        v_min: get(d, "v_min", def.v_min)?,
        t_ref: t_ref as usize,
        adapt_beta: get(d, "adapt_beta", def.adapt_beta)?,
        adapt_tau: get(d, "adapt_tau", def.adapt_tau)?,
        surrogate: Surrogate::parse(&surrogate).py()?,
        surrogate_height: get(d, "surrogate_height", def.surrogate_height)?,
        surrogate_width: get(d, "surrogate_width", def.surrogate_width)?,
        kappa: get(d, "kappa", def.kappa)?,
        kappa_reg: get(d, "kappa_reg", def.kappa_reg)?,
        c_reg: get(d, "c_reg", def.c_reg)?,
        f_target: get(d, "f_target", def.f_target)?,
        loss: match loss.as_str() {
            "mse" => Loss::MeanSquared,
            "cross_entropy" => Loss::CrossEntropy,
            _ => {
                return Err(PyValueError::new_err(format!(
                    "loss must be 'mse' or 'cross_entropy', got {loss:?}"
                )))
            }
        },
        optimizer: match optimizer.as_str() {
            "gradient_descent" => Optimizer::GradientDescent,
            "adam" => Optimizer::Adam {
                beta1: get(d, "adam_beta1", 0.9)?,
                beta2: get(d, "adam_beta2", 0.999)?,
                epsilon: get(d, "adam_epsilon", 1e-8)?,
            },
            _ => {
                return Err(PyValueError::new_err(format!(
                    "optimizer must be 'gradient_descent' or 'adam', got {optimizer:?}"
                )))
            }
        },
        eta: get(d, "eta", def.eta)?,
        w_min: get(d, "w_min", def.w_min)?,
        w_max: get(d, "w_max", def.w_max)?,
        cutoff: if cutoff < 0 {
            usize::MAX
        } else {
            cutoff as usize
        },
        nest_compatible: get(d, "nest_compatible", def.nest_compatible)?,
        event_driven: get(d, "event_driven", def.event_driven)?,
        update_at_spike: get(d, "update_at_spike", def.update_at_spike)?,
        reset_each_sequence: get(d, "reset_each_sequence", def.reset_each_sequence)?,
        symmetric_feedback: get(d, "symmetric_feedback", def.symmetric_feedback)?,
    };
    cfg.validate().py()?;
    Ok(cfg)
}

fn stats_dict<'py>(py: Python<'py>, s: Stats) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("events", s.events)?;
    d.set_item("trace_updates", s.trace_updates)?;
    d.set_item("optimizer_calls", s.optimizer_calls)?;
    d.set_item("spikes", s.spikes)?;
    d.set_item("steps", s.steps)?;
    d.set_item("peak_archive_steps", s.peak_archive_steps)?;
    Ok(d)
}

#[pyclass(module = "synaplast._core")]
pub struct EPropNetwork {
    pub inner: Network,
}

#[pymethods]
impl EPropNetwork {
    /// Random sparse network (see `synaplast_core::eprop::Network::random`).
    #[new]
    #[pyo3(signature = (config, p_in, p_rec, scales, dale = None, symmetric_init = false, seed = 0))]
    fn new(
        py: Python<'_>,
        config: &Bound<'_, PyDict>,
        p_in: f64,
        p_rec: f64,
        scales: [f64; 4],
        dale: Option<f64>,
        symmetric_init: bool,
        seed: u64,
    ) -> PyResult<Self> {
        let cfg = parse_config(config)?;
        let inner = py
            .detach(|| {
                threads::run(|| {
                    Network::random(cfg, p_in, p_rec, scales, dale, symmetric_init, seed)
                })
            })
            .py()?;
        Ok(Self { inner })
    }

    /// Network from explicit weights: CSR rows = presynaptic neurons.
    #[staticmethod]
    #[pyo3(signature = (config, indptr, indices, weights, w_out, feedback, sign = None))]
    #[allow(clippy::too_many_arguments)]
    fn from_weights(
        py: Python<'_>,
        config: &Bound<'_, PyDict>,
        indptr: PyReadonlyArray1<'_, i64>,
        indices: PyReadonlyArray1<'_, i64>,
        weights: PyReadonlyArray1<'_, f32>,
        w_out: PyReadonlyArray2<'_, f32>,
        feedback: PyReadonlyArray2<'_, f32>,
        sign: Option<PyReadonlyArray1<'_, i8>>,
    ) -> PyResult<Self> {
        let cfg = parse_config(config)?;
        let indptr: Vec<usize> = indptr
            .as_slice()?
            .iter()
            .map(|&v| usize::try_from(v).map_err(|_| PyValueError::new_err("negative indptr")))
            .collect::<PyResult<_>>()?;
        let indices: Vec<u32> = indices
            .as_slice()?
            .iter()
            .map(|&v| u32::try_from(v).map_err(|_| PyValueError::new_err("index out of range")))
            .collect::<PyResult<_>>()?;
        let weights = weights.as_slice()?.to_vec();
        let w_out = w_out.as_slice()?.to_vec();
        let feedback = feedback.as_slice()?.to_vec();
        let sign = sign
            .map(|s| s.as_slice().map(|v| v.to_vec()))
            .transpose()?
            .unwrap_or_default();
        let inner = py
            .detach(|| -> synaplast_core::Result<Network> {
                let syn = SynapseMatrix::from_csr(
                    cfg.n_pre(),
                    cfg.n_rec,
                    &indptr,
                    &indices,
                    Some(&weights),
                    false,
                )?;
                Network::new(cfg, syn, w_out, feedback, sign)
            })
            .py()?;
        Ok(Self { inner })
    }

    /// Run sequences. Returns a dict with `loss` (per sequence) and, when
    /// requested, `y` `(n_seq, n_steps, n_out)` and `raster` `(n_seq, n_steps, n_rec)`.
    #[pyo3(signature = (x, target, mask, learn = true, batch_size = 1, record_y = false, record_raster = false))]
    #[allow(clippy::too_many_arguments)]
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray3<'_, u8>,
        target: PyReadonlyArray3<'_, f32>,
        mask: PyReadonlyArray2<'_, f32>,
        learn: bool,
        batch_size: usize,
        record_y: bool,
        record_raster: bool,
    ) -> PyResult<Bound<'py, PyDict>> {
        let xs = x.shape();
        let (s, t) = (xs[0], xs[1]);
        let ts = target.shape();
        let ms = mask.shape();
        if ts[0] != s || ts[1] != t || ms[0] != s || ms[1] != t {
            return Err(PyValueError::new_err(format!(
                "x {:?}, target {:?} and mask {:?} must agree on (n_seq, n_steps)",
                xs, ts, ms
            )));
        }
        let xv = x.as_slice()?.to_vec();
        let tv = target.as_slice()?.to_vec();
        let mv = mask.as_slice()?.to_vec();
        let net = &mut self.inner;
        let out = py
            .detach(|| {
                threads::run(|| {
                    let b = Batch {
                        n_seq: s,
                        n_steps: t,
                        x: &xv,
                        target: &tv,
                        mask: &mv,
                    };
                    net.run(&b, learn, batch_size, record_y, record_raster)
                })
            })
            .py()?;
        let d = PyDict::new(py);
        d.set_item("loss", PyArray1::from_vec(py, out.loss))?;
        let (n_rec, n_out) = (self.inner.config().n_rec, self.inner.config().n_out);
        if record_y {
            d.set_item("y", PyArray1::from_vec(py, out.y).reshape([s, t, n_out])?)?;
        }
        if record_raster {
            d.set_item(
                "raster",
                PyArray1::from_vec(py, out.raster).reshape([s, t, n_rec])?,
            )?;
        }
        Ok(d)
    }

    /// `(indptr, indices, weights)` of the input+recurrent synapses (rows = presynaptic).
    fn synapses<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<i64>>,
        Bound<'py, PyArray1<f32>>,
    ) {
        let s = self.inner.synapses();
        (
            PyArray1::from_iter(py, s.indptr().iter().map(|&v| v as i64)),
            PyArray1::from_iter(py, s.indices().iter().map(|&v| v as i64)),
            PyArray1::from_slice(py, s.weights().unwrap_or(&[])),
        )
    }

    fn w_out<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        let c = self.inner.config();
        PyArray1::from_slice(py, self.inner.w_out()).reshape([c.n_rec, c.n_out])
    }

    fn feedback<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, numpy::PyArray2<f32>>> {
        let c = self.inner.config();
        PyArray1::from_slice(py, self.inner.feedback()).reshape([c.n_rec, c.n_out])
    }

    fn sign<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i8>> {
        PyArray1::from_slice(py, self.inner.sign())
    }

    /// Replace the weights (same order as `synapses()`), clearing pending gradients.
    fn set_weights(
        &mut self,
        weights: PyReadonlyArray1<'_, f32>,
        w_out: PyReadonlyArray2<'_, f32>,
    ) -> PyResult<()> {
        let w = weights.as_slice()?.to_vec();
        let wo = w_out.as_slice()?.to_vec();
        self.inner.set_weights(&w, &wo).py()
    }

    /// Forget membranes, traces and archive.
    fn reset_state(&mut self) {
        self.inner.reset_state()
    }

    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        stats_dict(py, self.inner.stats())
    }

    /// `((writes, abs_change), (writes_out, abs_change_out))`.
    fn counters(&self) -> ((u64, f64), (u64, f64)) {
        let (a, b) = self.inner.counters();
        ((a.writes, a.abs_change), (b.writes, b.abs_change))
    }

    fn set_counters(
        &mut self,
        counters: ((u64, f64), (u64, f64)),
        stats: &Bound<'_, PyDict>,
    ) -> PyResult<()> {
        let mk = |c: (u64, f64)| EnergyCounters {
            writes: c.0,
            abs_change: c.1,
            ..EnergyCounters::default()
        };
        let s = Stats {
            events: get(stats, "events", 0)?,
            trace_updates: get(stats, "trace_updates", 0)?,
            optimizer_calls: get(stats, "optimizer_calls", 0)?,
            spikes: get(stats, "spikes", 0)?,
            steps: get(stats, "steps", 0)?,
            peak_archive_steps: get(stats, "peak_archive_steps", 0)?,
        };
        self.inner.set_counters(mk(counters.0), mk(counters.1), s);
        Ok(())
    }

    /// Memory: synapse store + learning state, archive and total bytes.
    fn memory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("synapse_bytes", self.inner.synapse_state_bytes())?;
        d.set_item("archive_bytes", self.inner.archive_bytes())?;
        d.set_item("total_bytes", self.inner.memory_bytes())?;
        d.set_item("n_synapses", self.inner.synapses().nnz())?;
        Ok(d)
    }

    #[allow(clippy::type_complexity)]
    fn adam_state<'py>(
        &self,
        py: Python<'py>,
    ) -> (
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<u32>>,
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<f32>>,
        Bound<'py, PyArray1<u32>>,
    ) {
        let (a, b, c, d, e, f) = self.inner.adam_state();
        (
            PyArray1::from_slice(py, a),
            PyArray1::from_slice(py, b),
            PyArray1::from_slice(py, c),
            PyArray1::from_slice(py, d),
            PyArray1::from_slice(py, e),
            PyArray1::from_slice(py, f),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn set_adam_state(
        &mut self,
        m1: PyReadonlyArray1<'_, f32>,
        m2: PyReadonlyArray1<'_, f32>,
        steps: PyReadonlyArray1<'_, u32>,
        m1_out: PyReadonlyArray1<'_, f32>,
        m2_out: PyReadonlyArray1<'_, f32>,
        steps_out: PyReadonlyArray1<'_, u32>,
    ) -> PyResult<()> {
        self.inner
            .set_adam_state(
                m1.as_slice()?.to_vec(),
                m2.as_slice()?.to_vec(),
                steps.as_slice()?.to_vec(),
                m1_out.as_slice()?.to_vec(),
                m2_out.as_slice()?.to_vec(),
                steps_out.as_slice()?.to_vec(),
            )
            .py()
    }
}
