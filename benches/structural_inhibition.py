"""The structural-plasticity classifier with and without its optional
inhibitory population (Dale's law): accuracy, active fraction, Dale
compliance of the E→I and I→E weights, fit time, on 10-class MNIST."""

import argparse
import time
from datetime import datetime, timezone

from suites import machine
from synaplast import StructuralPlasticityClassifier
from synaplast.analysis import weight_statistics
from synaplast.datasets import load_mnist

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-train", type=int, default=20000)
    parser.add_argument("--hidden", type=int, default=1000)
    parser.add_argument("--max-synapses", type=int, default=10000)
    parser.add_argument("--n-inhibitory", type=int, default=50)
    parser.add_argument("--rates", default="0.01,0.1", help="inhibition rates to try")
    args = parser.parse_args()
    print(f"# inhibition — {machine()} — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    Xtr, ytr, Xte, yte = load_mnist()
    Xtr, ytr = Xtr[: args.n_train], ytr[: args.n_train]
    base = dict(
        n_hidden=args.hidden,
        max_synapses=args.max_synapses,
        competition_rate=10,
        max_iter=6,
        readout_learning_rate=3.0,
        readout_decay=0.5,
        readout_max_iter=10,
        random_state=0,
    )
    configs = [{}] + [
        {"n_inhibitory": args.n_inhibitory, "inhibition_rate": float(r)}
        for r in args.rates.split(",")
    ]
    print(
        "| inhibitory units | inhibition_rate | test acc | active (test) | Dale E→I / I→E "
        "| sign violations | fit s |"
    )
    print("|---|---|---|---|---|---|---|")
    for kw in configs:
        t0 = time.perf_counter()
        est = StructuralPlasticityClassifier(**base, **kw).fit(Xtr, ytr)
        fit_s = time.perf_counter() - t0
        st = weight_statistics(est)
        active = float((est.transform(Xte[:2000]) > 0).mean())
        viol = st["negative_weights"] + (st["negative_e_to_i"] or 0) + (st["positive_i_to_e"] or 0)
        dale = (
            "–"
            if st["dale_excitatory"] is None
            else f"{st['dale_excitatory']} / {st['dale_inhibitory']}"
        )
        print(
            f"| {kw.get('n_inhibitory', 0)} | {kw.get('inhibition_rate', '–')} | "
            f"{100 * est.score(Xte, yte):.2f} % | {active:.2f} | {dale} | {viol} | {fit_s:.1f} |",
            flush=True,
        )
