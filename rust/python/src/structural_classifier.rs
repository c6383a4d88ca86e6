//! `_core.StructuralNet`: the structural-plasticity classifier's network.

use crate::convert::{matrix, owned2, to_u32};
use crate::errors::IntoPyResult;
use crate::synapses::SynapseMatrix as PySynapses;
use crate::threads;
use numpy::{PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use synaplast_core::structural_classifier::{
    Growth, HiddenParams, Inhibition, ReadoutSchedule, StructuralNet as Core,
};
use synaplast_core::EnergyCounters;

fn check_cols(cols: usize, n_in: usize) -> PyResult<()> {
    if cols != n_in {
        return Err(PyValueError::new_err(format!(
            "X has {cols} features, the network expects {n_in}"
        )));
    }
    Ok(())
}

#[pyclass(module = "synaplast._core")]
pub struct StructuralNet {
    inner: Core,
}

impl StructuralNet {
    /// `f(net, X, n)` on an owned copy of `X` with the GIL released: an
    /// `n × cols` result.
    fn per_row<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
        cols: usize,
        f: impl Fn(&Core, &[f32], usize) -> synaplast_core::Result<Vec<f32>> + Send + Sync,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (x, n, c) = owned2(&x)?;
        check_cols(c, self.inner.n_in())?;
        let inner = &self.inner;
        let out = py.detach(|| threads::run(|| f(inner, &x, n))).py()?;
        matrix(py, out, n, cols)
    }
}

