"""Long fuzzing run (`make fuzz`): generated cases in isolated worker processes.

Each case is a line of Python run by a worker process under a memory cap
(RLIMIT_AS). Workers report each case's outcome before the next starts; when
a worker dies, the case in flight is classified by how it died and a fresh
worker continues with the next case. Outcome classes:

  ok / clean  -- returned, or raised ValueError/TypeError/MemoryError/KeyError
  exception   -- any other Exception (unclear error, e.g. OverflowError)
  panic       -- pyo3_runtime.PanicException reached Python
  abort       -- SIGABRT (allocation failure, double panic)
  segfault    -- SIGSEGV/SIGBUS
  oom         -- SIGKILL (the kernel's OOM killer) or exit code 137
  hang        -- no answer within the per-case timeout

Prints a table per category and exits non-zero if any case is neither ok nor
clean. Usage: python benches/fuzz.py [--cases-per-category N] [--seed S]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import textwrap

WORKER = r"""
import json, resource, sys, warnings
lim = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
warnings.simplefilter("ignore")
import pickle, numpy as np, synaplast
from synaplast import *
from synaplast import _core
from sklearn.datasets import load_digits
X, y = load_digits(return_X_y=True)
X = X[:200] / 16.0
y = y[:200]
S = (np.random.default_rng(0).random((12, 20, 6)) < 0.1).astype(np.uint8)
ys = np.arange(12) % 2
print("ready", flush=True)
for line in sys.stdin:
    case = json.loads(line)
    try:
        exec(case, {"np": np, "pickle": pickle, "synaplast": synaplast, "_core": _core,
                    "X": X, "y": y, "S": S, "ys": ys, **{k: getattr(synaplast, k)
                    for k in synaplast.__all__}})
        out = "ok"
    except (ValueError, TypeError, MemoryError, KeyError):
        out = "clean"
    except Exception as e:
        out = "exception:" + type(e).__name__
    except BaseException as e:
        out = "panic" if type(e).__name__ == "PanicException" else "base:" + type(e).__name__
    print(json.dumps(out), flush=True)
