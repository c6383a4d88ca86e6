//! Any bytes given to the state decoders: an error or a learner that works,
//! never a panic, an abort or an out-of-bounds read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use synaplast_core::competitive::Mlp;
use synaplast_core::{AssocStore, EPropNetwork, Persist, StructuralNet, SynapseMatrix};

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = SynapseMatrix::from_bytes(data) {
        // a decoded matrix must be usable as it is
        // a decoded matrix must be usable as it is (at sizes a fuzzer's
        // memory limit allows: a valid state may ask for any output size)
        if m.n_pre().saturating_mul(m.n_post()) <= 1 << 20 {
            let _ = m.forward(&vec![0.5f32; m.n_pre()], 1);
        }
        let _ = m.to_bytes();
    }
    if let Ok(net) = StructuralNet::from_bytes(data) {
        if net.n_in().saturating_mul(net.n_hidden()) <= 1 << 20 {
            let _ = net.predict_proba(&vec![0.25f32; net.n_in()], 1);
        }
    }
    let _ = AssocStore::from_bytes(data).map(|s| s.to_bytes());
    let _ = Mlp::from_bytes(data).map(|m| m.to_bytes());
    let _ = EPropNetwork::from_bytes(data).map(|n| n.to_bytes());
});
