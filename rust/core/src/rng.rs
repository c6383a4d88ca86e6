//! Seeded random streams.
//!
//! Each independent unit of work (a postsynaptic row, a sample, a trial) draws
//! from its own ChaCha8 stream, selected by `(seed, stream)`. Which thread runs
//! the unit is irrelevant, so the same seed gives the same result for any
//! number of threads.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The random stream number `stream` of the generator seeded with `seed`.
pub fn stream_rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}
