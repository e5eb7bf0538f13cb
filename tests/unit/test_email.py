from __future__ import annotations

import pytest
from hypothesis import given

from usercore.domain import Email, ValidationError
from usercore.testing.strategies import emails


@given(emails())
def test_normalisation_is_idempotent(raw: str) -> None:
    once = Email.parse(raw)
    assert Email.parse(once.value) == once


@given(emails())
def test_normalisation_ignores_letter_case(raw: str) -> None:
    assert Email.parse(raw.upper()) == Email.parse(raw.lower()) == Email.parse(raw)


def test_normal_form_lower_cases_and_idna_encodes_the_domain() -> None:
    assert Email.parse("Ada+Tag@Bücher.Example").value == "ada+tag@xn--bcher-kva.example"


def test_local_part_is_nfc_normalised() -> None:
    assert Email.parse("e\u0301@example.com") == Email.parse("\u00e9@example.com")


@pytest.mark.parametrize("tld", ["test", "local", "invalid", "localhost", "onion", "arpa"])
def test_refuses_special_use_domains(tld: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Email.parse(f"ada@example.{tld}")
    assert caught.value.field == "email"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@@example.com",
        f"{'a' * 65}@example.com",
        f"ada@{'a' * 63}.{'b' * 63}.{'c' * 63}.{'d' * 63}.com",
        "ada@example.com" * 100,
    ],
)
def test_refuses_malformed_or_over_long_addresses(raw: str) -> None:
    with pytest.raises(ValidationError):
        Email.parse(raw)


def test_accepts_an_address_of_exactly_254_characters() -> None:
    domain = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 47]) + ".com"
    raw = f"{'x' * (254 - len(domain) - 1)}@{domain}"
    assert len(raw) == 254
    assert Email.parse(raw).value == raw
