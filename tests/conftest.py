"""Test-wide setup: hypothesis profiles (HYPOTHESIS_PROFILE=dev|ci)."""

from usercore.testing.profiles import register_profiles

register_profiles()

# The test kit is tested as users run it: in a pytest of its own (tests/unit/test_testkit_modes.py).
pytest_plugins = ["pytester"]
