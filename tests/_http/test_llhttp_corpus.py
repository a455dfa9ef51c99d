"""Our parsers against llhttp's own test vectors (the corpus in ``shared/corpus/llhttp``).

Each case of ``test/request/*.md``, ``test/response/*.md`` and ``test/url.md`` is read as the
corpus README describes (normalised input, expected callback log) and run through our
`RequestParser` / `ResponseParser`, fed whole and (unless the case says ``noScan``) one byte at
a time. The outcome must equal llhttp's: the same messages (method, target or status, version,
header fields, body bytes, completion), an upgrade with the same tail, or a rejection.

Where our parser differs on purpose, the case is listed below with the reason, and the harness
checks that it differs exactly that way:

* `STRICTER`: llhttp (strict mode) accepts, we reject.
* `ACCEPTED_BY_US`: a case llhttp only accepts in a lenient mode (or rejects), which we accept.
* `NOT_APPLICABLE`: the case exercises an llhttp API our parser does not have.

Two rules hold for every case rather than being listed one by one:

* An HTTP/1.1 request without ``Host`` (most of the corpus) is rejected by us (RFC 9112 §3.2).
  The harness checks that rejection, then reruns the case with ``Host: x`` inserted after each
  such request line and compares everything else.
* llhttp's "Data after `Connection: close`" error: we ignore bytes after a message that closes
  the connection instead (RFC 9112 §9.6), so the messages before it must match and no error is
  raised.

Known blind spot: httptools does not expose the protocol token, so the RTSP/ICE cases pass the
way llhttp parses them (as version 1.0 with HTTP framing) rather than being refused.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aiohyper._http._parser import RequestParser, ResponseParser
from aiohyper.http_exceptions import BadHttpMessage, HttpProcessingError

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus" / "llhttp" / "test"

# llhttp error codes with a meaning other than "rejected".
_PAUSED_UPGRADE = 22
_CLOSED_CONNECTION = 5

_NO_OTHER_CODINGS = (
    "we implement no transfer coding but chunked, so Transfer-Encoding must be exactly one "
    "'chunked' (llhttp reads other codings until EOF in responses, chained ones in requests)"
)
_NO_USERINFO = (
    "userinfo in an absolute-form target is refused (RFC 9110 §4.2.4: treat it as an error)"
)
_UPGRADE_BODY = (
    "an upgrade request with a body is refused: httptools makes llhttp skip that body, so it "
    "would reach the new protocol"
)
_DATA_AFTER_CLOSE = (
    "bytes after a message that closes the connection are ignored (RFC 9112 §9.6); llhttp "
    "needs its keep-alive leniency to parse them"
)

STRICTER: dict[str, str] = {
    "request/connection.md: `upgrade` > Emitting part of body and pausing": _UPGRADE_BODY,
    "request/connection.md: `upgrade` > Upgrade POST request": _UPGRADE_BODY,
    "request/method.md: CONNECT with body": _UPGRADE_BODY,
    "request/method.md: M-SEARCH request": (
        "asterisk-form targets are only for OPTIONS (RFC 9112 §3.2.4)"
    ),
    "request/sample.md: No HTTP version": "HTTP/0.9 (no version) is refused; only 1.0 and 1.1",
    "response/sample.md: HTTP version 0.9": "only HTTP/1.0 and HTTP/1.1 are accepted",
    "request/transfer-encoding.md: POST with `chunked` as last transfer-encoding": (
        _NO_OTHER_CODINGS
    ),
    "request/transfer-encoding.md: POST with `chunked` as last transfer-encoding "
    "(multiple headers)": _NO_OTHER_CODINGS,
    "response/transfer-encoding.md: `chunked` before other transfer-encoding": _NO_OTHER_CODINGS,
    "response/transfer-encoding.md: multiple transfer-encoding where chunked is not the last "
    "one": _NO_OTHER_CODINGS,
    "response/transfer-encoding.md: `chunkedchunked` transfer-encoding does not enable chunked "
    "enconding": _NO_OTHER_CODINGS,
    "request/uri.md: `host:port` and basic auth": _NO_USERINFO,
    "url.md: Complex URL with basic auth from node.js url parser doc": _NO_USERINFO,
    "url.md: Proxy basic auth with url encoded space": _NO_USERINFO,
    "url.md: Proxy basic auth with unreserved chars": _NO_USERINFO,
}
ACCEPTED_BY_US: dict[str, str] = {
    "request/connection.md: `keep-alive` > Resetting flags when keep-alive is off (1.0, "
    "lenient)": _DATA_AFTER_CLOSE,
    "request/connection.md: `close` > CRLF between requests, explicit `close` (lenient)": (
        _DATA_AFTER_CLOSE
    ),
    "response/connection.md: HTTP/1.1 with keep-alive disabled, content-length (lenient)": (
        _DATA_AFTER_CLOSE
    ),
    "response/connection.md: HTTP/1.1 with keep-alive disabled and 204 status (lenient)": (
        _DATA_AFTER_CLOSE
    ),
}
NOT_APPLICABLE: dict[str, str] = {
    "request/content-length.md: Content-Length reset when no body is received": (
        "llhttp's skip-body callback result for requests has no equivalent in our parser"
    ),
}


# -- reading the corpus ------------------------------------------------------------------------


def eval_js_expression(expr: str) -> str:
    """Evaluate the tiny JavaScript subset a ``${...}`` may hold: string literals, integer
    literals, ``'s'.repeat(n)`` and ``+`` between strings. Anything else is an error."""
    tokens = re.findall(r"""\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\d+|\.repeat|[()+])""", expr)
    if "".join(tokens).replace(" ", "") != expr.replace(" ", ""):
        raise ValueError(f"unsupported expression: {expr!r}")
    tokens = [t.strip() for t in tokens]
    pos = 0

    def atom() -> str | int:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        value: str | int
        if tok[0] in "'\"":
            value = tok[1:-1].encode().decode("unicode_escape")
        elif tok.isdigit():
            value = int(tok)
        elif tok == "(":
            value = expression()
            if tokens[pos] != ")":
                raise ValueError(f"unbalanced parentheses in {expr!r}")
            pos += 1
        else:
            raise ValueError(f"unexpected {tok!r} in {expr!r}")
        while pos < len(tokens) and tokens[pos] == ".repeat":
            if tokens[pos + 1] != "(":
                raise ValueError(f"bad call in {expr!r}")
            pos += 2
            count = expression()
            if tokens[pos] != ")" or not isinstance(value, str) or not isinstance(count, int):
                raise ValueError(f"bad .repeat() in {expr!r}")
            pos += 1
            value = value * count
        return value

    def expression() -> str | int:
        nonlocal pos
        value = atom()
        while pos < len(tokens) and tokens[pos] == "+":
            pos += 1
            right = atom()
            if isinstance(value, int) and isinstance(right, int):
                value = value + right
            else:
                value = str(value) + str(right)
        return value

    result = expression()
    if pos != len(tokens):
        raise ValueError(f"trailing tokens in {expr!r}")
    return str(result)


_ESCAPE_RE = re.compile(r"\\(?:x([0-9a-fA-F]{2})|([0-7]{1,3})|([rntf]))")
_SIMPLE_ESCAPES = {"r": "\r", "n": "\n", "t": "\t", "f": "\f"}


def normalise_input(text: str) -> bytes:
    """Turn the text of an ``http`` block into the bytes it stands for (corpus README rules)."""
    if text.endswith("\n"):
        text = text[:-1]
    text = text.replace("\\\n", "")
    text = text.replace("\n", "\r\n")
    text = re.sub(r"\$\{([^}]*)\}", lambda m: eval_js_expression(m.group(1)), text)

    # llhttp's own harness turns ``\xHH`` / ``\NNN`` into the character U+00HH and sends the
    # text as UTF-8, so 0x80-0xFF become two bytes; its logs (e.g. "255 ASCII in header value")
    # confirm it, so we do the same. Other backslashes (``\"``) are literal.
    def escape(m: re.Match[str]) -> str:
        hex_digits, octal, simple = m.groups()
        if hex_digits is not None:
            return chr(int(hex_digits, 16))
        if octal is not None:
            return chr(int(octal, 8))
        return _SIMPLE_ESCAPES[simple]

    return _ESCAPE_RE.sub(escape, text).encode()


def _unquote_log(value: str) -> bytes:
    if value == "cr":
        return b"\r"
    if value == "lf":
        return b"\n"
    assert value[0] == value[-1] == '"', value
    # Logs print bytes as they are (UTF-8 text), except control characters as \t, \f...
    text = re.sub(r"\\([tf])", lambda m: {"t": "\t", "f": "\f"}[m.group(1)], value[1:-1])
    return text.encode()


@dataclasses.dataclass
class Case:
    id: str
    kind: str  # "request", "response" or "url"
    meta: dict[str, Any]
    data: bytes
    log: list[str]


def _read_cases() -> list[Case]:
    cases: list[Case] = []
    seen: dict[str, int] = {}
    files = sorted(CORPUS.glob("request/*.md")) + sorted(CORPUS.glob("response/*.md"))
    files.append(CORPUS / "url.md")
    for path in files:
        rel = path.relative_to(CORPUS).as_posix()
        default_kind = "url" if rel == "url.md" else rel.split("/")[0]
        headings: dict[int, str] = {}
        meta: dict[str, Any] = {}
        lines = path.read_text(encoding="utf-8").split("\n")
        i = 0
        pending: tuple[str, str] | None = None  # (block kind, text) waiting for its log
        while i < len(lines):
            line = lines[i]
            heading = re.match(r"^(#{2,4}) (.*)$", line)
            if heading:
                level = len(heading.group(1))
                headings = {k: v for k, v in headings.items() if k < level}
                headings[level] = heading.group(2).strip()
                meta = {}
            elif line.startswith("<!-- meta="):
                meta = json.loads(line[len("<!-- meta=") : line.rindex("-->")])
            elif line.startswith("```") and line[3:].strip() in ("http", "url", "log"):
                block = line[3:].strip()
                body: list[str] = []
                i += 1
                while not lines[i].startswith("```"):
                    body.append(lines[i])
                    i += 1
                text = "\n".join(body) + "\n"
                if block != "log":
                    pending = (block, text)
                elif pending is not None:
                    title = " > ".join(headings[k] for k in sorted(headings))
                    case_id = f"{rel}: {title}"
                    seen[case_id] = seen.get(case_id, 0) + 1
                    if seen[case_id] > 1:
                        case_id += f" #{seen[case_id]}"
                    kind = "url" if pending[0] == "url" else default_kind
                    cases.append(Case(case_id, kind, meta, normalise_input(pending[1]), body))
                    pending = None
                    meta = {}
            i += 1
    return cases


# -- what llhttp says --------------------------------------------------------------------------


@dataclasses.dataclass
class Message:
    method: bytes = b""
    url: bytes = b""
    protocol: bytes = b""
    status: int | None = None
    reason: bytes = b""
    version: tuple[int, int] | None = None
    headers: list[tuple[bytes, bytes]] = dataclasses.field(default_factory=list)
    headers_done: bool = False
    body: bytes = b""
    complete: bool = False
    version_end: int | None = None  # offset just after the version digits


@dataclasses.dataclass
class Expected:
    messages: list[Message]
    error: tuple[int, str, int] | None  # (code, reason, offset)
    finish: int | None


_LINE_RE = re.compile(r"^off=(\d+|NULL) (.*)$")
_SPAN_RE = re.compile(r"^len=\d+ span\[([\w.]+)\]=(.*)$")
_HEADERS_RE = re.compile(r"^headers complete (?:method=\d+|status=(\d+)) v=(\d+)/(\d+) ")


def expected_outcome(log: list[str]) -> Expected:
    messages: list[Message] = []
    error = None
    finish = None
    name = value = b""
    for line in log:
        m = _LINE_RE.match(line)
        if m is None:
            continue
        offset, event = m.groups()
        msg = messages[-1] if messages else None
        span = _SPAN_RE.match(event)
        if event == "message begin":
            messages.append(Message())
        elif span is not None:
            kind, raw = span.groups()
            chunk = _unquote_log(raw)
            assert msg is not None
            if kind == "method":
                msg.method += chunk
            elif kind == "url":
                msg.url += chunk
            elif kind == "protocol":
                msg.protocol += chunk
            elif kind == "status":
                msg.reason += chunk
            elif kind == "header_field":
                name += chunk
            elif kind == "header_value":
                value += chunk
            elif kind == "body":
                msg.body += chunk
        elif event == "version complete":
            assert msg is not None
            msg.version_end = int(offset)
        elif event == "header_value complete":
            assert msg is not None
            if not msg.headers_done:  # trailers are checked for limits only, then dropped
                msg.headers.append((name, value))
            name = value = b""
        elif event.startswith("headers complete"):
            hm = _HEADERS_RE.match(event)
            assert msg is not None and hm is not None, event
            msg.headers_done = True
            msg.version = (int(hm.group(2)), int(hm.group(3)))
            if hm.group(1) is not None:
                msg.status = int(hm.group(1))
        elif event == "message complete":
            assert msg is not None
            msg.complete = True
        elif event.startswith("error code="):
            em = re.match(r'error code=(\d+) reason="(.*)"$', event)
            assert em is not None
            error = (int(em.group(1)), em.group(2), int(offset))
        elif event.startswith("finish="):
            finish = int(event[len("finish=") :])
    if finish == 1 and messages:
        # "Safe with callback": EOF completes the body that was being read until close.
        messages[-1].complete = True
    return Expected(messages, error, finish)


# -- what we say -------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    messages: list[Message]
    upgraded: bool = False
    tail: bytes = b""
    error: BaseException | None = None


def run_ours(
    parser: RequestParser | ResponseParser, data: bytes, *, bytewise: bool, finish: bool
) -> Outcome:
    outcome = Outcome([])
    payloads = []
    pieces = [data[i : i + 1] for i in range(len(data))] if bytewise else [data]
    try:
        for index, piece in enumerate(pieces):
            messages, upgraded, tail = parser.feed_data(piece)
            for head, payload in messages:
                msg = Message(version=(head.version.major, head.version.minor))
                if isinstance(head, tuple) and hasattr(head, "method"):
                    msg.method = head.method.encode()
                    msg.url = head.path.encode()
                else:
                    msg.status = head.code
                    msg.reason = head.reason.encode("utf-8", "surrogateescape")
                msg.headers = list(head.raw_headers)
                msg.headers_done = True
                outcome.messages.append(msg)
                payloads.append(payload)
            if upgraded:
                outcome.upgraded = True
                outcome.tail = tail + b"".join(pieces[index + 1 :])
                break
        if finish:
            parser.feed_eof()
    except HttpProcessingError as exc:
        outcome.error = exc
    for msg, payload in zip(outcome.messages, payloads, strict=True):
        if payload.exception() is None:
            msg.body = payload.read_nowait()
        msg.complete = payload.is_eof()
    return outcome


# -- the test ----------------------------------------------------------------------------------


def _needs_host(msg: Message) -> bool:
    return msg.version == (1, 1) and not any(n.lower() == b"host" for n, _ in msg.headers)


def _inject_host(data: bytes, messages: list[Message]) -> bytes:
    """Insert ``Host: x`` after the request line of every HTTP/1.1 message lacking one."""
    out = data
    for msg in reversed(messages):
        if msg.version_end is not None and (msg.version in (None, (1, 1))) and _needs_host(msg):
            at = msg.version_end + 2  # after CRLF
            out = out[:at] + b"Host: x\r\n" + out[at:]
            msg.headers.insert(0, (b"Host", b"x"))
    return out


def _compare(expected: Expected, ours: Outcome, data: bytes, *, request: bool) -> None:
    want = [m for m in expected.messages if m.headers_done]
    assert len(ours.messages) == len(want), (ours.messages, want)
    for got, exp in zip(ours.messages, want, strict=True):
        assert got.version == exp.version
        if request:
            assert got.method == exp.method
            assert got.url == exp.url
        else:
            assert got.status == exp.status
            assert got.reason == exp.reason
        # We strip trailing whitespace of field values (it is OWS); llhttp reports it.
        assert got.headers == [(n, v.rstrip(b" \t")) for n, v in exp.headers]
        assert got.body == exp.body
        assert got.complete == exp.complete


def _parser_for(
    case: Case,
    request_parser_factory: Callable[..., RequestParser],
    response_parser_factory: Callable[..., ResponseParser],
) -> RequestParser | ResponseParser:
    if case.kind == "response":
        return response_parser_factory(
            read_until_eof=True,
            auto_decompress=False,
            response_with_body=not case.meta.get("skipBody", False),
        )
    return request_parser_factory(auto_decompress=False)


def _check_case(
    case: Case,
    expected: Expected,
    request_parser_factory: Callable[..., RequestParser],
    response_parser_factory: Callable[..., ResponseParser],
    *,
    bytewise: bool,
) -> None:
    request = case.kind != "response"
    finish = case.meta.get("type", "").endswith("-finish")
    data = case.data

    def run(payload: bytes) -> Outcome:
        parser = _parser_for(case, request_parser_factory, response_parser_factory)
        return run_ours(parser, payload, bytewise=bytewise, finish=finish)

    error_code = expected.error[0] if expected.error else None
    if case.id in STRICTER:
        ours = run(data)
        assert ours.error is not None, f"expected a rejection: {STRICTER[case.id]}"
        return
    if "lenient" in case.meta.get("type", ""):
        ours = run(data)
        if case.id in ACCEPTED_BY_US:
            # We accept what llhttp needs leniency for; what we parsed must agree with it.
            assert ours.error is None, ACCEPTED_BY_US[case.id]
            want = [m for m in expected.messages if m.headers_done]
            expected.messages = want[: len(ours.messages)]
            _compare(expected, ours, data, request=request)
        else:
            assert ours.error is not None, "a case needing an llhttp leniency must be rejected"
        return
    if error_code not in (None, _PAUSED_UPGRADE, _CLOSED_CONNECTION) and (
        case.id not in ACCEPTED_BY_US
    ):
        ours = run(data)
        assert ours.error is not None, f"llhttp rejects this: {expected.error}"
        return

    if request and any(m.version_end is not None and _needs_host(m) for m in expected.messages):
        ours = run(data)
        assert isinstance(ours.error, BadHttpMessage) and "Host" in ours.error.message, (
            "an HTTP/1.1 request without Host must be rejected"
        )
        data = _inject_host(data, expected.messages)

    ours = run(data)
    assert ours.error is None, f"we reject what llhttp accepts: {ours.error!r}"
    _compare(expected, ours, data, request=request)
    if error_code == _PAUSED_UPGRADE:
        assert expected.error is not None
        assert ours.upgraded
        assert ours.tail == case.data[expected.error[2] :]
    else:
        assert not ours.upgraded
    if finish and expected.finish == 2:
        # llhttp calls EOF here unsafe; we drop the unfinished head (no message) or raise.
        assert not expected.messages[-1].headers_done or ours.error is not None


def _url_case(case: Case, request_parser_factory: Callable[..., RequestParser]) -> None:
    target = case.data
    spans: dict[str, bytes] = {}
    error = None
    for line in case.log:
        m = _LINE_RE.match(line)
        assert m is not None
        span = _SPAN_RE.match(m.group(2))
        if span is not None:
            spans[span.group(1)] = _unquote_log(span.group(2))
        elif m.group(2).startswith("error"):
            error = m.group(2)
    parser = request_parser_factory()
    request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    if error is not None or case.id in STRICTER:
        with pytest.raises(HttpProcessingError):
            parser.feed_data(request)
        return
    messages, _, _ = parser.feed_data(request)
    url = messages[0][0].url
    assert (url.scheme or "").encode() == spans.get("url.schema", b"")
    assert (url.raw_authority or "").encode() == spans.get("url.host", b"")
    assert url.raw_path.encode() == spans.get("url.path", b"")
    assert url.raw_query_string.encode() == spans.get("url.query", b"")
    assert url.raw_fragment.encode() == spans.get("url.fragment", b"")


def _cases() -> list[Any]:
    if not CORPUS.is_dir():
        return [pytest.param(None, id="corpus-missing")]
    return [pytest.param(case, id=case.id) for case in _read_cases()]


@pytest.mark.parametrize("case", _cases())
def test_llhttp_case(
    case: Case | None,
    request_parser_factory: Callable[..., RequestParser],
    response_parser_factory: Callable[..., ResponseParser],
) -> None:
    if case is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"llhttp corpus not found at {CORPUS}")
        pytest.skip(f"llhttp corpus not found at {CORPUS}")
    if case.id in NOT_APPLICABLE:
        pytest.skip(NOT_APPLICABLE[case.id])
    if case.kind == "url":
        _url_case(case, request_parser_factory)
        return
    expected = expected_outcome(case.log)
    _check_case(case, expected, request_parser_factory, response_parser_factory, bytewise=False)
    if not case.meta.get("noScan"):
        expected = expected_outcome(case.log)
        _check_case(case, expected, request_parser_factory, response_parser_factory, bytewise=True)


def test_difference_lists_name_real_cases() -> None:
    if not CORPUS.is_dir():
        pytest.skip("corpus missing")
    ids = {case.id for case in _read_cases()}
    for listed in (STRICTER, ACCEPTED_BY_US, NOT_APPLICABLE):
        assert set(listed) <= ids, set(listed) - ids
        assert all(reason for reason in listed.values())


def test_js_expression_evaluator() -> None:
    assert eval_js_expression("'a'.repeat(3)") == "aaa"
    assert eval_js_expression("'ab' + \"c\".repeat(2) + 'd'") == "abccd"
    assert eval_js_expression("('x' + 'y').repeat(2)") == "xyxy"
    with pytest.raises(ValueError):
        eval_js_expression("process.exit(1)")


def test_normalise_input() -> None:
    text = "GET / HTTP/1.1\\r\nA: b\\\nc\\t\\x41\\101\n\n\n"
    assert normalise_input(text) == b"GET / HTTP/1.1\r\r\nA: bc\tAA\r\n\r\n"
    assert normalise_input("${'a'.repeat(3)}\n") == b"aaa"
