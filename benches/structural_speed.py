"""Figure 5 of the structural-plasticity issue: full 10-class MNIST training
of the rule (figure-3 configuration) against ``MLPClassifier`` with the same
hidden size, measured in one process on the same data and machine."""

import argparse
from datetime import datetime, timezone

from suites import machine
from suites.structural import speed

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bp-max-iter", type=int, default=5, help="0: rule only")
    parser.add_argument("--n-inhibitory", type=int, default=0)
    parser.add_argument("--inhibition-rate", type=float, default=0.01)
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--n-info", type=int, default=3000)
    args = parser.parse_args()
    print(f"# figure 5 — {machine()} — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    rule = {"n_inhibitory": args.n_inhibitory, "inhibition_rate": args.inhibition_rate}
    speed(rule_params=rule, bp_max_iter=args.bp_max_iter, n_train=args.n_train, n_info=args.n_info)
