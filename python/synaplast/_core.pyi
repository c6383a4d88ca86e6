"""Type stubs of the Rust extension ``synaplast._core`` (the thin PyO3 layer).

The public, validated API is in :mod:`synaplast.synapses`; these functions
expect C-contiguous arrays of exactly the dtypes below.
"""

from collections.abc import Callable
from typing import Literal, NotRequired, TypeAlias, TypedDict, final, type_check_only

import numpy as np
import numpy.typing as npt

__all__ = [
    "__version__",
    "build_profile",
    "simd",
    "SynapseMatrix",
    "AssocStore",
    "LeanStore",
    "EPropNetwork",
    "StructuralNet",
    "kwta_mask",
    "CompetitiveMlp",
    "set_num_threads",
    "get_num_threads",
]

__version__: str
build_profile: str
simd: str

_F32: TypeAlias = npt.NDArray[np.float32]
_I64: TypeAlias = npt.NDArray[np.int64]

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def kwta_mask(x: _F32, k: int) -> npt.NDArray[np.uint8]: ...

@final
class SynapseMatrix:
    def __new__(cls, n_post: int, n_pre: int, binary: bool = False) -> SynapseMatrix: ...
    @staticmethod
    def from_dense(dense: _F32, binary: bool = False) -> SynapseMatrix: ...
    @staticmethod
    def from_coo(
        n_post: int,
        n_pre: int,
        post: _I64,
        pre: _I64,
        weights: _F32 | None = None,
        binary: bool = False,
    ) -> SynapseMatrix: ...
    @staticmethod
    def from_csr(
        n_post: int,
        n_pre: int,
        indptr: _I64,
        indices: _I64,
        weights: _F32 | None = None,
        binary: bool = False,
    ) -> SynapseMatrix: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def nnz(self) -> int: ...
    @property
    def binary(self) -> bool: ...
    @property
    def density(self) -> float: ...
    @property
    def indptr(self) -> _I64: ...
    @property
    def indices(self) -> npt.NDArray[np.uint32]: ...
    @property
    def weights(self) -> _F32 | None: ...
    @property
    def counters(self) -> tuple[int, float, int, int]: ...
    def memory_bytes(self) -> int: ...
    def set_weights(self, weights: _F32) -> None: ...
    def to_dense(self) -> _F32: ...
    def row_sums(self) -> _F32: ...
    def row_counts(self) -> _I64: ...
    def check_invariants(self) -> None: ...
    def copy(self) -> SynapseMatrix: ...
    def forward(self, x: _F32) -> _F32: ...
    def backward(self, g: _F32) -> _F32: ...
    def prune_below(self, threshold: float) -> int: ...
    def prune_weakest(self, fraction: float) -> int: ...
    def prune_mask(self, mask: npt.NDArray[np.bool_]) -> int: ...
    def grow(
        self,
        post: _I64,
        pre: _I64,
        weights: _F32 | None = None,
        init: tuple[float, float] = ...,
        seed: int = 0,
    ) -> int: ...
    def grow_random(self, per_row: int, init: tuple[float, float] = ..., seed: int = 0) -> int: ...
    def apply_delta(
        self, delta: _F32, w_min: float = ..., w_max: float = ...
    ) -> tuple[int, float]: ...
    def hebbian_update(
        self, post: _F32, pre: _F32, rate: float, w_min: float = ..., w_max: float = ...
    ) -> tuple[int, float]: ...
    def minimal_energy_from(self, initial: SynapseMatrix) -> tuple[int, float]: ...
    def reset_counters(self) -> None: ...
    def __reduce__(self) -> tuple[object, tuple[bytes]]: ...
    @classmethod
    def _from_state(cls, state: bytes) -> SynapseMatrix: ...

# --- associative memory (synaplast_core::memory; API in synaplast.associative / synaplast.memory)

