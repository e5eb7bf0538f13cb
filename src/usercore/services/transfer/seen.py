"""SeenKeys: which ids and emails an import met, and on which line, in about 12 bytes each."""

from __future__ import annotations

import hashlib
from array import array

_BUCKET_BITS = 16
_TAG_BYTES = 8


class SeenKeys:
    """Remembers keys by an 80-bit digest, so a million of them take about 12 MB.

    A Python set of a million strings would take well over 100 MB; an import
    must stay flat in memory however long its file is. Two different keys
    are taken for one with a chance of about n²/2⁸¹ (nil for any real import).
    """

    def __init__(self) -> None:
        buckets = 1 << _BUCKET_BITS
        self._tags: list[bytearray | None] = [None] * buckets
        self._lines: list[array[int] | None] = [None] * buckets

    def first_line(self, key: str, line: int) -> int | None:
        """The line ``key`` was first met on; None (and it is remembered at ``line``) if new."""
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=10).digest()
        bucket = int.from_bytes(digest[:2], "big")
        tag = digest[2:]
        tags, lines = self._tags[bucket], self._lines[bucket]
        if tags is None or lines is None:
            tags = self._tags[bucket] = bytearray()
            lines = self._lines[bucket] = array("I")
        start = tags.find(tag)
        while start != -1:
            if start % _TAG_BYTES == 0:  # a tag's own position, not across two tags
                return lines[start // _TAG_BYTES]
            start = tags.find(tag, start + 1)
        tags += tag
        lines.append(line)
        return None
