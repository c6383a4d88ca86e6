"""Table 2 of Stricker/Inoue et al. (2026) in layout: the structural-plasticity
rule against backprop and non-negative backprop, on MNIST digits 1, 2, 6 (or
all ten with ``--classes all``). Thin wrapper over
``benches/suites/structural.py`` (``python benches/run.py structural``)."""

import argparse
import sys

from suites import structural

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    structural.add_arguments(parser)
    sys.exit(structural.run(parser.parse_args()))
