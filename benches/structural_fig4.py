"""Figure 4 of the structural-plasticity issue: few-shot accuracy, FGSM
robustness and continual learning (digits 0-4 then 5-9 with partial_fit),
the rule against MLPClassifier of the same hidden size on the same samples."""

import json
import sys

from suites.structural import robustness_and_transfer

if __name__ == "__main__":
    out = robustness_and_transfer(
        n_hidden=500,
        max_synapses=5000,
        n_train=10000,
        n_test=2000,
        bp_max_iter=20,
        rule_params={"competition_rate": 10, "max_iter": 4},
    )
    json.dump(out, sys.stdout, indent=1)
