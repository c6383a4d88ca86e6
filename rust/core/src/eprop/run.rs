//! Running sequences: the four phases of every time step (spike arrivals,
//! readout and error, trace integration, neuron update) and the batching of
//! weight updates over sequences.

use super::archive::slot;
use super::config::Loss;
use super::network::Network;
use super::traces::NONE;
use crate::error::{check_len, Error, Result};
use crate::synapses::SynapseMatrix;
use rayon::prelude::*;

/// Recurrent neurons per parallel task of the neuron update.
const CHUNK: usize = 256;

/// Least recurrent neurons of a parallel task of the per-neuron phases (a
/// step of a few thousand neurons takes microseconds, less than waking a
/// second thread).
const NEURON_SPLIT: crate::parallel::Split = crate::parallel::Split::new(2048);

/// Minimum items per parallel task: all of them (one task, no other
/// thread woken) for small networks.
fn min_len(n_rec: usize, items: usize, per_task: usize) -> usize {
    if NEURON_SPLIT.parallel(n_rec) {
        per_task
    } else {
        items.max(1)
    }
}

/// Least synaptic events (scattered additions) of a task of the synaptic
/// input: about 40 µs on one core.
const INPUT_SPLIT: crate::parallel::Split = crate::parallel::Split::new(16_384);

/// The spike exchange of a partition: `(this partition's spikes, all spikes)`.
pub type Exchange<'a> = dyn FnMut(&[u8], &mut [u8]) -> Result<()> + 'a;

/// What a run returns.
#[derive(Debug, Clone, Default)]
pub struct RunOutput {
    /// Loss of each sequence.
    pub loss: Vec<f64>,
    /// Readout traces `(sequences, steps, n_out)` when requested.
    pub y: Vec<f32>,
    /// Recurrent spikes `(sequences, steps, n_rec)` when requested.
    pub raster: Vec<u8>,
}

/// Sequences to run: dense input spikes, targets and the learning window.
pub struct Batch<'a> {
    pub n_seq: usize,
    pub n_steps: usize,
    /// `(n_seq, n_steps, n_in)` 0/1 spikes arriving at each step.
    pub x: &'a [u8],
    /// `(n_seq, n_steps, n_out)` targets (one-hot for cross-entropy).
    pub target: &'a [f32],
    /// `(n_seq, n_steps)` learning window (error multiplier).
    pub mask: &'a [f32],
}

/// How a run learns and what it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunOptions {
    /// Learn (else only simulate).
    pub learn: bool,
    /// Sequences per weight update (unless the optimizer runs at every spike).
    pub batch_size: usize,
    /// Record the readouts and the recurrent spikes of every step.
    pub record_y: bool,
    pub record_raster: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            learn: true,
            batch_size: 1,
            record_y: false,
            record_raster: false,
        }
    }
}

impl Batch<'_> {
    fn check(&self, n_in: usize, n_out: usize) -> Result<usize> {
        let st = self
            .n_seq
            .checked_mul(self.n_steps)
            .ok_or_else(|| Error::Value("too many steps".into()))?;
        check_len("x", self.x.len(), st, n_in)?;
        check_len("target", self.target.len(), st, n_out)?;
        check_len("mask", self.mask.len(), self.n_seq, self.n_steps)?;
        if self.x.iter().any(|&v| v > 1) {
            return Err(Error::Value("x must hold 0/1 spikes".into()));
        }
        if self.target.iter().chain(self.mask).any(|v| !v.is_finite()) {
            return Err(Error::Value("target and mask must be finite".into()));
        }
        Ok(st)
    }
}

impl Network {
    /// Run sequences; learn when `opts.learn` (optimizer every
    /// `opts.batch_size` sequences unless it runs at every spike).
    ///
    /// Cancellation ([`crate::cancel`]) is checked before every time step;
    /// a cancelled run returns `Error::Interrupted` and leaves the network
    /// part-way through the batch (callers that need it unchanged run on a
    /// copy, as the Python estimators do).
    pub fn run(&mut self, batch: &Batch<'_>, opts: &RunOptions) -> Result<RunOutput> {
        self.run_exchanging(batch, opts, &mut |_, _| Ok(()))
    }

