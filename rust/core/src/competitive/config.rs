//! Configuration of the network and of its plasticity, and its validation.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

named_enum! {
    /// Hidden-unit non-linearity.
    pub enum Activation("activation") {
        /// `max(z, 0) + slope·min(z, 0)` (slope: [`Config::leaky_slope`]).
        LeakyRelu = "leaky_relu",
        Relu = "relu",
        /// Logistic `1 / (1 + e^{-z})`.
        Sigmoid = "sigmoid" | "logistic",
    }
}

named_enum! {
    /// Output layer and loss; both give the error `δ = onehot − y`.
    pub enum OutputKind("output") {
        /// Linear outputs, mean squared error on one-hot targets.
        LinearMse = "linear",
        /// Softmax outputs, cross-entropy.
        SoftmaxXent = "softmax",
    }
}

named_enum! {
    /// Where the top fraction of `|Δw|` is chosen.
    pub enum Selection("selection") {
        Layer = "layer",
        Neuron = "neuron",
    }
}

named_enum! {
    /// How the plastic hidden units ("path") are chosen.
    pub enum PathMode("path_mode") {
        /// A random subset fixed at initialisation.
        Fixed = "fixed",
        /// Re-chosen every step: the units with the largest `|δ|` (ties: lower index).
        Error = "error",
    }
}

named_enum! {
    /// Order in which training samples are drawn.
    pub enum Sampling("sampling") {
        /// Uniformly with replacement (the reference).
        Replacement = "replacement",
        /// A fresh permutation every pass over the data.
        Shuffle = "shuffle",
    }
}

/// Synaptic caching parameters (Li & van Rossum 2020).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caching {
    /// Factor applied to the transient weights after every step (`e^{-1/τ}`; 1: no decay).
    pub decay: f32,
    /// Maintenance cost per unit transient weight per step (`c`).
    pub maintenance_cost: f64,
    /// Consolidation threshold on `|s|` (`θ`).
    pub threshold: f32,
}

/// Network and plasticity configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[n_in, hidden..., n_out]`, at least one hidden layer.
    pub sizes: Vec<usize>,
    pub activation: Activation,
    /// Negative slope of [`Activation::LeakyRelu`].
    pub leaky_slope: f32,
    pub output: OutputKind,
    pub learning_rate: f32,
    pub init_std: f32,
    /// Top fraction `p ∈ (0, 1]` per weight layer (`sizes.len() − 1` values).
    pub fractions: Vec<f64>,
    pub selection: Selection,
    /// Plastic hidden units per hidden layer (`None`: all).
    pub plastic_units: Option<usize>,
    pub path_mode: PathMode,
    pub caching: Option<Caching>,
    /// Samples per update (the mean error over the batch is used).
    pub batch_size: usize,
    /// The output error is clipped to `±error_clip` (`f32::INFINITY`: never).
    pub error_clip: f32,
}

/// The hidden non-linearity with its parameter, as the kernels use it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Nonlinearity {
    kind: Activation,
    slope: f32,
}

impl Nonlinearity {
    #[inline]
    pub(super) fn f(self, z: f32) -> f32 {
        match self.kind {
            Activation::LeakyRelu => {
                if z > 0.0 {
                    z
                } else {
                    self.slope * z
                }
            }
            Activation::Relu => z.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        }
    }

    /// [`Nonlinearity::f`] on every element, the match hoisted out of the
    /// loop and the leaky branch replaced by a select so the loop vectorises.
    pub(super) fn apply(self, v: &mut [f32]) {
        match self.kind {
            Activation::LeakyRelu => v.iter_mut().for_each(|z| {
                let s = self.slope * *z;
                *z = if *z > 0.0 { *z } else { s };
            }),
            Activation::Relu => v.iter_mut().for_each(|z| *z = z.max(0.0)),
            Activation::Sigmoid => v.iter_mut().for_each(|z| *z = 1.0 / (1.0 + (-*z).exp())),
        }
    }

    /// Derivative expressed through the output `y = f(z)` (as the reference).
    #[inline]
    pub(super) fn df(self, y: f32) -> f32 {
        match self.kind {
            Activation::LeakyRelu => {
                if y > 0.0 {
                    1.0
                } else {
                    self.slope
                }
            }
            Activation::Relu => {
                if y > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Sigmoid => y * (1.0 - y),
        }
    }
}

fn positive_finite(name: &str, v: f32) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::Value(format!(
            "{name} must be a positive finite number, got {v}"
        )))
    }
}

