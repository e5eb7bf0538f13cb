from __future__ import annotations

import pytest

from usercore.adapters.zxcvbn import common_passwords
from usercore.domain import PasswordPolicy, WeakPasswordError
from usercore.domain.passwords import MAX_PASSWORD_LENGTH


def reasons_for(
    policy: PasswordPolicy, password: str, context: tuple[str, ...] = ()
) -> tuple[str, ...]:
    with pytest.raises(WeakPasswordError) as caught:
        policy.check(password, context=context)
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


def test_has_no_composition_rules() -> None:
    policy = PasswordPolicy()
    for password in [
        "all lower case words",
        "ALLUPPERCASEWORDS",
        "123498765432101",
        "!!!!!!!!!!!!!!!?",
    ]:
        assert policy.check(password) == password


def test_accepts_long_passwords_up_to_1024_and_refuses_longer() -> None:
    policy = PasswordPolicy()
    assert policy.check("x" * 64) == "x" * 64
    assert policy.check("y" * MAX_PASSWORD_LENGTH) == "y" * MAX_PASSWORD_LENGTH
    (reason,) = reasons_for(policy, "y" * (MAX_PASSWORD_LENGTH + 1))
    assert "at most 1024" in reason


def test_normalises_to_nfc() -> None:
    decomposed = "caf" + "e\u0301" * 5 + " au lait ok"
    assert PasswordPolicy().check(decomposed) == "caf" + "\u00e9" * 5 + " au lait ok"


def test_refuses_common_passwords_from_the_shipped_list_case_insensitively() -> None:
    blocklist = common_passwords()
    assert len(blocklist) > 10_000
    common = next(word for word in sorted(blocklist) if len(word) >= 15)
    policy = PasswordPolicy(blocklist=blocklist)
    (reason,) = reasons_for(policy, common.upper())
    assert "commonly used" in reason


def test_refuses_context_words_without_echoing_them() -> None:
    policy = PasswordPolicy()
    reasons = reasons_for(policy, "my-adalovelace-secret", context=("adalovelace",))
    assert reasons == ("Don't use your email address or your name in your password.",)
    assert "adalovelace" not in str(reasons)
    (service,) = reasons_for(policy, "I love UserCore very much")
    assert "name of this service" in service


def test_ignores_very_short_context_words() -> None:
    assert PasswordPolicy().check("a long password with ed in it", context=("ed",))


def test_lists_every_reason_at_once() -> None:
    policy = PasswordPolicy(blocklist={"usercore"})
    assert len(reasons_for(policy, "usercore")) == 3
