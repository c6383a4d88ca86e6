"""Continual (class-incremental) and few-shot learning on MNIST: rule against backprop.

Runs :func:`synaplast.claims_continual.continual_claim` and
:func:`synaplast.claims_continual.few_shot` in one process, prints one
Markdown table per claim, and writes ``claims_continual.json``,
``claims_continual_stream.png`` (accuracy on each task's test digits over
the stream) and ``claims_continual_fewshot.png`` (accuracy against shots
per class, 95 % intervals) under ``--out``.

Usage: ``python benches/claims_continual.py [--quick] [--parts continual fewshot]``.
``--quick`` uses 10,000 training images, 2 passes per task, 3 draws and
10,000 unlabelled images: a smoke run, not the figures. Results are saved
after every stream and every shot count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path


def _pct(v):
    return "—" if v is None else f"{100 * v:.1f}"


def _continual_tables(rows):
    lines = []
    for stream in dict.fromkeys(r["stream"] for r in rows if "acc" in r):
        sub = [r for r in rows if r["stream"] == stream]
        n = len(sub[0]["acc"])
        lines += [
            f"\n**{stream}** (accuracy % on each task's test digits after each task)\n",
            "| model | after task | "
            + " | ".join(f"task {s + 1}" for s in range(n))
            + " | seen classes |",
            "|---|---|" + "---|" * n + "---|",
        ]
        for r in sub:
            for t, accs in enumerate(r["acc"]):
                lines.append(
                    f"| {r['model']} | {t + 1} | "
                    + " | ".join(_pct(a) for a in accs)
                    + f" | {_pct(r['seen'][t])} |"
                )
    lines += [
        "\n| stream | model | final 10-class % | task 1 kept (end / right after) | fit s |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        kept = f"{100 * r['first_kept']:.0f} %" if "first_kept" in r else "—"
        lines.append(
            f"| {r['stream']} | {r['model']} | {_pct(r['final'])} | {kept} | {r['fit_s']:.0f} |"
        )
    return "\n".join(lines)


def _fewshot_table(rows):
    from synaplast.claims_continual import few_shot_table

    header, table = few_shot_table(rows)
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---|" * (len(header) - 1)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in table])


def _save(fig, path):
    fig.savefig(path, dpi=120)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--parts", nargs="+", default=["continual", "fewshot"])
    ap.add_argument("--n-train", type=int, default=None, help="subsample MNIST's training set")
    ap.add_argument("--epochs", type=int, default=None, help="partial_fit passes per task")
    ap.add_argument("--draws", type=int, default=None)
    ap.add_argument("--n-unlabelled", type=int, default=None)
    ap.add_argument(
        "--streams", nargs="+", default=["2x5", "5x2"], help="2x5: 0-4 then 5-9; 5x2: split MNIST"
    )
    ap.add_argument("--no-joint", action="store_true", help="skip the jointly trained models")
    ap.add_argument(
        "--shots", type=int, nargs="+", default=[1, 5, 10, 50], help="labelled images per class"
    )
    ap.add_argument("--out", default="benches/out")
    args = ap.parse_args(argv)
    from synaplast import plotting
    from synaplast.claims_continual import (
        SPLIT_2X5,
        SPLIT_5X2,
        continual_claim,
        few_shot,
        pretrained_rule,
    )
    from synaplast.datasets import load_mnist

    n_train = args.n_train or (10_000 if args.quick else None)
    epochs = args.epochs or (2 if args.quick else 5)
    draws = args.draws or (3 if args.quick else 20)
    n_unlab = args.n_unlabelled or (10_000 if args.quick else 60_000)
    Xtr, ytr, Xte, yte = load_mnist()
    Xu = Xtr[:n_unlab]
    if n_train:
        Xtr, ytr = Xtr[:n_train], ytr[:n_train]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores",
        "load_at_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "n_train": int(len(ytr)),
        "epochs_per_task": epochs,
        "draws": draws,
        "n_unlabelled": int(len(Xu)),
        "shots": args.shots,
    }
    result = {"meta": meta}
    print(json.dumps(meta))

    def save():
        meta["load_now"] = os.getloadavg()
        (out / "claims_continual.json").write_text(json.dumps(result, indent=1))

    if "continual" in args.parts:
        # One stream at a time, saved as it comes (long runs on a loaded machine).
        rows = result["continual"] = []
        splits = {"2x5": ("0-4 then 5-9", SPLIT_2X5), "5x2": ("5 x 2 digits", SPLIT_5X2)}
        for i, key in enumerate(args.streams):
            name, tasks = splits[key]
            last = i == len(args.streams) - 1
            rows += continual_claim(
                Xtr,
                ytr,
                Xte,
                yte,
                splits={name: tasks},
                epochs=epochs,
                joint=last and not args.no_joint,
            )
            print(_continual_tables(rows), flush=True)
            save()
        _save(plotting.stream_accuracy(rows), out / "claims_continual_stream.png")
    if "fewshot" in args.parts:
        rows = result["fewshot"] = []
        pre = pretrained_rule(Xu)
        meta["pretrain_s"] = pre.fit_time_
        for k in args.shots:
            rows += few_shot(Xtr, ytr, Xte, yte, shots=(k,), draws=draws, pretrained=pre)
            print("\n" + _fewshot_table(rows), flush=True)
            save()
        _save(plotting.few_shot_curves(rows), out / "claims_continual_fewshot.png")
    save()


if __name__ == "__main__":
    main()
