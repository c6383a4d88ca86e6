"""Summarise `cargo bench --bench synapses` (criterion JSON) as a markdown table.

Usage: python benches/criterion_table.py [target/criterion]
Prints, per density, the median time of the sparse product, the dense
ndarray product and the plain dense loop, and the ratios dense / sparse.
"""

import datetime
import json
import sys
from pathlib import Path

from suites import machine


def median_ns(root: Path, group: str, bench: str, param: str) -> float | None:
    f = root / group / bench / param / "new" / "estimates.json"
    if not f.exists():
        return None
    return json.loads(f.read_text())["median"]["point_estimate"]


def main(root: Path) -> None:
    group = "forward_1000x1000_batch64"
    print(
        f"criterion, {group} (W 1000x1000, batch 64, f32); {machine()}; {datetime.date.today()}\n"
    )
    print(
        "| density | sparse fwd (ms) | sparse bwd (ms) | dense ndarray (ms) | dense loop (ms) | ndarray / sparse | loop / sparse |"
    )
    print("|---|---|---|---|---|---|---|")
    for param in ("1%", "10%", "100%"):
        t = {
            b: median_ns(root, group, b, param)
            for b in ("sparse", "sparse_backward", "dense_ndarray", "dense_loop")
        }
        if t["sparse"] is None:
            continue
        ms = {k: (v / 1e6 if v else float("nan")) for k, v in t.items()}
        print(
            f"| {param} | {ms['sparse']:.3f} | {ms['sparse_backward']:.3f} | {ms['dense_ndarray']:.3f} | "
            f"{ms['dense_loop']:.3f} | {ms['dense_ndarray'] / ms['sparse']:.2f}x | {ms['dense_loop'] / ms['sparse']:.2f}x |"
        )
    sg = "structural_1000x1000_10pct"
    print(f"\nstructural plasticity ({sg}, 10^5 synapses):\n")
    print("| operation | median (ms) |")
    print("|---|---|")
    for b in ("prune_weakest_30pct", "prune_below", "grow_random_30_per_row"):
        f = root / sg / b / "new" / "estimates.json"
        if f.exists():
            print(f"| {b} | {json.loads(f.read_text())['median']['point_estimate'] / 1e6:.3f} |")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion"))
