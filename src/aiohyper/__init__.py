"""aiohyper: an asyncio HTTP client/server framework with the aiohttp 3.13 API.

``import aiohyper as aiohttp`` gives the client namespace; ``from aiohyper import web`` the server.
"""

from __future__ import annotations

from frozenlist import FrozenList as FrozenList

from . import hdrs as hdrs
from ._http._writer import StreamWriter as StreamWriter
from .formdata import FormData as FormData
from .helpers import (
    BasicAuth as BasicAuth,
    ChainMapProxy as ChainMapProxy,
    ContentDisposition as ContentDisposition,
    ETag as ETag,
    HttpVersion as HttpVersion,
    HttpVersion10 as HttpVersion10,
    HttpVersion11 as HttpVersion11,
    set_zlib_backend as set_zlib_backend,
)
from .http_exceptions import HttpProcessingError as HttpProcessingError
from .multipart import (
    BadContentDispositionHeader as BadContentDispositionHeader,
    BadContentDispositionParam as BadContentDispositionParam,
    BodyPartReader as BodyPartReader,
    MultipartReader as MultipartReader,
    MultipartResponseWrapper as MultipartResponseWrapper,
    MultipartWriter as MultipartWriter,
    content_disposition_filename as content_disposition_filename,
    parse_content_disposition as parse_content_disposition,
)
from .payload import (
    PAYLOAD_REGISTRY as PAYLOAD_REGISTRY,
    AsyncIterablePayload as AsyncIterablePayload,
    BufferedReaderPayload as BufferedReaderPayload,
    BytesIOPayload as BytesIOPayload,
    BytesPayload as BytesPayload,
    IOBasePayload as IOBasePayload,
    JsonPayload as JsonPayload,
    Payload as Payload,
    StringIOPayload as StringIOPayload,
    StringPayload as StringPayload,
    TextIOPayload as TextIOPayload,
    get_payload as get_payload,
    payload_type as payload_type,
)
from .payload_streamer import streamer as streamer
from .streams import (
    EMPTY_PAYLOAD as EMPTY_PAYLOAD,
    DataQueue as DataQueue,
    EmptyStreamReader as EmptyStreamReader,
    EofStream as EofStream,
    StreamReader as StreamReader,
)

__version__ = "0.1.0"

__all__ = (
    "EMPTY_PAYLOAD",
    "PAYLOAD_REGISTRY",
    "AsyncIterablePayload",
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "BasicAuth",
    "BodyPartReader",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "ChainMapProxy",
    "ContentDisposition",
    "DataQueue",
    "ETag",
    "EmptyStreamReader",
    "EofStream",
    "FormData",
    "FrozenList",
    "HttpProcessingError",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "IOBasePayload",
    "JsonPayload",
    "MultipartReader",
    "MultipartResponseWrapper",
    "MultipartWriter",
    "Payload",
    "StreamReader",
    "StreamWriter",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "content_disposition_filename",
    "get_payload",
    "hdrs",
    "parse_content_disposition",
    "payload_type",
    "set_zlib_backend",
    "streamer",
)
