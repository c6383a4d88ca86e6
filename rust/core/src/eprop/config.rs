//! Parameters of an e-prop network and their validation.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

named_enum! {
    /// Surrogate gradient (pseudo-derivative) `ψ(v − A)`, NEST's names and forms:
    /// `height · f(|v − A| / width)`.
    pub enum Surrogate("surrogate") {
        /// `h · max(0, 1 − |x|/w)` (Bellec et al. 2020).
        PiecewiseLinear = "piecewise_linear",
        /// `h · exp(−|x|/w)`.
        Exponential = "exponential",
        /// `h · (1 + |x|/w)^−2`.
        FastSigmoidDerivative = "fast_sigmoid_derivative",
        /// `h / (1 + (x/w)²)`.
        ArctanDerivative = "arctan_derivative",
    }
}

impl Surrogate {
    /// `ψ` at distance `x = v − A` from the threshold.
    #[inline]
    pub fn eval(self, x: f64, height: f64, width: f64) -> f64 {
        let u = x.abs() / width;
        match self {
            Self::PiecewiseLinear => height * (1.0 - u).max(0.0),
            Self::Exponential => height * (-u).exp(),
            Self::FastSigmoidDerivative => height / ((1.0 + u) * (1.0 + u)),
            Self::ArctanDerivative => height / (1.0 + u * u),
        }
    }
}

named_enum! {
    /// Weight optimizer applied to the accumulated gradient of a synapse.
    pub enum OptimizerKind("optimizer") {
        /// `w ← w − η g`.
        GradientDescent = "gradient_descent",
        /// Adam (Kingma & Ba) with bias correction, one step counter per
        /// synapse ([`Config::adam_beta1`], [`Config::adam_beta2`],
        /// [`Config::adam_epsilon`]).
        Adam = "adam",
    }
}

/// The optimizer with its parameters, as the kernels use it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Optimizer {
    GradientDescent,
    Adam {
        beta1: f64,
        beta2: f64,
        epsilon: f64,
    },
}

named_enum! {
    /// Loss whose error signal the readouts broadcast.
    pub enum Loss("loss") {
        /// `½ Σ (y − y*)²`; error `y − y*`.
        MeanSquared = "mse",
        /// Softmax cross-entropy over the readouts; error `softmax(y) − y*`.
        CrossEntropy = "cross_entropy",
    }
}

/// Everything that defines an e-prop network's dynamics and learning
/// (missing fields take the [`Default`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub n_in: usize,
    pub n_rec: usize,
    pub n_out: usize,
    /// Time step (ms).
    pub dt: f64,
    /// Membrane time constant of recurrent neurons (ms).
    pub tau_m: f64,
    /// Membrane time constant of the leaky readouts (ms).
    pub tau_out: f64,
    /// Spike threshold (relative to rest).
    pub v_th: f64,
    /// Lower bound of the membrane potential.
    pub v_min: f64,
    /// Refractory period in steps.
    pub t_ref: usize,
    /// Threshold adaptation strength `β` (0: LIF, > 0: adaptive LIF).
    pub adapt_beta: f64,
    /// Adaptation time constant (ms).
    pub adapt_tau: f64,
    pub surrogate: Surrogate,
    pub surrogate_height: f64,
    pub surrogate_width: f64,
    /// Low-pass filter of the eligibility trace (`κ`).
    pub kappa: f64,
    /// Low-pass filter of the firing rate for regularisation.
    pub kappa_reg: f64,
    /// Firing-rate regularisation strength.
    pub c_reg: f64,
    /// Target firing rate (spikes per ms).
    pub f_target: f64,
    pub loss: Loss,
    pub optimizer: OptimizerKind,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_epsilon: f64,
    /// Learning rate.
    pub eta: f64,
    pub w_min: f64,
    pub w_max: f64,
    /// Steps after a presynaptic spike over which traces are integrated
    /// (`None`: no cutoff).
    pub cutoff: Option<usize>,
    /// NEST 3.10's forms: spike input and `z̄` without `(1 − α)`, `ē` without `(1 − κ)`.
    pub nest_compatible: bool,
    /// Event-driven updates (`true`) or the time-driven reference (`false`).
    pub event_driven: bool,
    /// Apply the optimizer at every presynaptic spike (NEST) instead of at the
    /// end of each batch.
    pub update_at_spike: bool,
    /// Reset neuron and trace state at the start of every sequence.
    pub reset_each_sequence: bool,
    /// Feedback weights follow the readout weights (`B = W_outᵀ`).
    pub symmetric_feedback: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            n_in: 1,
            n_rec: 1,
            n_out: 1,
            dt: 1.0,
            tau_m: 20.0,
            tau_out: 20.0,
            v_th: 1.0,
            v_min: f64::NEG_INFINITY,
            t_ref: 0,
            adapt_beta: 0.0,
            adapt_tau: 200.0,
            surrogate: Surrogate::PiecewiseLinear,
            surrogate_height: 0.3,
            surrogate_width: 1.0,
            kappa: 0.95,
            kappa_reg: 0.95,
            c_reg: 0.0,
            f_target: 0.01,
            loss: Loss::MeanSquared,
            optimizer: OptimizerKind::GradientDescent,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            eta: 1e-3,
            w_min: -100.0,
            w_max: 100.0,
            cutoff: None,
            nest_compatible: false,
            event_driven: true,
            update_at_spike: false,
            reset_each_sequence: true,
            symmetric_feedback: false,
        }
    }
}

