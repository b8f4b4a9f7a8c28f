"""`python -m npae` and the `npae` console script: the command line (see npae/cli/)."""
import sys


def main(argv=None):
    """Run ``npae`` with ``argv`` (default: the process's arguments); returns the exit status."""
    from .cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
