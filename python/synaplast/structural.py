"""Structural-plasticity classifier: competitive excitatory Hebbian learning
that keeps only the essential synapses.

One hidden layer of excitatory units with non-negative input synapses held in
a sparse :class:`~synaplast.SynapseMatrix`, learned without any error signal
(Stricker/Inoue, Röhrbein & Knoblauch 2026, arXiv 2603.00588 and 2603.03234),
and a readout learned by a local delta rule. The published papers do not
state the update equations; the design below is ours.

Input stage
-----------
Excitatory synapses can only add up non-negative rates, so real-valued
features first pass an ON/OFF stage, as light does in the retina
(:class:`~synaplast.encoding.OnOffEncoder`): each feature becomes an ON rate
``clip((x − c)/a, 0, 1)`` and an OFF rate ``clip((c − x)/b, 0, 1)`` around its
training median ``c`` (``a``, ``b``: the training range above and below it;
channels with no range are dropped). Pixel intensities in ``[0, 1]``, whose
median is 0 almost everywhere, keep their ON channel; values outside the
training range saturate instead of failing. ``encoding="none"`` feeds ``X``
as given (non-negative rates).

Size from the synapse budget
----------------------------
``max_synapses`` is the one knob of the model's size. With
``n_hidden="auto"`` every unit keeps 2 synapses and the layer has
``max_synapses // 2`` units (no more than training samples): a linear
readout separates classes better on many narrow conjunction detectors than
on few broad templates for the same number of synapses (on MNIST, 50,000
synapses: 25,000 units × 2 give 97.7 %, 10,000 × 5 give 97.5 %, and
2,000 × 25 fewer still).

Hidden layer (Rust kernels, rayon-parallel, deterministic for any thread count)
-------------------------------------------------------------------------------
For a mini-batch of inputs ``x_b`` (non-negative rates, e.g. pixels in [0, 1]):

* drive ``u_bi = Σ_j w_ij x_bj − θ_i``; activity ``h_bi = f(u_bi)`` with
  ``f(u) = 2σ(u) − 1`` for ``u ≥ 0`` and 0 below;
* **competition (k-WTA)**: the ``n_winners`` largest normalised similarities
  ``s_bi = Σ_j w_ij x_bj / ‖w_i‖₂ − β_i`` win (the norm makes weak, still
  unspecialised units competitive with strong ones); the
  post signal of the competitive circuit is ``y_bi = 1`` for winners, 0
  else. ``β_i`` is a competitive homeostatic bias (DeSieno's "conscience"),
  ``β_i += η_β (wins_i / B − k / n_hidden)``, so every unit wins about equally
  often and none stays a dead unit;
* **Hebbian rule with postsynaptically gated decay** (instar / competitive
  learning) on existing synapses only:
  ``Δw_ij = η Σ_b y_bi (x_bj − w_ij)``, clamped to ``[0, w_max]``. Weights
  never become negative; a synapse whose input is usually silent when its
  unit wins decays to zero and falls silent. With
  ``weight_dependence="multiplicative"`` the change is proportional to the
  weight, ``Δw_ij = η w_ij Σ_b y_bi (x_bj − w_ij)`` (``Δ ln w ≈ η (x − w)``
  per win): spines grow and shrink in proportion to their size (Matsuzaki
  et al. 2004; Loewenstein, Kuras & Rumpel 2011), so a weight is a product
  of per-win factors and its logarithm a sum (the multiplicative-dynamics
  account of lognormal spine sizes; compare the weight-dependent rules of
  van Rossum, Bi & Turrigiano 2000 and Gütig et al. 2003). The fixed point
  ``w = E[x | win]`` and the soft bound are those of the additive rule, so
  where that fixed point is nearly the same for every surviving synapse
  (two-pixel units on MNIST strokes) no lognormal emerges either way: the
  measured distances are in ``benches/RESULTS.md``;
* **homeostatic threshold**: ``θ_i += η_θ (mean_b 1[u_bi > 0] − ρ)`` drives
  every unit toward the target activity ``ρ`` (``target_activity``); after
  the last structural step each threshold is set to the fixed point of
  this rule on up to 2,000 training samples, where the unit is active on
  a fraction ``ρ`` of them, since pruning changes a unit's drive at once
  while ``θ`` follows slowly (without this, units of a small layer ended
  silent);
* **structural plasticity** (potential synapses, Knoblauch et al. 2014), once
  per epoch: silent synapses (``w < silent_threshold``) are pruned from
  storage; each unit keeps at most its synapse budget (the strongest
  synapses; the budget shrinks linearly from the initial count to
  ``max_synapses / n_hidden`` over the first ``max_iter − 1`` epochs); then
  ``n_grow`` new synapses per unit grow at candidate positions, either where
  the pre/post co-activity trace ``Σ y_bi x_bj`` of the last epoch is largest
  (``growth="coactivity"``) or at random (``growth="random"``), with small
  weights; they survive the next pruning only if Hebbian learning makes them
  strong. After the last epoch the network is pruned without regrowth, so
  the number of non-silent synapses is at most the budget and is recorded per
  epoch in ``synapse_history_``;
* **consolidation** (optional): synapses whose weight reaches
  ``consolidation_threshold`` are established: they are frozen (no further
  writes, saving energy) and, being strongest, survive budget pruning.

Inhibitory population (optional, ``n_inhibitory > 0``; Dale's law)
------------------------------------------------------------------
``n_inhibitory`` inhibitory units pool the excitatory layer through fixed
weights ``A ≥ 0`` (uniform in ``[0.5, 1.5) / n_hidden``) and inhibit it
through plastic weights ``−G ≤ 0``, so every neuron's outgoing weights share
one sign. Per sample, one pass around the E→I→E loop: feedforward activity
``h⁰ = f(W x − θ)``, inhibitory rates ``r = A h⁰``, inhibited drive
``u = W x − θ − G r`` and activity ``h = f(u)`` (the code the readout sees
and the homeostasis counts). ``G`` learns by the rate form of the inhibitory
plasticity of Vogels et al. (2011), ``ΔG_im = η_I · mean_b r_bm (1[u_bi > 0]
− ρ)``, clamped at 0: inhibition onto a unit grows while it is active more
often than the target fraction ``ρ``. This is input-specific feedback
inhibition on top of the k-WTA learning signal (which still uses the
feedforward similarity).

Readout
-------
A softmax layer trained by the **delta rule** in its covariance form,
``ΔV_kj = η (t_k − p_k)(h_j − m_j) − η λ V_kj``: each readout synapse
changes by its output unit's error times its presynaptic activity relative
to that unit's mean activity ``m_j`` (estimated on up to 8,192 training
samples), a local rule (Sejnowski 1977). Every hidden activity is ``≥ 0``,
so without the mean all synapses share one large common component and
gradient steps zig-zag along it (LeCun et al. 1998); centred, the readout
takes twice the rate and converges in fewer epochs (on MNIST 4 instead of
6; with a weight decay of 1e-4, 97.77 % instead of 97.66 % over three
seeds). The logits stay ``z = c + V h``: the mean enters through
the bias, so the code stays sparse. The rule has a **dead zone**: a sample
whose every output error ``|t_k − p_k|`` is below ``10⁻³`` changes no
synapse (late in learning most samples are learned, and the update then
runs over the few that are not; on MNIST at the same accuracy). With
``direct_input=True`` the readout's presynaptic units are the hidden units
*and* the encoded inputs (a direct pathway beside the hidden layer): what a
single feature tells goes straight to the output units, and the hidden
units only have to add the conjunctions; on tabular data with a few dozen
features this is worth 3-7 points. From the second readout epoch on, the
readout keeps the running mean of its weights over the batches of each
epoch and ends as the mean over its last epoch (tail averaging, after
Polyak–Ruppert): the noise of the late stochastic steps averages out,
without the distant early weights. We use the delta rule
rather than the paper's Hebbian-plus-weight-perturbation readout because
weight perturbation estimates the same gradient with a variance that grows
with the number of readout weights, needing many more presentations for the
same accuracy. No error reaches the hidden layer.

Continual learning: reserved capacity (``partial_fit`` on new classes)
--------------------------------------------------------------------
In a class-incremental stream (each batch brings classes not seen before,
no old data replayed, no task label at test time) the layer keeps room for
what is to come and protects what it learned:

* **reserve**: when the first ``partial_fit`` batch holds only some of the
  declared ``classes``, only their share of the units learns
  (``ceil(n_hidden × n_present / n_classes)``); the others are held in
  reserve, without synapses and silent (their threshold is 0 and
  ``f(0) = 0``), so the budget they would hold stays free;
* **consolidation**: when new classes arrive, every unit that learned so
  far keeps its strongest synapses within the per-unit budget and is
  frozen: it never competes or learns again and keeps its threshold, but
  still codes every input, so the old classes' code stays as it was;
* **recruitment**: reserve units in proportion to the new classes' share of
  the classes not seen yet grow random initial synapses and learn from the
  new classes, with their own budget schedule (as in ``fit``);
* **readout**: the delta rule on new classes alone would push every old
  class's output unit down wherever the new inputs are active (the
  softmax error of an absent class is ``−p``), erasing it. The readout
  therefore keeps one prototype per class, the mean ``μ_k`` of its input
  in the last batch that held the class (an outstar trace, written only by
  that class's samples),
  and every sample ``h`` of a present class ``c`` also counts, translated
  to ``h − μ_c + μ_k`` and weighted ``1 / n_present``, as a sample of each
  seen class ``k`` missing from the batch (feature translation, Petit et
  al. 2023, FeTrIL). The old classes' output units thus keep learning to be
  told from the new ones without a stored sample. The logits of a
  translated sample are those of its source plus ``V(μ_k − μ_c)``, so the
  translations cost little more than the samples;
* **replay**: a prototype cannot say how units recruited after class ``k``
  was last seen respond to it (the batch mean stands in). The stream
  therefore also keeps a small generative model of every class's inputs
  (a few clusters, each a mean and its leading principal directions:
  statistics, no samples; :mod:`synaplast.replay`), and each batch's
  readout also learns from pseudo-inputs of the missing classes drawn
  from them and passed through the current hidden layer, as many per
  class as a present class has. On split MNIST (first 10,000 images) the
  final 10-class accuracy rises from 79 % (translation alone) to 90 %;
  replay alone gives 89.5 %. Neither reaches the hidden layer, whose
  learning sees only real inputs.

A stream whose first batch holds every class (the usual ``partial_fit``
over shuffled data) reserves nothing and learns as before; ``reserve_``
reports units and synapses used and free.

Few-shot learning: unlabelled pretraining
-----------------------------------------
The hidden layer never uses labels, so :meth:`pretrain` learns it (and the
input stage) from unlabelled data, and :meth:`fit_readout` then trains a
readout on a few labelled samples, the hidden layer unchanged.

Speed
-----
The hidden layer is fixed while the readout learns, and its code is sparse
(a unit is active on about ``target_activity`` of the inputs), so the code
of the training set is computed once and stored as compressed rows of
4 bytes per entry, a 16-bit unit index and the activity in bfloat16 (8
significant bits: the epochs stream the code from memory, and the rounding
is far below the noise of the delta rule; predictions use the exact
activities); every
readout product then runs over the active units only (hidden-major readout
rows padded to vector lanes), and each batch's weight change is accumulated
unit by unit in batch order. Pixel-like inputs are mostly zero, so the
hidden drive scatters the non-zero inputs along their outgoing synapses
(bit-identical to the blocked sparse product, which is used for dense
inputs). Readout learning stops early once its training loss stalls
(``readout_tol``).
"""

