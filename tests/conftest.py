"""Test-wide setup: hypothesis profiles (HYPOTHESIS_PROFILE=dev|ci)."""

from usercore.testing.profiles import register_profiles

register_profiles()
