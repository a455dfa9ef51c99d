"""``python -m aiohyper.web [-H host] [-P port] [-U path] package.module:init_func [args...]``

A development server: imports ``init_func``, calls it with the command line arguments it did
not recognise, and serves the `Application` it returns (or awaits, for a coroutine) with
`run_app`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
from collections.abc import Sequence

from ._run_app import run_app

__all__ = ("main",)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aiohyper.web",
        description="aiohyper.web Application server",
    )
    parser.add_argument(
        "entry_func",
        metavar="entry-func",
        help="Callable returning the aiohyper.web.Application instance to run, in "
        "'package.module:function' form. It receives the unparsed arguments.",
    )
    parser.add_argument(
        "-H",
        "--hostname",
        default="localhost",
        help="TCP/IP hostname to serve on (default: %(default)r)",
    )
    parser.add_argument(
        "-P",
        "--port",
        type=int,
        default=8080,
        help="TCP/IP port to serve on (default: %(default)r)",
    )
    parser.add_argument(
        "-U",
        "--path",
        help="Unix file system path to serve on. Can be combined with hostname "
        "to serve on both Unix and TCP.",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Parse ``argv`` (default: ``sys.argv[1:]``), build the application and serve it."""
    parser = _parser()
    args, extra_argv = parser.parse_known_args(argv)

    module_name, sep, func_name = args.entry_func.partition(":")
    if not sep or not module_name or not func_name:
        parser.error("'entry-func' not in 'module:function' syntax")
    if module_name.startswith("."):
        parser.error("relative module names not supported")
    if args.path is not None and not hasattr(socket, "AF_UNIX"):
        parser.error("file system paths not supported by your operating environment")

    # Like `python -m`, resolve the entry point against the current directory too.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        parser.error(f"unable to import {module_name}: {exc}")
    try:
        func = getattr(module, func_name)
    except AttributeError:
        parser.error(f"module {module_name!r} has no attribute {func_name!r}")

    app = func(extra_argv)
    run_app(app, host=args.hostname, port=args.port, path=args.path)
    parser.exit(message="Stopped\n")


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess
    main()
