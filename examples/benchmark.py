"""Reproduce the paper's Figs. 3-5: the same as ``mimo-fl benchmark`` (every option of it is accepted here).

Examples::

    python examples/benchmark.py --preset quick --seeds 3 --rounds 50 --out results/benchmark-quick
    python examples/benchmark.py --preset tiny --seeds 1 --rounds 3 --methods fedavg clustered-cmab --out /tmp/b

It trains every method at every CSI condition and seed (one JSON file per run in ``--out``; an interrupted run
resumes), then writes the per-cluster bar figures, the convergence curves and ``results.md`` into ``--out``.
"""

import sys

from mimo_env.cli import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
