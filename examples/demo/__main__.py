"""``python -m examples.demo [--host HOST] [--port PORT]``: serve the demo until Ctrl+C."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from aiohyper import web

from .app import create_app


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, then serve the demo with `web.run_app` until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m examples.demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (%(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="TCP port (%(default)s)")
    args = parser.parse_args(argv)

    # INFO makes the access log visible: one line per request on stderr.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    web.run_app(create_app(), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