@type_check_only
class StoreConfig(TypedDict, total=False):
    """``synaplast_core::memory::StoreConfig`` (``m`` and ``n`` required)."""

    m: int
    n: int
    binary: bool
    auto: bool

@type_check_only
class RetrieveParams(TypedDict, total=False):
    """``synaplast_core::memory::RetrieveParams`` (``rule`` and ``retrieval`` required)."""

    rule: Literal["willshaw", "bayes", "bcpnn", "covariance", "hebb", "hopfield"]
    retrieval: Literal["threshold", "wta", "hypercolumn"]
    threshold: float | None
    winners: int
    n_hypercolumns: int
    n_iter: int
    adaptive: bool
    anchor: bool
    p01: float
    p10: float

@final
class AssocStore:
    def __new__(cls, config: StoreConfig) -> AssocStore: ...
    def store(self, u_indptr: _I64, u_indices: _I64, v_indptr: _I64, v_indices: _I64) -> None: ...
    def store_columns(
        self,
        u_indptr: _I64,
        u_indices: _I64,
        v_indptr: _I64,
        v_indices: _I64,
        lo: int,
        hi: int,
    ) -> None: ...
    def merge(self, other: AssocStore) -> None: ...
    def copy(self) -> AssocStore: ...
    def compress(self) -> bool: ...
    def retrieve(
        self, q_indptr: _I64, q_indices: _I64, params: RetrieveParams
    ) -> tuple[_I64, _I64, npt.NDArray[np.uint32], int]: ...
    def potentials(
        self, q_indptr: _I64, q_indices: _I64, params: RetrieveParams
    ) -> npt.NDArray[np.float64]: ...
    def added_potentials(
        self,
        q_indptr: _I64,
        q_indices: _I64,
        s_indptr: _I64,
        s_indices: _I64,
        p01: float,
        p10: float,
    ) -> npt.NDArray[np.float64]: ...
    def check_retrieval(self, params: RetrieveParams) -> None: ...
    @property
    def mean_activity(self) -> float: ...
    @staticmethod
    def next_states(
        x: npt.NDArray[np.float64],
        state_lens: _I64,
        q_indptr: _I64,
        q_indices: _I64,
        noise: npt.NDArray[np.float64],
        params: RetrieveParams,
        mean_activity: float,
    ) -> tuple[_I64, _I64, npt.NDArray[np.float64]]: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def binary(self) -> bool: ...
    @property
    def auto(self) -> bool: ...
    @property
    def inverted(self) -> bool: ...
    @property
    def n_pairs(self) -> int: ...
    @property
    def nonsilent(self) -> int: ...
    @property
    def stored_entries(self) -> int: ...
    @property
    def p1(self) -> float: ...
    def memory_bytes(self) -> int: ...
    @property
    def address_counts(self) -> npt.NDArray[np.uint64]: ...
    @property
    def content_counts(self) -> npt.NDArray[np.uint64]: ...
    @property
    def counters(self) -> dict[str, float]: ...
    def m11_dense(self) -> npt.NDArray[np.uint32]: ...
    def __reduce__(self) -> tuple[object, tuple[bytes]]: ...
    @classmethod
    def _from_state(cls, state: bytes) -> AssocStore: ...

