//! The postsynaptic archive: per recurrent neuron (and readout) a ring
//! buffer of the per-step quantities the synapses integrate when their
//! presynaptic neuron next spikes: the pseudo-derivative `ψ`, the learning
//! signal `L`, the firing-rate regularisation term and the readout error.
//! It holds only the steps some synapse still needs, and grows when a
//! trace window is longer than the ring.

use super::network::Network;
use super::traces::NONE;

/// Ring buffers of `width` steps; entry `m` is at [`slot`]`(m, width)`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Archive {
    pub width: usize,
    /// `(n_rec, width)`: pseudo-derivative, learning signal, regularisation.
    pub psi: Vec<f32>,
    pub lsig: Vec<f32>,
    pub reg: Vec<f32>,
    /// `(n_out, width)`: readout error.
    pub err: Vec<f32>,
    /// `(width, n_rec)`: the same ψ, L and regularisation values
    /// entry-major, so that one step of eight consecutive neurons is one
    /// load (the trace kernel's rows of all-to-all synapses need no
    /// transpose). Kept equal to the rings by [`Archive::mirror`].
    pub psi_t: Vec<f32>,
    pub lsig_t: Vec<f32>,
    pub reg_t: Vec<f32>,
}

/// Steps the rings hold at first (they grow as windows need).
pub(super) const INITIAL_WIDTH: usize = 4;

/// Ring slot of step `m`.
#[inline]
pub(super) fn slot(m: i64, width: usize) -> usize {
    m.rem_euclid(width as i64) as usize
}

impl Archive {
    /// Empty rings of `width` steps.
    pub fn new(n_rec: usize, n_out: usize, width: usize) -> Self {
        Archive {
            width,
            psi: vec![0.0; n_rec * width],
            lsig: vec![0.0; n_rec * width],
            reg: vec![0.0; n_rec * width],
            err: vec![0.0; n_out * width],
            psi_t: vec![0.0; n_rec * width],
            lsig_t: vec![0.0; n_rec * width],
            reg_t: vec![0.0; n_rec * width],
        }
    }

    /// Recurrent neurons (0 for the empty default archive).
    pub fn n_rec(&self) -> usize {
        self.psi.len().checked_div(self.width).unwrap_or(0)
    }

    /// Copy slot `s` of the rings into the entry-major copies (the steps
    /// write both; a widened ring rebuilds its copies from the rings).
    fn mirror(&mut self, s: usize) {
        let (w, n) = (self.width, self.n_rec());
        let ring = |v: &[f32], t: &mut [f32]| {
            for (i, x) in t[s * n..(s + 1) * n].iter_mut().enumerate() {
                *x = v[i * w + s];
            }
        };
        ring(&self.lsig, &mut self.lsig_t);
        ring(&self.psi, &mut self.psi_t);
        ring(&self.reg, &mut self.reg_t);
    }

    pub fn bytes(&self) -> usize {
        4 * (self.psi.capacity()
            + self.lsig.capacity()
            + self.reg.capacity()
            + self.err.capacity()
            + self.psi_t.capacity()
            + self.lsig_t.capacity()
            + self.reg_t.capacity())
    }

    /// Widen the rings to `new_w`, keeping the steps `oldest..g` that the
    /// old rings still hold.
    fn widen(&mut self, new_w: usize, oldest: i64, g: i64) {
        let old_w = self.width;
        let regrow = |v: &Vec<f32>| -> Vec<f32> {
            let n = v.len() / old_w;
            let mut out = vec![0.0f32; n * new_w];
            for i in 0..n {
                for m in oldest.max(g - old_w as i64)..g {
                    out[i * new_w + slot(m, new_w)] = v[i * old_w + slot(m, old_w)];
                }
            }
            out
        };
        self.psi = regrow(&self.psi);
        self.lsig = regrow(&self.lsig);
        self.reg = regrow(&self.reg);
        self.err = regrow(&self.err);
        self.width = new_w;
        let n = self.n_rec();
        for t in [&mut self.psi_t, &mut self.lsig_t, &mut self.reg_t] {
            *t = vec![0.0; n * new_w];
        }
        for s in 0..new_w {
            self.mirror(s);
        }
    }
}

impl Network {
    /// Oldest archive entry some open window still needs (`self.g` if
    /// none), and the rows whose open window the cutoff closes by `self.g`
    /// (the synapses to integrate at this step), in one pass over the rows.
    fn open_windows(&self) -> (i64, Vec<usize>) {
        let (g, cutoff) = (self.g, self.cfg.cutoff_steps());
        let mut oldest = g;
        let mut due = Vec::new();
        for (i, p) in self.pre.iter().enumerate() {
            let closes = p.last.saturating_add(cutoff - 1);
            if p.last != NONE && p.trace_at < closes {
                oldest = oldest.min(p.trace_at);
                if closes <= g {
                    due.push(i);
                }
            }
        }
        (oldest, due)
    }

    /// Make room in the ring for entry `self.g` (grow when a window needs
    /// more); returns the rows to integrate at this step: event-driven,
    /// those whose cutoff window closes by `self.g` (found in the same pass
    /// over the rows), time-driven, all.
    pub(super) fn ensure_width(&mut self) -> Vec<usize> {
        let (oldest, due) = if self.cfg.event_driven {
            let (oldest, due) = self.open_windows();
            (oldest.min(self.g - 1), due)
        } else {
            (self.g - 1, (0..self.cfg.n_pre()).collect())
        };
        let need = (self.g - oldest + 1).max(2) as usize;
        if need > self.archive.width {
            let new_w = need.max(2 * self.archive.width);
            self.archive.widen(new_w, oldest, self.g);
        }
        self.stats.peak_archive_steps = self.stats.peak_archive_steps.max(need as u64);
        due
    }
}
