"""Command line: ``python -m medgan COMMAND ...``.

Every module in :mod:`medgan.commands` that defines ``add_parser(subparsers)`` and ``run(args) -> int``
becomes a sub-command, so a new command is one new file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from medgan import commands


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per command module."""
    parser = argparse.ArgumentParser(prog="python -m medgan", description="MedGAN Studio command line")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"medgan.commands.{module_info.name}")
        sub = module.add_parser(subparsers)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; returns its exit status."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
