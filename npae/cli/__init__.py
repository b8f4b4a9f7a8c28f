"""The ``npae`` command line (also ``python -m npae``).

    npae train [MODEL] [--dataset digits] [--epochs N] [--latent D] [--beta B] [--out DIR] ...
    npae evaluate DIR          test loss, ELBO / log-likelihood (VAEs), linear-probe accuracy
    npae sample DIR -n 64      decode draws from a VAE's prior into a PNG
    npae gradcheck             every built-in layer and model against central differences
    npae demo                  the smallest example: a two-layer autoencoder, loop written out

Every command has ``--help``. Mistakes (an unknown model, ``--epochs -1``, a dataset whose
files are missing, a folder without a model) end in one line, ``npae: error: ...``, with
exit status 2 for a wrong command line and 1 for a failure while running; ``--debug``
shows the traceback instead.
"""
import argparse
import os
import sys
import warnings

from . import options

COMMANDS = ("train", "evaluate", "sample", "gradcheck", "demo")


class UsageError(Exception):
    """A command line that parses but makes no sense (``--k`` for a VAE); exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line on stderr (no usage block), exit status 2."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser():
    from . import evaluate, gradcheck, train
    parser = Parser(prog="npae", description="Autoencoders from scratch in NumPy: train, "
                    "evaluate, sample and gradient-check them from the shell.",
                    epilog="'npae COMMAND --help' describes each command.")
    from .. import __version__
    parser.add_argument("--version", action="version", version=f"npae {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    common = options.common_parser()
    train.add_parser(commands, common)
    evaluate.add_evaluate_parser(commands, common)
    evaluate.add_sample_parser(commands, common)
    gradcheck.add_parser(commands, common)
    demo = commands.add_parser("demo", parents=[common], help="train the two-layer demo "
                               "autoencoder on the digits, its loop written out (npae/demo.py)",
                               description="The smallest complete example (npae/demo.py): a "
                               "64-32-64 sigmoid autoencoder on the digits, trained by an "
                               "explicit forward / loss / backward / step loop.")
    demo.add_argument("--epochs", type=options.positive_int, default=10,
                      help="passes over the data (default 10)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.set_defaults(run=_run_demo)
    return parser


def _run_demo(args):
    from ..demo import train_digits_autoencoder
    train_digits_autoencoder(epochs=args.epochs, seed=args.seed)
    return 0


def main(argv=None):
    """Run the command line; returns the exit status (0 on success)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        if argv and argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version"):
            raise UsageError(f"{argv[0]} before the command: options follow it, as in "
                             f"'npae COMMAND {argv[0]} ...' (commands: {', '.join(COMMANDS)})")
        args = parser.parse_args(argv)
        args.argv = argv
        if args.command is None:
            parser.print_help(sys.stderr)
            raise UsageError(f"choose a command: {', '.join(COMMANDS)}")
        with _one_line_warnings(), _settings(args):
            return args.run(args)
    except UsageError as error:
        if debug:
            raise
        return _fail(error, 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:               # `npae ... | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except (ValueError, TypeError, OSError, MemoryError) as error:
        # npae's documented errors are ValueErrors / TypeErrors (a diverged training run is
        # a NonFiniteError); OSError covers missing files and folders, failed downloads
        if debug:
            raise
        return _fail(error, 1)


def _fail(error, status):
    message = " ".join(str(error).split())       # one line, whatever the message held
    print(f"npae: error: {message}", file=sys.stderr)
    return status


class _one_line_warnings(warnings.catch_warnings):
    """Show warnings as ``npae: warning: ...`` (no file name, no source line)."""

    def __enter__(self):
        result = super().__enter__()
        warnings.simplefilter("default")

        def show(message, category, filename, lineno, file=None, line=None):
            print(f"npae: warning: {' '.join(str(message).split())}", file=sys.stderr)
        warnings.showwarning = show
        return result


class _settings:
    """Apply ``--backend`` and ``--threads`` for the duration of a command."""

    def __init__(self, args):
        self.backend = getattr(args, "backend", None)
        self.threads = getattr(args, "threads", None)

    def __enter__(self):
        from .. import kernels
        self.previous_backend = kernels.get_backend()
        if self.backend is not None:
            kernels.set_backend(self.backend)
        self.limits = None
        if self.threads is not None:
            try:
                from threadpoolctl import threadpool_limits   # comes with scikit-learn
            except ImportError:
                threadpool_limits = None                      # then BLAS keeps its own
            if threadpool_limits is not None:
                self.limits = threadpool_limits(limits=self.threads, user_api="blas")
        return self

    def __exit__(self, *exc):
        from .. import kernels
        kernels.set_backend(self.previous_backend)
        if self.limits is not None:
            self.limits.restore_original_limits()
        return False
