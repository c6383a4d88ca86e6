"""``python benches/run.py eprop``: the sine-wave task of NEST's e-prop example, side by side.

Builds NEST 3.10's ``eprop_supervised_regression_sine-waves`` network (100 Poisson
inputs, 100 ``eprop_iaf`` neurons, one ``eprop_readout``), runs it in NEST when
NEST is importable, and runs the same network — identical input spikes, initial
weights and targets — in synaplast's ``nest_compatible`` event-driven mode.
Reports the per-iteration loss of both, their relative difference, and the
wall time per simulated second (real-time factor) for 1 and 2 threads.
Plots both loss curves and the recurrent raster (PNG).
"""

from __future__ import annotations

import json
import time

import numpy as np

import synaplast
from synaplast import _core

# NEST's example settings (eprop_supervised_regression_sine-waves.py, NEST 3.10)
STEPS = 1000
N_IN, N_REC, N_OUT = 100, 100, 1
KAPPA = 0.97
SCALE = 1.0 - KAPPA
REC = {
    "C_m": 1.0,
    "c_reg": 300.0 / STEPS,
    "E_L": 0.0,
    "eprop_isi_trace_cutoff": 100,
    "f_target": 10.0,
    "I_e": 0.0,
    "kappa": KAPPA,
    "kappa_reg": 0.97,
    "surrogate_gradient_function": "piecewise_linear",
    "surrogate_gradient_height": 10.0,
    "surrogate_gradient_width": 1.0 / 33.3,
    "t_ref": 0.0,
    "tau_m": 30.0,
    "V_m": 0.0,
    "V_th": 0.03,
}
OUT = {
    "C_m": 1.0,
    "E_L": 0.0,
    "eprop_isi_trace_cutoff": 100,
    "I_e": 0.0,
    "tau_m": 30.0,
    "V_m": 0.0,
}
ETA = 1e-4 * SCALE**2