from __future__ import annotations

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import TransformerTags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from synaplast import _core
from synaplast._progress import Progress
from synaplast._validation import (
    encode_labels,
    partial_fit_classes,
    seed_from,
    unchanged_on_error,
)
from synaplast.encoding import OnOffEncoder
from synaplast.energy import CapacityReport, EnergyReport, synaptic_ops
from synaplast.replay import InputReplay
from synaplast.synapses import SynapseMatrix

__all__ = ["StructuralPlasticityClassifier"]

_W_INIT = (0.01, 0.1)  # initial weights, as in the paper
# The readout's weights are averaged over each epoch from this one on (None: off).
_READOUT_AVERAGE_FROM = 1
# n_hidden="auto": synapses per unit, and the fewest units whatever the data.
_AUTO_SYNAPSES_PER_UNIT = 2
_AUTO_MIN_UNITS = 100
# n_winners="auto": winners per sample, and at most one per this many units.
_AUTO_WINNERS = 4
_UNITS_PER_WINNER = 50


def _n_check(n_hidden):
    """Samples whose dense hidden drive is held at once for settling and for
    the degenerate-fit check: 2,000, fewer for layers over 62,500 units
    (their drives stay under about 500 MB)."""
    return int(min(2000, max(200, 125_000_000 // max(1, n_hidden))))


def _subsample(n, n_keep, seed):
    """Sorted indices of ``n_keep`` of ``n`` rows drawn with ``seed`` (all
    of them, as a slice, when there are no more than ``n_keep``)."""
    if n <= n_keep:
        return slice(None)
    rng = np.random.RandomState(seed % (2**32))
    return np.sort(rng.choice(n, n_keep, replace=False))


def _auto_batch_size(n_samples):
    """``batch_size="auto"``: 1 % of the samples, within [10, 100], so that
    small data sets still get about a hundred updates per epoch."""
    return int(min(100, max(10, n_samples // 100)))


# Roles of hidden units in the core (``StructuralNet.roles``).
_PLASTIC, _CONSOLIDATED, _RESERVE = 0, 1, 2


class _Stream:
    """Bookkeeping of a class-incremental ``partial_fit`` stream.

    Which classes were seen and in which generation (a generation starts
    whenever new classes recruit reserve units), the generation in which
    every unit was recruited, the plastic units' epochs since recruitment
    (``age``), and per class the sum and count of the readout's input in
    the last batch that held it, whose ratio is the class prototype, and
    the generative model of its inputs in that batch (``replay``).
    """

    def __init__(self, n_classes, n_hidden, width):
        self.seen = np.zeros(n_classes, dtype=bool)
        self.class_generation = np.full(n_classes, -1, dtype=np.int64)
        self.unit_generation = np.zeros(n_hidden, dtype=np.int64)
        self.generation = 0
        self.age = 0
        self.sums = np.zeros((n_classes, width))
        self.counts = np.zeros(n_classes, dtype=np.int64)
        self.replay = InputReplay()

    def copy(self):
        other = _Stream.__new__(_Stream)
        other.__dict__ = {
            k: v.copy() if isinstance(v, np.ndarray | InputReplay) else v
            for k, v in self.__dict__.items()
        }
        # (a stream pickled before replay existed starts with no class models)
        other.__dict__.setdefault("replay", InputReplay())
        return other

    @classmethod
    def start(cls, net, p, n_classes, present):
        """The stream of a new network whose first batch holds the classes
        ``present`` of ``n_classes``: the units beyond the present classes'
        share go in reserve."""
        stream = cls(n_classes, net.n_hidden, net.n_hidden + (net.n_in if p["direct"] else 0))
        n_active = int(np.ceil(net.n_hidden * present.size / n_classes))
        if n_active < net.n_hidden:
            net.reserve_units(net.n_hidden - n_active)
            stream.unit_generation[net.roles == _RESERVE] = -1
        stream.seen[present] = True
        stream.class_generation[present] = 0
        return stream

    @classmethod
    def seen_all(cls, net, p, n_classes):
        """The stream of a network fitted on every class (no prototypes yet)."""
        stream = cls(n_classes, net.n_hidden, net.n_hidden + (net.n_in if p["direct"] else 0))
        stream.seen[:] = True
        stream.class_generation[:] = 0
        return stream

    def admit(self, net, p, present, seed):
        """Consolidate the units learned so far and recruit reserve units
        when ``present`` brings classes never seen, in proportion to their
        share of the unseen classes. Returns whether units were recruited."""
        new = present[~self.seen[present]]
        if new.size == 0:
            return False
        n_reserve = int(np.count_nonzero(net.roles == _RESERVE))
        n_unseen = int(np.count_nonzero(~self.seen))
        self.seen[new] = True
        if n_reserve == 0:  # no capacity left: the plastic units go on learning
            self.class_generation[new] = self.generation
            return False
        n_recruit = n_reserve
        if new.size < n_unseen:
            n_recruit = max(1, int(np.ceil(n_reserve * new.size / n_unseen)))
        net.consolidate(p["silent"], p["per_unit"])
        net.recruit(n_recruit, p["init"], _W_INIT, seed)
        self.generation += 1
        self.unit_generation[net.roles == _PLASTIC] = self.generation
        self.class_generation[new] = self.generation
        self.age = 0
        return True

    def translation(self, net, present, sums, counts):
        """``(prototypes, absent, weight)`` for the readout when classes
        seen before are missing from the batch (``None`` when none is).
        ``prototypes`` are the class means of the readout input (the
        present classes' in this batch); on units recruited after a
        class was last seen (whose response to it is unknown) the batch
        mean stands in, so these units carry no evidence for or against
        it. Every sample is translated to each absent class with weight
        ``1 / n_present``: each absent class weighs as much as a present
        one."""
        absent = np.setdiff1d(np.flatnonzero(self.seen & (self.counts > 0)), present)
        if absent.size == 0:
            return None
        total = self.sums.copy()
        n = self.counts.astype(float)
        total[present] = sums[present]
        n[present] = counts[present]
        proto = total / np.maximum(n, 1)[:, None]
        batch_mean = sums.sum(axis=0) / max(1, int(counts.sum()))
        nh = net.n_hidden
        for k in absent:
            stale = self.unit_generation > self.class_generation[k]
            proto[k, :nh][stale] = batch_mean[:nh][stale]
        return proto.astype(np.float32), absent.astype(np.int64), 1.0 / max(1, present.size)

    def pseudo_inputs(self, present, counts, seed):
        """Pseudo-inputs ``(R, labels)`` of the seen classes missing from
        the batch, drawn from their input models (:mod:`synaplast.replay`),
        as many per class as the present classes have on average, so each
        old class weighs as much as a new one (``None`` when none is
        missing)."""
        absent = np.setdiff1d(np.flatnonzero(self.seen), present)
        n_per = int(round(counts[present].mean())) if present.size else 0
        return self.replay.draw(absent, n_per, seed)

    def remember(self, present, sums, counts):
        """The present classes' prototypes become their means in this batch:
        the plastic units change from call to call, and a mean over earlier
        calls would describe a code the layer no longer has (on MNIST,
        digits 0-4 then 5-9, averaging over the calls kept less of the
        first task)."""
        for k in present:
            self.sums[k] = sums[k]
            self.counts[k] = counts[k]
            self.class_generation[k] = self.generation


class StructuralPlasticityClassifier(
    ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClassifierMixin, BaseEstimator
):
    """Competitive excitatory Hebbian hidden layer with structural plasticity.

    See the module documentation for the learning rules.

    Parameters
    ----------
    n_hidden : int or "auto", default="auto"
        Hidden (excitatory) units. ``"auto"``: the synapse budget decides,
        ``max_synapses // 2`` units with 2 synapses each (many units with
        few synapses each code more per synapse than few broad ones; see
        the user guide), but no more units than training samples (at least
        100): the budget is an upper bound.
    max_synapses : int or None, default=50_000
        Budget of input→hidden synapses for the whole layer, the one knob of
        the model's size (each unit keeps at most
        ``max(1, max_synapses // n_hidden)``). ``None`` (only with an integer
        ``n_hidden``): no budget, only silent synapses are pruned.
    encoding : {"on_off", "none"}, default="on_off"
        Input stage. ``"on_off"``: every feature becomes an ON and an OFF
        rate around its training median, scaled to ``[0, 1]`` and saturating
        outside the training range (:class:`~synaplast.encoding.OnOffEncoder`),
        so any real-valued data can be used; rate-like features (never
        negative, 0 on at least a tenth of the samples), such as pixel
        intensities, keep their ON channel only and are essentially
        unchanged. ``"none"``: ``X`` is used as given and must hold
        non-negative rates.
    direct_input : bool or "auto", default="auto"
        The readout also sees the encoded input rates (a direct pathway,
        learned by the same delta rule): evidence a feature carries on its
        own goes straight to the output units, and the hidden units code
        the conjunctions. Its synapses are readout synapses, not
        input→hidden ones, and are not counted in ``max_synapses``.
        ``"auto"``: on when the data, not the budget, limit the layer (with
        ``n_hidden="auto"``: the budget pays for two units per training
        sample or more; with a given ``n_hidden``: at least one unit per
        sample), as on small data sets, where it adds several points; off
        otherwise (on MNIST it costs 0.2-0.6 points). ``partial_fit``
        decides on its first batch.
    init_synapses : int or None, default=None
        Random input synapses per unit at the start (potential synapses made
        real). ``None``: all inputs without a budget, else
        ``min(n_channels, 4 × per-unit budget)``.
    n_winners : int or "auto", default="auto"
        Winners of the k-WTA competition per sample (at most the plastic
        units). ``"auto"``: 4, and one per 50 units in layers under 200
        units (where 4 winners would make a fifth of a 20-unit layer learn
        every sample and its units would not specialise). With
        ``max_iter``, it sets how often every unit learns: a unit wins on
        about ``n_winners · max_iter · n_samples / n_hidden`` samples.
        Spreading them over more winners and fewer epochs costs less, since
        each epoch scores every unit on every sample (on MNIST,
        ``n_winners=4, max_iter=2`` gave 97.70 / 97.59 / 97.65 % for seeds
        0 / 1 / 2 in 16 s; ``1, 6`` gave 97.66 / 97.49 / 97.58 % in 25 s).
    learning_rate : float, default=0.05
        Hebbian rate ``η`` (per winning sample).
    homeostasis_rate : float, default=0.05
        Rate ``η_θ`` of the homeostatic thresholds.
    competition_rate : float, default=10.0
        Rate ``η_β`` of the competitive biases that equalise how often each
        unit wins.
    target_activity : float, default=0.3
        Fraction ``ρ`` of inputs on which each unit should be active.
    w_max : float, default=1.0
        Upper bound of the excitatory weights.
    weight_dependence : {"additive", "multiplicative"}, default="additive"
        How the Hebbian change depends on the synapse's weight:
        ``"additive"`` ``Δw = η (x − w)`` per win, ``"multiplicative"``
        ``Δw = η w (x − w)`` (changes proportional to the weight, as for
        spines; same fixed point, see the module documentation).
    silent_threshold : float, default=1e-3
        Synapses below this weight are silent and pruned.
    growth : {"coactivity", "random"}, default="coactivity"
        Where new synapses grow.
    n_grow : int or None, default=None
        New synapses per unit per epoch (``None``: a quarter of the per-unit
        budget, at least 1; 0 disables growth).
    consolidation_threshold : float or None, default=None
        Weight at which a synapse is consolidated (frozen).
    n_inhibitory : int, default=0
        Size of an optional inhibitory population (Dale's law): driven by the
        excitatory hidden units through fixed weights ``>= 0`` and feeding
        inhibition back through plastic weights ``<= 0`` (see the module
        documentation). 0: none, the k-WTA competition and the homeostatic
        thresholds alone shape the code.
    inhibition_rate : float, default=0.01
        Rate ``η_I`` of the inhibitory (I→E) plasticity.
    max_iter : int, default=2
        Epochs of hidden learning (see ``n_winners``).
    readout_max_iter : int, default=200
        Most epochs of readout learning (it usually stops earlier, see
        ``readout_tol``). ``partial_fit`` runs the same schedule on each batch.
    readout_learning_rate : float, default=6.0
        Initial readout rate ``η₀``; epoch ``e`` runs at ``η₀ / (1 + decay·e)``.
    readout_decay : float, default=0.5
        Decay of the readout rate per epoch.
    readout_l2 : float, default=1e-4
        Weight decay of the readout.
    readout_tol : float, default=3e-2
        Readout learning stops early once the mean training cross-entropy of
        an epoch has not fallen below the best so far minus ``readout_tol``
        for ``readout_n_iter_no_change`` consecutive epochs (on MNIST after
        4 epochs: test accuracy no longer rises while the training loss
        still falls).
    readout_n_iter_no_change : int, default=1
        See ``readout_tol``; 0 runs all ``readout_max_iter`` epochs.
    batch_size : int or "auto", default="auto"
        Mini-batch size. ``"auto"``: 1 % of the training samples (of the
        first batch in ``partial_fit``), within ``[10, 100]``, so that small
        data sets still get about a hundred updates per epoch.
    estimate_information : bool, default=False
        Estimate ``I(X;Z)`` with :func:`synaplast.info.mutual_information_vib`
        after ``fit`` (on at most 5,000 training samples) so that
        ``capacity_`` reports ``C_S``; it can also be set later with
        :meth:`estimate_information_`.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial synapses, the sample order and the growth.
    verbose : bool, default=False
        Progress bar over the epochs.

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names of a DataFrame ``X`` (checked against later inputs).
    n_hidden_ : int
        Hidden units (the size ``n_hidden="auto"`` chose).
    encoder_ : OnOffEncoder
        The fitted input stage (with ``encoding="on_off"``).
    synapses_ : SynapseMatrix
        Input→hidden synapses (a copy), over the encoded channels.
    receptive_fields_ : ndarray of shape (n_hidden, n_features)
        The same weights in input space (ON minus OFF channel).
    theta_ : ndarray of shape (n_hidden,)
        Homeostatic thresholds.
    coefs_readout_ : ndarray of shape (n_classes, n_readout_inputs)
        Readout weights from the hidden units, then (with the direct
        pathway) from the encoded inputs: ``n_readout_inputs`` is the number
        of hidden units, plus the number of input channels with the pathway.
    intercept_readout_ : ndarray of shape (n_classes,)
    synapse_history_ : list of int
        Non-silent input→hidden synapses after each epoch (the first entry
        is the initial count).
    n_iter_ : int
        Epochs of hidden learning done (``partial_fit`` calls count one each).
    win_counts_ : ndarray of shape (n_hidden,)
        Competitions won per unit in the last epoch.
    readout_loss_curve_ : list of float
        Mean training cross-entropy of each readout epoch of the last
        ``fit`` (or ``partial_fit`` call).
    energy_ : EnergyReport
    capacity_ : CapacityReport
        Synapses, their memory and ``C_S``; ``details`` also holds the
        ``reserve`` report and ``replay_bytes``, the memory of a
        class-incremental stream's per-class input models.
    fit_time_ : float
        Seconds of the last ``fit``.
    """

    def __init__(
        self,
        n_hidden="auto",
        *,
        max_synapses=50_000,
        encoding="on_off",
        direct_input="auto",
        init_synapses=None,
        n_winners="auto",
        learning_rate=0.05,
        homeostasis_rate=0.05,
        competition_rate=10.0,
        target_activity=0.3,
        w_max=1.0,
        weight_dependence="additive",
        silent_threshold=1e-3,
        growth="coactivity",
        n_grow=None,
        consolidation_threshold=None,
        n_inhibitory=0,
        inhibition_rate=0.01,
        max_iter=2,
        readout_max_iter=200,
        readout_learning_rate=6.0,
        readout_decay=0.5,
        readout_l2=1e-4,
        readout_tol=3e-2,
        readout_n_iter_no_change=1,
        batch_size="auto",
        estimate_information=False,
        random_state=None,
        verbose=False,
    ):
        self.n_hidden = n_hidden
        self.max_synapses = max_synapses
        self.encoding = encoding
        self.direct_input = direct_input
        self.init_synapses = init_synapses
        self.n_winners = n_winners
        self.learning_rate = learning_rate
        self.homeostasis_rate = homeostasis_rate
        self.competition_rate = competition_rate
        self.target_activity = target_activity
        self.w_max = w_max
        self.weight_dependence = weight_dependence
        self.silent_threshold = silent_threshold
        self.growth = growth
        self.n_grow = n_grow
        self.consolidation_threshold = consolidation_threshold
        self.n_inhibitory = n_inhibitory
        self.inhibition_rate = inhibition_rate
        self.max_iter = max_iter
        self.readout_max_iter = readout_max_iter
        self.readout_learning_rate = readout_learning_rate
        self.readout_decay = readout_decay
        self.readout_l2 = readout_l2
        self.readout_tol = readout_tol
        self.readout_n_iter_no_change = readout_n_iter_no_change
        self.batch_size = batch_size
        self.estimate_information = estimate_information
        self.random_state = random_state
        self.verbose = verbose

    # Fitted attributes a pickled model must carry (its network is validated
    # by the core when unpickled).
    _FITTED_STATE = ("classes_", "_p", "n_features_in_", "n_hidden_", "synapse_history_")

    def __setstate__(self, state):
        if isinstance(state, dict) and "_net" in state:
            # A pretrained model has no readout (and no classes) yet.
            required = self._FITTED_STATE[1:] if state.get("_pretrained") else self._FITTED_STATE
            missing = [k for k in required if k not in state]
            if state.get("encoding") != "none" and "encoder_" not in state:
                missing.append("encoder_")
            if missing:
                raise ValueError(f"corrupt pickle of a fitted model: {', '.join(missing)} missing")
        super().__setstate__(state)

    # ----------------------------------------------------------------- tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Without the ON/OFF stage the inputs are excitatory rates: negative
        # values are rejected.
        tags.input_tags.positive_only = self.encoding == "none"
        # ``transform`` gives the hidden code (float32).
        tags.transformer_tags = TransformerTags(preserves_dtype=[])
        return tags

    _parameter_constraints: dict = {
        "n_hidden": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "max_synapses": [Interval(Integral, 1, None, closed="left"), None],
        "encoding": [StrOptions({"on_off", "none"})],
        "direct_input": ["boolean", StrOptions({"auto"})],
        "init_synapses": [Interval(Integral, 1, None, closed="left"), None],
        "n_winners": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
        "learning_rate": [Interval(Real, 0, np.inf, closed="left")],
        "homeostasis_rate": [Interval(Real, 0, np.inf, closed="left")],
        "competition_rate": [Interval(Real, 0, np.inf, closed="left")],
        "target_activity": [Interval(Real, 0, 1, closed="neither")],
        "w_max": [Interval(Real, 0, np.inf, closed="neither")],
        "weight_dependence": [StrOptions({"additive", "multiplicative"})],
        "silent_threshold": [Interval(Real, 0, np.inf, closed="left")],
        "growth": [StrOptions({"coactivity", "random"})],
        "n_grow": [Interval(Integral, 0, None, closed="left"), None],
        "consolidation_threshold": [Interval(Real, 0, np.inf, closed="neither"), None],
        "n_inhibitory": [Interval(Integral, 0, 2**63 - 1, closed="both")],
        "inhibition_rate": [Interval(Real, 0, np.inf, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "readout_max_iter": [Interval(Integral, 0, None, closed="left")],
        "readout_learning_rate": [Interval(Real, 0, np.inf, closed="left")],
        "readout_decay": [Interval(Real, 0, np.inf, closed="left")],
        "readout_l2": [Interval(Real, 0, np.inf, closed="left")],
        "readout_tol": [Interval(Real, 0, np.inf, closed="left")],
        "readout_n_iter_no_change": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, 2**63 - 1, closed="both"), StrOptions({"auto"})],
        "estimate_information": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # ----------------------------------------------------------- validation
    def _params(self, n_channels, n_samples, cap=True):
        """The derived learning parameters (after ``_validate_params``) for
        ``n_channels`` encoded inputs and ``n_samples`` training samples
        (which cap the automatic size unless ``cap`` is false)."""
        if self.max_synapses is None and self.n_hidden == "auto":
            raise ValueError('max_synapses=None (no budget) needs an integer n_hidden, not "auto"')
        if self.n_hidden == "auto":
            per_unit = min(_AUTO_SYNAPSES_PER_UNIT, n_channels)
            budget_units = max(1, int(self.max_synapses) // per_unit)
            n_hidden = budget_units
            if cap:
                # Units that win too rarely learn nothing: with few samples
                # the layer stays below the budget (wider units did worse).
                n_hidden = min(n_hidden, max(_AUTO_MIN_UNITS, n_samples))
        else:
            n_hidden = int(self.n_hidden)
            if self.max_synapses is None:
                per_unit = n_channels
            else:
                per_unit = max(1, min(n_channels, int(self.max_synapses) // n_hidden))
        if self.direct_input == "auto":
            # The data, not the budget, limit the hidden layer when the budget
            # could pay for two units per sample or more: the inputs' own
            # evidence then goes straight to the readout too. (On MNIST, with
            # units enough, the pathway costs 0.2-0.6 points; on small
            # tabular sets it adds 3-7.)
            if self.n_hidden == "auto":
                direct = budget_units >= 2 * n_samples
            else:
                direct = n_hidden >= n_samples
        else:
            direct = bool(self.direct_input)
        if self.init_synapses is None:
            # Four candidates per kept synapse: on MNIST 8x gave the same
            # accuracy (97.59 % against 97.66 % at 4x) for 14 % more time,
            # 2x lost 0.08 points.
            init = n_channels if self.max_synapses is None else min(n_channels, 4 * per_unit)
            init = max(init, per_unit)
        else:
            init = min(int(self.init_synapses), n_channels)
        return {
            "n_hidden": n_hidden,
            "per_unit": per_unit,
            "init": init,
            "n_winners": (
                min(_AUTO_WINNERS, max(1, n_hidden // _UNITS_PER_WINNER))
                if self.n_winners == "auto"
                else int(self.n_winners)
            ),
            "learning_rate": float(self.learning_rate),
            "homeostasis_rate": float(self.homeostasis_rate),
            "competition_rate": float(self.competition_rate),
            "target_activity": float(self.target_activity),
            "w_max": float(self.w_max),
            "weight_dependence": self.weight_dependence,
            "silent": float(self.silent_threshold),
            "n_grow": max(1, per_unit // 4) if self.n_grow is None else int(self.n_grow),
            "consolidate": (
                None
                if self.consolidation_threshold is None
                else float(self.consolidation_threshold)
            ),
            "n_inhibitory": int(self.n_inhibitory),
            "inhibition_rate": float(self.inhibition_rate),
            "max_iter": int(self.max_iter),
            "readout_max_iter": int(self.readout_max_iter),
            "readout_lr": float(self.readout_learning_rate),
            "readout_decay": float(self.readout_decay),
            "readout_l2": float(self.readout_l2),
            "readout_tol": float(self.readout_tol),
            "readout_n_iter_no_change": int(self.readout_n_iter_no_change),
            "batch_size": (
                int(self.batch_size) if self.batch_size != "auto" else _auto_batch_size(n_samples)
            ),
            "seed": seed_from(self.random_state),
            "direct": direct,
            "readout_average_from": _READOUT_AVERAGE_FROM,
            "readout_centre": True,
        }

    def _validate(self, X, y="no_validation", reset=False):
        """``X`` checked and encoded as C-contiguous float32 rates ``>= 0``
        (and ``y`` checked against it); ``reset`` fits the input stage."""
        dtype = getattr(np.asarray(X) if isinstance(X, list | tuple) else X, "dtype", None)
        if dtype is not None and np.dtype(dtype).kind in "USVMm":
            raise TypeError(f"X must be real numbers, got dtype {np.dtype(dtype)}")
        no_y = isinstance(y, str) and y == "no_validation"
        if no_y:
            X = validate_data(self, X, dtype=np.float32, order="C", reset=reset)
        else:
            X, y = validate_data(self, X, y, dtype=np.float32, order="C", reset=reset)
            check_classification_targets(y)
        if reset and self.encoding == "none":
            self.__dict__.pop("encoder_", None)  # no stage from an earlier fit
        elif reset:
            if X.shape[0] < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 samples to learn the "
                    f"input stage, got n_samples = {X.shape[0]}"
                )
            self.encoder_ = OnOffEncoder().fit(X)
            if self.encoder_.n_channels_ == 0:
                raise ValueError("every feature of X is constant: nothing to learn from")
        # After fit the fitted stage (or its absence) decides, not a later set_params.
        if getattr(self, "encoder_", None) is None:
            check_non_negative(X, f"X ({type(self).__name__}: the inputs are excitatory rates)")
            R = X
        else:
            R = self.encoder_._encode(X)
        return R if no_y else (R, y)

    # ------------------------------------------------------------- learning
    @staticmethod
    def _new_net(n_features, n_classes, p):
        config = {
            "n_in": n_features,
            "n_hidden": p["n_hidden"],
            "n_classes": n_classes,
            "init_per_unit": p["init"],
            "init_weights": _W_INIT,
            "direct": p["direct"],
        }
        net = _core.StructuralNet(config, p["seed"])
        if p["n_inhibitory"]:
            net.set_inhibition(p["n_inhibitory"], p["seed"] + 1)
        return net

    @staticmethod
    def _hidden_params(p):
        """The ``HiddenParams`` of the hidden learning rules."""
        return {
            "n_winners": p["n_winners"],
            "learning_rate": p["learning_rate"],
            "homeostasis_rate": p["homeostasis_rate"],
            "competition_rate": p["competition_rate"],
            "target_activity": p["target_activity"],
            "w_max": p["w_max"],
            "weight_dependence": p.get("weight_dependence", "additive"),
            "w_consolidate": p["consolidate"],
            "inhibition_rate": p["inhibition_rate"],
        }

    def _hidden_epoch(self, net, X, rng, p, track):
        order = rng.permutation(X.shape[0]).astype(np.int64)
        params = self._hidden_params(p)
        if self.n_winners == "auto":
            # (the plastic share of a layer in a stream may hold fewer
            # units than winners: all of them win then)
            n_plastic = int(np.count_nonzero(net.roles == _PLASTIC))
            params["n_winners"] = max(1, min(params["n_winners"], n_plastic))
        return net.hidden_epoch(X, order, params, p["batch_size"], track)

    def _grow(self, net, p, seed):
        net.grow(
            {"n_grow": p["n_grow"], "growth": self.growth, "init_weights": _W_INIT, "seed": seed}
        )

    @staticmethod
    def _settle(net, X, p):
        """Thresholds to their homeostatic fixed point after the last
        structural step (on at most 2,000 samples, see ``_n_check``)."""
        keep = _subsample(X.shape[0], _n_check(p["n_hidden"]), p["seed"])
        net.settle_thresholds(X[keep], p["target_activity"])

    @staticmethod
    def _prune(net, p, budget):
        net.prune({"silent_threshold": p["silent"], "max_per_unit": budget})

    def _readout(self, net, X, yi, p, epochs, first_epoch, seed, translation=None):
        """Delta-rule epochs ``first_epoch, ...`` (rate ``lr0 / (1 + decay e)``);
        stops early once the loss stalls. ``translation``: ``(prototypes,
        absent, weight)``, every sample also translated to the absent
        classes. Returns the loss per epoch."""
        decay = p["readout_decay"]
        rates = [p["readout_lr"] / (1.0 + decay * (first_epoch + e)) for e in range(epochs)]
        if not rates:
            return []
        schedule = {
            "rates": rates,
            "batch_size": p["batch_size"],
            "l2": p["readout_l2"],
            "tol": p["readout_tol"],
            "n_iter_no_change": p["readout_n_iter_no_change"],
            "seed": seed,
            "average_from": p["readout_average_from"],
            # (states pickled before centring existed learn as they did)
            "centre": p.get("readout_centre", False),
        }
        if translation is None:
            loss, _converged = net.readout_fit(X, yi, schedule)
        else:
            loss, _converged = net.readout_fit_translated(X, yi, schedule, *translation)
        return list(loss)

    @unchanged_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the hidden layer (unsupervised, structural) then the readout.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued inputs, e.g. pixel intensities or tabular features
            (non-negative rates with ``encoding="none"``).
        y : array-like of shape (n_samples,)
            Class labels (used by the readout only).

        Returns
        -------
        self : StructuralPlasticityClassifier
            The fitted estimator.
        """
        X, y = self._validate(X, y, reset=True)
        classes = np.unique(y)
        yi = encode_labels(classes, y)
        p = self._params(X.shape[1], X.shape[0])
        t0 = time.perf_counter()
        net, history, wins = self._train(X, yi, len(classes), p)
        self._set_fitted(net, classes, p, history, wins, X)
        self.fit_time_ = time.perf_counter() - t0
        self._warn_if_degenerate(X, yi, len(classes))
        if self.estimate_information:
            self.estimate_information_(X, y)
        return self

    def _train(self, X, yi, n_classes, p):
        rng = np.random.RandomState(p["seed"] % (2**32))
        net = self._new_net(X.shape[1], n_classes, p)
        self._initial_synapses = SynapseMatrix._wrap(net.hidden)
        history = [net.hidden.nnz]
        track = self.growth == "coactivity" and p["n_grow"] > 0
        wins = None
        epochs = p["max_iter"]
        with Progress(epochs + 1, "structural", enabled=bool(self.verbose)) as bar:
            for e in range(epochs):
                if e > 0 and p["n_grow"] > 0:
                    self._grow(net, p, p["seed"] + e)
                # (no growth follows the last epoch: it keeps no trace, and
                # the fitted model none)
                wins, _activity = self._hidden_epoch(net, X, rng, p, track and e < epochs - 1)
                # Budget shrinks linearly from the initial count to the target.
                frac = (e + 1) / max(1, epochs - 1)
                budget = int(round(p["init"] + (p["per_unit"] - p["init"]) * min(1.0, frac)))
                budget = max(p["per_unit"], budget)
                self._prune(net, p, budget)
                history.append(net.hidden.nnz)
                bar.update(1, postfix=f"synapses {net.hidden.nnz}")
            self._settle(net, X, p)
            if yi is not None:
                self.readout_loss_curve_ = self._readout(
                    net, X, yi, p, p["readout_max_iter"], 0, p["seed"] + 104729
                )
            bar.update(1)
        return net, history, wins

    @unchanged_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def pretrain(self, X, y=None):
        """Learn the input stage and the hidden layer from unlabelled data.

        The hidden layer's rules use no labels, so it can learn from every
        image at hand; :meth:`fit_readout` then trains the readout on the few
        labelled ones (few-shot learning). The schedule is that of
        :meth:`fit`; the model has no readout until :meth:`fit_readout`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Unlabelled inputs (non-negative rates with ``encoding="none"``).
        y : None
            Ignored (labels are not used).

        Returns
        -------
        self : StructuralPlasticityClassifier
            The estimator with a learned hidden layer.
        """
        X = self._validate(X, reset=True)
        p = self._params(X.shape[1], X.shape[0])
        t0 = time.perf_counter()
        net, history, wins = self._train(X, None, 1, p)
        self._set_fitted(net, np.array([0]), p, history, wins, X)
        del self.classes_  # no readout yet
        self._pretrained = True
        self.__dict__.pop("_stream", None)
        self.readout_loss_curve_ = []
        self.fit_time_ = time.perf_counter() - t0
        return self

    @unchanged_on_error
    def fit_readout(self, X, y):
        """Train a new readout on labelled data, the hidden layer unchanged.

        After :meth:`pretrain` (or a fit), the readout alone learns the
        classes of ``y`` by the delta rule with the schedule of :meth:`fit`
        (``batch_size="auto"`` sized by these samples).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Labelled inputs.
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        self : StructuralPlasticityClassifier
            The estimator with its new readout.
        """
        check_is_fitted(self, "_net")
        X, y = self._validate(X, y)
        classes = np.unique(y)
        yi = encode_labels(classes, y)
        p = dict(self._p)
        if self.batch_size == "auto":
            p["batch_size"] = _auto_batch_size(X.shape[0])
        t0 = time.perf_counter()
        net = self._net.copy()
        net.reset_readout(len(classes))
        self.readout_loss_curve_ = self._readout(
            net, X, yi, p, p["readout_max_iter"], 0, p["seed"] + 104729
        )
        self._net = net
        self.classes_ = classes
        self.__dict__.pop("_stream", None)
        self.__dict__.pop("_pretrained", None)
        self.fit_time_ = time.perf_counter() - t0
        return self

    @unchanged_on_error
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """One epoch of hidden learning on the batch, then the readout's schedule on it.

        The first call fits the input stage on its batch, and with
        ``n_hidden="auto"`` sizes the layer from ``max_synapses`` alone (no
        cap by the number of samples, which a stream does not know). Later
        calls grow new synapses first; every call prunes to the budget.
        One pass over a data set in a few large batches learns about as well
        as ``fit`` with ``max_iter=1``.

        Class-incremental streams (continual learning): when the first
        batch holds only some of the declared ``classes``, the layer keeps
        a share of its units in reserve (silent, without synapses), in
        proportion to the classes not seen yet. A batch that brings new
        classes consolidates the units that learned so far (pruned to the
        budget and frozen) and recruits reserve units for the new classes,
        in proportion again; the readout keeps a prototype (mean readout
        input) and a generative model of the inputs (statistics, no
        samples) of every class, and learns each batch with the prototypes
        of the seen classes missing from it and with pseudo-inputs drawn
        for them, so old classes are not erased. ``reserve_`` reports
        units and synapses used and free.
        A stream whose first batch holds every class works as before.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued inputs (non-negative rates with ``encoding="none"``).
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like, optional
            All classes; required on the first call. Declaring classes that
            the first batch lacks reserves capacity for them.

        Returns
        -------
        self : StructuralPlasticityClassifier
            The updated estimator.
        """
        # (a pretrained model without a readout starts afresh: see fit_readout)
        first = not hasattr(self, "classes_")
        X, y = self._validate(X, y, reset=first)
        classes = partial_fit_classes(self, classes, first)
        p = self._params(X.shape[1], X.shape[0], cap=False) if first else self._p
        yi = encode_labels(classes, y)
        present = np.unique(yi)
        t0 = time.perf_counter()
        if first:
            net = self._new_net(X.shape[1], len(classes), p)
            stream = _Stream.start(net, p, len(classes), present)
            initial = SynapseMatrix._wrap(net.hidden)
            history = [net.hidden.nnz]
            calls = 0
        else:
            net = self._net.copy()  # a failed call leaves the model unchanged
            stream = getattr(self, "_stream", None)
            # after fit or fit_readout: every class seen, nothing in reserve
            stream = _Stream.seen_all(net, p, len(classes)) if stream is None else stream.copy()
            initial = self._initial_synapses
            history = list(self.synapse_history_)
            calls = self._n_partial
        rng = np.random.RandomState((p["seed"] + 7919 * (calls + 1)) % (2**32))
        track = self.growth == "coactivity" and p["n_grow"] > 0
        recruited = stream.admit(net, p, present, p["seed"] + 31 * calls)
        if stream.age > 0 and not recruited and p["n_grow"] > 0:
            if self.growth == "random" or net.trace.size:
                self._grow(net, p, p["seed"] + calls)
        wins, _ = self._hidden_epoch(net, X, rng, p, track)
        # The budget shrinks over the plastic units' first epochs as in fit.
        shrink = min(1.0, (stream.age + 1) / max(1, p["max_iter"] - 1))
        budget = max(p["per_unit"], int(round(p["init"] + (p["per_unit"] - p["init"]) * shrink)))
        self._prune(net, p, budget)
        history.append(net.hidden.nnz)
        self._settle(net, X, p)
        stream.age += 1
        sums, counts = net.class_sums(X, yi)
        R, labels = X, yi
        pseudo = stream.pseudo_inputs(present, counts, p["seed"] + 104729 * (calls + 1))
        if pseudo is not None:  # replay of the old classes, for the readout only
            R = np.ascontiguousarray(np.concatenate([X, pseudo[0]]))
            labels = np.concatenate([yi, pseudo[1]])
        self.readout_loss_curve_ = self._readout(
            net,
            R,
            labels,
            p,
            p["readout_max_iter"],
            calls,
            p["seed"] + calls,
            stream.translation(net, present, sums, counts),
        )
        stream.remember(present, sums, counts)
        stream.replay.remember(X, yi, seed=p["seed"])
        self._initial_synapses = initial
        self._set_fitted(net, classes, p, history, wins, X)
        self._stream = stream
        self._n_partial = calls + 1
        self.fit_time_ = time.perf_counter() - t0
        return self

    def _warn_if_degenerate(self, R, yi, n_classes):
        """A ``ConvergenceWarning`` when the fit ended degenerate: one class
        predicted for every training sample, most hidden units silent, or
        most of the synapse budget pruned as silent."""
        keep = _subsample(R.shape[0], _n_check(self._p["n_hidden"]), 0)
        R, yi = R[keep], yi[keep]
        problems = []
        pred = np.argmax(self._net.predict_proba(R), axis=1)
        if n_classes > 1 and np.unique(yi).size > 1 and np.unique(pred).size == 1:
            problems.append(f"it predicts one class for all {R.shape[0]} training samples checked")
        # (summed per class over the sparse code: the dense code of the
        # checked samples is hundreds of megabytes on a wide layer)
        sums, _counts = self._net.class_sums(R, yi.astype(np.int64))
        active = (sums[:, : self._p["n_hidden"]] > 0).any(axis=0)
        if active.mean() < 0.5:
            problems.append(
                f"{active.size - active.sum()} of {active.size} hidden units are never active"
            )
        capacity = self._p["n_hidden"] * self._p["per_unit"]
        if self._net.hidden.nnz < 0.5 * capacity:
            problems.append(
                f"only {self._net.hidden.nnz} of the {capacity} synapses the units may keep "
                "are non-silent"
            )
        if problems:
            warnings.warn(
                f"{type(self).__name__} ended degenerate: "
                + "; ".join(problems)
                + ". Check the input scale, or raise max_iter or the learning rates.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _set_fitted(self, net, classes, p, history, wins, R):
        self._net = net
        # Mean fraction of non-zero encoded inputs (the direct pathway's cost).
        self._input_density = float(np.count_nonzero(R)) / max(1, R.size)
        self._p = p
        self._n_partial = 0
        self.classes_ = classes
        self.n_hidden_ = p["n_hidden"]
        self.synapse_history_ = [int(h) for h in history]
        self.n_iter_ = len(self.synapse_history_) - 1
        self.win_counts_ = np.asarray(wins, dtype=np.int64)
        self._stored_bits = None
        self.__dict__.pop("_stream", None)  # partial_fit sets its own
        self.__dict__.pop("_pretrained", None)

    # ----------------------------------------------------------- inference
    def transform(self, X):
        """Hidden representation ``h = f(W x − θ)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued inputs (non-negative rates with ``encoding="none"``).

        Returns
        -------
        h : ndarray of shape (n_samples, n_hidden)
            float32 activities of the hidden units.
        """
        check_is_fitted(self, "_net")
        X = self._validate(X)
        return self._net.transform(X)

    def fit_transform(self, X, y):
        """``fit(X, y)`` then ``transform(X)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued inputs (non-negative rates with ``encoding="none"``).
        y : array-like of shape (n_samples,)
            Class labels.

        Returns
        -------
        h : ndarray of shape (n_samples, n_hidden)
            Hidden code of ``X``.
        """
        return self.fit(X, y).transform(X)

    def predict_proba(self, X):
        """Class probabilities of the softmax readout.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued inputs (non-negative rates with ``encoding="none"``).

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        check_is_fitted(self, "classes_")
        X = self._validate(X)
        return self._net.predict_proba(X).astype(np.float64)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (floored at 1e-300).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued inputs (non-negative rates with ``encoding="none"``).

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities.
        """
        return np.log(np.clip(self.predict_proba(X), 1e-300, None))

    def predict(self, X):
        """Class with the largest readout probability.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued inputs (non-negative rates with ``encoding="none"``).

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Predicted labels.
        """
        check_is_fitted(self, "classes_")
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    @property
    def _n_features_out(self):
        """Width of ``transform``'s output (for ``get_feature_names_out``)."""
        return self.n_hidden_

    # ------------------------------------------------------------- reports
    @property
    def synapses_(self) -> SynapseMatrix:
        check_is_fitted(self, "_net")
        return SynapseMatrix._wrap(self._net.hidden)

    @property
    def receptive_fields_(self):
        """Input→hidden weights in the space of the input features,
        ``(n_hidden, n_features_in_)``: ON-channel weight minus OFF-channel
        weight of each feature (with ``encoding="none"``, the weights)."""
        check_is_fitted(self, "_net")
        W = self.synapses_.to_dense()
        enc = getattr(self, "encoder_", None)
        if enc is None:
            return W
        features, signed = enc._channels()
        F = np.zeros((W.shape[0], self.n_features_in_), dtype=np.float32)
        np.add.at(F.T, features, (W * np.sign(signed)).T)
        return F

    @property
    def theta_(self):
        check_is_fitted(self, "_net")
        return self._net.theta

    @property
    def coefs_readout_(self):
        check_is_fitted(self, "_net")
        return self._net.readout

    @property
    def intercept_readout_(self):
        check_is_fitted(self, "_net")
        return self._net.readout_bias

    @property
    def inhibitory_in_(self):
        """E→I weights ``(n_hidden, n_inhibitory)`` (row ``i``: the outgoing
        weights of excitatory unit ``i``, all ``>= 0``), or ``None``."""
        check_is_fitted(self, "_net")
        return self._net.e_to_i

    @property
    def inhibitory_out_(self):
        """I→E weights ``(n_hidden, n_inhibitory)`` (column ``m``: the outgoing
        weights of inhibitory unit ``m``, all ``<= 0``), or ``None``."""
        check_is_fitted(self, "_net")
        return self._net.i_to_e

    @property
    def energy_(self) -> EnergyReport:
        check_is_fitted(self, "_net")
        syn = self.synapses_
        nnz = syn.nnz
        # One prediction: every input→hidden synapse, and readout synapses of
        # the active hidden units (active fraction ≈ target_activity) and,
        # with the direct pathway, of the non-zero inputs.
        active = self._p["target_activity"] * self._p["n_hidden"]
        if self._p["direct"]:
            active += self._input_density * self._net.n_in
        ops = synaptic_ops(nnz)
        ro = synaptic_ops(active * len(self.classes_), sparse=False)
        ops = {k: ops[k] + ro[k] for k in ops}
        rw, ra = self._net.readout_counters
        iw, ia = self._net.inhibition_counters
        rep = EnergyReport.from_synapses(
            [(syn, self._initial_synapses)],
            prediction_ops=ops,
            details={
                "hidden_writes": syn.counters["writes"],
                "hidden_abs_change": syn.counters["abs_change"],
                "readout_writes": int(rw),
                "readout_abs_change": float(ra),
                "inhibitory_writes": int(iw),
                "inhibitory_abs_change": float(ia),
            },
        )
        readout = np.concatenate([self._net.readout.ravel(), self._net.readout_bias])
        rep.writes += int(rw) + int(iw)
        rep.abs_change += float(ra) + float(ia)
        if self._net.i_to_e is not None:
            rep.min_writes += int(np.count_nonzero(self._net.i_to_e))
            rep.min_abs_change += float(np.abs(self._net.i_to_e).sum())
        rep.min_writes += int(np.count_nonzero(readout))
        rep.min_abs_change += float(np.abs(readout).sum())
        return rep

    @property
    def capacity_(self) -> CapacityReport:
        check_is_fitted(self, "_net")
        syn = self.synapses_
        nnz = int(syn.nnz)
        bits = self._stored_bits
        # a class-incremental stream's input models (synaplast.replay)
        replay = getattr(getattr(self, "_stream", None), "replay", None)
        details = {
            "I_XZ_bits": bits,
            "C_S": None if bits is None or nnz == 0 else bits / nnz,
            "reserve": self.reserve_,
            "replay_bytes": 0 if replay is None else replay.nbytes,
        }
        return CapacityReport(
            n_synapses=nnz,
            n_potential=int(syn.shape[0] * syn.shape[1]),
            memory_bytes=int(self._net.hidden.memory_bytes()),
            stored_bits=bits,
            details=details,
        )

    @property
    def reserve_(self) -> dict:
        """Units and synapses used and free (reserved capacity).

        ``units``: hidden units that are plastic (learning), consolidated
        (specialised on earlier classes, frozen) and in reserve (silent,
        without synapses, waiting for new classes); they add up to
        ``n_hidden_``. ``synapses``: the layer's budget
        (``n_hidden_ × per-unit budget``), the non-silent synapses ``used``
        (of which ``consolidated``), the ``free`` budget (units below their
        per-unit budget, reserve units included) and ``over`` (plastic units
        above it while their budget still shrinks); ``used + free - over ==
        budget``. ``classes_seen``: the classes learned so far.
        """
        check_is_fitted(self, "_net")
        roles = self._net.roles
        per_unit = int(self._p["per_unit"])
        rows = self.synapses_.row_counts().astype(np.int64)
        units = {
            "plastic": int(np.count_nonzero(roles == _PLASTIC)),
            "consolidated": int(np.count_nonzero(roles == _CONSOLIDATED)),
            "reserve": int(np.count_nonzero(roles == _RESERVE)),
        }
        synapses = {
            "budget": int(roles.size * per_unit),
            "used": int(rows.sum()),
            "consolidated": int(rows[roles == _CONSOLIDATED].sum()),
            "free": int(np.clip(per_unit - rows, 0, None).sum()),
            "over": int(np.clip(rows - per_unit, 0, None).sum()),
        }
        stream = getattr(self, "_stream", None)
        if stream is None:
            seen = getattr(self, "classes_", np.array([]))
        else:
            seen = self.classes_[stream.seen]
        return {"units": units, "synapses": synapses, "classes_seen": list(seen)}

    def estimate_information_(self, X, y, *, max_samples=5000, **vib_kwargs):
        """Estimate ``I(X;Z)`` of the hidden code and store it in ``capacity_``.

        Uses :func:`synaplast.info.mutual_information_vib` on at most
        ``max_samples`` samples; ``capacity_`` then reports ``stored_bits`` and
        ``C_S`` (bits per synapse) in its details.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Real-valued inputs (non-negative rates with ``encoding="none"``).
        y : array-like of shape (n_samples,)
            Class labels.
        max_samples : int, default=5000
            Samples used (a random subset beyond this).
        **vib_kwargs
            Passed to :func:`~synaplast.info.mutual_information_vib`.

        Returns
        -------
        bits : float
            ``I(X;Z)`` in bits.
        """
        from synaplast.info import mutual_information_vib

        check_is_fitted(self, "_net")
        X = self._validate(X)
        y = np.asarray(y)
        if y.shape != (X.shape[0],):
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        rng = np.random.RandomState(self._p["seed"] % (2**32))
        if X.shape[0] > max_samples:
            keep = rng.choice(X.shape[0], max_samples, replace=False)
            X, y = X[keep], y[keep]
        Z = self._net.transform(X)  # X is encoded already
        bits = mutual_information_vib(Z, y, random_state=self._p["seed"] % (2**32), **vib_kwargs)
        self._stored_bits = float(bits)
        return self._stored_bits
