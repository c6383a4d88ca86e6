"""Time the plain-NumPy re-implementation of the reference online loop against synaplast.

Usage: python benches/energy_numpy_reference.py   (same as --parts speed)
"""

import argparse

from suites import energy

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    energy.add_arguments(parser)
    args = parser.parse_args()
    args.parts = ["speed"]
    raise SystemExit(energy.run(args))