impl Config {
    /// Check every field; the error names the offending one.
    pub fn validate(&self) -> Result<()> {
        self.validate_sizes()?;
        positive_finite("learning_rate", self.learning_rate)?;
        if !(self.init_std.is_finite() && self.init_std >= 0.0) {
            return Err(Error::Value(format!(
                "init_std must be finite and >= 0, got {}",
                self.init_std
            )));
        }
        if self.activation == Activation::LeakyRelu && !self.leaky_slope.is_finite() {
            return Err(Error::Value("leaky_slope must be finite".into()));
        }
        self.validate_plasticity()?;
        if let Some(c) = self.caching {
            c.validate()?;
        }
        if self.batch_size == 0 {
            return Err(Error::Value("batch_size must be >= 1".into()));
        }
        self.check_memory()?;
        if self.error_clip.is_nan() || self.error_clip <= 0.0 {
            return Err(Error::Value(format!(
                "error_clip must be > 0, got {}",
                self.error_clip
            )));
        }
        Ok(())
    }

    /// Refuse layer sizes or a batch size whose buffers cannot fit in memory
    /// (they are allocated at construction, and the products could overflow).
    fn check_memory(&self) -> Result<()> {
        let b = self.batch_size as u128;
        let copies: u128 =
            2 + if self.caching.is_some() { 2 } else { 0 } + if b > 1 { 2 } else { 0 };
        let mut floats = 0u128;
        for l in 0..self.n_layers() {
            let (n_in, n_out) = (self.sizes[l] as u128, self.sizes[l + 1] as u128);
            let weights = copies.saturating_mul(n_out).saturating_mul(n_in + 1);
            let act = b.saturating_mul(n_in + n_out + 2);
            floats = floats.saturating_add(weights).saturating_add(act);
        }
        let n = usize::try_from(floats).unwrap_or(usize::MAX);
        crate::alloc::check_fits::<f32>(
            n,
            &format!(
                "a network of sizes {:?} with batch_size {}",
                self.sizes, self.batch_size
            ),
        )
    }

    fn validate_sizes(&self) -> Result<()> {
        if self.sizes.len() < 3 {
            return Err(Error::Value(format!(
                "sizes needs inputs, at least one hidden layer and outputs, got {:?}",
                self.sizes
            )));
        }
        if self.sizes.contains(&0) {
            return Err(Error::Value(format!(
                "layer sizes must be positive, got {:?}",
                self.sizes
            )));
        }
        let mut total: usize = 0;
        for l in 0..self.sizes.len() - 1 {
            let n = (self.sizes[l] + 1)
                .checked_mul(self.sizes[l + 1])
                .and_then(|n| total.checked_add(n));
            match n {
                Some(n) if n <= (1usize << 34) => total = n,
                _ => return Err(Error::Value("the network is too large".into())),
            }
        }
        Ok(())
    }

    fn validate_plasticity(&self) -> Result<()> {
        if self.fractions.len() != self.sizes.len() - 1 {
            return Err(Error::Shape(format!(
                "{} update fractions for {} weight layers",
                self.fractions.len(),
                self.sizes.len() - 1
            )));
        }
        for &p in &self.fractions {
            if !(p > 0.0 && p <= 1.0) {
                return Err(Error::Value(format!(
                    "update_fraction must be in (0, 1], got {p}"
                )));
            }
        }
        if let Some(k) = self.plastic_units {
            let smallest = self.sizes[1..self.sizes.len() - 1]
                .iter()
                .copied()
                .min()
                .unwrap_or(0);
            if k == 0 || k > smallest {
                return Err(Error::Value(format!(
                    "plastic_units must be in [1, {smallest}] (the hidden layer size), got {k}"
                )));
            }
        }
        Ok(())
    }

    pub(super) fn n_layers(&self) -> usize {
        self.sizes.len() - 1
    }

    pub(super) fn nonlinearity(&self) -> Nonlinearity {
        Nonlinearity {
            kind: self.activation,
            slope: self.leaky_slope,
        }
    }

    /// Activations of layer `l` in the scratch buffers: hidden and input
    /// layers carry the bias 1 at the end.
    pub(super) fn activation_len(&self, l: usize) -> usize {
        if l + 1 == self.sizes.len() {
            self.sizes[l]
        } else {
            self.sizes[l] + 1
        }
    }
}

impl Caching {
    fn validate(&self) -> Result<()> {
        if !(self.decay.is_finite() && self.decay > 0.0 && self.decay <= 1.0) {
            return Err(Error::Value(format!(
                "cache decay factor must be in (0, 1], got {}",
                self.decay
            )));
        }
        if !(self.maintenance_cost.is_finite() && self.maintenance_cost >= 0.0) {
            return Err(Error::Value(format!(
                "maintenance_cost must be finite and >= 0, got {}",
                self.maintenance_cost
            )));
        }
        if self.threshold.is_nan() || self.threshold < 0.0 {
            return Err(Error::Value(format!(
                "consolidation_threshold must be >= 0, got {}",
                self.threshold
            )));
        }
        Ok(())
    }
}
