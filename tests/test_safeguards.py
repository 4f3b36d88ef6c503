"""The rule for intimate photos: which sites count, who may be a minor, what the photos need."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.questionnaire import Questionnaire
from bot.domain.safeguards import (
    Safeguard,
    assess,
    is_intimate_site,
    may_be_a_minor,
    refuses_sending,
)

TODAY = dt.date(2025, 6, 1)


@pytest.mark.parametrize(
    "site",
    [
        "genital",  # the button
        "Penis",
        "on the scrotum",
        "vulva and groin",
        "PERIANAL",
        "my buttocks",
        "nappy area",
        "private parts",
        "anus",
        "생식기",
        "생식기에 났어요",
        "엉덩이",
        "항문 주변",
        "Genitales",
        "el pene",
        "testículo izquierdo",
        "zona íntima",
        "ingle derecha",
        "el ano",
        "zona del pañal",
    ],
)
def test_intimate_sites_in_every_language(site: str) -> None:
    assert is_intimate_site(site)


@pytest.mark.parametrize(
    "site",
    [
        None,
        "arm",
        "left ear",
        "back of the hand",
        "rectangle on the shin",
        "penetrating wound on the foot",
        "la mano",  # "ano" inside a word
        "hace un año, en el brazo",  # año is not ano
        "발바닥의 각질",  # 질 inside an unrelated word
        "팔",
    ],
)
def test_other_sites_are_not_intimate(site: str | None) -> None:
    assert not is_intimate_site(site)


@pytest.mark.parametrize(
    ("born", "minor"),
    [
        (2025, True),
        (2008, True),
        (2007, True),  # turns 18 this year: 17 until the birthday
        (2006, False),  # turns 19 this year: 18 at least
        (1950, False),
    ],
)
def test_only_the_year_is_known_so_a_birthday_to_come_counts_as_not_yet(
    born: int, minor: bool
) -> None:
    assert may_be_a_minor(born, TODAY) is minor


def test_what_the_photos_need() -> None:
    def need(**answers: object) -> Safeguard:
        return assess(Questionnaire(**answers), TODAY)  # type: ignore[arg-type]

    assert need(body_site="arm", birth_year=2015) is Safeguard.NONE
    assert need(birth_year=2015) is Safeguard.NONE
    assert need(body_site="genital", birth_year=2015) is Safeguard.REFUSE
    assert need(body_site="genitales", birth_year=2007) is Safeguard.REFUSE
    assert need(body_site="genital", birth_year=1984) is Safeguard.CONFIRM
    # Without a year the sender confirms that the person is an adult.
    assert need(body_site="genital") is Safeguard.CONFIRM
    assert refuses_sending(Questionnaire(body_site="penis", birth_year=2020), TODAY)
    assert not refuses_sending(Questionnaire(body_site="penis", birth_year=1990), TODAY)
