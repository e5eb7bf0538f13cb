"""New passwords judged by zxcvbn through the production rules: weak refused, strong not."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.conftest import RULES
from usercore.adapters.zxcvbn import ZxcvbnStrengthEstimator
from usercore.domain import Email, WeakPasswordError
from usercore.domain.passwords import StrengthEstimate, normalize_password
from usercore.testing.strategies import passwords

BOB = Email.parse("bob@example.com")
#: Long enough for the length rule, and accepted by the 30,000-word list we used before.
WEAK = [
    "aaaaaaaaaaaaaaaa",
    "passwordpassword",
    "123456789012345",
    "abcdefghijklmnop",
    "iloveyouiloveyou",
    "p@ssw0rdp@ssw0rd",
    "monkeymonkeymonkey",
    "PASSWORDPASSWORD",
    "bob@example.com1",
]


async def reasons_for(password: str, *, email: Email = BOB, name: str = "Bob") -> tuple[str, ...]:
    with pytest.raises(WeakPasswordError) as caught:
        await RULES.check(password, email=email, name=name)
    return caught.value.reasons


@pytest.mark.parametrize("password", WEAK)
async def test_refuses_weak_passwords_of_fifteen_characters_and_more(password: str) -> None:
    reasons = await reasons_for(password)
    assert reasons
    assert all(reason.endswith(".") for reason in reasons)
    assert all(password.casefold() not in reason.casefold() for reason in reasons)


async def test_says_why_in_words_a_person_can_act_on() -> None:
    assert await reasons_for("aaaaaaaaaaaaaaaa") == (
        "Repeated characters are easy to guess.",
        "Add another word or two; uncommon words are better.",
        "Avoid repeated words and characters.",
    )
    assert await reasons_for("abcdefghijklmnop") == (
        "Letters or digits in order are easy to guess.",
        "Add another word or two; uncommon words are better.",
        "Avoid letters or digits in order.",
    )


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "all lower case words",
        "ALLUPPERCASEWORDS",
        "123498765432101",
        "mot de passe fort é",
        "tangerine-Rocket-harbour-57-quietly",
    ],
)
async def test_accepts_strong_passwords_of_any_composition(password: str) -> None:
    assert await RULES.check(password, email=BOB, name="Bob") == password


@settings(max_examples=1000)
@given(password=passwords())
async def test_accepts_every_password_the_test_kit_draws(password: str) -> None:
    ada = Email.parse("ada@example.com")
    assert await RULES.check(password, email=ada, name="Ada Lovelace") == normalize_password(
        password
    )


MAX = Email.parse("maximilian.vonhabsburg@longdomainexample.com")
NAME = "Maximilian Habsburg-Lothringen"


@pytest.mark.parametrize(
    "password",
    [
        "maximilian.vonhabsburg@longdomainexample.com",
        "maximilian.vonhabsburg",
        "longdomainexample.com",
        "Maximilian Habsburg-Lothringen",
        "HabsburgLothringen",
        "xq7#Lothringen!vr2",
    ],
)
async def test_refuses_the_accounts_own_words(password: str) -> None:
    reasons = await reasons_for(password, email=MAX, name=NAME)
    assert "Don't use your email address or your name in your password." in reasons
    assert all(password.casefold() not in reason.casefold() for reason in reasons)


async def test_refuses_the_service_name() -> None:
    reasons = await reasons_for("xq7#UserCore!vr2mPz")
    assert reasons == ("Don't use the name of this service in your password.",)


async def test_refuses_the_accounts_words_spelt_backwards() -> None:
    # Not contained as such: only the estimate, given the account's words, sees it.
    email = Email.parse("qzvprkmxtlwbfhdsg@example.com")
    assert await RULES.check("gsdhfbwltxmkrpvzq", email=BOB, name="Bob")
    reasons = await reasons_for("gsdhfbwltxmkrpvzq", email=email, name="")
    assert "Words spelt backwards aren't much harder to guess." in reasons


async def test_the_estimate_knows_the_accounts_words() -> None:
    estimator = ZxcvbnStrengthEstimator()
    alone = await estimator.estimate("qzvprkmxtlwbfhdsg", context=())
    known = await estimator.estimate("qzvprkmxtlwbfhdsg", context=("QZVPRKMXTLWBFHDSG", ""))
    assert (alone.score, known.score) == (4, 0)


@given(password=st.text(min_size=15, max_size=80))
async def test_reasons_never_contain_the_password(password: str) -> None:
    try:
        await RULES.check(password, email=BOB, name="Bob")
    except WeakPasswordError as exc:
        shown = [str(exc), repr(exc), *exc.reasons]
    else:
        return
    assert all(password not in text for text in shown)


async def test_a_long_password_is_as_strong_as_its_strongest_end() -> None:
    estimator = ZxcvbnStrengthEstimator()
    padded = "a" * 200 + "violet lantern orbit quietly"
    assert (await estimator.estimate(padded, context=())).score == 4
    assert (await estimator.estimate(padded[::-1], context=())).score == 4
    weak = await estimator.estimate("a" * 1024, context=())
    assert weak.score == 0
    assert weak.warning == "Repeated characters are easy to guess."


async def test_judges_lone_surrogates_instead_of_failing() -> None:
    estimate = await ZxcvbnStrengthEstimator().estimate("violet\ud800lantern\udfff", context=())
    assert isinstance(estimate, StrengthEstimate)


def test_the_window_is_at_least_sixteen_characters() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        ZxcvbnStrengthEstimator(window=15)


def test_zxcvbn_is_loaded_at_the_first_estimate_only() -> None:
    script = (
        "import asyncio, sys\n"
        "from usercore.config import Settings\n"
        "from usercore.container import build_container\n"
        "container = build_container(Settings(database_url='memory://'))\n"
        "rules = container.password_rules()\n"
        "assert 'zxcvbn_rs_py' not in sys.modules\n"
        "asyncio.run(rules.estimator.estimate('violet lantern orbit', context=()))\n"
        "assert 'zxcvbn_rs_py' in sys.modules\n"
    )
    subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    )


def test_the_container_takes_the_minimum_score_from_the_settings() -> None:
    from usercore.config import Settings
    from usercore.container import build_container

    container = build_container(Settings(database_url="memory://", password_min_score=4))
    assert container.password_rules().policy.min_score == 4
