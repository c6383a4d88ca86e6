"""SynapseMatrix vs scipy.sparse (see benches/suites/synapses.py).

Usage: python benches/bench_synapses.py [--n-post 1000 --n-pre 1000 --batch 64]
"""

import argparse

from suites import synapses

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    synapses.add_arguments(parser)
    raise SystemExit(synapses.run(parser.parse_args()))
