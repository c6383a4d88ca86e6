"""Figure 2 of the e-prop issue: spike-encoded MNIST with 150 sparse recurrent units.

Poisson-coded images (each active pixel is an input neuron spiking with
probability ``max_p · intensity`` per step), an N-MNIST-like architecture: 150
recurrent LIF neurons, input→recurrent connection probability 0.25 and
recurrent→recurrent 0.01 (NEST's example sparsities 0.75 and 0.99), 10 leaky
readouts, cross-entropy over the second half of each sample, Adam.

    python benches/eprop_mnist.py [--train 60000 --epochs 2 --steps 40]
"""

import argparse
import time

import numpy as np

from suites import machine
from synaplast import EPropClassifier, datasets


def encode(images, steps, max_p, rng):
    p = np.clip(images * max_p, 0.0, 1.0)
    return (rng.random((images.shape[0], steps, images.shape[1])) < p[:, None, :]).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--max-p", type=float, default=0.3)
    ap.add_argument("--chunk", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--dataset", choices=("mnist", "digits"), default="mnist")
    a = ap.parse_args()
    if a.dataset == "mnist":
        X_train, y_train, X_test, y_test = datasets.load_mnist()
    else:
        X_train, y_train, X_test, y_test = datasets.load_digits()
    active = (X_train > 0).mean(axis=0) > 0.01
    X_train, X_test = X_train[: a.train, active], X_test[: a.test, active]
    y_train, y_test = y_train[: a.train], y_test[: a.test]
    rng = np.random.default_rng(0)
    clf = EPropClassifier(
        n_rec=150,
        p_in=0.25,
        p_rec=0.01,
        v_th=0.3,
        input_scale=6.0,
        learning_rate=a.lr,
        batch_size=32,
        random_state=0,
    )
    classes = np.arange(10)
    t0 = time.perf_counter()
    for ep in range(a.epochs):
        order = rng.permutation(len(y_train))
        for s in range(0, len(order), a.chunk):
            idx = order[s : s + a.chunk]
            clf.partial_fit(
                encode(X_train[idx], a.steps, a.max_p, rng), y_train[idx], classes=classes
            )
        correct = 0
        for s in range(0, len(y_test), a.chunk):
            xs = encode(X_test[s : s + a.chunk], a.steps, a.max_p, rng)
            correct += int(np.sum(clf.predict(xs) == y_test[s : s + a.chunk]))
        acc = correct / len(y_test)
        print(
            f"epoch {ep + 1}: test accuracy {acc:.4f}  ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    print(f"machine: {machine()}")
    print(
        f"{a.dataset}: {X_train.shape[1]} active-pixel inputs, 150 recurrent (p_in 0.25, p_rec 0.01), "
        f"{a.steps} steps/sample, {len(y_train)} train x {a.epochs} epochs: test accuracy {acc:.4f}"
    )
    print(
        f"synapses {clf.capacity_.n_synapses}, {clf.capacity_.details['bytes_per_synapse_with_state']:.1f} B/synapse"
    )


if __name__ == "__main__":
    main()
