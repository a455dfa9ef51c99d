"""HTML form bodies (``aiohttp.FormData``).

A `FormData` collects fields and, when called, encodes them as one payload:
``application/x-www-form-urlencoded`` for plain name/value text fields, ``multipart/form-data``
as soon as one field is a file object or was added with a ``content_type``, ``filename`` or
``content_transfer_encoding`` (or bytes, which are sent as a file named after the field).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from multidict import MultiDict, MultiDictProxy

from . import hdrs
from .multipart import MultipartWriter
from .payload import BytesPayload, Payload, get_payload, guess_filename

__all__ = ("FormData",)

_Field = tuple[MultiDict[str], dict[str, str], Any]


class FormData:
    """Form fields to send as a request body (see the module docstring).

    ``fields`` is a dict, a multidict, a list of ``(name, value)`` pairs or a file object.
    ``quote_fields=False`` sends field and file names verbatim in the Content-Disposition (as
    browsers do) instead of RFC 5987-encoding non-ASCII ones; ``charset`` is the encoding of text
    fields. ``default_to_multipart`` makes even a text-only form ``multipart/form-data``.

    Calling the form encodes it. The multipart body is built once: calling again returns the
    same payload (so a redirect can re-send it), and fields cannot be added any more.
    """

    __slots__ = ("_charset", "_fields", "_is_multipart", "_processed", "_quote_fields", "_writer")

    def __init__(
        self,
        fields: Iterable[Any] | Any = (),
        quote_fields: bool = True,
        charset: str | None = None,
        boundary: str | None = None,
        *,
        default_to_multipart: bool = False,
    ) -> None:
        self._writer = MultipartWriter("form-data", boundary=boundary)
        self._fields: list[_Field] = []
        self._is_multipart = default_to_multipart
        self._quote_fields = quote_fields
        self._charset = charset
        # Set once the multipart body is built; it is then what every call returns.
        self._processed = False
        if isinstance(fields, dict):
            fields = list(fields.items())
        elif not isinstance(fields, (list, tuple)):
            fields = (fields,)
        self.add_fields(*fields)

    @property
    def is_multipart(self) -> bool:
        """Whether the form is sent as ``multipart/form-data``."""
        return self._is_multipart

    def add_field(
        self,
        name: str,
        value: Any,
        content_type: str | None = None,
        filename: str | None = None,
        content_transfer_encoding: str | None = None,
    ) -> None:
        """Add a field. ``value`` is text, bytes-like or a file object.

        A bytes-like value without ``filename`` is sent as a file named ``name`` (unless a
        ``content_transfer_encoding`` is given); a file object without ``filename`` is named
        after its file. Raises ``TypeError`` for a ``filename``, ``content_type`` or
        ``content_transfer_encoding`` that is not a string, ``RuntimeError`` once the form was
        encoded as multipart.
        """
        if self._processed:
            raise RuntimeError("Form data has been processed already, no fields can be added")
        if isinstance(value, io.IOBase):
            self._is_multipart = True
        elif (
            isinstance(value, (bytes, bytearray, memoryview))
            and filename is None
            and content_transfer_encoding is None
        ):
            filename = name

        type_options: MultiDict[str] = MultiDict({"name": name})
        if filename is not None and not isinstance(filename, str):
            raise TypeError(f"filename must be an instance of str. Got: {filename!r}")
        if filename is None and isinstance(value, io.IOBase):
            filename = guess_filename(value, name)
        if filename is not None:
            type_options["filename"] = filename
            self._is_multipart = True

        headers: dict[str, str] = {}
        if content_type is not None:
            if not isinstance(content_type, str):
                raise TypeError(f"content_type must be an instance of str. Got: {content_type!r}")
            headers[hdrs.CONTENT_TYPE] = content_type
            self._is_multipart = True
        if content_transfer_encoding is not None:
            if not isinstance(content_transfer_encoding, str):
                raise TypeError(
                    "content_transfer_encoding must be an instance of str. "
                    f"Got: {content_transfer_encoding!r}"
                )
            headers[hdrs.CONTENT_TRANSFER_ENCODING] = content_transfer_encoding
            self._is_multipart = True
        self._fields.append((type_options, headers, value))

    def add_fields(self, *fields: Any) -> None:
        """Add fields: file objects, multidicts, and ``(name, value)`` pairs."""
        to_add = list(fields)
        while to_add:
            rec = to_add.pop(0)
            if isinstance(rec, io.IOBase):
                self.add_field(guess_filename(rec, "unknown") or "unknown", rec)
            elif isinstance(rec, (MultiDictProxy, MultiDict)):
                to_add[0:0] = rec.items()  # in place, keeping the fields in order
            elif isinstance(rec, (list, tuple)) and len(rec) == 2:
                name, value = rec
                self.add_field(name, value)
            else:
                raise TypeError(
                    "Only io.IOBase, multidict and (name, file) pairs allowed, use "
                    f".add_field() for passing more complex parameters, got {rec!r}"
                )

    def _gen_form_urlencoded(self) -> BytesPayload:
        data = [(type_options["name"], value) for type_options, _, value in self._fields]
        charset = self._charset if self._charset is not None else "utf-8"
        if charset == "utf-8":
            content_type = "application/x-www-form-urlencoded"
        else:
            content_type = f"application/x-www-form-urlencoded; charset={charset}"
        return BytesPayload(
            urlencode(data, doseq=True, encoding=charset).encode(), content_type=content_type
        )

    def _gen_form_data(self) -> MultipartWriter:
        if self._processed:
            return self._writer
        for type_options, headers, value in self._fields:
            try:
                if hdrs.CONTENT_TYPE in headers:
                    part = get_payload(
                        value,
                        content_type=headers[hdrs.CONTENT_TYPE],
                        headers=headers,
                        encoding=self._charset,
                    )
                else:
                    part = get_payload(value, headers=headers, encoding=self._charset)
            except Exception as exc:
                raise TypeError(
                    f"Can not serialize value type: {type(value)!r}\n "
                    f"headers: {headers!r}\n value: {value!r}"
                ) from exc
            part.set_content_disposition(
                "form-data", quote_fields=self._quote_fields, **type_options
            )
            # RFC 7578 §4.8: no Content-Length in form-data parts.
            part.headers.popall(hdrs.CONTENT_LENGTH, None)
            self._writer.append_payload(part)
        self._processed = True
        return self._writer

    def __call__(self) -> Payload:
        """Encode the form: a ``MultipartWriter`` or a urlencoded ``BytesPayload``."""
        if self._is_multipart:
            return self._gen_form_data()
        return self._gen_form_urlencoded()