    /// [`Network::run`] for a partition: after every step, `exchange(local,
    /// all)` fills `all` (the spikes of all `n_rec` neurons) from this
    /// partition's spikes `local` and those of the other partitions (one
    /// collective per step); the raster holds all neurons' spikes. For a
    /// whole network it is not called.
    pub fn run_exchanging(
        &mut self,
        batch: &Batch<'_>,
        opts: &RunOptions,
        exchange: &mut Exchange<'_>,
    ) -> Result<RunOutput> {
        let (n_in, n_rec, n_out) = (self.cfg.n_in, self.cfg.n_rec, self.cfg.n_out);
        let st = batch.check(n_in, n_out)?;
        if opts.batch_size == 0 {
            return Err(Error::Value("batch_size must be >= 1".into()));
        }
        let sized = |on: bool, n: usize| if on { st * n } else { 0 };
        let mut out = RunOutput {
            loss: Vec::with_capacity(batch.n_seq),
            y: vec![0.0; sized(opts.record_y, n_out)],
            raster: vec![0; sized(opts.record_raster, n_rec)],
        };
        let (t, reset) = (batch.n_steps, self.cfg.reset_each_sequence);
        let cancel = crate::cancel::current();
        for q in 0..batch.n_seq {
            if reset {
                self.reset_state();
            }
            let mut loss = 0.0f64;
            for n in 0..t {
                cancel.check()?;
                let row = q * t + n;
                let x = &batch.x[row * n_in..(row + 1) * n_in];
                let target = &batch.target[row * n_out..(row + 1) * n_out];
                let mask = batch.mask[row] as f64;
                loss += self.step(x, target, mask, opts.learn, reset && n == 0);
                if !self.z_all.is_empty() {
                    exchange(&self.z, &mut self.z_all)?;
                }
                if opts.record_y {
                    for k in 0..n_out {
                        out.y[row * n_out + k] = self.y[k] as f32;
                    }
                }
                if opts.record_raster {
                    out.raster[row * n_rec..(row + 1) * n_rec].copy_from_slice(self.spikes());
                }
            }
            out.loss.push(loss);
            if opts.learn {
                self.end_sequence(opts.batch_size, q + 1 == batch.n_seq);
            }
        }
        Ok(out)
    }

    /// Close a sequence: integrate what is complete, apply the optimizer at
    /// batch ends.
    fn end_sequence(&mut self, batch_size: usize, last: bool) {
        self.sequences_in_batch += 1;
        let reset = self.cfg.reset_each_sequence;
        let at_spike = self.cfg.update_at_spike;
        let batch_end = self.sequences_in_batch >= batch_size || last;
        let all: Vec<usize> = (0..self.cfg.n_pre()).collect();
        let g = self.g;
        if reset {
            // the last entry has L = 0 (no readout step follows): complete now
            self.process_rows(&all, &|_| g, None, false);
            if at_spike || batch_end {
                let scale = if at_spike {
                    1.0
                } else {
                    1.0 / self.sequences_in_batch as f64
                };
                self.process_rows(&all, &|_| g, Some(scale), false);
                self.sequences_in_batch = 0;
            }
        } else if !at_spike && batch_end {
            self.process_rows(&all, &|_| g - 1, None, false);
            let scale = 1.0 / self.sequences_in_batch as f64;
            self.process_rows(&all, &|_| g - 1, Some(scale), false);
            self.sequences_in_batch = 0;
        } else if at_spike {
            self.sequences_in_batch = 0;
        }
    }

