//! The training loop: sampling, evaluation checkpoints and the stopping rule.

use super::network::Mlp;
use super::{Sampling, STREAM_SAMPLE, STREAM_SHUFFLE};
use crate::cancel::{self, Token};
use crate::error::{Error, Result};
use crate::rng::stream_rng;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A test-set evaluation during training.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Checkpoint {
    /// Training samples seen so far (all calls).
    pub samples: u64,
    /// Accuracy on the evaluation set.
    pub accuracy: f64,
    /// Total `M0` and `M1` so far (all layers).
    pub writes: u64,
    pub abs_change: f64,
    /// `M0_min`, `M1_min` from the initial weights to the current ones.
    pub min_writes: u64,
    pub min_abs_change: f64,
}

/// Sampling and stopping rule of one training call.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    pub sampling: Sampling,
    /// Samples to draw at most in this call.
    pub max_samples: u64,
    /// Evaluate every this many training samples (counted over all calls).
    pub eval_every: u64,
    /// Stop once the evaluation accuracy reaches it (needs an evaluation set).
    pub target_accuracy: Option<f64>,
    /// Seed of the sampling stream.
    pub seed: u64,
}

/// Data and schedule of one training call.
#[derive(Debug, Clone, Copy)]
pub struct TrainSpec<'a> {
    /// `n × n_in` inputs, row-major.
    pub x: &'a [f32],
    /// `n` class indices in `0..n_out`.
    pub y: &'a [u32],
    /// Evaluation set `(x, y)`; needed for `target_accuracy`.
    pub eval: Option<(&'a [f32], &'a [u32])>,
    pub schedule: Schedule,
}

/// What one training call did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TrainOutcome {
    /// Samples drawn in this call.
    pub samples: u64,
    /// Whether the target accuracy was reached.
    pub reached: bool,
    pub history: Vec<Checkpoint>,
}

/// The sample drawn at global step `t`: a pure function of `(seed, t)`.
struct Sampler {
    sampling: Sampling,
    seed: u64,
    n: usize,
    order: Vec<u32>,
    epoch: u64,
}

impl Sampler {
    fn draw(&mut self, t: u64) -> usize {
        let n = self.n;
        match self.sampling {
            Sampling::Replacement => stream_rng(self.seed, STREAM_SAMPLE + t).random_range(0..n),
            Sampling::Shuffle => {
                let epoch = t / n as u64;
                if epoch != self.epoch {
                    self.order.clear();
                    self.order.extend(0..n as u32);
                    let mut rng = stream_rng(self.seed, STREAM_SHUFFLE + epoch);
                    for i in (1..n).rev() {
                        let j = rng.random_range(0..=i);
                        self.order.swap(i, j);
                    }
                    self.epoch = epoch;
                }
                self.order[(t % n as u64) as usize] as usize
            }
        }
    }
}

/// Where a training call stands: the sampler, the prefetched next sample
/// (fused first-layer products) and the samples drawn so far.
struct Run {
    sampler: Sampler,
    next: Option<usize>,
    samples: u64,
    /// The call's cancellation token, taken on the calling thread (a
    /// segment may run in a stolen `rayon::join` branch).
    cancel: Token,
}

/// A finished evaluation: its accuracy and, when it ran on a snapshot while
/// training went on, the snapshot and where training stood at it.
type Evaluation = (f64, Option<(Mlp, u64)>, Option<Result<bool>>);

impl Mlp {
    /// Train on `spec`; on error (bad input, divergence, cancellation through
    /// [`crate::cancel`], checked before every batch) the network is unchanged.
    pub fn train(&mut self, spec: &TrainSpec<'_>) -> Result<TrainOutcome> {
        let n = self.check_spec(spec)?;
        let mut work = self.clone();
        let out = work.train_inner(spec, n)?;
        *self = work;
        Ok(out)
    }

