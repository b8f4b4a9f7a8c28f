"""`python -m npae` / `npae`: train a small autoencoder on the digits and print its loss falling."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="npae", description=__doc__)
    parser.add_argument("--epochs", type=int, default=10, help="passes over the data (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")
    from .demo import train_digits_autoencoder
    train_digits_autoencoder(epochs=args.epochs, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
