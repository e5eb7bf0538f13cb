"""The ``usercore`` console script."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import usercore


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``usercore`` and its sub-commands."""
    parser = argparse.ArgumentParser(
        prog="usercore",
        description="User management core: registration, login, tokens, profiles and roles.",
    )
    parser.add_argument("--version", action="version", version=f"usercore {usercore.__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
