"""python -m npae.exercises list | copy NAME [DIR] | check NAME FILE"""
import argparse
import importlib.util
import sys

from . import check, copy_template, describe, names


def _load(name, path):
    spec = importlib.util.spec_from_file_location(f"student_{name}", path)
    if spec is None:
        raise SystemExit(f"cannot load {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, name):
        raise SystemExit(f"{path} defines no function {name}()")
    return getattr(module, name)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m npae.exercises",
                                     description="Coursework exercises checked by npae's gradient checks.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the exercises")
    copy = commands.add_parser("copy", help="copy an exercise's template into a folder")
    copy.add_argument("name", choices=names())
    copy.add_argument("directory", nargs="?", default=".")
    run = commands.add_parser("check", help="check your solution file")
    run.add_argument("name", choices=names())
    run.add_argument("file")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in names():
            print(f"{name:<26}{describe(name)}")
        return 0
    if args.command == "copy":
        print(f"copied to {copy_template(args.name, args.directory)}")
        return 0
    return 0 if check(args.name, _load(args.name, args.file)).passed else 1


if __name__ == "__main__":
    sys.exit(main())
