"""Hypothesis profiles: ``dev`` for quick local runs, ``ci`` for the thorough run in CI."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Example counts per profile; the state machines run this many times too.
PROFILES = {"dev": 30, "ci": 200}


def register_profiles() -> None:
    """Register the ``dev`` and ``ci`` profiles and load the one HYPOTHESIS_PROFILE names."""
    for name, examples in PROFILES.items():
        settings.register_profile(
            name,
            max_examples=examples,
            stateful_step_count=25,
            deadline=None,  # shared CI machines are noisy; we test behaviour, not timing
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            print_blob=True,
        )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
