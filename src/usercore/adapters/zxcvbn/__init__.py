"""Password strength estimates by zxcvbn (its Rust implementation, zxcvbn-rs-py)."""

from usercore.adapters.zxcvbn.estimator import ZxcvbnStrengthEstimator

__all__ = ["ZxcvbnStrengthEstimator"]