    /// One time step `g`; returns the loss contribution.
    fn step(&mut self, x: &[u8], target: &[f32], mask: f64, learn: bool, first: bool) -> f64 {
        let (arriving, due) = self.arrivals(x, learn);
        let (errv, loss) = self.readout_error(target, mask);
        let input = if learn {
            self.archive_error(&errv, first);
            self.integrate_due(&due, &arriving)
        } else {
            self.synaptic_input(&arriving)
        };
        self.sel = arriving;
        let spikes = self.update_neurons(&input, learn);
        self.stats.spikes += spikes;
        self.stats.steps += 1;
        self.g += 1;
        loss
    }

    /// Phase 1: the presynaptic spikes arriving at `g` (inputs `x(g)`, recurrent
    /// `z(g−1)`); when learning, their synapses integrate up to `g − 1` (and
    /// update, in NEST's scheme) before the spike is recorded; then the
    /// rows due at `g` ([`Self::ensure_width`]; none when not learning).
    fn arrivals(&mut self, x: &[u8], learn: bool) -> (Vec<usize>, Vec<usize>) {
        let (n_in, g) = (self.cfg.n_in, self.g);
        let mut arriving = std::mem::take(&mut self.sel);
        arriving.clear();
        arriving.extend((0..n_in).filter(|&i| x[i] != 0));
        arriving.extend(
            self.spikes()
                .iter()
                .enumerate()
                .filter(|(_, &z)| z != 0)
                .map(|(j, _)| n_in + j),
        );
        if learn {
            let at_spike = self.cfg.update_at_spike.then_some(1.0);
            self.process_rows(&arriving, &|_| g - 1, at_spike, true);
            for &p in &arriving {
                let pr = &mut self.pre[p];
                if pr.last == NONE {
                    pr.trace_at = g - 1;
                }
                pr.before = pr.last;
                pr.last = g;
            }
            let due = self.ensure_width();
            return (arriving, due);
        }
        (arriving, Vec::new())
    }

    /// The spikes of all recurrent neurons in the last step.
    fn spikes(&self) -> &[u8] {
        if self.z_all.is_empty() {
            &self.z
        } else {
            &self.z_all
        }
    }

    /// Phase 2: readouts `y(g) = κ_out y + W_out z(g−1)`, the masked error and loss.
    fn readout_error(&mut self, target: &[f32], mask: f64) -> (Vec<f64>, f64) {
        let (n_rec, n_out) = (self.cfg.n_rec, self.cfg.n_out);
        for k in 0..n_out {
            self.y[k] *= self.kout;
        }
        let z = if self.z_all.is_empty() {
            &self.z
        } else {
            &self.z_all
        };
        for j in 0..n_rec {
            if z[j] != 0 {
                for k in 0..n_out {
                    self.y[k] += self.w_out[j * n_out + k] as f64;
                }
            }
        }
        let mut errv = vec![0.0f64; n_out];
        let mut loss = 0.0;
        match self.cfg.loss {
            Loss::MeanSquared => {
                for k in 0..n_out {
                    let e = self.y[k] - target[k] as f64;
                    errv[k] = e * mask;
                    loss += 0.5 * e * e * mask;
                }
            }
            Loss::CrossEntropy => {
                let mx = self.y.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let ex: Vec<f64> = self.y.iter().map(|&v| (v - mx).exp()).collect();
                let sum: f64 = ex.iter().sum();
                for k in 0..n_out {
                    let pk = ex[k] / sum;
                    errv[k] = (pk - target[k] as f64) * mask;
                    if target[k] > 0.0 {
                        loss -= target[k] as f64 * (pk.max(1e-30)).ln() * mask;
                    }
                }
            }
        }
        (errv, loss)
    }

