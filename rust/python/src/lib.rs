//! `synaplast._core`: the thin PyO3 layer over `synaplast-core`.
//!
//! Each function takes owned copies of its NumPy inputs, releases the GIL
//! (`Python::detach`) and runs the core kernel inside the thread pool chosen
//! with `set_num_threads`. Input validation that needs NumPy semantics
//! (dtype, finiteness, binarity) is done in the Python package; shapes and
//! ranges are checked again in the core, whose errors map to Python
//! exceptions in `errors.rs`.

use pyo3::prelude::*;

mod competitive;
mod config;
mod convert;
mod eprop;
mod errors;
mod lean;
mod memory;
mod state;
mod structural_classifier;
mod synapses;
mod threads;

/// Vector instructions the kernels use on this CPU (chosen at run time;
/// the dense competitive-plasticity kernels use AVX-512 where present, the
/// sparse products AVX2).
fn simd_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx512f") {
        return "avx512f+avx2";
    }
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        return "avx2";
    }
    "baseline"
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add(
        "build_profile",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )?;
    m.add("simd", simd_level())?;
    m.add_class::<synapses::SynapseMatrix>()?;
    m.add_class::<memory::AssocStore>()?;
    m.add_class::<lean::LeanStore>()?;
    m.add_class::<eprop::EPropNetwork>()?;
    m.add_class::<structural_classifier::StructuralNet>()?;
    m.add_function(wrap_pyfunction!(synapses::kwta_mask, m)?)?;
    m.add_class::<competitive::CompetitiveMlp>()?;
    m.add_function(wrap_pyfunction!(threads::set_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(threads::get_num_threads, m)?)?;
    Ok(())
}
