//! The core's constructors with sizes and parameters from the fuzzer: a
//! clear error (sizes refused before allocating) or a working object.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synaplast_core::structural_classifier::Config;
use synaplast_core::{GrowInit, StructuralNet, SynapseMatrix};

fn word(data: &[u8], i: usize) -> u64 {
    let mut b = [0u8; 8];
    for (k, v) in b.iter_mut().enumerate() {
        *v = data.get(i * 8 + k).copied().unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

/// Mostly small sizes, sometimes an absurd one (at least 2^40, beyond any
/// machine: it must be refused before anything is allocated).
fn size(w: u64) -> usize {
    if w & 0xff == 0xff {
        (w | 1 << 40) as usize
    } else {
        (w >> 8) as usize % 300
    }
}

fuzz_target!(|data: &[u8]| {
    let (a, b, c) = (
        size(word(data, 0)),
        size(word(data, 1)),
        size(word(data, 2)),
    );
    let (lo, hi) = (
        f32::from_bits(word(data, 3) as u32),
        f32::from_bits((word(data, 3) >> 32) as u32),
    );
    if let Ok(mut m) = SynapseMatrix::empty(a, b, false) {
        let _ = m.grow_random(c, GrowInit::Uniform(lo, hi), word(data, 4));
        if a.saturating_mul(b) <= 1 << 20 {
            let _ = m.to_dense();
        }
    }
    let cfg = Config {
        n_in: a,
        n_hidden: b,
        n_classes: c,
        init_per_unit: size(word(data, 4)),
        init_weights: (lo, hi),
        direct: word(data, 5) & 1 == 1,
    };
    if let Ok(net) = StructuralNet::new(&cfg, word(data, 6)) {
        if net.n_in().saturating_mul(net.n_hidden()) <= 1 << 20 {
            let _ = net.predict_proba(&vec![0.5f32; net.n_in()], 1);
        }
    }
});
