//! The saved state of an [`Mlp`].

use super::config::Config;
use super::network::{LayerEnergy, Mlp};
use super::PathMode;
use crate::error::{check_len, Error, Result};
use crate::state::Persist;
use serde::{Deserialize, Serialize};

/// Weights, counters and paths of one weight layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerState {
    pub weights: Vec<f32>,
    pub initial: Vec<f32>,
    /// Caching only (else empty): persistent and transient components.
    pub long: Vec<f32>,
    pub short: Vec<f32>,
    pub energy: LayerEnergy,
}

/// Everything an [`Mlp`] learned, with its configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MlpState {
    pub config: Config,
    pub seed: u64,
    pub layers: Vec<LayerState>,
    /// Plastic-unit masks of the hidden layers.
    pub paths: Vec<Vec<bool>>,
    pub samples_seen: u64,
    pub calls: u64,
}

impl Persist for Mlp {
    type State = MlpState;
    const KIND: &'static str = "CompetitiveMlp";
    const VERSION: u32 = 1;

    fn state(&self) -> MlpState {
        MlpState {
            config: self.cfg.clone(),
            seed: self.seed,
            layers: self
                .layers
                .iter()
                .map(|l| LayerState {
                    weights: l.w.clone(),
                    initial: l.w_init.clone(),
                    long: l.long.clone(),
                    short: l.short.clone(),
                    energy: l.energy,
                })
                .collect(),
            paths: self.paths.clone(),
            samples_seen: self.samples_seen,
            calls: self.calls,
        }
    }

    /// Checks every length (before allocating anything the configuration
    /// asks for), the path masks and that all weights are finite.
    fn from_state(s: MlpState) -> Result<Mlp> {
        s.config.validate()?;
        check_layers(&s.config, &s.layers)?;
        let mut m = Mlp::new(s.config, s.seed)?;
        check_paths(&m, &s.paths)?;
        let caching = m.cfg.caching.is_some();
        for (layer, saved) in m.layers.iter_mut().zip(s.layers) {
            layer.w = saved.weights;
            layer.w_init = saved.initial;
            layer.energy = saved.energy;
            if caching {
                layer.long = saved.long;
                layer.short = saved.short;
            }
        }
        m.paths = s.paths;
        m.samples_seen = s.samples_seen;
        m.calls = s.calls;
        Ok(m)
    }
}

fn check_layers(cfg: &Config, saved: &[LayerState]) -> Result<()> {
    if saved.len() != cfg.n_layers() {
        return Err(Error::Shape(format!(
            "state has {} weight layers, the configuration {}",
            saved.len(),
            cfg.n_layers()
        )));
    }
    let caching = cfg.caching.is_some();
    for (l, s) in saved.iter().enumerate() {
        let (rows, cols) = (cfg.sizes[l + 1], cfg.sizes[l] + 1);
        check_len("weights", s.weights.len(), rows, cols)?;
        check_len("initial weights", s.initial.len(), rows, cols)?;
        if caching {
            check_len("long weights", s.long.len(), rows, cols)?;
            check_len("short weights", s.short.len(), rows, cols)?;
        }
        let all = [&s.weights, &s.initial, &s.long, &s.short];
        if all.iter().any(|v| v.iter().any(|w| !w.is_finite())) {
            return Err(Error::Value("state holds non-finite weights".into()));
        }
    }
    Ok(())
}

fn check_paths(m: &Mlp, paths: &[Vec<bool>]) -> Result<()> {
    if paths.len() != m.paths.len() || paths.iter().zip(&m.paths).any(|(a, b)| a.len() != b.len()) {
        return Err(Error::Shape("path masks do not fit the network".into()));
    }
    if let Some(k) = m.cfg.plastic_units {
        if m.cfg.path_mode == PathMode::Fixed
            && paths.iter().any(|p| p.iter().filter(|&&b| b).count() != k)
        {
            return Err(Error::Value(format!(
                "fixed path masks must hold {k} plastic units"
            )));
        }
    }
    Ok(())
}
