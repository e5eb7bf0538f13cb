"""Common-password blocklist from the frequency lists the zxcvbn package ships."""

from usercore.adapters.zxcvbn.blocklist import common_passwords

__all__ = ["common_passwords"]
