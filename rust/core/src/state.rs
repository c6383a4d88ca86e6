//! One versioned binary format for the state of every learner.
//!
//! A learner's [`Persist::State`] is a plain serde struct (its configuration,
//! weights, counters); [`Persist::to_bytes`] writes it as
//! `(magic, kind, version, state)` in postcard's compact encoding and
//! [`Persist::from_bytes`] reads it back through [`Persist::from_state`],
//! which validates every field, so tampered bytes give an [`Error`], never a
//! panic. Pickling in the binding is these two calls.

use crate::error::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Leading tag of every saved state.
const MAGIC: &str = "synaplast";

/// A learner whose whole state round-trips through bytes.
pub trait Persist: Sized {
    /// Everything needed to rebuild the learner.
    type State: Serialize + DeserializeOwned;
    /// Name of the learner in the saved bytes.
    const KIND: &'static str;
    /// Format version, raised whenever `State` changes.
    const VERSION: u32;

    /// A copy of the state.
    fn state(&self) -> Self::State;
    /// Rebuild from a state, validating every field.
    fn from_state(state: Self::State) -> Result<Self>;

    /// The state as bytes.
    fn to_bytes(&self) -> Vec<u8> {
        postcard::to_allocvec(&(MAGIC, Self::KIND, Self::VERSION, self.state()))
            .expect("states hold only serialisable plain data")
    }

    /// Rebuild from [`Persist::to_bytes`] output.
    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::from_state(Self::state_from_bytes(bytes)?)
    }

    /// The state in [`Persist::to_bytes`] output, decoded but not yet
    /// validated (for states that are read without rebuilding a learner).
    fn state_from_bytes(bytes: &[u8]) -> Result<Self::State> {
        let bad = |e: postcard::Error| Error::Value(format!("corrupt {} state: {e}", Self::KIND));
        let ((magic, kind, version), rest): ((String, String, u32), _) =
            postcard::take_from_bytes(bytes).map_err(bad)?;
        if magic != MAGIC || kind != Self::KIND {
            return Err(Error::Value(format!(
                "not a saved {} (found {magic:?}/{kind:?})",
                Self::KIND
            )));
        }
        if version != Self::VERSION {
            return Err(Error::Value(format!(
                "{} state version {version}, this build reads version {}",
                Self::KIND,
                Self::VERSION
            )));
        }
        let (state, rest): (Self::State, &[u8]) = postcard::take_from_bytes(rest).map_err(bad)?;
        if !rest.is_empty() {
            return Err(Error::Value(format!(
                "corrupt {} state: {} trailing bytes",
                Self::KIND,
                rest.len()
            )));
        }
        Ok(state)
    }
}