@final
class LeanStore:
    """A lean column shard of a Willshaw memory (rust/python/src/lean.rs)."""

    def __new__(cls, config: StoreConfig, lo: int, hi: int) -> LeanStore: ...
    def store(self, u_indptr: _I64, u_indices: _I64, v_indptr: _I64, v_indices: _I64) -> None: ...
    def flush(self) -> None: ...
    def copy(self) -> LeanStore: ...
    def check_retrieval(self, params: RetrieveParams) -> None: ...
    def potentials(
        self, q_indptr: _I64, q_indices: _I64, params: RetrieveParams
    ) -> npt.NDArray[np.float64]: ...
    def select(
        self, q_indptr: _I64, q_indices: _I64, params: RetrieveParams
    ) -> tuple[_I64, _I64, npt.NDArray[np.float64]]: ...
    @property
    def shape(self) -> tuple[int, int]: ...
    @property
    def columns(self) -> tuple[int, int]: ...
    @property
    def binary(self) -> bool: ...
    @property
    def auto(self) -> bool: ...
    @property
    def inverted(self) -> bool: ...
    @property
    def n_pairs(self) -> int: ...
    @property
    def nonsilent(self) -> int: ...
    @property
    def stored_entries(self) -> int: ...
    @property
    def pending_entries(self) -> int: ...
    @property
    def p1(self) -> float: ...
    def memory_bytes(self) -> int: ...
    @property
    def mean_activity(self) -> float: ...
    @property
    def address_counts(self) -> npt.NDArray[np.uint64]: ...
    @property
    def content_counts(self) -> npt.NDArray[np.uint64]: ...
    @property
    def counters(self) -> dict[str, float]: ...

# ---- competitive plasticity (rust/python/src/competitive.rs) ----

@type_check_only
class Caching(TypedDict):
    decay: float
    maintenance_cost: float
    threshold: float

@type_check_only
class CompetitiveConfig(TypedDict):
    """``synaplast_core::competitive::Config``."""

    sizes: list[int]
    activation: Literal["leaky_relu", "relu", "sigmoid", "logistic"]
    leaky_slope: float
    output: Literal["linear", "softmax"]
    learning_rate: float
    init_std: float
    fractions: list[float]
    selection: Literal["layer", "neuron"]
    plastic_units: int | None
    path_mode: Literal["fixed", "error"]
    caching: Caching | None
    batch_size: int
    error_clip: float

@type_check_only
class Schedule(TypedDict):
    """``synaplast_core::competitive::Schedule``."""

    sampling: Literal["replacement", "shuffle"]
    max_samples: int
    eval_every: int
    target_accuracy: float | None
    seed: int

@type_check_only
class Checkpoint(TypedDict):
    samples: int
    accuracy: float
    writes: int
    abs_change: float
    min_writes: int
    min_abs_change: float

@type_check_only
class TrainOutcome(TypedDict):
    samples: int
    reached: bool
    history: list[Checkpoint]

@type_check_only
class LayerEnergy(TypedDict):
    writes: int
    abs_change: float
    consolidation_writes: int
    consolidation_energy: float
    maintenance_energy: float
    consolidations: int

@final
class CompetitiveMlp:
    def __new__(cls, config: CompetitiveConfig, seed: int) -> CompetitiveMlp: ...
    def train(
        self, x: _F32, y: _I64, schedule: Schedule, eval_set: tuple[_F32, _I64] | None = None
    ) -> TrainOutcome: ...
    def forward(self, x: _F32) -> _F32: ...
    def accuracy(self, x: _F32, y: _I64) -> float: ...
    def consolidate_all(self) -> None: ...
    def weights(self) -> list[_F32]: ...
    def initial_weights(self) -> list[_F32]: ...
    def long_weights(self) -> list[_F32 | None]: ...
    def short_weights(self) -> list[_F32 | None]: ...
    def energy(self) -> list[LayerEnergy]: ...
    def minimal_energy(self) -> list[tuple[int, float]]: ...
    def paths(self) -> list[npt.NDArray[np.bool_]]: ...
    @property
    def samples_seen(self) -> int: ...
    def copy(self) -> CompetitiveMlp: ...
    def __reduce__(self) -> tuple[object, tuple[bytes]]: ...
    @classmethod
    def _from_state(cls, state: bytes) -> CompetitiveMlp: ...

# ---- e-prop (rust/python/src/eprop.rs) ----

