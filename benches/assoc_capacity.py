"""Associative memory capacity table, plot and figures (see synaplast.benchmarks.memory).

Usage: python benches/assoc_capacity.py [--figures 1,2,3,4,5] [--quick] [--plot PATH]
Same as: synaplast bench memory ...
"""

import argparse

from synaplast.benchmarks import memory

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    memory.add_arguments(parser)
    raise SystemExit(memory.run(parser.parse_args()))
