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
    pre, post = np.nonzero(~np.eye(N_REC, dtype=bool))  # all-to-all, no autapses
    return {
        "n_rec": N_REC,
        "spikes": spikes,
        "target": target,
        "w_in": w_in.astype(np.float32),
        "rec_pre": pre,
        "rec_post": post,
        "rec_w": w_rec[post, pre].astype(np.float32),
        "w_out": w_out.astype(np.float32),
        "w_fb": w_fb.astype(np.float32),
    }


def sparse_task(n_rec: int = 10_000, p_rec: float = 0.01, seed: int = 1):
    """The sine task on ``n_rec`` neurons with recurrent connection probability ``p_rec``.

    Inputs, target and the all-to-all input weights' statistics are those of
    :func:`sine_task`; each recurrent synapse exists with probability
    ``p_rec`` (no autapses), weight ``N(0, 1) / sqrt(n_rec p_rec)`` times
    ``1 - kappa``, so every neuron sees the example's input statistics.
    """
    base = sine_task(seed)
    rng = np.random.RandomState(seed + 1)
    w_in = np.array(rng.randn(n_rec, N_IN) / np.sqrt(N_IN), dtype=np.float32) * SCALE
    n_syn = rng.binomial(n_rec * (n_rec - 1), p_rec)
    flat = np.unique(rng.randint(0, n_rec * (n_rec - 1), size=int(n_syn * 1.01) + 16))
    flat = flat[rng.permutation(flat.size)[:n_syn]]
    flat.sort()
    pre, k = np.divmod(flat, n_rec - 1)
    post = k + (k >= pre)  # skip the diagonal
    w_rec = rng.randn(pre.size) / np.sqrt(n_rec * p_rec) * SCALE
    w_out = np.array(rng.randn(N_OUT, n_rec) / np.sqrt(n_rec), dtype=np.float32) * SCALE
    w_fb = np.array(rng.randn(n_rec, N_OUT) / np.sqrt(n_rec), dtype=np.float32) * SCALE
    return dict(
        base,
        n_rec=n_rec,
        w_in=w_in,
        rec_pre=pre,
        rec_post=post,
        rec_w=w_rec.astype(np.float32),
        w_out=w_out,
        w_fb=w_fb,
    )


def nest_available() -> bool:
    try:
        import nest  # noqa: F401
    except Exception:
        return False
    return True


def run_nest(
    task, n_iter: int, threads: int = 1, model: str = "eprop_iaf", extra: dict | None = None
):
    """Run NEST's example network; returns loss per iteration, recorded target, raster, wall and CPU time."""
    import nest

    n_rec = task["n_rec"]
    nest.set_verbosity("M_ERROR")
    nest.ResetKernel()
    nest.set(resolution=1.0, total_num_virtual_procs=threads, print_time=False)
    dur_task = n_iter * STEPS
    offset_gen, delay = 1.0, 1.0
    total_offset = offset_gen + delay
    gen_in = nest.Create("spike_generator", N_IN)
    nrn_in = nest.Create("parrot_neuron", N_IN)
    rec = nest.Create(
        model, n_rec, dict(REC, flush_event_send_interval=float(STEPS), **(extra or {}))
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
    ids = np.asarray(rec.tolist())
    nest.Connect(
        ids[task["rec_pre"]],
        ids[task["rec_post"]],
        {"rule": "one_to_one"},
        {
            "synapse_model": "eprop_synapse",
            "weight": task["rec_w"].astype(np.float64),
            "delay": np.ones(task["rec_w"].size),
        },
    )
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
    t0, c0 = time.perf_counter(), time.process_time()
    nest.Simulate(dur_task + total_offset + 3.0)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
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
        "cpu": cpu,
    }


