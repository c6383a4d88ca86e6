"""Input validation shared by all public functions and estimators.

Every check raises ``TypeError`` for the wrong kind of object or dtype and
``ValueError`` for the wrong shape or value, naming the argument. Arrays that
already have the needed dtype and layout are passed through without a copy.
"""

from __future__ import annotations

import numbers

import numpy as np

_NUMERIC_KINDS = "biuf"


def _array(x, name: str) -> np.ndarray:
    if hasattr(x, "toarray") and not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a dense array, got a sparse matrix ({type(x).__name__})")
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and other non-arrays
        raise TypeError(f"{name} cannot be converted to an array: {exc}") from exc
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"{name} must be numeric (bool, int or float), got dtype {arr.dtype}")
    return arr


def reject_dates(X, name: str = "X") -> None:
    """Refuse date and time values, which scikit-learn's checks turn into numbers."""
    dtypes = getattr(X, "dtypes", None)  # DataFrame columns
    kinds = {getattr(d, "kind", "") for d in dtypes} if dtypes is not None else set()
    kinds.add(getattr(getattr(X, "dtype", None), "kind", ""))
    if kinds & {"M", "m"}:
        raise TypeError(f"{name} must be numeric, got dates or time spans")


def as_float32(x, name: str, ndim: int, *, allow_empty: bool = True) -> np.ndarray:
    """``x`` as a C-contiguous float32 array of ``ndim`` dimensions, all finite."""
    arr = _array(x, name)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if out.dtype.kind == "f" and not np.isfinite(out).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return out


def as_index(x, name: str) -> np.ndarray:
    """``x`` as a 1-d int64 array of non-negative integers."""
    arr = _array(x, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise TypeError(f"{name} must hold integer indices")
    elif arr.dtype.kind == "b":
        raise TypeError(f"{name} must hold integer indices, got booleans")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if out.size and out.min() < 0:
        raise ValueError(f"{name} has a negative index ({out.min()})")
    return out


def as_bool(x, name: str, size: int) -> np.ndarray:
    """``x`` as a 1-d bool array of length ``size``."""
    arr = _array(x, name)
    if arr.ndim != 1 or arr.shape[0] != size:
        raise ValueError(f"{name} must have shape ({size},), got {arr.shape}")
    if arr.dtype.kind != "b" and not np.isin(arr, (0, 1)).all():
        raise ValueError(f"{name} must be boolean (0/1)")
    return np.ascontiguousarray(arr, dtype=bool)


def check_binary(x: np.ndarray, name: str) -> None:
    """Raise unless every entry of ``x`` is 0 or 1."""
    if x.size and not ((x == 0) | (x == 1)).all():
        bad = x[(x != 0) & (x != 1)].ravel()[0]
        raise ValueError(f"{name} must be binary (0/1), found the value {bad}")


def check_int(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """An integer parameter inside ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_real(
    value,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real parameter inside the given (half-)open or closed interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {value}")
    return value


def seed_from(random_state) -> int:
    """A 63-bit seed from ``None``, an int or a ``numpy.random.RandomState``."""
    if random_state is None:
        # The global RandomState singleton, as scikit-learn does.
        from sklearn.utils import check_random_state

        return int(check_random_state(None).randint(0, 2**62))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be non-negative, got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**62))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**62))
    raise TypeError(f"random_state must be None, an int or a RandomState, got {random_state!r}")


def encode_labels(classes: np.ndarray, y, name: str = "y") -> np.ndarray:
    """Indices of the labels ``y`` in the sorted ``classes`` (int64).

    Raises ``ValueError`` naming ``name`` and the first label that is not
    in ``classes``.
    """
    y = np.asarray(y)
    idx = np.clip(np.searchsorted(classes, y), 0, len(classes) - 1)
    if not np.array_equal(classes[idx], y):
        bad = y[classes[idx] != y].ravel()[0]
        raise ValueError(f"{name} holds the label {bad!r}, which is not in classes_ {classes}")
    return idx.astype(np.int64)


def unchanged_on_error(method):
    """Decorate a fitting method so that a failed call leaves the estimator as it was.

    The estimator's ``__dict__`` is restored when the call raises (fitted
    attributes that scikit-learn's ``validate_data`` sets early included).
    Learners held in it are replaced, never modified in place, by the
    methods that use this, so a shallow copy is enough.
    """
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        saved = dict(self.__dict__)
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    return wrapper


def partial_fit_classes(estimator, classes, first: bool, min_classes: int = 1) -> np.ndarray:
    """The classes of a ``partial_fit`` call: required by the first call, fixed after it."""
    if first:
        if classes is None:
            raise ValueError("classes must be given on the first call to partial_fit")
        classes = np.unique(np.asarray(classes))
        if classes.size < min_classes:
            raise ValueError(f"classes must hold at least {min_classes} classes")
        return classes
    if classes is not None and not np.array_equal(np.unique(classes), estimator.classes_):
        raise ValueError(
            f"classes {classes} differ from those of the first partial_fit call {estimator.classes_}"
        )
    return estimator.classes_
