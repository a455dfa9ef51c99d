"""AccessLogger: the format language and what it logs."""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any
from unittest import mock

import pytest
from multidict import CIMultiDict

from aiohyper._http._message import HttpVersion
from aiohyper.abc import AbstractAccessLogger
from aiohyper.web._log import AccessLogger


def fake_request(**kwargs: Any) -> Any:
    request = mock.Mock()
    request.remote = kwargs.get("remote", "10.1.2.3")
    request.method = kwargs.get("method", "GET")
    request.path_qs = kwargs.get("path_qs", "/path?x=1")
    request.version = kwargs.get("version", HttpVersion(1, 1))
    request.headers = CIMultiDict(kwargs.get("headers", {}))
    return request


def fake_response(**kwargs: Any) -> Any:
    response = mock.Mock()
    response.status = kwargs.get("status", 200)
    response.body_length = kwargs.get("body_length", 42)
    response.headers = CIMultiDict(kwargs.get("headers", {}))
    return response


def logged(log_format: str, request: Any = None, response: Any = None, time: float = 0.5) -> Any:
    logger = mock.Mock(spec=logging.Logger)
    access = AccessLogger(logger, log_format)
    access.log(request or fake_request(), response or fake_response(), time)
    assert logger.info.call_count == 1, logger.method_calls
    args, kwargs = logger.info.call_args
    return args[0], kwargs["extra"]


def test_is_an_abstract_access_logger() -> None:
    assert issubclass(AccessLogger, AbstractAccessLogger)
    access = AccessLogger(logging.getLogger("x"))
    assert access.log_format == AccessLogger.LOG_FORMAT


def test_default_format() -> None:
    request = fake_request(headers={"Referer": "http://ref/", "User-Agent": "ua/1"})
    message, extra = logged(AccessLogger.LOG_FORMAT, request, fake_response(status=404))
    assert re.fullmatch(
        r"10\.1\.2\.3 \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
        r'"GET /path\?x=1 HTTP/1\.1" 404 42 "http://ref/" "ua/1"',
        message,
    ), message
    assert extra["remote_address"] == "10.1.2.3"
    assert extra["first_request_line"] == "GET /path?x=1 HTTP/1.1"
    assert extra["response_status"] == "404"
    assert extra["response_size"] == "42"
    assert extra["request_header"] == {"Referer": "http://ref/", "User-Agent": "ua/1"}


@pytest.mark.parametrize(
    ("spec", "expected", "key"),
    [
        ("%a", "10.1.2.3", "remote_address"),
        ("%P", f"<{os.getpid()}>", "process_id"),
        ("%r", "GET /path?x=1 HTTP/1.1", "first_request_line"),
        ("%s", "200", "response_status"),
        ("%b", "42", "response_size"),
        ("%T", "3", "request_time"),
        ("%Tf", "3.141593", "request_time_frac"),
        ("%D", "3141593", "request_time_micro"),
    ],
)
def test_each_specifier(spec: str, expected: str, key: str) -> None:
    message, extra = logged(f"<{spec}>", time=3.1415926)
    assert message == f"<{expected}>"
    assert extra[key] == expected


def test_start_time_is_request_start_in_local_time() -> None:
    message, _ = logged("%t", time=3600.0)
    start = time.localtime(time.time() - 3600)
    assert message.startswith(f"[{start.tm_mday:02d}/")
    assert f"/{start.tm_year:04d}:{start.tm_hour:02d}:" in message
    offset = start.tm_gmtoff
    sign = "-" if offset < 0 else "+"
    assert message.endswith(f" {sign}{abs(offset) // 3600:02d}{abs(offset) // 60 % 60:02d}]")


def test_headers_in_and_out() -> None:
    request = fake_request(headers={"X-In": "in-value"})
    response = fake_response(headers={"X-Out": "out-value"})
    message, extra = logged("%{X-In}i %{X-Out}o %{Missing}i %{Missing}o", request, response)
    assert message == "in-value out-value - -"
    assert extra["request_header"] == {"X-In": "in-value", "Missing": "-"}
    assert extra["response_header"] == {"X-Out": "out-value", "Missing": "-"}


def test_missing_remote_is_dash() -> None:
    message, _ = logged("%a", fake_request(remote=None))
    assert message == "-"


def test_http10_request_line() -> None:
    message, _ = logged("%r", fake_request(version=HttpVersion(1, 0), method="POST"))
    assert message == "POST /path?x=1 HTTP/1.0"


def test_literal_percent_and_text() -> None:
    message, _ = logged("100%% of %s (%%s stays)")
    assert message == "100% of 200 (%s stays)"


@pytest.mark.parametrize("bad", ["%x", "%{Name}z", "trailing %", "%{}i"])
def test_unknown_specifier_rejected_at_construction(bad: str) -> None:
    with pytest.raises(ValueError, match="Unknown access log format specifier"):
        AccessLogger(logging.getLogger("x"), bad)


def test_format_compiled_once() -> None:
    fmt = "%a unique-format-for-cache-test"
    with mock.patch.object(
        AccessLogger, "compile_format", wraps=AccessLogger.compile_format
    ) as compile_format:
        AccessLogger(logging.getLogger("x"), fmt)
        AccessLogger(logging.getLogger("y"), fmt)
    assert compile_format.call_count == 1


def test_enabled_follows_logger_level() -> None:
    logger = logging.getLogger("test.web.log.enabled")
    access = AccessLogger(logger)
    logger.setLevel(logging.WARNING)
    assert not access.enabled
    logger.setLevel(logging.INFO)
    assert access.enabled


def test_error_while_logging_is_reported_not_raised() -> None:
    logger = mock.Mock(spec=logging.Logger)
    access = AccessLogger(logger, "%{X}i")
    request = fake_request()
    request.headers = None  # .get() fails
    access.log(request, fake_response(), 0.1)
    logger.exception.assert_called_once_with("Error in logging")
    logger.info.assert_not_called()


def test_real_logger_output(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.web.log.real")
    with caplog.at_level(logging.INFO, logger="test.web.log.real"):
        AccessLogger(logger, "%r -> %s").log(fake_request(), fake_response(status=201), 0.01)
    (record,) = caplog.records
    assert record.getMessage() == "GET /path?x=1 HTTP/1.1 -> 201"
    assert record.response_status == "201"  # type: ignore[attr-defined]
