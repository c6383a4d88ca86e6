"""Figure 1 and 3 of the e-prop issue: NEST 3.10's sine-wave example, synaplast side by side.

Thin script over ``python benches/run.py eprop`` (needs ``pip install nest-simulator``
for the comparison; without it synaplast runs alone).

    python benches/eprop_nest.py --iterations 25 --threads 1 2 --png benches/eprop_nest.png
"""

import argparse
import sys

from suites import eprop

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    eprop.add_arguments(parser)
    sys.exit(eprop.run(parser.parse_args()))
