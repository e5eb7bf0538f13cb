"""The usercore command line."""
