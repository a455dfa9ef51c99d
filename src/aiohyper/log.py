"""The library's loggers, one per area (see the "Logging" page of the docs).

Nothing is configured here: applications attach handlers with :mod:`logging` as usual.
"""

from __future__ import annotations

import logging
from typing import Final

__all__ = (
    "access_logger",
    "client_logger",
    "internal_logger",
    "server_logger",
    "web_logger",
    "ws_logger",
)

#: One line per handled request, written by the server's access logger.
access_logger: Final[logging.Logger] = logging.getLogger("aiohyper.access")
#: Client session, connector and proxy events.
client_logger: Final[logging.Logger] = logging.getLogger("aiohyper.client")
#: Failures inside the library that are not tied to a request (e.g. callbacks that raised).
internal_logger: Final[logging.Logger] = logging.getLogger("aiohyper.internal")
#: Low level server protocol events: bad requests, lost connections, handler errors.
server_logger: Final[logging.Logger] = logging.getLogger("aiohyper.server")
#: Web application events: startup, shutdown, routing.
web_logger: Final[logging.Logger] = logging.getLogger("aiohyper.web")
#: WebSocket events on both sides.
ws_logger: Final[logging.Logger] = logging.getLogger("aiohyper.websocket")
