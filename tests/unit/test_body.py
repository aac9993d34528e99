"""Specification of reading an answer's body within a byte cap, decompression included, with no I/O."""

from __future__ import annotations

import gzip
import zlib

import pytest

from airflow_provider_canvas_progress.core.body import BoundedBody
from airflow_provider_canvas_progress.core.errors import (
    CanvasResponseError,
    CanvasResponseTooLargeError,
    CanvasUnreadableResponseError,
)
from airflow_provider_canvas_progress.core.protocol import build_request
from airflow_provider_canvas_progress.core.settings import CanvasSettings


def body(settings: CanvasSettings, cap: int, encoding: str | None = None) -> BoundedBody:
    return BoundedBody(build_request(settings, "GET", "progress/1"), cap, encoding)


def feed_in_chunks(target: BoundedBody, data: bytes, size: int = 4096) -> bytes:
    for start in range(0, len(data), size):
        target.feed(data[start : start + size])
    return target.finish()


def test_a_plain_body_within_the_cap_is_kept_whole(settings: CanvasSettings) -> None:
    assert feed_in_chunks(body(settings, 100), b'{"id": 1}') == b'{"id": 1}'


def test_a_body_exactly_at_the_cap_is_accepted_and_one_byte_more_is_not(settings: CanvasSettings) -> None:
    assert feed_in_chunks(body(settings, 10), b"0123456789") == b"0123456789"

    with pytest.raises(CanvasResponseTooLargeError, match="larger than 10 bytes"):
        feed_in_chunks(body(settings, 10), b"0123456789A")


@pytest.mark.parametrize(("encoding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)])
def test_a_compressed_body_is_inflated(settings: CanvasSettings, encoding: str, compress: object) -> None:
    payload = b'{"message": "' + b"x" * 50_000 + b'"}'

    assert feed_in_chunks(body(settings, 100_000, encoding), compress(payload)) == payload  # type: ignore[operator]


def test_inflating_stops_at_the_cap_whatever_the_ratio(settings: CanvasSettings) -> None:
    bomb = gzip.compress(b"0" * 50_000_000)  # ~50 KB that would be 50 MB
    target = body(settings, 1024, "gzip")

    with pytest.raises(CanvasResponseTooLargeError):
        target.feed(bomb)
    assert target._size <= 1025  # never more than the cap and the one byte that shows the overflow


def test_a_declared_length_past_the_cap_is_refused_before_any_byte(settings: CanvasSettings) -> None:
    with pytest.raises(CanvasResponseTooLargeError):
        body(settings, 1024).check_declared("1025")
    body(settings, 1024).check_declared("1024")
    body(settings, 1024).check_declared("9" * 400)  # nonsense is left to the byte count


def test_an_encoding_that_was_not_asked_for_is_refused(settings: CanvasSettings) -> None:
    with pytest.raises(CanvasResponseError, match="Content-Encoding 'br'"):
        body(settings, 1024, "br")


def test_garbage_claiming_gzip_is_an_unreadable_answer(settings: CanvasSettings) -> None:
    with pytest.raises(CanvasUnreadableResponseError):
        feed_in_chunks(body(settings, 1024, "gzip"), b"definitely not gzip")
