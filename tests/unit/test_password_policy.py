from __future__ import annotations

import pytest

from usercore.domain import Email, PasswordPolicy, WeakPasswordError
from usercore.domain.passwords import MAX_PASSWORD_LENGTH, StrengthEstimate, account_words

STRONG = StrengthEstimate(score=4)


def reasons_for(
    policy: PasswordPolicy,
    password: str,
    context: tuple[str, ...] = (),
    estimate: StrengthEstimate | None = None,
) -> tuple[str, ...]:
    with pytest.raises(WeakPasswordError) as caught:
        policy.check(password, context=context, estimate=estimate)
    return caught.value.reasons


def test_requires_fifteen_characters_by_default() -> None:
    policy = PasswordPolicy()
    assert policy.check("a" * 14 + "z") == "a" * 14 + "z"
    (reason,) = reasons_for(policy, "abcdefghijklmn")
    assert "at least 15 characters" in reason


def test_minimum_is_configurable_but_never_below_eight() -> None:
    assert PasswordPolicy(min_length=8).check("qwhxzkvb") == "qwhxzkvb"
    with pytest.raises(ValueError, match="at least 8"):
        PasswordPolicy(min_length=7)


def test_accepts_long_passwords_up_to_1024_and_refuses_longer() -> None:
    policy = PasswordPolicy()
    assert policy.check("x" * 64, estimate=STRONG) == "x" * 64
    assert policy.check("y" * MAX_PASSWORD_LENGTH) == "y" * MAX_PASSWORD_LENGTH
    (reason,) = reasons_for(policy, "y" * (MAX_PASSWORD_LENGTH + 1))
    assert "at most 1024" in reason
    with pytest.raises(WeakPasswordError):
        policy.normalize("y" * (MAX_PASSWORD_LENGTH + 1))


def test_normalises_to_nfc() -> None:
    decomposed = "caf" + "e\u0301" * 5 + " au lait ok"
    assert PasswordPolicy().check(decomposed) == "caf" + "\u00e9" * 5 + " au lait ok"
    assert PasswordPolicy().normalize(decomposed) == "caf" + "\u00e9" * 5 + " au lait ok"


def test_refuses_an_estimate_below_the_minimum_score_with_its_feedback() -> None:
    weak = StrengthEstimate(
        score=2, warning="Dates are easy to guess.", suggestions=("Avoid dates.",)
    )
    policy = PasswordPolicy()
    assert reasons_for(policy, "a long enough password", estimate=weak) == (
        "Dates are easy to guess.",
        "Avoid dates.",
    )
    assert PasswordPolicy(min_score=2).check("a long enough password", estimate=weak)
    assert policy.check("a long enough password", estimate=StrengthEstimate(score=3))


def test_a_weak_estimate_without_a_warning_still_says_why() -> None:
    (reason,) = reasons_for(
        PasswordPolicy(min_score=4), "a long enough password", estimate=StrengthEstimate(score=3)
    )
    assert reason == "This password would be easy to guess."


def test_scores_are_from_zero_to_four() -> None:
    for score in (-1, 5):
        with pytest.raises(ValueError, match="from 0 to 4"):
            StrengthEstimate(score=score)
        with pytest.raises(ValueError, match="from 0 to 4"):
            PasswordPolicy(min_score=score)
    assert PasswordPolicy(min_score=0).check("a long enough password", estimate=StrengthEstimate(0))


def test_refuses_context_words_without_echoing_them() -> None:
    policy = PasswordPolicy()
    reasons = reasons_for(policy, "my-adalovelace-secret", context=("adalovelace",))
    assert reasons == ("Don't use your email address or your name in your password.",)
    assert "adalovelace" not in str(reasons)
    (service,) = reasons_for(policy, "I love UserCore very much")
    assert "name of this service" in service


def test_ignores_very_short_context_words() -> None:
    assert PasswordPolicy().check("a long password with ed in it", context=("ed",))


def test_lists_every_reason_at_once_each_once() -> None:
    weak = StrengthEstimate(score=0, suggestions=("Add a word.", "Add a word."))
    reasons = reasons_for(PasswordPolicy(), "usercore", context=("usercore",), estimate=weak)
    assert len(reasons) == 5
    assert len(set(reasons)) == 5


def test_account_words_are_the_email_its_parts_and_the_name_and_its_words() -> None:
    email = Email.parse("Ada.King+Notes@Example.com")
    assert account_words(email, "Ada Lovelace-King") == (
        "ada.king+notes@example.com",
        "ada.king+notes",
        "example.com",
        "Ada Lovelace-King",
        "ada",
        "king",
        "notes",
        "Ada",
        "Lovelace",
        "King",
    )
    assert account_words(Email.parse("bob@example.com"), "") == (
        "bob@example.com",
        "bob",
        "example.com",
    )
