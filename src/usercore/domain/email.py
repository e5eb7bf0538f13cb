"""Email addresses: syntax-checked (no DNS) and normalised, so equal addresses compare equal."""

from __future__ import annotations

import unicodedata

import attrs
import email_validator

from usercore.domain.errors import ValidationError

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64


@attrs.frozen(order=True)
class Email:
    """A normalised email address.

    Normal form: NFC, the local part lower-cased, the domain IDNA-encoded
    (ASCII) and lower-cased, so ``Ada@Example.COM`` and ``ada@example.com`` are
    one address. Build one from user input with :meth:`parse`; the constructor
    takes a value that is already normalised (as read back from storage).
    """

    value: str

    @classmethod
    def parse(cls, raw: str, *, field: str = "email") -> Email:
        """Validate and normalise an address typed by a user.

        Special-use domains that cannot receive mail (``.test``, ``.local``,
        ``.invalid``, ``.localhost``, ``.onion``, ``.arpa``) are refused; no
        DNS lookup is made.

        Raises:
            ValidationError: The address is malformed, too long or undeliverable by design.
        """
        if len(raw) > MAX_EMAIL_LENGTH * 4:
            # Refuse absurd input before the validator spends time on it.
            raise ValidationError(field, f"must be at most {MAX_EMAIL_LENGTH} characters")
        try:
            checked = email_validator.validate_email(
                unicodedata.normalize("NFC", raw.strip()),
                check_deliverability=False,
                allow_smtputf8=True,
            )
        except email_validator.EmailNotValidError as exc:
            raise ValidationError(field, str(exc)) from None
        local = checked.local_part.lower()
        if len(local) > MAX_LOCAL_PART_LENGTH:
            raise ValidationError(
                field, f"the part before @ must be at most {MAX_LOCAL_PART_LENGTH} characters"
            )
        normalised = f"{local}@{checked.ascii_domain.lower()}"
        if len(normalised) > MAX_EMAIL_LENGTH:
            raise ValidationError(field, f"must be at most {MAX_EMAIL_LENGTH} characters")
        return cls(normalised)

    @property
    def local_part(self) -> str:
        """The part before the last ``@``."""
        return self.value.rpartition("@")[0]

    @property
    def domain(self) -> str:
        """The part after the last ``@``, IDNA-encoded."""
        return self.value.rpartition("@")[2]

    def __str__(self) -> str:
        return self.value