    /// The error of step `g` and the learning signal `L(g−1) = B err(g)`
    /// into the archive.
    fn archive_error(&mut self, errv: &[f64], first: bool) {
        let (n_out, g, w) = (self.cfg.n_out, self.g, self.archive.width);
        let sg = slot(g, w);
        for k in 0..n_out {
            self.archive.err[k * w + sg] = errv[k] as f32;
        }
        if first || g < 1 {
            return;
        }
        let sp = slot(g - 1, w);
        let fb = if self.cfg.symmetric_feedback {
            &self.w_out
        } else {
            &self.feedback
        };
        let n_rec = self.z.len();
        let fb = &fb[self.first * n_out..(self.first + n_rec) * n_out];
        // The ring's slot and its entry-major copy together (the copy, a
        // gather across the rings, was a serial pass of its own).
        let arch = &mut self.archive;
        arch.lsig
            .par_chunks_mut(w)
            .zip(arch.lsig_t[sp * n_rec..(sp + 1) * n_rec].par_iter_mut())
            .zip(fb.par_chunks(n_out))
            .with_min_len(min_len(n_rec, n_rec, 256))
            .for_each(|((lj, lt), bj)| {
                let mut l = 0.0f64;
                for k in 0..n_out {
                    l += bj[k] as f64 * errv[k];
                }
                lj[sp] = l as f32;
                *lt = l as f32;
            });
    }

    /// Phase 3: the `due` rows ([`Self::arrivals`]) integrate: time-driven,
    /// every synapse entry `g − 1`; event-driven, the synapses whose cutoff
    /// window just closed (found with the oldest archive entry still
    /// needed, in one pass over the rows: two passes were a serial part of
    /// the step). Returns the synaptic
    /// input of the `arriving` spikes, summed meanwhile on another thread
    /// in a large network when the integration is too small to split (it
    /// changes no weight): the integration was a serial part of the step.
    fn integrate_due(&mut self, due: &[usize], arriving: &[usize]) -> Vec<f64> {
        let g = self.g;
        let n_rec = self.z.len();
        let overlap = NEURON_SPLIT.parallel(n_rec);
        let (input, events) = self.process_rows_beside(due, &|_| g, None, false, overlap, |syn| {
            synaptic_input(syn, arriving, n_rec)
        });
        self.stats.events += events as u64;
        input
    }

    /// The synaptic input current of every recurrent neuron from the
    /// arriving spikes (counting the transmission events).
    fn synaptic_input(&mut self, arriving: &[usize]) -> Vec<f64> {
        let (input, events) = synaptic_input(&self.syn, arriving, self.z.len());
        self.stats.events += events as u64;
        input
    }

