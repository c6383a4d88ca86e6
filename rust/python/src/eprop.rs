//! `_core.EPropNetwork`: recurrent spiking networks learning with e-prop.

use crate::config::extract;
use crate::convert::c_slice;
use crate::errors::IntoPyResult;
use crate::state::pickled_via_state;
use crate::synapses::SynapseMatrix as PySynapses;
use crate::threads;
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray3,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use pythonize::pythonize;
use std::sync::Mutex;
use synaplast_core::eprop::{Batch, Config, Connectivity, Network, RunOptions, Stats};
use synaplast_core::{Error, Persist};

/// Call the Python exchange function: this partition's spikes in, all spikes out.
fn exchange_spikes(py: Python<'_>, f: &Py<PyAny>, local: &[u8], all: &mut [u8]) -> PyResult<()> {
    let res = f.call1(py, (PyArray1::from_slice(py, local),))?;
    let arr: PyReadonlyArray1<'_, u8> = res.extract(py).map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("exchange must return a uint8 array of all spikes")
    })?;
    let v = arr.as_slice()?;
    if v.len() != all.len() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "exchange returned {} spikes, expected {}",
            v.len(),
            all.len()
        )));
    }
    all.copy_from_slice(v);
    Ok(())
}

/// Synapse indices as an int64 array.
fn index_array(py: Python<'_>, map: Vec<usize>) -> Bound<'_, PyArray1<i64>> {
    PyArray1::from_vec(py, map.into_iter().map(|s| s as i64).collect())
}

#[pyclass(module = "synaplast._core")]
pub struct EPropNetwork {
    pub inner: Network,
}

/// `(n_rec, n_out)` readout-shaped weights.
fn readout_matrix<'py>(
    py: Python<'py>,
    net: &Network,
    v: &[f32],
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let c = net.config();
    PyArray1::from_slice(py, v).reshape([c.n_rec, c.n_out])
}

#[pymethods]
impl EPropNetwork {
    /// Random sparse network (see `synaplast_core::eprop::Network::random`).
    #[new]
    #[pyo3(signature = (config, connectivity, seed = 0))]
    fn new(
        py: Python<'_>,
        config: &Bound<'_, PyAny>,
        connectivity: &Bound<'_, PyAny>,
        seed: u64,
    ) -> PyResult<Self> {
        let cfg: Config = extract(config, "config")?;
        let conn: Connectivity = extract(connectivity, "connectivity")?;
        let inner = py
            .detach(|| threads::run(|| Network::random(cfg, &conn, seed)))
            .py()?;
        Ok(Self { inner })
    }

