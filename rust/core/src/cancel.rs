//! Cooperative cancellation of long calls (Ctrl-C from Python).
//!
//! A [`Token`] is a shared flag. The caller runs a long call inside
//! [`scope`]`(&token, || ...)`, which makes the token the *ambient* token of
//! the thread the call runs on; the long loops of the core (between batches,
//! epochs, sequences, chunks) call [`check`] and return
//! [`Error::Interrupted`] once the token is set. Another thread (the Python
//! thread waiting for the result) sets it with [`Token::cancel`].
//!
//! Why ambient instead of a parameter: no public signature of the core
//! changes, and a caller that never sets a token pays one thread-local read
//! per check. The ambient token belongs to the thread that runs the call's
//! sequential outer loop; rayon may run *another* call's job on that thread
//! while it waits in a `join`, but that job sets and restores its own token
//! (the scopes nest like the stack), so the outer loop always sees its own.
//! Inside a parallel closure the ambient token is that of whichever call
//! the worker thread happens to serve, so code that checks inside one (or
//! in a `rayon::join` branch, which may be stolen) first takes
//! [`current`] on the calling thread and moves the handle in.
//!
//! Checks never change what is computed: a call that is not cancelled gives
//! bit-identical results with or without a token, for any thread count. A
//! cancelled call leaves its receiver in the state its documentation gives
//! for any error (unchanged for the transactional calls; the binding layer
//! works on copies where a call mutates in place).

use crate::error::{Error, Result};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A cancellation flag shared between the caller and the running call.
/// The default token is never cancelled.
#[derive(Debug, Clone, Default)]
pub struct Token(Option<Arc<AtomicBool>>);

impl Token {
    /// A fresh token that can be cancelled.
    pub fn new() -> Self {
        Token(Some(Arc::new(AtomicBool::new(false))))
    }

    /// Ask every call running under this token to stop at its next check.
    pub fn cancel(&self) {
        if let Some(f) = &self.0 {
            f.store(true, Ordering::Relaxed);
        }
    }

    /// Whether [`Token::cancel`] was called.
    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// `Err(Error::Interrupted)` once cancelled.
    #[inline]
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(interrupted())
        } else {
            Ok(())
        }
    }
}

/// The error of a cancelled call.
pub fn interrupted() -> Error {
    Error::Interrupted("the call was cancelled".into())
}

thread_local! {
    static CURRENT: RefCell<Token> = RefCell::new(Token::default());
}

/// Run `f` with `token` as this thread's ambient token (restored afterwards,
/// also when `f` panics).
pub fn scope<T>(token: &Token, f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Token>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(t) = self.0.take() {
                CURRENT.with(|c| *c.borrow_mut() = t);
            }
        }
    }
    let previous = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), token.clone()));
    let _restore = Restore(Some(previous));
    f()
}

/// This thread's ambient token (a never-cancelled one outside [`scope`]).
pub fn current() -> Token {
    CURRENT.with(|c| c.borrow().clone())
}

/// `Err(Error::Interrupted)` if this thread's ambient token is cancelled.
#[inline]
pub fn check() -> Result<()> {
    CURRENT.with(|c| c.borrow().check())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore() {
        let (a, b) = (Token::new(), Token::new());
        assert!(check().is_ok());
        scope(&a, || {
            a.cancel();
            assert_eq!(check(), Err(interrupted()));
            scope(&b, || assert!(check().is_ok()));
            assert!(check().is_err());
        });
        assert!(check().is_ok());
        assert!(!Token::default().is_cancelled());
        Token::default().cancel(); // a no-op
    }

    #[test]
    fn restored_after_a_panic() {
        let a = Token::new();
        a.cancel();
        let r = std::panic::catch_unwind(|| scope(&a, || panic!("boom")));
        assert!(r.is_err());
        assert!(check().is_ok());
    }
}
