"""W3 (part): wall time of `import npae` vs `import numpy`, each in a fresh interpreter.

Prints one JSON line. Median of --repeat runs; numpy's own import is the floor.
"""
import argparse
import json
import statistics
import subprocess
import sys

CODE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def time_import(module, repeat):
    runs = [float(subprocess.run([sys.executable, "-c", CODE.format(module=module)],
                                 capture_output=True, text=True, check=True).stdout)
            for _ in range(repeat)]
    return statistics.median(runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    numpy_s, npae_s = time_import("numpy", args.repeat), time_import("npae", args.repeat)
    print(json.dumps({"benchmark": "import_time", "numpy_s": round(numpy_s, 4), "npae_s": round(npae_s, 4),
                      "npae_over_numpy_s": round(npae_s - numpy_s, 4), "target_s": 0.3,
                      "repeat": args.repeat}))


if __name__ == "__main__":
    main()