def sine_task(seed: int = 1):
    """Input spikes ``(STEPS, N_IN)``, target ``(STEPS,)`` and initial weights, drawn as NEST's example does."""
    rng = np.random.RandomState(seed)
    w_in = np.array(rng.randn(N_IN, N_REC).T / np.sqrt(N_IN), dtype=np.float32)
    w_rec = np.array(rng.randn(N_REC, N_REC).T / np.sqrt(N_REC), dtype=np.float32)
    np.fill_diagonal(w_rec, 0.0)
    w_out = np.array(rng.randn(N_REC, N_OUT).T / np.sqrt(N_REC), dtype=np.float32) * SCALE
    w_fb = np.array(rng.randn(N_REC, N_OUT) / np.sqrt(N_REC), dtype=np.float32)
    w_in *= SCALE
    w_rec *= SCALE
    w_fb *= SCALE
    spikes = rng.rand(STEPS, N_IN) < 0.05
    periods = [1000, 500, 333, 200]
    amp = rng.uniform(0.5, 2.0, size=4)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=4)
    sines = [
        a * np.sin(np.linspace(p, p + 2.0 * np.pi * (STEPS // T), STEPS))
        for a, p, T in zip(amp, phase, periods, strict=True)
    ]
    target = sum(sines)
    target -= target[0]
    target /= max(np.abs(target).max(), 1e-6)
    return {
        "spikes": spikes,
        "target": target,
        "w_in": w_in.astype(np.float32),
        "w_rec": w_rec.astype(np.float32),
        "w_out": w_out.astype(np.float32),
        "w_fb": w_fb.astype(np.float32),
    }


def nest_available() -> bool:
    try:
        import nest  # noqa: F401
    except Exception:
        return False
    return True


def run_nest(
    task, n_iter: int, threads: int = 1, model: str = "eprop_iaf", extra: dict | None = None
):
    """Run NEST's example network; returns loss per iteration, recorded target, raster, wall time."""
    import nest

    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.set(resolution=1.0, total_num_virtual_procs=threads, print_time=False)
    dur_task = n_iter * STEPS
    offset_gen, delay = 1.0, 1.0
    total_offset = offset_gen + delay
    gen_in = nest.Create("spike_generator", N_IN)
    nrn_in = nest.Create("parrot_neuron", N_IN)
    rec = nest.Create(
        model, N_REC, dict(REC, flush_event_send_interval=float(STEPS), **(extra or {}))
    )
    out = nest.Create("eprop_readout", N_OUT, OUT)
    gen_target = nest.Create("step_rate_generator", N_OUT)
    gen_window = nest.Create("step_rate_generator")
    mm = nest.Create(
        "multimeter",
        {
            "interval": 1.0,
            "record_from": ["readout_signal", "target_signal"],
            "start": total_offset,
            "stop": total_offset + dur_task,
        },
    )
    sr = nest.Create("spike_recorder", {"start": offset_gen, "stop": total_offset + dur_task})
    nest.SetDefaults(
        "eprop_synapse",
        {
            "optimizer": {
                "type": "gradient_descent",
                "batch_size": 1,
                "eta": ETA,
                "optimize_each_step": False,
                "Wmin": -100.0,
                "Wmax": 100.0,
            }
        },
    )
    a2a = {"rule": "all_to_all", "allow_autapses": False}
    syn = {"synapse_model": "eprop_synapse", "delay": 1.0}
    nest.Connect(
        gen_in, nrn_in, {"rule": "one_to_one"}, {"synapse_model": "static_synapse", "delay": 1.0}
    )
    nest.Connect(nrn_in, rec, a2a, dict(syn, weight=task["w_in"]))
    nest.Connect(rec, rec, a2a, dict(syn, weight=task["w_rec"]))
    nest.Connect(rec, out, a2a, dict(syn, weight=task["w_out"]))
    nest.Connect(
        out,
        rec,
        a2a,
        {"synapse_model": "eprop_learning_signal_connection", "delay": 1.0, "weight": task["w_fb"]},
    )
    nest.Connect(
        gen_target,
        out,
        {"rule": "one_to_one"},
        {"synapse_model": "rate_connection_delayed", "delay": 1.0, "receptor_type": 2},
    )
    nest.Connect(
        gen_window,
        out,
        "all_to_all",
        {"synapse_model": "rate_connection_delayed", "delay": 1.0, "receptor_type": 1},
    )
    nest.Connect(rec, sr, "all_to_all", {"synapse_model": "static_synapse", "delay": 1.0})
    nest.Connect(mm, out, "all_to_all", {"synapse_model": "static_synapse", "delay": 1.0})
    starts = np.arange(0.0, dur_task, STEPS) + offset_gen
    params = []
    for i in range(N_IN):
        times = np.arange(0.0, STEPS, 1.0)[task["spikes"][:, i]]
        params.append({"spike_times": np.hstack([times + s for s in starts]).astype(np.float32)})
    gen_in.set(params)
    gen_target.set(
        {
            "amplitude_times": np.arange(0.0, dur_task, 1.0) + total_offset,
            "amplitude_values": np.tile(task["target"], n_iter),
        }
    )
    gen_window.set({"amplitude_times": [total_offset], "amplitude_values": [1.0]})
    t0 = time.perf_counter()
    nest.Simulate(dur_task + total_offset + 3.0)
    wall = time.perf_counter() - t0
    ev = mm.get("events")
    y = np.asarray(ev["readout_signal"]).reshape(n_iter, STEPS)
    tgt = np.asarray(ev["target_signal"]).reshape(n_iter, STEPS)
    loss = 0.5 * np.sum((y - tgt) ** 2, axis=1)
    spk = sr.get("events")
    return {
        "loss": loss,
        "target": tgt,
        "y": y,
        "spike_times": np.asarray(spk["times"]),
        "spike_senders": np.asarray(spk["senders"]) - min(rec.tolist()),
        "wall": wall,
    }


def synaplast_config(**over):
    cfg = {
        "n_in": N_IN,
        "n_rec": N_REC,
        "n_out": N_OUT,
        "dt": 1.0,
        "tau_m": REC["tau_m"],
        "tau_out": OUT["tau_m"],
        "v_th": REC["V_th"],
        "t_ref": 0,
        "surrogate": "piecewise_linear",
        "surrogate_height": REC["surrogate_gradient_height"],
        "surrogate_width": REC["surrogate_gradient_width"],
        "kappa": KAPPA,
        "kappa_reg": REC["kappa_reg"],
        "c_reg": REC["c_reg"],
        "f_target": REC["f_target"] / 1000.0,
        "loss": "mse",
        "optimizer": "gradient_descent",
        "eta": ETA,
        "w_min": -100.0,
        "w_max": 100.0,
        "cutoff": REC["eprop_isi_trace_cutoff"],
        "nest_compatible": True,
        "event_driven": True,
        "update_at_spike": True,
        "reset_each_sequence": False,
        "symmetric_feedback": False,
    }
    cfg.update(over)
    return cfg


def build_synaplast(task, **over) -> _core.EPropNetwork:
    """The NEST example network in synaplast (rows = presynaptic neurons)."""
    w_pre = np.concatenate([task["w_in"].T, task["w_rec"].T], axis=0)  # (n_pre, n_rec)
    mask = np.ones_like(w_pre, dtype=bool)
    mask[N_IN + np.arange(N_REC), np.arange(N_REC)] = False  # no autapses
    counts = mask.sum(axis=1)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = np.nonzero(mask)[1].astype(np.int64)
    weights = w_pre[mask].astype(np.float32)
    syn = _core.SynapseMatrix.from_csr(N_IN + N_REC, N_REC, indptr, indices, weights)
    return _core.EPropNetwork.from_weights(
        synaplast_config(**over),
        syn,
        np.ascontiguousarray(task["w_out"].T, dtype=np.float32),
        np.ascontiguousarray(task["w_fb"], dtype=np.float32),
    )


def run_synaplast(task, n_iter: int, target=None, threads: int = 1, **over):
    """Run the task in synaplast; ``target`` (n_iter, STEPS) defaults to the tiled sine."""
    net = build_synaplast(task, **over)
    if target is None:
        target = np.tile(task["target"], (n_iter, 1))
    x = np.broadcast_to(task["spikes"].astype(np.uint8), (n_iter, STEPS, N_IN)).copy()
    tg = np.ascontiguousarray(target, dtype=np.float32).reshape(n_iter, STEPS, 1)
    mask = np.ones((n_iter, STEPS), dtype=np.float32)
    with synaplast.threads(threads):
        t0 = time.perf_counter()
        out = net.run(x, tg, mask, {"batch_size": 1, "record_raster": True})
        wall = time.perf_counter() - t0
    return {"loss": np.asarray(out["loss"]), "raster": out["raster"], "wall": wall, "net": net}


def add_arguments(parser) -> None:
    parser.add_argument(
        "--iterations", type=int, default=25, help="sine-wave iterations (1 s each)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", dest="bench_threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--png", default="eprop_nest.png", help="plot file (loss curves + raster)")
    parser.add_argument("--json", default=None, help="write the numbers to this file")


def _plot(path, nest_res, syn_res):
    from synaplast.plotting import eprop_comparison

    nest_loss, nest_spikes = None, None
    if nest_res is not None:
        nest_loss = nest_res["loss"]
        last0 = 2 + (len(syn_res["loss"]) - 1) * STEPS
        sel = (nest_res["spike_times"] >= last0) & (nest_res["spike_times"] < last0 + STEPS)
        nest_spikes = (nest_res["spike_times"][sel] - last0 + 1, nest_res["spike_senders"][sel])
    fig = eprop_comparison(nest_loss, syn_res["loss"], syn_res["raster"][-1], nest_spikes)
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


def run(args) -> int:
    if args.png:
        from synaplast.plotting import require_matplotlib

        require_matplotlib()  # fail before any training, with the install hint
    from suites import machine

    task = sine_task(args.seed)
    n_iter = args.iterations
    have_nest = nest_available()
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "iterations": n_iter}
    nest_res = None
    if not have_nest:
        print(
            "NEST is not importable (pip install nest-simulator): running synaplast alone, no comparison."
        )
    timings = []
    for th in args.bench_threads:
        if have_nest:
            nr = run_nest(task, n_iter, th)
            if nest_res is None:
                nest_res = nr
        tgt = nest_res["target"] if nest_res is not None else None
        sr = run_synaplast(task, n_iter, tgt, th)
        if th == args.bench_threads[0]:
            syn_res = sr
        sim_s = n_iter * STEPS / 1000.0
        row = {"threads": th, "synaplast_rtf": sr["wall"] / sim_s}
        if have_nest:
            row["nest_rtf"] = nr["wall"] / sim_s
            row["speedup"] = nr["wall"] / sr["wall"]
        timings.append(row)
    results["timings"] = timings
    results["synaplast_loss"] = syn_res["loss"].tolist()
    print(f"synaplast loss: first {syn_res['loss'][0]:.4f}, last {syn_res['loss'][-1]:.4f}")
    if nest_res is not None:
        rel = np.abs(syn_res["loss"] - nest_res["loss"]) / np.abs(nest_res["loss"])
        results["nest_loss"] = nest_res["loss"].tolist()
        results["max_rel_diff"] = float(rel.max())
        print("iter  NEST loss    synaplast    rel.diff")
        for i, (a, b, r) in enumerate(zip(nest_res["loss"], syn_res["loss"], rel, strict=True)):
            print(f"{i + 1:4d}  {a:10.5f}  {b:10.5f}  {r:9.2e}")
        print(f"max relative difference over {n_iter} iterations: {rel.max():.3e}")
    for row in timings:
        line = f"threads {row['threads']}: synaplast real-time factor {row['synaplast_rtf']:.4f}"
        if "nest_rtf" in row:
            line += f", NEST {row['nest_rtf']:.4f}, speed-up {row['speedup']:.1f}x"
        print(line)
    _plot(args.png, nest_res, syn_res)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0