@type_check_only
class EPropConfig(TypedDict, total=False):
    """``synaplast_core::eprop::Config``; missing keys take the core defaults."""

    n_in: int
    n_rec: int
    n_out: int
    dt: float
    tau_m: float
    tau_out: float
    v_th: float
    v_min: float
    t_ref: int
    adapt_beta: float
    adapt_tau: float
    surrogate: Literal[
        "piecewise_linear", "exponential", "fast_sigmoid_derivative", "arctan_derivative"
    ]
    surrogate_height: float
    surrogate_width: float
    kappa: float
    kappa_reg: float
    c_reg: float
    f_target: float
    loss: Literal["mse", "cross_entropy"]
    optimizer: Literal["gradient_descent", "adam"]
    adam_beta1: float
    adam_beta2: float
    adam_epsilon: float
    eta: float
    w_min: float
    w_max: float
    cutoff: int | None
    nest_compatible: bool
    event_driven: bool
    update_at_spike: bool
    reset_each_sequence: bool
    symmetric_feedback: bool

@type_check_only
class Connectivity(TypedDict, total=False):
    """``synaplast_core::eprop::Connectivity``."""

    p_in: float
    p_rec: float
    input_scale: float
    recurrent_scale: float
    readout_scale: float
    feedback_scale: float
    dale: float | None
    symmetric_init: bool

@type_check_only
class RunOptions(TypedDict, total=False):
    learn: bool
    batch_size: int
    record_y: bool
    record_raster: bool

@type_check_only
class EPropStats(TypedDict):
    events: int
    trace_updates: int
    optimizer_calls: int
    spikes: int
    steps: int
    peak_archive_steps: int

@final
class EPropNetwork:
    """Recurrent spiking network learning with e-prop (synapse rows = presynaptic neurons)."""

    def __new__(
        cls, config: EPropConfig, connectivity: Connectivity, seed: int = 0
    ) -> EPropNetwork: ...
    @staticmethod
    def from_weights(
        config: EPropConfig,
        synapses: SynapseMatrix,
        w_out: _F32,
        feedback: _F32,
        sign: npt.NDArray[np.int8] | None = None,
    ) -> EPropNetwork: ...
    @staticmethod
    def random_partition(
        config: EPropConfig, connectivity: Connectivity, seed: int, lo: int, hi: int
    ) -> tuple[EPropNetwork, npt.NDArray[np.int64]]: ...
    def run(
        self,
        x: npt.NDArray[np.uint8],
        target: _F32,
        mask: _F32,
        options: RunOptions | None = None,
        exchange: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]] | None = None,
    ) -> dict[str, np.ndarray]: ...
    def partition(self, lo: int, hi: int) -> tuple[EPropNetwork, npt.NDArray[np.int64]]: ...
    def state_bytes(self) -> bytes: ...
    def absorb(
        self, local: EPropNetwork, parts: list[tuple[bytes, npt.NDArray[np.int64]]]
    ) -> None: ...
    def absorb_stats(self, parts: list[EPropStats]) -> None: ...
    def take_stats(self) -> EPropStats: ...
    def neurons(self) -> tuple[int, int]: ...
    def synapses(self) -> SynapseMatrix: ...
    def w_out(self) -> _F32: ...
    def feedback(self) -> _F32: ...
    def sign(self) -> npt.NDArray[np.int8]: ...
    def set_weights(self, weights: _F32, w_out: _F32) -> None: ...
    def copy(self) -> EPropNetwork: ...
    def reset_state(self) -> None: ...
    def stats(self) -> EPropStats: ...
    def counters(self) -> tuple[tuple[int, float], tuple[int, float]]: ...
    def memory(self) -> dict[str, int]: ...
    def __reduce__(self) -> tuple[object, tuple[bytes]]: ...
    @classmethod
    def _from_state(cls, state: bytes) -> EPropNetwork: ...

# ---- structural-plasticity classifier (rust/python/src/structural_classifier.rs) ----

@type_check_only
class StructuralConfig(TypedDict):
    """``synaplast_core::structural_classifier::Config``."""

    n_in: int
    n_hidden: int
    n_classes: int
    init_per_unit: int
    init_weights: tuple[float, float]
    direct: NotRequired[bool]

