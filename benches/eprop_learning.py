"""Figure 2/4 of the e-prop issue: sine-wave learning and a 10^8-synapse scale run.

python benches/eprop_learning.py sine [--iterations 60]
python benches/eprop_learning.py scale [--n-rec 100000 --p 0.01 --steps 50]
"""

import argparse
import resource
import time

import numpy as np

from suites import eprop as b
from suites import machine
from synaplast import _core


def sine(iterations: int, seed: int = 1, lr: float = 2e-3) -> None:
    task = b.sine_task(seed)
    cfg = b.synaplast_config(
        nest_compatible=False,
        update_at_spike=False,
        reset_each_sequence=True,
        optimizer="adam",
        eta=lr,
        c_reg=0.0,
        kappa=float(np.exp(-1 / 30.0)),
        surrogate_height=0.3 / 0.03,
        surrogate_width=0.03,
        cutoff=None,
    )
    net = _core.EPropNetwork(cfg, {}, seed=seed)
    x = task["spikes"].astype(np.uint8)[None].copy()
    tg = task["target"].astype(np.float32).reshape(1, -1, 1).copy()
    m = np.ones((1, b.STEPS), np.float32)
    losses = []
    t0 = time.perf_counter()
    for _ in range(iterations):
        losses.append(float(net.run(x, tg, m)["loss"][0]))
    wall = time.perf_counter() - t0
    print(f"machine: {machine()}")
    print(f"loss every 10 iterations: {np.round(losses[::10], 1).tolist()}")
    print(
        f"sine task (paper form, Adam {lr:g}): loss {losses[0]:.3f} -> {losses[-1]:.3f} "
        f"({losses[-1] / losses[0]:.1%} of initial) after {iterations} iterations, {wall:.1f} s"
    )


def scale(
    n_rec: int, p: float, steps: int, iters: int = 1, eta: float = 1e-5, n_in: int = 100
) -> None:
    cfg = {
        "n_in": n_in,
        "n_rec": n_rec,
        "n_out": 1,
        "tau_m": 20.0,
        "tau_out": 20.0,
        "v_th": 1.0,
        "surrogate_height": 0.3,
        "surrogate_width": 1.0,
        "kappa": 0.95,
        "kappa_reg": 0.95,
        "c_reg": 0.0,
        "eta": eta,
        "cutoff": 100,
        "nest_compatible": False,
        "reset_each_sequence": iters > 1,
        "update_at_spike": iters == 1,
        "optimizer": "adam" if iters > 1 else "gradient_descent",
    }
    t0 = time.perf_counter()
    net = _core.EPropNetwork(cfg, {"p_in": 0.1, "p_rec": p, "input_scale": 30.0}, seed=0)
    t_build = time.perf_counter() - t0
    mem = dict(net.memory())
    rng = np.random.default_rng(0)
    x = (rng.random((1, steps, n_in)) < 0.02).astype(np.uint8)
    tg = np.sin(np.arange(steps) / 10.0).astype(np.float32).reshape(1, steps, 1)
    t0 = time.perf_counter()
    losses = []
    for _ in range(iters):
        out = net.run(x, tg, np.ones((1, steps), np.float32))
        losses.append(float(out["loss"][0]))
        print(f"  iteration {len(losses)}: loss {losses[-1]:.4f}", flush=True)
    wall = time.perf_counter() - t0
    steps = steps * iters
    st = dict(net.stats())
    (w, a), (wo, ao) = net.counters()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"machine: {machine()}")
    print(
        f"scale: {n_rec} recurrent, p={p}: {mem['n_synapses']:.3e} synapses, build {t_build:.1f} s"
    )
    print(
        f"  synapse store + learning state: {mem['synapse_bytes'] / mem['n_synapses']:.2f} bytes/synapse; "
        f"archive {mem['archive_bytes'] / 1e6:.1f} MB; peak RSS {rss:.2f} GB"
    )
    print(
        f"  {steps} steps ({steps} ms) in {wall:.1f} s -> {wall / (steps / 1000):.0f} s per simulated second; "
        f"{st['spikes']} recurrent spikes, {w + wo} weight writes, losses {[round(v, 3) for v in losses]}"
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=("sine", "scale"))
    ap.add_argument("--iterations", type=int, default=150)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--n-rec", type=int, default=100_000)
    ap.add_argument("--p", type=float, default=0.01)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--iters", type=int, default=1)
    ap.add_argument("--eta", type=float, default=1e-5)
    a = ap.parse_args()
    if a.what == "sine":
        sine(a.iterations, lr=a.lr)
    else:
        scale(a.n_rec, a.p, a.steps, a.iters, a.eta)
