"""argon2's work area in memory we own, so a server that stops hashing gives it back.

argon2 needs ``memory_cost_kib`` of scratch memory per hash (19 MiB by
default). Left to itself it mallocs and frees that block on every hash, and
glibc keeps each hashing thread's freed block in the thread's arena for the
life of the process: a worker that ever hashed on N threads holds N blocks
forever, even when idle. argon2 lets the caller allocate instead (the
``allocate_cbk``/``free_cbk`` of its context), so here a freed block goes on a
shelf, the next hash reuses it while it is still mapped, and :meth:`release`
unmaps the shelf once hashing has gone quiet.
"""

from __future__ import annotations

import base64
import binascii
import mmap
import threading
from typing import Any

import attrs
from _argon2_cffi_bindings import ffi, lib
from argon2.low_level import ARGON2_VERSION, Type

#: The only variant and version hashed here; other stored hashes go to argon2-cffi.
_PREFIX = f"$argon2id$v={ARGON2_VERSION}$"
_UINT32_MAX = 2**32 - 1


@attrs.frozen
class Cost:
    """The cost parameters of one argon2id hash."""

    memory_kib: int
    time_cost: int
    parallelism: int


@attrs.frozen
class Argon2idHash:
    """A decoded ``$argon2id$v=19$m=..,t=..,p=..$salt$digest`` string (PHC format)."""

    cost: Cost
    salt: bytes
    digest: bytes

    def encode(self) -> str:
        """The PHC string argon2's own encoder writes: unpadded standard base64."""
        cost = self.cost
        return (
            f"{_PREFIX}m={cost.memory_kib},t={cost.time_cost},p={cost.parallelism}"
            f"${_b64(self.salt)}${_b64(self.digest)}"
        )

    @classmethod
    def decode(cls, encoded: str) -> Argon2idHash | None:
        """The parts of an argon2id v19 PHC string, or None for anything else."""
        if not encoded.startswith(_PREFIX):
            return None
        try:
            params, salt, digest = encoded[len(_PREFIX) :].split("$")
            values = dict(item.split("=", 1) for item in params.split(","))
            if sorted(values) != ["m", "p", "t"]:
                return None
            cost = Cost(_uint32(values["m"]), _uint32(values["t"]), _uint32(values["p"]))
            return cls(cost, _unb64(salt), _unb64(digest))
        except ValueError:  # not three fields; a malformed item, number or base64
            return None


class WorkAreas:
    """argon2 work areas: reused while hashes keep coming, unmapped by :meth:`release`.

    Thread-safe: hashes run on many threads at once, each holding its own
    block until argon2 frees it; :meth:`release` only unmaps blocks on the
    shelf, never one in use.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shelf: list[_Block] = []
        self._lent: dict[int, _Block] = {}
        # cffi callbacks live as long as these references do: as long as self.
        # An exception in _take (no memory to map) leaves argon2 a NULL block, which it
        # reports as an allocation error: derive() returns None, nothing is printed.
        self._allocate = ffi.callback("allocate_fptr", self._take, onerror=_quietly)
        self._free = ffi.callback("deallocate_fptr", self._give_back)

    def derive(self, password: bytes, salt: bytes, cost: Cost, length: int) -> bytes | None:
        """The raw argon2id digest of ``password``, or None if argon2 refuses the inputs.

        Blocks the calling thread for the whole hash (argon2 runs without the GIL).
        """
        out = ffi.new("uint8_t[]", length)
        # The buffers must outlive the call: the context only points at them.
        pwd = ffi.new("uint8_t[]", password)
        salt_buffer = ffi.new("uint8_t[]", salt)
        context = ffi.new(
            "argon2_context *",
            {
                "out": out,
                "outlen": length,
                "pwd": pwd,
                "pwdlen": len(password),
                "salt": salt_buffer,
                "saltlen": len(salt),
                "secret": ffi.NULL,
                "secretlen": 0,
                "ad": ffi.NULL,
                "adlen": 0,
                "t_cost": cost.time_cost,
                "m_cost": cost.memory_kib,
                "lanes": cost.parallelism,
                "threads": cost.parallelism,
                "version": ARGON2_VERSION,
                "allocate_cbk": self._allocate,
                "free_cbk": self._free,
                "flags": lib.ARGON2_DEFAULT_FLAGS,
            },
        )
        if lib.argon2_ctx(context, Type.ID.value) != lib.ARGON2_OK:
            return None
        return bytes(ffi.buffer(out, length))

    @property
    def mapped_bytes(self) -> int:
        """How much memory the work areas hold now, in use or shelved."""
        with self._lock:
            return sum(block.size for block in (*self._shelf, *self._lent.values()))

    def release(self) -> int:
        """Unmap every block not in use; returns how many bytes went back to the OS."""
        with self._lock:
            shelved, self._shelf = self._shelf, []
        for block in shelved:
            block.unmap()
        return sum(block.size for block in shelved)

    def _take(self, memory: Any, size: int) -> int:
        # Called by argon2 (in a hashing thread, with the GIL) for its work area.
        memory[0] = ffi.NULL  # what argon2 reads as "allocation failed" if we raise below
        with self._lock:
            fits = next((block for block in self._shelf if block.size == size), None)
            if fits is not None:
                self._shelf.remove(fits)
        block = fits or _Block(size)
        with self._lock:
            self._lent[block.address] = block
        memory[0] = block.pointer
        return 0

    def _give_back(self, memory: Any, size: int) -> None:
        address = int(ffi.cast("uintptr_t", memory))
        with self._lock:
            self._shelf.append(self._lent.pop(address))


class _Block:
    """One anonymous private mapping: pages appear on first touch and go on unmap."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._mapping = mmap.mmap(-1, size)
        self.pointer = ffi.from_buffer("uint8_t[]", self._mapping)
        self.address = int(ffi.cast("uintptr_t", self.pointer))

    def unmap(self) -> None:
        ffi.release(self.pointer)  # the mapping can't close while exported
        self._mapping.close()


def _uint32(text: str) -> int:
    # argon2's own decoder reads plain decimal digits into a uint32_t.
    if not (text.isascii() and text.isdigit()) or int(text) > _UINT32_MAX:
        raise ValueError(f"not a 32-bit count: {text!r}")
    return int(text)


def _quietly(exc_type: object, exc_value: object, traceback: object) -> None:
    return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError(str(exc)) from exc