def synaplast_config(n_rec: int = N_REC, **over):
    cfg = {
        "n_in": N_IN,
        "n_rec": n_rec,
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
    n_rec = task["n_rec"]
    n_pre = N_IN + n_rec
    # rows: inputs (all-to-all), then recurrent neurons (their outgoing synapses)
    rows = np.concatenate([np.repeat(np.arange(N_IN), n_rec), N_IN + task["rec_pre"]])
    cols = np.concatenate([np.tile(np.arange(n_rec), N_IN), task["rec_post"]])
    vals = np.concatenate([task["w_in"].T.ravel(), task["rec_w"]]).astype(np.float32)
    order = np.lexsort((cols, rows))
    counts = np.bincount(rows, minlength=n_pre)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    syn = _core.SynapseMatrix.from_csr(
        n_pre, n_rec, indptr, cols[order].astype(np.int64), vals[order]
    )
    return _core.EPropNetwork.from_weights(
        synaplast_config(n_rec, **over),
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
        t0, c0 = time.perf_counter(), time.process_time()
        out = net.run(x, tg, mask, {"batch_size": 1, "record_raster": True})
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "loss": np.asarray(out["loss"]),
        "raster": out["raster"],
        "wall": wall,
        "cpu": cpu,
        "net": net,
    }


def add_arguments(parser) -> None:
    parser.add_argument(
        "--iterations", type=int, default=25, help="sine-wave iterations (1 s each)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", dest="bench_threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--png", default="eprop_nest.png", help="plot file (loss curves + raster)")
    parser.add_argument("--json", default=None, help="write the numbers to this file")
    parser.add_argument(
        "--sparse",
        type=int,
        default=0,
        metavar="N_REC",
        help="also run the task on N_REC neurons with sparse recurrence (e.g. 10000)",
    )
    parser.add_argument(
        "--p-rec", type=float, default=0.01, help="recurrent probability (--sparse)"
    )
    parser.add_argument(
        "--sparse-iterations", type=int, default=1, help="sine-wave iterations (--sparse)"
    )


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


def _timing_row(threads: int, n_iter: int, sr, nr) -> dict:
    """Real-time factors (wall and CPU seconds per simulated second) and their ratios."""
    sim_s = n_iter * STEPS / 1000.0
    row = {
        "threads": threads,
        "synaplast_rtf": sr["wall"] / sim_s,
        "synaplast_cpu_rtf": sr["cpu"] / sim_s,
    }
    if nr is not None:
        row["nest_rtf"] = nr["wall"] / sim_s
        row["nest_cpu_rtf"] = nr["cpu"] / sim_s
        row["speedup"] = nr["wall"] / sr["wall"]
        row["speedup_cpu"] = nr["cpu"] / sr["cpu"]
    return row


def _print_timing(row: dict) -> None:
    line = f"threads {row['threads']}: synaplast real-time factor {row['synaplast_rtf']:.4f}"
    if "nest_rtf" in row:
        line += f", NEST {row['nest_rtf']:.4f}, speed-up {row['speedup']:.1f}x"
        line += f" (CPU time: {row['nest_cpu_rtf']:.4f} / {row['synaplast_cpu_rtf']:.4f}"
        line += f" = {row['speedup_cpu']:.1f}x)"
    print(line)


def _run_sparse(args, have_nest: bool) -> dict:
    """The sine task on a large sparse network, both simulators, same weights and inputs."""
    task = sparse_task(args.sparse, args.p_rec, args.seed)
    n_iter = args.sparse_iterations
    n_syn = task["rec_pre"].size + N_IN * task["n_rec"]
    print(
        f"sparse network: {task['n_rec']} neurons, p_rec {args.p_rec}, {n_syn} synapses, "
        f"{n_iter} iteration(s)"
    )
    out = {"n_rec": task["n_rec"], "p_rec": args.p_rec, "synapses": int(n_syn), "timings": []}
    nr = None
    for th in args.bench_threads:
        if have_nest:
            nr = run_nest(task, n_iter, th)
        sr = run_synaplast(task, n_iter, nr["target"] if nr is not None else None, th)
        spikes = int(sr["raster"].sum())
        row = _timing_row(th, n_iter, sr, nr)
        row["spikes"] = spikes
        out["timings"].append(row)
        print(f"  synaplast recurrent spikes: {spikes} ({spikes / task['n_rec'] / n_iter:.1f} Hz)")
        if nr is not None:
            rel = np.abs(sr["loss"] - nr["loss"]) / np.abs(nr["loss"])
            row["max_rel_diff"] = float(rel.max())
            row["nest_spikes"] = int(nr["spike_times"].size)
            print(
                f"  loss NEST {nr['loss'].tolist()} synaplast {sr['loss'].tolist()}, "
                f"max relative difference {rel.max():.2e}; NEST spikes {row['nest_spikes']}"
            )
        print("  ", end="")
        _print_timing(row)
    return out


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
        timings.append(_timing_row(th, n_iter, sr, nr if have_nest else None))
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
        _print_timing(row)
    if args.sparse:
        results["sparse"] = _run_sparse(args, have_nest)
    _plot(args.png, nest_res, syn_res)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0