    /// The number of training samples of a valid `spec`.
    fn check_spec(&self, spec: &TrainSpec<'_>) -> Result<usize> {
        let n = self.check_x(spec.x, "X")?;
        self.check_y(spec.y, n, "y")?;
        if n == 0 {
            return Err(Error::Value("X has no samples".into()));
        }
        let s = &spec.schedule;
        if s.eval_every == 0 {
            return Err(Error::Value("eval_every must be >= 1".into()));
        }
        if let Some(t) = s.target_accuracy {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::Value(format!(
                    "target_accuracy must be in [0, 1], got {t}"
                )));
            }
            if spec.eval.is_none() {
                return Err(Error::Value(
                    "target_accuracy needs an evaluation set".into(),
                ));
            }
        }
        if let Some((ex, ey)) = spec.eval {
            let ne = self.check_x(ex, "evaluation X")?;
            self.check_y(ey, ne, "evaluation y")?;
            if ne == 0 {
                return Err(Error::Value("the evaluation set is empty".into()));
            }
        }
        Ok(n)
    }

    fn train_inner(&mut self, spec: &TrainSpec<'_>, n: usize) -> Result<TrainOutcome> {
        self.calls += 1;
        let s = &spec.schedule;
        // The draw of the t-th training sample (over all calls) depends only
        // on (seed, t): training in one call or in chunks gives the same result.
        let mut run = Run {
            sampler: Sampler {
                sampling: s.sampling,
                seed: s.seed,
                n,
                order: Vec::new(),
                epoch: u64::MAX,
            },
            next: None,
            samples: 0,
            cancel: cancel::current(),
        };
        self.z0_ready = false;
        let mut out = TrainOutcome::default();
        let mut due = self.segment(spec, &mut run)?;
        while due {
            let Some((ex, ey)) = spec.eval else { break };
            let (acc, snapshot, next_due) = self.evaluate(spec, &mut run, ex, ey);
            let at = snapshot.as_ref().map_or(&*self, |(m, _)| m);
            out.history.push(at.checkpoint(acc));
            if s.target_accuracy.is_some_and(|t| acc >= t) {
                if let Some((m, samples)) = snapshot {
                    *self = m;
                    run.samples = samples;
                }
                out.reached = true;
                break;
            }
            due = match next_due {
                Some(r) => r?,
                None if run.samples < s.max_samples => self.segment(spec, &mut run)?,
                None => false,
            };
        }
        out.samples = run.samples;
        Ok(out)
    }

    /// Evaluate on `(ex, ey)`. With a second thread and a stopping rule the
    /// evaluation runs on a snapshot while training goes on to the next
    /// checkpoint; if the snapshot reaches the target, training resumes from
    /// it. Either way the outcome equals the sequential one.
    fn evaluate(
        &mut self,
        spec: &TrainSpec<'_>,
        run: &mut Run,
        ex: &[f32],
        ey: &[u32],
    ) -> Evaluation {
        let s = &spec.schedule;
        let more = run.samples < s.max_samples;
        let speculate = s.target_accuracy.is_some() && rayon::current_num_threads() > 1;
        if !(speculate && more) {
            return (self.accuracy_unchecked(ex, ey, ey.len()), None, None);
        }
        let snapshot = self.clone();
        let (acc, (next_due, before)) = rayon::join(
            || snapshot.accuracy_unchecked(ex, ey, ey.len()),
            || {
                let before = run.samples;
                (self.segment(spec, run), before)
            },
        );
        (acc, Some((snapshot, before)), Some(next_due))
    }

    fn checkpoint(&self, accuracy: f64) -> Checkpoint {
        let (writes, abs_change, min_writes, min_abs_change) = self.totals();
        Checkpoint {
            samples: self.samples_seen,
            accuracy,
            writes,
            abs_change,
            min_writes,
            min_abs_change,
        }
    }

    /// Train until an evaluation is due (`Ok(true)`) or `max_samples` are
    /// drawn without one (`Ok(false)`).
    fn segment(&mut self, spec: &TrainSpec<'_>, run: &mut Run) -> Result<bool> {
        let s = &spec.schedule;
        let bsz = self.cfg.batch_size;
        // Batch 1 without caching: the update of each first-layer row is
        // fused with that row's forward product for the next sample (one
        // pass over the largest matrix per sample instead of two).
        let fuse = bsz == 1 && self.cfg.caching.is_none();
        let mut batch_idx = vec![0usize; bsz];
        while run.samples < s.max_samples {
            run.cancel.check()?;
            let nb = (s.max_samples - run.samples).min(bsz as u64) as usize;
            for (b, slot) in batch_idx.iter_mut().take(nb).enumerate() {
                let t = self.samples_seen + b as u64;
                *slot = match run.next.take() {
                    Some(i) if b == 0 => i,
                    _ => run.sampler.draw(t),
                };
            }
            self.load_batch(spec.x, &batch_idx[..nb]);
            let has_next = fuse && run.samples + 1 < s.max_samples;
            if has_next {
                let i = run.sampler.draw(self.samples_seen + 1);
                run.next = Some(i);
                self.load_next(spec.x, i);
            }
            self.fuse_next = has_next;
            let labels = &batch_idx[..nb];
            self.step(nb, |b| spec.y[labels[b]] as usize)?;
            let before = self.samples_seen;
            self.samples_seen += nb as u64;
            run.samples += nb as u64;
            if spec.eval.is_some() && self.samples_seen / s.eval_every > before / s.eval_every {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The samples `rows` of `x` into the input activations, bias 1 appended.
    fn load_batch(&mut self, x: &[f32], rows: &[usize]) {
        let n_in = self.cfg.sizes[0];
        for (b, &i) in rows.iter().enumerate() {
            let a0 = &mut self.act[0][b * (n_in + 1)..(b + 1) * (n_in + 1)];
            a0[..n_in].copy_from_slice(&x[i * n_in..(i + 1) * n_in]);
            a0[n_in] = 1.0;
        }
    }

    /// Sample `i` of `x` as the next input of the fused first-layer product.
    fn load_next(&mut self, x: &[f32], i: usize) {
        let n_in = self.cfg.sizes[0];
        self.next_in[..n_in].copy_from_slice(&x[i * n_in..(i + 1) * n_in]);
        self.next_in[n_in] = 1.0;
    }
}
