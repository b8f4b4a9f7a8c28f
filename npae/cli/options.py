"""Argument types and the options every command shares.

A type function raises ``argparse.ArgumentTypeError``; argparse turns it into
"argument --epochs: must be an integer >= 1, got '-3'", which ``npae`` prints on one line.
"""
import argparse


def _number(kind, text, ok, requirement):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}") from None
    if not ok(value):
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}")
    return value


def positive_int(text):
    return _number(int, text, lambda v: v >= 1, "an integer >= 1")


def nonnegative_int(text):
    return _number(int, text, lambda v: v >= 0, "an integer >= 0")


def positive_float(text):
    return _number(float, text, lambda v: 0 < v < float("inf"), "a number > 0")


def nonnegative_float(text):
    return _number(float, text, lambda v: 0 <= v < float("inf"), "a number >= 0")


def fraction(text):
    """A number in [0, 1] (a corruption level)."""
    return _number(float, text, lambda v: 0 <= v <= 1, "a number in [0, 1]")


def open_fraction(text):
    """A number strictly inside (0, 1) (a target activation ρ)."""
    return _number(float, text, lambda v: 0 < v < 1, "a number strictly between 0 and 1")


def common_parser():
    """Options of every command: compute backend, BLAS threads, tracebacks."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("computation")
    group.add_argument("--backend", choices=("numba", "numpy"), default=None,
                       help="run the Numba kernels or their plain NumPy twins (default: "
                            "$NPAE_BACKEND, else numba)")
    group.add_argument("--threads", type=positive_int, default=1, metavar="N",
                       help="BLAS threads (default 1: these models are small, and on a busy "
                            "CPU extra BLAS threads slow small matrix products down)")
    group.add_argument("--debug", action="store_true",
                       help="show the full traceback when something fails")
    return common