#[pymethods]
impl StructuralNet {
    #[new]
    #[pyo3(signature = (n_in, n_hidden, n_classes, init_per_unit, w_low, w_high, seed))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        n_in: usize,
        n_hidden: usize,
        n_classes: usize,
        init_per_unit: usize,
        w_low: f32,
        w_high: f32,
        seed: u64,
    ) -> PyResult<Self> {
        let inner = py
            .detach(|| {
                threads::run(|| {
                    Core::new(
                        n_in,
                        n_hidden,
                        n_classes,
                        init_per_unit,
                        w_low,
                        w_high,
                        seed,
                    )
                })
            })
            .py()?;
        Ok(Self { inner })
    }

    #[getter]
    fn n_in(&self) -> usize {
        self.inner.n_in()
    }
    #[getter]
    fn n_hidden(&self) -> usize {
        self.inner.n_hidden()
    }
    #[getter]
    fn n_classes(&self) -> usize {
        self.inner.n_classes()
    }
    /// A copy of the input→hidden synapses.
    #[getter]
    fn hidden(&self) -> PySynapses {
        PySynapses {
            inner: self.inner.hidden.clone(),
        }
    }
    #[getter]
    fn theta<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, &self.inner.theta)
    }
    #[getter]
    fn beta<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, &self.inner.beta)
    }
    #[getter]
    fn readout<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        matrix(
            py,
            self.inner.readout(),
            self.inner.n_classes(),
            self.inner.n_hidden(),
        )
    }
    #[getter]
    fn readout_bias<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, &self.inner.readout_bias)
    }
    /// `(writes, abs_change)` of the readout.
    #[getter]
    fn readout_counters(&self) -> (u64, f64) {
        let c = self.inner.readout_counters;
        (c.writes, c.abs_change)
    }
    /// Add an inhibitory population of `n_inhibitory` units (fixed E→I
    /// weights from `seed`, no I→E inhibition yet); 0 removes it.
    fn set_inhibition(&mut self, n_inhibitory: usize, seed: u64) -> PyResult<()> {
        let inh = if n_inhibitory == 0 {
            None
        } else {
            Some(Inhibition::new(n_inhibitory, self.inner.n_hidden(), seed).py()?)
        };
        self.inner.set_inhibition(inh).py()
    }
    /// Inhibitory units (0 without a population).
    #[getter]
    fn n_inhibitory(&self) -> usize {
        self.inner.inhibition.as_ref().map_or(0, |i| i.n_inh)
    }
    /// E→I weights `(n_hidden, n_inhibitory)` (row i: outgoing weights of
    /// excitatory unit i), all >= 0; `None` without a population.
    #[getter]
    fn e_to_i<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f32>>>> {
        let nh = self.inner.n_hidden();
        self.inner
            .inhibition
            .as_ref()
            .map(|i| matrix(py, i.e_to_i.clone(), nh, i.n_inh))
            .transpose()
    }
    /// I→E synaptic weights `(n_hidden, n_inhibitory)` (row i: inhibitory
    /// synapses onto excitatory unit i), all <= 0; `None` without a population.
    #[getter]
    fn i_to_e<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f32>>>> {
        let nh = self.inner.n_hidden();
        self.inner
            .inhibition
            .as_ref()
            .map(|i| matrix(py, i.i_to_e.iter().map(|g| -g).collect(), nh, i.n_inh))
            .transpose()
    }
    /// `(writes, abs_change)` of the I→E synapses.
    #[getter]
    fn inhibition_counters(&self) -> (u64, f64) {
        self.inner
            .inhibition
            .as_ref()
            .map_or((0, 0.0), |i| (i.counters.writes, i.counters.abs_change))
    }
    #[getter]
    fn trace<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, &self.inner.trace)
    }

    #[pyo3(signature = (x, order, batch_size, n_winners, learning_rate, homeostasis_rate, competition_rate, target_activity, w_max, w_consolidate = None, track_coactivity = false, inhibition_rate = 0.0))]
    #[allow(clippy::too_many_arguments)]
    fn hidden_epoch<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
        order: PyReadonlyArray1<'_, i64>,
        batch_size: usize,
        n_winners: usize,
        learning_rate: f32,
        homeostasis_rate: f32,
        competition_rate: f32,
        target_activity: f32,
        w_max: f32,
        w_consolidate: Option<f32>,
        track_coactivity: bool,
        inhibition_rate: f32,
    ) -> PyResult<(Bound<'py, PyArray1<u64>>, f64)> {
        let (x, n, cols) = owned2(&x)?;
        check_cols(cols, self.inner.n_in())?;
        let order = to_u32(order.as_slice()?, "sample index")?;
        let p = HiddenParams {
            n_winners,
            learning_rate,
            homeostasis_rate,
            competition_rate,
            target_activity,
            w_max,
            w_consolidate,
            inhibition_rate,
        };
        let inner = &mut self.inner;
        let (wins, stats) = py
            .detach(|| {
                threads::run(|| inner.hidden_epoch(&x, n, &order, batch_size, &p, track_coactivity))
            })
            .py()?;
        Ok((PyArray1::from_vec(py, wins), stats.activity))
    }

    #[pyo3(signature = (silent, max_per_unit, n_grow, growth, w_low, w_high, seed))]
    #[allow(clippy::too_many_arguments)]
    fn structural_step(
        &mut self,
        py: Python<'_>,
        silent: f32,
        max_per_unit: usize,
        n_grow: usize,
        growth: &str,
        w_low: f32,
        w_high: f32,
        seed: u64,
    ) -> PyResult<(usize, usize)> {
        let growth = match growth {
            "random" => Growth::Random,
            "coactivity" => Growth::Coactivity,
            other => {
                return Err(PyValueError::new_err(format!(
                    "growth must be 'random' or 'coactivity', got {other:?}"
                )))
            }
        };
        let inner = &mut self.inner;
        py.detach(|| {
            threads::run(|| {
                inner.structural_step(silent, max_per_unit, n_grow, growth, w_low, w_high, seed)
            })
        })
        .py()
    }

    #[allow(clippy::too_many_arguments)]
    fn readout_epoch(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        labels: PyReadonlyArray1<'_, i64>,
        order: PyReadonlyArray1<'_, i64>,
        batch_size: usize,
        rate: f32,
        l2: f32,
    ) -> PyResult<f64> {
        let (x, n, cols) = owned2(&x)?;
        check_cols(cols, self.inner.n_in())?;
        let labels = to_u32(labels.as_slice()?, "label")?;
        let order = to_u32(order.as_slice()?, "sample index")?;
        let inner = &mut self.inner;
        py.detach(|| {
            threads::run(|| inner.readout_epoch(&x, &labels, n, &order, batch_size, rate, l2))
        })
        .py()
    }

    /// Train the readout: the hidden code of `x` is computed once, then one
    /// delta-rule epoch per entry of `rates`, stopping early when the loss
    /// stalls. Returns `(loss per epoch, converged)`.
    #[pyo3(signature = (x, labels, rates, batch_size, l2, tol, n_iter_no_change, seed))]
    #[allow(clippy::too_many_arguments)]
    fn readout_fit(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        labels: PyReadonlyArray1<'_, i64>,
        rates: Vec<f32>,
        batch_size: usize,
        l2: f32,
        tol: f64,
        n_iter_no_change: usize,
        seed: u64,
    ) -> PyResult<(Vec<f64>, bool)> {
        let (x, n, cols) = owned2(&x)?;
        check_cols(cols, self.inner.n_in())?;
        let labels = to_u32(labels.as_slice()?, "label")?;
        let sched = ReadoutSchedule {
            rates,
            batch_size,
            l2,
            tol,
            n_iter_no_change,
            seed,
        };
        let inner = &mut self.inner;
        let fit = py
            .detach(|| threads::run(|| inner.readout_fit(&x, &labels, n, &sched)))
            .py()?;
        Ok((fit.loss, fit.converged))
    }

    fn transform<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        self.per_row(py, x, self.inner.n_hidden(), Core::transform)
    }

    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
    ) -> PyResult<Bound<'py, PyArray2<f32>>> {
        self.per_row(py, x, self.inner.n_classes(), Core::predict_proba)
    }

    fn copy(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }

    fn __getnewargs__(&self) -> (usize, usize, usize, usize, f32, f32, u64) {
        (
            self.inner.n_in(),
            self.inner.n_hidden(),
            self.inner.n_classes(),
            0,
            0.0,
            0.0,
            0,
        )
    }

    fn __getstate__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let h = self.hidden();
        d.set_item("version", 1)?;
        d.set_item("hidden", Bound::new(py, h)?)?;
        d.set_item("theta", self.theta(py))?;
        d.set_item("beta", self.beta(py))?;
        d.set_item("readout", self.readout(py)?)?;
        d.set_item("readout_bias", self.readout_bias(py))?;
        d.set_item("readout_counters", self.readout_counters())?;
        d.set_item("n_classes", self.inner.n_classes())?;
        if let Some(inh) = &self.inner.inhibition {
            d.set_item("n_inhibitory", inh.n_inh)?;
            d.set_item("e_to_i", PyArray1::from_slice(py, &inh.e_to_i))?;
            d.set_item("i_to_e_magnitude", PyArray1::from_slice(py, &inh.i_to_e))?;
            d.set_item(
                "inhibition_counters",
                (inh.counters.writes, inh.counters.abs_change),
            )?;
        }
        Ok(d)
    }

    fn __setstate__(&mut self, state: &Bound<'_, PyDict>) -> PyResult<()> {
        let get = |k: &str| {
            state
                .get_item(k)?
                .ok_or_else(|| PyValueError::new_err(format!("pickled StructuralNet lacks '{k}'")))
        };
        let hidden = get("hidden")?.extract::<PyRef<PySynapses>>()?.inner.clone();
        let theta = get("theta")?
            .extract::<PyReadonlyArray1<f32>>()?
            .as_slice()?
            .to_vec();
        let beta = get("beta")?
            .extract::<PyReadonlyArray1<f32>>()?
            .as_slice()?
            .to_vec();
        let readout = get("readout")?
            .extract::<PyReadonlyArray2<f32>>()?
            .as_slice()?
            .to_vec();
        let bias = get("readout_bias")?
            .extract::<PyReadonlyArray1<f32>>()?
            .as_slice()?
            .to_vec();
        let (writes, abs_change): (u64, f64) = get("readout_counters")?.extract()?;
        let n_classes: usize = get("n_classes")?.extract()?;
        let mut inner = Core::from_parts(hidden, theta, beta, readout, bias, n_classes).py()?;
        if let Some(n_inh) = state.get_item("n_inhibitory")? {
            let n_inh: usize = n_inh.extract()?;
            let vec = |k: &str| -> PyResult<Vec<f32>> {
                Ok(get(k)?
                    .extract::<PyReadonlyArray1<f32>>()?
                    .as_slice()?
                    .to_vec())
            };
            let mut inh = Inhibition::from_parts(
                inner.n_hidden(),
                n_inh,
                vec("e_to_i")?,
                vec("i_to_e_magnitude")?,
            )
            .py()?;
            let (w, a): (u64, f64) = get("inhibition_counters")?.extract()?;
            inh.counters = EnergyCounters {
                writes: w,
                abs_change: a,
                grown: 0,
                pruned: 0,
            };
            inner.set_inhibition(Some(inh)).py()?;
        }
        inner.readout_counters = EnergyCounters {
            writes,
            abs_change,
            grown: 0,
            pruned: 0,
        };
        self.inner = inner;
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!(
            "StructuralNet(n_in={}, n_hidden={}, n_classes={}, synapses={})",
            self.inner.n_in(),
            self.inner.n_hidden(),
            self.inner.n_classes(),
            self.inner.hidden.nnz()
        )
    }
}
