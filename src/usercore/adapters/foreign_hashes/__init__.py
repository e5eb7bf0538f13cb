"""Verifying (never making) password hashes brought from other systems, within cost limits."""

from usercore.adapters.foreign_hashes.limits import HashLimits
from usercore.adapters.foreign_hashes.verifier import ForeignHashVerifier

__all__ = ["ForeignHashVerifier", "HashLimits"]