    /// Phase 4: membranes, adaptation, spikes and refractoriness of the recurrent
    /// neurons; when learning, `ψ(g)` and the regularisation term of step
    /// `g` into the archive: each task writes its neurons' entries into the
    /// rings and into the entry-major copies (a copy after the update, a
    /// gather across the rings, was a serial pass of its own). Returns the
    /// number of spikes.
    fn update_neurons(&mut self, input: &[f64], learn: bool) -> u64 {
        let cfg = &self.cfg;
        let (alpha, rho, c_in) = (self.alpha, self.rho, self.c_in);
        let nest = cfg.nest_compatible;
        let w = self.archive.width;
        let sg = slot(self.g, w);
        let n_rec = self.z.len();
        let chunks = n_rec.div_ceil(CHUNK);
        let arch = &mut self.archive;
        (0..chunks)
            .into_par_iter()
            .zip(self.z.par_chunks_mut(CHUNK))
            .zip(self.v.par_chunks_mut(CHUNK))
            .zip(self.a.par_chunks_mut(CHUNK))
            .zip(self.refr.par_chunks_mut(CHUNK))
            .zip(self.f_av.par_chunks_mut(CHUNK))
            .zip(arch.psi.par_chunks_mut(CHUNK * w))
            .zip(arch.reg.par_chunks_mut(CHUNK * w))
            .zip(arch.lsig.par_chunks_mut(CHUNK * w))
            .zip(arch.psi_t[sg * n_rec..(sg + 1) * n_rec].par_chunks_mut(CHUNK))
            .zip(arch.reg_t[sg * n_rec..(sg + 1) * n_rec].par_chunks_mut(CHUNK))
            .zip(arch.lsig_t[sg * n_rec..(sg + 1) * n_rec].par_chunks_mut(CHUNK))
            .with_min_len(min_len(n_rec, chunks, 1))
            .map(
                |(((((((((((c, z), v), a), r), f), ps), rg), ls), pt), rt), lt)| {
                    let mut count = 0u64;
                    for i in 0..z.len() {
                        let j = c * CHUNK + i;
                        let zp = z[i] as f64;
                        if cfg.adapt_beta > 0.0 {
                            a[i] = rho * a[i] + zp;
                        }
                        let thr = cfg.v_th + cfg.adapt_beta * a[i];
                        // NEST resets in the step of the spike, the paper in the next one
                        let reset = if nest { 0.0 } else { cfg.v_th * zp };
                        let mut vv = alpha * v[i] + c_in * input[j] - reset;
                        vv = vv.max(cfg.v_min);
                        let psi = if r[i] > 0 {
                            0.0
                        } else {
                            cfg.surrogate
                                .eval(vv - thr, cfg.surrogate_height, cfg.surrogate_width)
                        };
                        let spike = vv >= thr && r[i] == 0;
                        if spike {
                            count += 1;
                            r[i] = cfg.t_ref as u32;
                        }
                        z[i] = spike as u8;
                        v[i] = if spike && nest {
                            (vv - cfg.v_th).max(cfg.v_min)
                        } else {
                            vv
                        };
                        if r[i] > 0 {
                            r[i] -= 1;
                        }
                        let zn = if spike { 1.0 } else { 0.0 };
                        f[i] = cfg.kappa_reg * f[i] + (1.0 - cfg.kappa_reg) * zn / cfg.dt;
                        if learn {
                            let reg = (cfg.c_reg * (f[i] - cfg.f_target * cfg.dt)) as f32;
                            ps[i * w + sg] = psi as f32;
                            rg[i * w + sg] = reg;
                            ls[i * w + sg] = 0.0;
                            pt[i] = psi as f32;
                            rt[i] = reg;
                            lt[i] = 0.0;
                        }
                    }
                    count
                },
            )
            .sum()
    }
}

/// The synaptic input current of each of the `n_rec` recurrent neurons
/// from the arriving spikes, and the number of transmission events.
fn synaptic_input(syn: &SynapseMatrix, arriving: &[usize], n_rec: usize) -> (Vec<f64>, usize) {
    let mut input = vec![0.0f64; n_rec];
    let indptr = syn.indptr();
    let idx = syn.indices();
    let ws = syn.weights().unwrap_or(&[]);
    let events: usize = arriving.iter().map(|&p| indptr[p + 1] - indptr[p]).sum();
    if INPUT_SPLIT.parallel(events) {
        // Each task sums the inputs of a run of neurons: per neuron the
        // same additions in the same order (rows are sorted, so a run's
        // synapses in a row are found by bisection).
        let tasks = (events / INPUT_SPLIT.min_task_work).clamp(2, 4 * rayon::current_num_threads());
        let per = n_rec.div_ceil(tasks).max(1);
        input.par_chunks_mut(per).enumerate().for_each(|(c, x)| {
            let (lo, hi) = ((c * per) as u32, (c * per + x.len()) as u32);
            for &p in arriving {
                let row = &idx[indptr[p]..indptr[p + 1]];
                let a = row.partition_point(|&j| j < lo);
                let b = a + row[a..].partition_point(|&j| j < hi);
                for s in a..b {
                    x[(row[s] - lo) as usize] += ws[indptr[p] + s] as f64;
                }
            }
        });
    } else {
        for &p in arriving {
            for s in indptr[p]..indptr[p + 1] {
                input[idx[s] as usize] += ws[s] as f64;
            }
        }
    }
    (input, events)
}