    /// The recurrent neurons `lo..hi` of `EPropNetwork(config, connectivity,
    /// seed)` with their incoming synapses, and each synapse's index in that
    /// network: what `partition(lo, hi)` of it gives, built without the rest
    /// of the network (see `synaplast_core::eprop::Network::random_partition`).
    #[staticmethod]
    fn random_partition<'py>(
        py: Python<'py>,
        config: &Bound<'_, PyAny>,
        connectivity: &Bound<'_, PyAny>,
        seed: u64,
        lo: usize,
        hi: usize,
    ) -> PyResult<(Self, Bound<'py, PyArray1<i64>>)> {
        let cfg: Config = extract(config, "config")?;
        let conn: Connectivity = extract(connectivity, "connectivity")?;
        let (inner, map) = py
            .detach(|| threads::run(|| Network::random_partition(cfg, &conn, seed, lo, hi)))
            .py()?;
        Ok((Self { inner }, index_array(py, map)))
    }

    /// Network from explicit weights; `synapses` has one row per
    /// presynaptic neuron (inputs, then recurrent) and one column per
    /// recurrent neuron.
    #[staticmethod]
    #[pyo3(signature = (config, synapses, w_out, feedback, sign = None))]
    fn from_weights(
        config: &Bound<'_, PyAny>,
        synapses: PyRef<'_, PySynapses>,
        w_out: PyReadonlyArray2<'_, f32>,
        feedback: PyReadonlyArray2<'_, f32>,
        sign: Option<PyReadonlyArray1<'_, i8>>,
    ) -> PyResult<Self> {
        let cfg: Config = extract(config, "config")?;
        let sign = sign.map(|s| s.as_slice().map(|v| v.to_vec())).transpose()?;
        let inner = Network::new(
            cfg,
            synapses.inner.clone(),
            c_slice(&w_out, "w_out")?.to_vec(),
            c_slice(&feedback, "feedback")?.to_vec(),
            sign.unwrap_or_default(),
        )
        .py()?;
        Ok(Self { inner })
    }

    /// Run sequences. Returns a dict with `loss` (per sequence) and, when
    /// requested, `y` `(n_seq, n_steps, n_out)` and `raster` `(n_seq, n_steps, n_rec)`.
    ///
    /// A partition (see `partition`) needs `exchange`: called after every
    /// step with this partition's spikes (uint8, one per local neuron), it
    /// returns the spikes of all `n_rec` neurons (e.g. an MPI `Allgatherv`).
    /// A partition runs in a thread pool of its own, as large as the
    /// shared one (`synaplast.threads`), so partitions run concurrently in
    /// one process never wait on each other's kernels.
    #[pyo3(signature = (x, target, mask, options = None, exchange = None))]
    fn run<'py>(
        &mut self,
        py: Python<'py>,
        x: PyReadonlyArray3<'_, u8>,
        target: PyReadonlyArray3<'_, f32>,
        mask: PyReadonlyArray2<'_, f32>,
        options: Option<&Bound<'_, PyAny>>,
        exchange: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let opts: RunOptions = match options {
            Some(o) => extract(o, "options")?,
            None => RunOptions::default(),
        };
        let (xs, ts, ms) = (x.shape(), target.shape(), mask.shape());
        let (s, t) = (xs[0], xs[1]);
        if ts[0] != s || ts[1] != t || ms[0] != s || ms[1] != t {
            return Err(Error::Shape(format!(
                "x {xs:?}, target {ts:?} and mask {ms:?} must agree on (n_seq, n_steps)"
            )))
            .py();
        }
        let (xv, tv, mv) = (
            c_slice(&x, "x")?.to_vec(),
            c_slice(&target, "target")?.to_vec(),
            c_slice(&mask, "mask")?.to_vec(),
        );
        let n_local = self.inner.neurons().1;
        let partitioned = n_local != self.inner.config().n_rec;
        if partitioned != exchange.is_some() {
            return Err(Error::Value(
                "a partition runs with an exchange function, a whole network without one".into(),
            ))
            .py();
        }
        let failed: Mutex<Option<PyErr>> = Mutex::new(None);
        let net = &mut self.inner;
        let call = || {
            let b = Batch {
                n_seq: s,
                n_steps: t,
                x: &xv,
                target: &tv,
                mask: &mv,
            };
            match &exchange {
                None => net.run(&b, &opts),
                // The outer attach gives this thread one Python thread state
                // for the whole run (released between steps): attaching
                // from a thread without one builds and frees a state at
                // every step, which cost more than the exchange itself.
                Some(f) => Python::attach(|py| {
                    py.detach(|| {
                        net.run_exchanging(&b, &opts, &mut |local, all| {
                            Python::attach(|py| {
                                exchange_spikes(py, f, local, all).map_err(|e| {
                                    let msg = format!("exchange failed: {e}");
                                    *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                                    Error::Value(msg)
                                })
                            })
                        })
                    })
                }),
            }
        };
        let out = if partitioned {
            threads::run_interruptible_apart(py, call)
        } else {
            threads::run_interruptible(py, call)
        };
        if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Err(e);
        }
        let out = out?;
        let d = PyDict::new(py);
        d.set_item("loss", PyArray1::from_vec(py, out.loss))?;
        let (n_rec, n_out) = (self.inner.config().n_rec, self.inner.config().n_out);
        if opts.record_y {
            d.set_item("y", PyArray1::from_vec(py, out.y).reshape([s, t, n_out])?)?;
        }
        if opts.record_raster {
            let raster = PyArray1::from_vec(py, out.raster).reshape([s, t, n_rec])?;
            d.set_item("raster", raster)?;
        }
        Ok(d)
    }

    /// The recurrent neurons `lo..hi` with their incoming synapses, at rest,
    /// and for each of its synapses the index of that synapse in this
    /// network (see `synaplast_core::eprop::Network::partition`).
    fn partition<'py>(
        &self,
        py: Python<'py>,
        lo: usize,
        hi: usize,
    ) -> PyResult<(Self, Bound<'py, PyArray1<i64>>)> {
        let (inner, map) = self.inner.partition(lo, hi).py()?;
        Ok((Self { inner }, index_array(py, map)))
    }

    /// The versioned state bytes that pickling stores. A partition's can
    /// only be passed to `absorb`, not restored.
    fn state_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }

    /// Take over what partitions of this network learned: `local` is this
    /// process's partition, `parts` a list of `(state_bytes(), synapse
    /// index)`, one per partition, together holding every synapse once (see
    /// `synaplast_core::eprop::Network::absorb`).
    fn absorb(
        &mut self,
        py: Python<'_>,
        local: PyRef<'_, Self>,
        parts: Vec<(Vec<u8>, PyReadonlyArray1<'_, i64>)>,
    ) -> PyResult<()> {
        let mut decoded = Vec::with_capacity(parts.len());
        for (bytes, index) in &parts {
            let index = index
                .as_slice()?
                .iter()
                .map(|&s| usize::try_from(s))
                .collect::<Result<Vec<usize>, _>>()
                .map_err(|_| {
                    pyo3::exceptions::PyValueError::new_err("synapse indices must be >= 0")
                })?;
            decoded.push((Network::state_from_bytes(bytes).py()?, index));
        }
        let (net, local) = (&mut self.inner, &local.inner);
        py.detach(|| threads::run(|| net.absorb(local, &decoded)))
            .py()
    }

    /// Add the counts of runs of all partitions of this network: `parts` is
    /// a list of `take_stats()` dicts, one per partition (see
    /// `synaplast_core::eprop::Network::absorb_stats`).
    fn absorb_stats(&mut self, parts: &Bound<'_, PyAny>) -> PyResult<()> {
        let parts: Vec<Stats> = extract(parts, "parts")?;
        self.inner.absorb_stats(&parts).py()
    }

    /// This network's counts (as `stats()`), which restart from zero.
    fn take_stats<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner.take_stats())?)
    }

    /// `(first, count)`: the recurrent neurons this network holds.
    fn neurons(&self) -> (usize, usize) {
        self.inner.neurons()
    }

    /// A copy of the input+recurrent synapses (rows = presynaptic neurons).
    fn synapses(&self) -> PySynapses {
        PySynapses {
            inner: self.inner.synapses().clone(),
        }
    }

    fn w_out<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        readout_matrix(py, &self.inner, self.inner.w_out())
    }

    fn feedback<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        readout_matrix(py, &self.inner, self.inner.feedback())
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
        self.inner
            .set_weights(weights.as_slice()?, c_slice(&w_out, "w_out")?)
            .py()
    }

    /// An independent copy (the estimators train one, so that a failed or
    /// interrupted call leaves the fitted network unchanged).
    fn copy(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }

    /// Forget membranes, traces and archive.
    fn reset_state(&mut self) {
        self.inner.reset_state()
    }

    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(pythonize(py, &self.inner.stats())?)
    }

    /// `((writes, abs_change), (writes_out, abs_change_out))`.
    fn counters(&self) -> ((u64, f64), (u64, f64)) {
        let (a, b) = self.inner.counters();
        ((a.writes, a.abs_change), (b.writes, b.abs_change))
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
}

pickled_via_state!(EPropNetwork, Network);
