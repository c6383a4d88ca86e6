"""Associative memory capacity table, plot and figures (see benches/suites/memory.py).

Usage: python benches/assoc_capacity.py [--figures 1,2,3,4,5] [--quick] [--plot PATH]
Same as: python benches/run.py memory ...
"""

import argparse

from suites import memory

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    memory.add_arguments(parser)
    raise SystemExit(memory.run(parser.parse_args()))
