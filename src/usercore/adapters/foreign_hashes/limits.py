"""The most work one stored foreign hash may ask of a login."""

from __future__ import annotations

import attrs


@attrs.frozen
class HashLimits:
    """Cost limits above which a foreign hash is refused (at import) and never computed.

    A stored hash names its own cost, so without a limit one imported record
    (``bcrypt`` cost 31, PBKDF2 with 10⁹ iterations, argon2 with 4 GiB) would
    make each login against it take hours or exhaust memory.

    Attributes:
        bcrypt_rounds: Largest bcrypt cost (log2 of its rounds); 14 is about 1 s.
        pbkdf2_iterations: Largest PBKDF2 iteration count (Django 5.2 uses 1,000,000).
        argon2_memory_kib: Largest argon2 memory, in KiB.
        argon2_time_cost: Largest argon2 number of passes.
        argon2_parallelism: Largest argon2 number of lanes (threads per verification).
        scrypt_memory_kib: Largest scrypt work, ``128·N·r·p`` bytes, in KiB.
    """

    bcrypt_rounds: int = 14
    pbkdf2_iterations: int = 2_000_000
    argon2_memory_kib: int = 262_144
    argon2_time_cost: int = 16
    argon2_parallelism: int = 16
    scrypt_memory_kib: int = 262_144