/// Random initial connectivity of [`super::Network::random`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Connectivity {
    /// Probability of each input→recurrent synapse.
    pub p_in: f64,
    /// Probability of each recurrent→recurrent synapse (no autapses).
    pub p_rec: f64,
    /// Input and recurrent weights are `N(0, 1) · scale / √(expected fan-in)`.
    pub input_scale: f64,
    pub recurrent_scale: f64,
    /// Readout and random feedback weights are `N(0, 1) · scale / √n_rec`.
    pub readout_scale: f64,
    pub feedback_scale: f64,
    /// Fraction of excitatory presynaptic neurons under Dale's law (`None`: free signs).
    pub dale: Option<f64>,
    /// Start the feedback weights equal to the readout weights.
    pub symmetric_init: bool,
}

impl Default for Connectivity {
    fn default() -> Self {
        Connectivity {
            p_in: 1.0,
            p_rec: 1.0,
            input_scale: 1.0,
            recurrent_scale: 1.0,
            readout_scale: 1.0,
            feedback_scale: 1.0,
            dale: None,
            symmetric_init: false,
        }
    }
}

impl Connectivity {
    pub(super) fn validate(&self) -> Result<()> {
        unit("p_in", self.p_in)?;
        unit("p_rec", self.p_rec)?;
        let scales = [
            self.input_scale,
            self.recurrent_scale,
            self.readout_scale,
            self.feedback_scale,
        ];
        if scales.iter().any(|s| !s.is_finite()) {
            return Err(Error::Value("weight scales must be finite".into()));
        }
        if let Some(frac) = self.dale {
            unit("dale fraction", frac)?;
        }
        Ok(())
    }
}

fn positive(name: &str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::Value(format!(
            "{name} must be finite and > 0, got {v}"
        )))
    }
}

fn unit(name: &str, v: f64) -> Result<()> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(Error::Value(format!("{name} must lie in [0, 1], got {v}")))
    }
}

impl Config {
    /// Check every parameter; the network is only built from a valid config.
    pub fn validate(&self) -> Result<()> {
        if self.n_rec == 0 || self.n_out == 0 {
            return Err(Error::Value(format!(
                "n_rec and n_out must be >= 1, got {} and {}",
                self.n_rec, self.n_out
            )));
        }
        let n_pre = self.n_in.checked_add(self.n_rec);
        if n_pre.is_none()
            || n_pre.unwrap_or(0) > u32::MAX as usize
            || self.n_rec > u32::MAX as usize
        {
            return Err(Error::Value("too many neurons".into()));
        }
        if self.t_ref > u32::MAX as usize {
            return Err(Error::Value(
                "t_ref must be a non-negative step count".into(),
            ));
        }
        positive("dt", self.dt)?;
        positive("tau_m", self.tau_m)?;
        positive("tau_out", self.tau_out)?;
        positive("v_th", self.v_th)?;
        positive("adapt_tau", self.adapt_tau)?;
        positive("surrogate_height", self.surrogate_height)?;
        positive("surrogate_width", self.surrogate_width)?;
        positive("eta", self.eta)?;
        if self.v_min.is_nan() || self.v_min > self.v_th {
            return Err(Error::Value(format!(
                "v_min must be <= v_th, got {}",
                self.v_min
            )));
        }
        if !(self.adapt_beta.is_finite() && self.adapt_beta >= 0.0) {
            return Err(Error::Value(format!(
                "adapt_beta must be >= 0, got {}",
                self.adapt_beta
            )));
        }
        unit("kappa", self.kappa)?;
        unit("kappa_reg", self.kappa_reg)?;
        if !(self.c_reg.is_finite() && self.c_reg >= 0.0) {
            return Err(Error::Value(format!(
                "c_reg must be >= 0, got {}",
                self.c_reg
            )));
        }
        if !(self.f_target.is_finite() && self.f_target >= 0.0) {
            return Err(Error::Value(format!(
                "f_target must be >= 0, got {}",
                self.f_target
            )));
        }
        if self.w_min.is_nan() || self.w_max.is_nan() || self.w_min > self.w_max {
            return Err(Error::Value(format!(
                "w_min ({}) must be <= w_max ({})",
                self.w_min, self.w_max
            )));
        }
        if self.cutoff == Some(0) {
            return Err(Error::Value("cutoff must be >= 1 step".into()));
        }
        if let Optimizer::Adam {
            beta1,
            beta2,
            epsilon,
        } = self.optimizer()
        {
            if !(0.0..1.0).contains(&beta1) || !(0.0..1.0).contains(&beta2) {
                return Err(Error::Value(format!(
                    "Adam betas must lie in [0, 1), got {beta1} and {beta2}"
                )));
            }
            positive("adam epsilon", epsilon)?;
        }
        Ok(())
    }

    /// The optimizer with its parameters.
    pub fn optimizer(&self) -> Optimizer {
        match self.optimizer {
            OptimizerKind::GradientDescent => Optimizer::GradientDescent,
            OptimizerKind::Adam => Optimizer::Adam {
                beta1: self.adam_beta1,
                beta2: self.adam_beta2,
                epsilon: self.adam_epsilon,
            },
        }
    }

    /// The trace window in steps, capped so that step arithmetic cannot overflow.
    pub(super) fn cutoff_steps(&self) -> i64 {
        self.cutoff.unwrap_or(usize::MAX).min(i64::MAX as usize / 4) as i64
    }

    /// Number of presynaptic neurons (inputs first, then recurrent).
    pub fn n_pre(&self) -> usize {
        self.n_in + self.n_rec
    }
}