@type_check_only
class HiddenParams(TypedDict):
    """``synaplast_core::structural_classifier::HiddenParams``."""

    n_winners: int
    learning_rate: float
    homeostasis_rate: float
    competition_rate: float
    target_activity: float
    w_max: float
    w_consolidate: float | None
    inhibition_rate: float
    weight_dependence: NotRequired[Literal["additive", "multiplicative"]]

@type_check_only
class Pruning(TypedDict):
    silent_threshold: float
    max_per_unit: int

@type_check_only
class Growing(TypedDict):
    n_grow: int
    growth: Literal["random", "coactivity"]
    init_weights: tuple[float, float]
    seed: int

@type_check_only
class ReadoutStep(TypedDict):
    rate: float
    batch_size: int
    l2: float

@type_check_only
class ReadoutSchedule(TypedDict):
    rates: list[float]
    batch_size: int
    l2: float
    tol: float
    n_iter_no_change: int
    seed: int
    average_from: NotRequired[int | None]

@final
class StructuralNet:
    def __new__(cls, config: StructuralConfig, seed: int) -> StructuralNet: ...
    @property
    def n_in(self) -> int: ...
    @property
    def n_hidden(self) -> int: ...
    @property
    def n_classes(self) -> int: ...
    @property
    def hidden(self) -> SynapseMatrix: ...
    @property
    def theta(self) -> _F32: ...
    @property
    def beta(self) -> _F32: ...
    @property
    def readout(self) -> _F32: ...
    @property
    def readout_bias(self) -> _F32: ...
    @property
    def readout_counters(self) -> tuple[int, float]: ...
    def set_inhibition(self, n_inhibitory: int, seed: int) -> None: ...
    def settle_thresholds(self, x: _F32, rho: float) -> None: ...
    @property
    def n_inhibitory(self) -> int: ...
    @property
    def e_to_i(self) -> _F32 | None: ...
    @property
    def i_to_e(self) -> _F32 | None: ...
    @property
    def inhibition_counters(self) -> tuple[int, float]: ...
    def reset_readout(self, n_classes: int) -> None: ...
    @property
    def roles(self) -> npt.NDArray[np.uint8]: ...
    def reserve_units(self, n: int) -> int: ...
    def recruit(
        self, n: int, per_unit: int, init_weights: tuple[float, float], seed: int
    ) -> int: ...
    def consolidate(self, silent_threshold: float, max_per_unit: int) -> int: ...
    @property
    def trace(self) -> _F32: ...
    def hidden_epoch(
        self,
        x: _F32,
        order: _I64,
        params: HiddenParams,
        batch_size: int,
        track_coactivity: bool = False,
    ) -> tuple[npt.NDArray[np.uint64], float]: ...
    def prune(self, pruning: Pruning) -> int: ...
    def grow(self, growing: Growing) -> int: ...
    def readout_epoch(self, x: _F32, labels: _I64, order: _I64, step: ReadoutStep) -> float: ...
    def readout_fit(
        self, x: _F32, labels: _I64, schedule: ReadoutSchedule
    ) -> tuple[list[float], bool]: ...
    def readout_fit_translated(
        self,
        x: _F32,
        labels: _I64,
        schedule: ReadoutSchedule,
        prototypes: _F32,
        absent: _I64,
        weight: float,
    ) -> tuple[list[float], bool]: ...
    def class_sums(
        self, x: _F32, labels: _I64
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64]]: ...
    def transform(self, x: _F32) -> _F32: ...
    def predict_proba(self, x: _F32) -> _F32: ...
    def copy(self) -> StructuralNet: ...
    def __reduce__(self) -> tuple[object, tuple[bytes]]: ...
    @classmethod
    def _from_state(cls, state: bytes) -> StructuralNet: ...
