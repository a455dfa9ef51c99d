"""aiohyper.log: one logger per area, named like aiohttp's under ``aiohyper``."""

from __future__ import annotations

import logging

import pytest

from aiohyper import log


@pytest.mark.parametrize(
    ("attr", "name"),
    [
        ("access_logger", "aiohyper.access"),
        ("client_logger", "aiohyper.client"),
        ("internal_logger", "aiohyper.internal"),
        ("server_logger", "aiohyper.server"),
        ("web_logger", "aiohyper.web"),
        ("ws_logger", "aiohyper.websocket"),
    ],
)
def test_logger(attr: str, name: str) -> None:
    logger = getattr(log, attr)
    assert isinstance(logger, logging.Logger)
    assert logger.name == name
    # The same object the logging registry hands out, so dictConfig by name configures it.
    assert logging.getLogger(name) is logger


def test_all_is_complete() -> None:
    assert set(log.__all__) == {
        name for name, value in vars(log).items() if isinstance(value, logging.Logger)
    }


def test_messages_reach_the_package_logger(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="aiohyper"):
        log.client_logger.info("hello %s", "client")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("aiohyper.client", "hello client")
    ]
