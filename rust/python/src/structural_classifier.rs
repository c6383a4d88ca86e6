//! `_core.StructuralNet`: the structural-plasticity classifier's network.

use crate::config::extract;
use crate::convert::{matrix, owned2, to_u32};
use crate::errors::IntoPyResult;
use crate::state::pickled_via_state;
use crate::synapses::SynapseMatrix as PySynapses;
use crate::threads;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;
use synaplast_core::structural_classifier::{
    Config, Growing, HiddenParams, Inhibition, Pruning, ReadoutSchedule, ReadoutStep,
    StructuralNet as Core, Translation, UnitRole,
};
use synaplast_core::Error;

fn check_cols(cols: usize, n_in: usize) -> PyResult<()> {
    if cols != n_in {
        return Err(Error::Shape(format!(
            "X has {cols} features, the network expects {n_in}"
        )))
        .py();
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
        let out = threads::run_interruptible(py, || f(inner, &x, n))?;
        matrix(py, out, n, cols)
    }
}

#[pymethods]
impl StructuralNet {
    #[new]
    fn new(py: Python<'_>, config: &Bound<'_, PyAny>, seed: u64) -> PyResult<Self> {
        let cfg: Config = extract(config, "config")?;
        let inner = py.detach(|| threads::run(|| Core::new(&cfg, seed))).py()?;
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
            self.inner.n_readout_in(),
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
    /// Set every threshold to its homeostatic fixed point on the samples `x`
    /// (active on a fraction `rho` of them).
    fn settle_thresholds(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        rho: f32,
    ) -> PyResult<()> {
        let (x, n, c) = owned2(&x)?;
        check_cols(c, self.inner.n_in())?;
        let inner = &mut self.inner;
        py.detach(|| threads::run(|| inner.settle_thresholds(&x, n, rho)))
            .py()
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
    /// A zero readout for `n_classes` classes (hidden layer unchanged).
    fn reset_readout(&mut self, n_classes: usize) -> PyResult<()> {
        self.inner.reset_readout(n_classes).py()
    }
    /// Role of every hidden unit: 0 plastic, 1 consolidated, 2 reserve.
    #[getter]
    fn roles<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u8>> {
        let codes: Vec<u8> = self
            .inner
            .roles()
            .iter()
            .map(|r| match r {
                UnitRole::Plastic => 0,
                UnitRole::Consolidated => 1,
                UnitRole::Reserve => 2,
            })
            .collect();
        PyArray1::from_vec(py, codes)
    }
    /// Put the `n` last plastic units in reserve (silent, no synapses);
    /// returns the number of synapses removed.
    fn reserve_units(&mut self, n: usize) -> PyResult<usize> {
        self.inner.reserve_units(n).py()
    }
    /// Recruit up to `n` reserve units with `per_unit` random synapses each;
    /// returns the number recruited.
    fn recruit(
        &mut self,
        py: Python<'_>,
        n: usize,
        per_unit: usize,
        init_weights: (f32, f32),
        seed: u64,
    ) -> PyResult<usize> {
        let inner = &mut self.inner;
        py.detach(|| threads::run(|| inner.recruit(n, per_unit, init_weights, seed)))
            .py()
    }
    /// Prune every plastic unit to its budget and freeze it; returns the
    /// number of units consolidated.
    fn consolidate(
        &mut self,
        py: Python<'_>,
        silent_threshold: f32,
        max_per_unit: usize,
    ) -> PyResult<usize> {
        let inner = &mut self.inner;
        py.detach(|| threads::run(|| inner.consolidate(silent_threshold, max_per_unit)))
            .py()
    }
    #[getter]
    fn trace<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f32>> {
        PyArray1::from_slice(py, &self.inner.trace)
    }

    #[pyo3(signature = (x, order, params, batch_size, track_coactivity = false))]
    fn hidden_epoch<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
        order: PyReadonlyArray1<'_, i64>,
        params: &Bound<'_, PyAny>,
        batch_size: usize,
        track_coactivity: bool,
    ) -> PyResult<(Bound<'py, PyArray1<u64>>, f64)> {
        let p: HiddenParams = extract(params, "params")?;
        let (x, n, cols) = owned2(&x)?;
        check_cols(cols, self.inner.n_in())?;
        let order = to_u32(order.as_slice()?, "sample index")?;
        let inner = &mut self.inner;
        let (wins, stats) = threads::run_interruptible(py, || {
            inner.hidden_epoch(&x, n, &order, batch_size, &p, track_coactivity)
        })?;
        Ok((PyArray1::from_vec(py, wins), stats.activity))
    }

    /// Remove silent synapses, then keep each unit's budget; returns the number pruned.
    fn prune(&mut self, py: Python<'_>, pruning: &Bound<'_, PyAny>) -> PyResult<usize> {
        let p: Pruning = extract(pruning, "pruning")?;
        let inner = &mut self.inner;
        py.detach(|| threads::run(|| inner.prune(&p))).py()
    }

    /// Grow new synapses; returns the number grown.
    fn grow(&mut self, py: Python<'_>, growing: &Bound<'_, PyAny>) -> PyResult<usize> {
        let g: Growing = extract(growing, "growing")?;
        let inner = &mut self.inner;
        py.detach(|| threads::run(|| inner.grow(&g))).py()
    }

    /// One delta-rule epoch of the readout over the samples in `order`.
    fn readout_epoch(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        labels: PyReadonlyArray1<'_, i64>,
        order: PyReadonlyArray1<'_, i64>,
        step: &Bound<'_, PyAny>,
    ) -> PyResult<f64> {
        let step: ReadoutStep = extract(step, "step")?;
        let (x, n, cols) = owned2(&x)?;
        check_cols(cols, self.inner.n_in())?;
        let labels = to_u32(labels.as_slice()?, "label")?;
        let order = to_u32(order.as_slice()?, "sample index")?;
        let inner = &mut self.inner;
        threads::run_interruptible(py, || inner.readout_epoch(&x, &labels, n, &order, &step))
    }

    /// Train the readout: the hidden code of `x` is computed once, then one
    /// delta-rule epoch per entry of `rates`, stopping early when the loss
    /// stalls. Returns `(loss per epoch, converged)`.
    fn readout_fit(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        labels: PyReadonlyArray1<'_, i64>,
        schedule: &Bound<'_, PyAny>,
    ) -> PyResult<(Vec<f64>, bool)> {
        let sched: ReadoutSchedule = extract(schedule, "schedule")?;
        let (x, n, cols) = owned2(&x)?;
        check_cols(cols, self.inner.n_in())?;
        let labels = to_u32(labels.as_slice()?, "label")?;
        let inner = &mut self.inner;
        let fit = threads::run_interruptible(py, || inner.readout_fit(&x, &labels, n, &sched))?;
        Ok((fit.loss, fit.converged))
    }

    /// `readout_fit` with every sample also translated to each class of
    /// `absent` (`h − μ_own + μ_absent`, the class means `prototypes`
    /// `(n_classes, n_readout_in)`), each translation counting as `weight`
    /// samples.
    #[allow(clippy::too_many_arguments)]
    fn readout_fit_translated(
        &mut self,
        py: Python<'_>,
        x: PyReadonlyArray2<'_, f32>,
        labels: PyReadonlyArray1<'_, i64>,
        schedule: &Bound<'_, PyAny>,
        prototypes: PyReadonlyArray2<'_, f32>,
        absent: PyReadonlyArray1<'_, i64>,
        weight: f32,
    ) -> PyResult<(Vec<f64>, bool)> {
        let sched: ReadoutSchedule = extract(schedule, "schedule")?;
        let (x, n, cols) = owned2(&x)?;
        check_cols(cols, self.inner.n_in())?;
        let labels = to_u32(labels.as_slice()?, "label")?;
        let (prototypes, rows, width) = owned2(&prototypes)?;
        if (rows, width) != (self.inner.n_classes(), self.inner.n_readout_in()) {
            return Err(Error::Shape(format!(
                "prototypes have shape ({rows}, {width}), expected ({}, {})",
                self.inner.n_classes(),
                self.inner.n_readout_in()
            )))
            .py();
        }
        let absent = to_u32(absent.as_slice()?, "absent class")?;
        let tr = Translation {
            prototypes,
            absent,
            weight,
        };
        let inner = &mut self.inner;
        let fit = threads::run_interruptible(py, || {
            inner.readout_fit_translated(&x, &labels, n, &sched, &tr)
        })?;
        Ok((fit.loss, fit.converged))
    }

    /// Per class, the summed readout input over its samples
    /// `(n_classes, n_readout_in)` and the sample counts.
    #[allow(clippy::type_complexity)]
    fn class_sums<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'_, f32>,
        labels: PyReadonlyArray1<'_, i64>,
    ) -> PyResult<(Bound<'py, PyArray2<f64>>, Bound<'py, PyArray1<u64>>)> {
        let (x, n, cols) = owned2(&x)?;
        check_cols(cols, self.inner.n_in())?;
        let labels = to_u32(labels.as_slice()?, "label")?;
        let inner = &self.inner;
        let (sums, counts) = threads::run_interruptible(py, || inner.class_sums(&x, &labels, n))?;
        let sums =
            PyArray1::from_vec(py, sums).reshape([inner.n_classes(), inner.n_readout_in()])?;
        Ok((sums, PyArray1::from_vec(py, counts)))
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

pickled_via_state!(StructuralNet, Core);
