"""Receive a multipart upload as it streams: the file goes to disk chunk by chunk and the size
limit stops it the moment it is passed (never after the whole body was read); the form's CSRF
token must arrive before the file's first byte is accepted."""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FIELD_BYTES = 4096
MAX_FORM_OVERHEAD = 64 * 1024  # headers and small fields beside the file


class BadUpload(Exception):
    """Not a form this portal sent (no multipart body, no file, a field too long)."""


class CsrfRejected(Exception):
    """The form's token is missing or wrong (or came after the file)."""


class TooLarge(Exception):
    """The file passed the size limit."""


@dataclass
class ReceivedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    file_name: str = ""
    size: int = 0


class _Receiver:
    def __init__(self, csrf_expected: str, max_bytes: int, open_path: Callable[[str], Path]):
        self.csrf_expected = csrf_expected
        self.max_bytes = max_bytes
        self.open_path = open_path
        self.result = ReceivedUpload()
        self.headers: dict[bytes, bytes] = {}
        self.header_field = b""
        self.header_value = b""
        self.name = ""
        self.buffer = bytearray()
        self.file = None

    # python-multipart callbacks
    def on_part_begin(self):
        self.headers, self.name, self.buffer = {}, "", bytearray()

    def on_header_field(self, data, start, end):
        self.header_field += data[start:end]

    def on_header_value(self, data, start, end):
        self.header_value += data[start:end]

    def on_header_end(self):
        self.headers[self.header_field.strip().lower()] = self.header_value.strip()
        self.header_field, self.header_value = b"", b""

    def on_headers_finished(self):
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            token = self.result.fields.get("csrf_token", "")
            if not hmac.compare_digest(token.encode(), self.csrf_expected.encode()):
                raise CsrfRejected()
            if self.result.path is not None:
                raise BadUpload("one file per upload")
            self.result.file_name = options[b"filename"].decode("utf-8", "replace")
            self.result.path = self.open_path(self.result.file_name)
            self.file = open(self.result.path, "xb")

    def on_part_data(self, data, start, end):
        if self.file is not None:
            self.result.size += end - start
            if self.result.size > self.max_bytes:
                raise TooLarge()
            self.file.write(data[start:end])
        else:
            self.buffer += data[start:end]
            if len(self.buffer) > MAX_FIELD_BYTES:
                raise BadUpload(f"field {self.name!r} too long")

    def on_part_end(self):
        if self.file is not None:
            self.file.close()
            self.file = None
        elif self.name:
            self.result.fields[self.name] = self.buffer.decode("utf-8", "replace")

    def close(self):
        if self.file is not None:
            self.file.close()
            self.file = None


async def receive_upload(request, csrf_expected: str, max_bytes: int,
                         open_path: Callable[[str], Path]) -> ReceivedUpload:
    """Parse the request's multipart body; the file is written where ``open_path(name)`` says.

    Raises TooLarge (before reading when Content-Length already says so), CsrfRejected or
    BadUpload; the caller discards a partly written file."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise BadUpload("not a multipart form")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes + MAX_FORM_OVERHEAD:
        raise TooLarge()
    receiver = _Receiver(csrf_expected, max_bytes, open_path)
    parser = MultipartParser(boundary, {
        "on_part_begin": receiver.on_part_begin, "on_header_field": receiver.on_header_field,
        "on_header_value": receiver.on_header_value, "on_header_end": receiver.on_header_end,
        "on_headers_finished": receiver.on_headers_finished, "on_part_data": receiver.on_part_data,
        "on_part_end": receiver.on_part_end})
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + MAX_FORM_OVERHEAD:  # a body that is not mostly the file
                raise TooLarge()
            parser.write(chunk)
        parser.finalize()
    finally:
        receiver.close()
    if receiver.result.path is None:
        raise BadUpload("no file")
    return receiver.result
