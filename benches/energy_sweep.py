"""Energy of learning with competitive plasticity (see benches/suites/energy.py).

Usage:
  python benches/energy_sweep.py                      # everything (long)
  python benches/energy_sweep.py --parts fidelity speed
  python benches/energy_sweep.py --parts sweep --hidden 100 300 1000 --jobs 2
"""

import argparse

from suites import energy

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    energy.add_arguments(parser)
    raise SystemExit(energy.run(parser.parse_args()))