"""

# Values as source text for the cases.
BIG = [
    "0",
    "-1",
    "1",
    "2**31",
    "2**32 - 1",
    "2**32",
    "2**62",
    "2**63 - 1",
    "2**64",
    "10**8",
    "10**12",
]
BAD = [
    "-1",
    "0",
    "1e-300",
    "1e-17",
    "1e300",
    "float('nan')",
    "float('inf')",
    "2**64",
    "'x'",
    "None",
    "True",
]
ESTIMATORS = {
    "StructuralPlasticityClassifier": (
        "dict(n_hidden=20, max_iter=1)",
        "X, y",
        [
            "batch_size",
            "n_hidden",
            "n_inhibitory",
            "max_synapses",
            "init_synapses",
            "n_winners",
            "learning_rate",
            "target_activity",
            "w_max",
            "n_grow",
        ],
    ),
    "CompetitivePlasticityClassifier": (
        "dict(hidden_layer_sizes=(10,), max_epochs=1)",
        "X, y",
        ["batch_size", "learning_rate", "init_std", "error_clip", "leaky_slope"],
    ),
    "EPropClassifier": (
        "dict(n_rec=10, max_iter=1)",
        "S, ys",
        [
            "batch_size",
            "n_rec",
            "p_in",
            "p_rec",
            "learning_rate",
            "tau_m",
            "v_th",
            "dt",
            "t_ref",
            "c_reg",
            "input_scale",
        ],
    ),
    "AssociativeMemory": ("dict()", "(X > 0.5).astype(np.uint8),", ["n_iter", "threshold"]),
}


def cases(n: int, rng: random.Random) -> dict[str, list[str]]:
    out: dict[str, list[str]] = collections.defaultdict(list)
    for name, (base, data, params) in ESTIMATORS.items():
        for p in params:
            values = BIG if p in ("batch_size", "n_hidden", "n_inhibitory", "n_rec") else BAD
            for v in values:
                cat = "batch_size extremes" if p == "batch_size" else "constructor parameters"
                out[cat].append(
                    f"{name}(**{{**{base}, {p!r}: {v}}}).fit({data}).predict({data.split(',')[0]})"
                )
    for a, b in [(a, b) for a in BIG for b in (0, 1, 2**20, 2**31, 2**32 - 1)]:
        out["huge shapes"].append(f"SynapseMatrix(({a}, {b}))")
        out["huge shapes"].append(f"SynapseMatrix(({b}, {a})).to_dense()")
    out["huge shapes"] += [
        "AssociativeMemory().fit(np.eye(4, 10**7, dtype=np.uint8)).decision_function(np.eye(2, 10**7, dtype=np.uint8))",
        "SynapseMatrix((10**6, 1)).forward(np.ones((10**5, 1), np.float32))",
    ]
    # SynapseMatrix methods with generated bad input.
    arrs = [
        "np.ones((3, 4), np.float32)",
        "np.full((3, 4), np.nan)",
        "np.full((3, 4), np.inf)",
        "np.zeros((0, 4))",
        "np.ones((4, 3)).T",
        "np.asfortranarray(np.ones((5, 4)))",
        "np.ones((2, 4), dtype=complex)",
        "np.array([['a']*4])",
        "np.ones((3, 4), bool)",
        "np.ones((3, 4), np.float16) * 6e4",
        "np.full((3, 4), 2**62)",
        "[[1, 2], [3]]",
        "np.ones(4)",
        "3e38 * np.ones((3, 4))",
    ]
    meths = [
        "forward({a})",
        "backward({a}[:, :3] if np.ndim({a}) == 2 else {a})",
        "apply_delta(np.ravel({a})[:W.nnz])",
        # the case itself must be valid Python: slice only 2-d arrays
        "hebbian_update({a}[:, :3] if np.ndim({a}) == 2 else {a}, {a}, 1e30)",
        "set_weights(np.ravel({a})[:W.nnz])",
        "grow_random(2, init=(-3e38, 3e38))",
        "grow([0, 1], [2, 3], init=({lo}, {hi}))",
        "prune(fraction={hi})",
    ]
    for _ in range(n):
        a = rng.choice(arrs)
        m = rng.choice(meths).format(a=a, lo=rng.choice(BAD[:7]), hi=rng.choice(BAD[:7]))
        out["SynapseMatrix bad input"].append(
            f"W = SynapseMatrix.from_dense(np.arange(12, dtype=np.float32).reshape(3, 4)); W.{m}; W.check_invariants()"
        )
    # Python threads sharing an explicit pool (issue 16's reproducer).
    for seed in range(max(1, n // 10)):
        out["concurrency, 4 Python threads"].append(
            textwrap.dedent(f"""
            from concurrent.futures import ThreadPoolExecutor
            with synaplast.threads(2):
                def job(seed):
                    W = SynapseMatrix((1000, 64)); W.grow_random(32, random_state=seed)
                    x = np.random.default_rng(seed).random((600, 64)).astype(np.float32)
                    for _ in range(10):
                        W.forward(x)
                with ThreadPoolExecutor(4) as ex:
                    list(ex.map(job, range({seed}, {seed} + 8)))
            """)
        )
    # Tampered pickles of every learner.
    fitted = {
        "structural": "StructuralPlasticityClassifier(n_hidden=10, max_iter=1, n_inhibitory=2).fit(X, y)",
        "competitive": "CompetitivePlasticityClassifier(hidden_layer_sizes=(8,), max_epochs=1).fit(X, y)",
        "eprop": "EPropClassifier(n_rec=8, max_iter=1).fit(S, ys)",
        "memory": "AssociativeMemory().fit((X > 0.5).astype(np.uint8))",
        "synapses": "SynapseMatrix.from_dense(np.eye(5, dtype=np.float32))",
    }
    for kind, make in fitted.items():
        for _ in range(n):
            seed = rng.randrange(2**32)
            out["tampered pickles"].append(
                textwrap.dedent(f"""
                import random
                r = random.Random({seed})
                b = bytearray(pickle.dumps({make}))
                mode = r.randrange(3)
                if mode == 0:
                    for _ in range(r.randrange(1, 8)):
                        b[r.randrange(len(b))] = r.randrange(256)
                elif mode == 1:
                    del b[r.randrange(len(b)):]
                else:
                    i = r.randrange(len(b)); b[i:i] = bytes(r.randrange(256) for _ in range(8))
                try:
                    o = pickle.loads(bytes(b))
                except (pickle.UnpicklingError, EOFError, AttributeError, ImportError,
                        IndexError, UnicodeDecodeError, OverflowError, SystemError,
                        ModuleNotFoundError, NameError):
                    o = None  # rejected by pickle itself
                if o is not None:
                    for f in ("predict", "forward"):
                        if hasattr(o, f):
                            getattr(o, f)({"S" if kind == "eprop" else "(X > 0.5).astype(np.uint8)" if kind == "memory" else "np.ones((2, 5), np.float32)" if kind == "synapses" else "X"})
            """)
            )
    return out


class Worker:
    def __init__(self, memory: int):
        self.memory = memory
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(self.memory)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready"

    def run(self, case: str, timeout: float) -> str:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        import selectors

        self.proc.stdin.write(json.dumps(case) + "\n")
        self.proc.stdin.flush()
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            return "hang"
        line = self.proc.stdout.readline()
        if line:
            return json.loads(line)
        code = self.proc.wait()
        self.proc = None
        return {-6: "abort", -11: "segfault", -7: "segfault", -9: "oom", 137: "oom"}.get(
            code, f"exit:{code}"
        )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases-per-category", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--memory-gb", type=float, default=4)
    args = ap.parse_args()
    worker = Worker(int(args.memory_gb * 2**30))
    bad_total = 0
    print("| category | cases | clean or ok | other outcomes |")
    print("|---|---|---|---|")
    for cat, todo in cases(args.cases_per_category, random.Random(args.seed)).items():
        counts = collections.Counter()
        for case in todo:
            out = worker.run(case, args.timeout)
            counts[out if out not in ("ok", "clean") else "ok"] += 1
            if out not in ("ok", "clean") and os.environ.get("FUZZ_VERBOSE"):
                print(out, case.strip()[:300], file=sys.stderr)
        bad = {k: v for k, v in counts.items() if k != "ok"}
        bad_total += sum(bad.values())
        print(f"| {cat} | {len(todo)} | {counts['ok']} | {bad or '-'} |", flush=True)
    return 1 if bad_total else 0


if __name__ == "__main__":
    sys.exit(main())
