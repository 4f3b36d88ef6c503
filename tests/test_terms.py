from __future__ import annotations

import hashlib

import pytest

from bot import terms
from bot.config import Settings
from bot.terms import Terms

PLAIN = Terms.build(retention_days=90, clinic=False)
CLINIC = Terms.build(retention_days=90, clinic=True)


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (90, {"en": "after 90 days.", "ko": "90일이 지나면", "es": "después de 90 días."}),
        (1, {"en": "after 1 day.", "ko": "1일이 지나면", "es": "después de 1 día."}),
        (30, {"en": "after 30 days.", "ko": "30일이 지나면", "es": "después de 30 días."}),
    ],
)
def test_the_text_names_the_retention_period_in_every_language(
    days: int, said: dict[str, str]
) -> None:
    shown = Terms.build(retention_days=days, clinic=False)
    for language, words in said.items():
        assert words in shown.text(language), (language, shown.text(language))
    assert "after a while" not in shown.text("en") and "1 days" not in shown.text("en")
    assert "1 días" not in shown.text("es")


def test_the_version_is_derived_from_the_text_alone() -> None:
    for language in terms.LANGUAGES:
        text = PLAIN.text(language)
        assert PLAIN.sha256(language) == hashlib.sha256(text.encode()).hexdigest()
        assert PLAIN.version(language) == PLAIN.sha256(language)[: terms.VERSION_DIGITS]
        # The same settings give the same text and version, so a restart asks nobody again ...
        assert Terms.build(retention_days=90, clinic=False).version(language) == (
            PLAIN.version(language)
        )
        # ... while another period or triage is another text, so another version, by itself.
        assert Terms.build(retention_days=30, clinic=False).version(language) != (
            PLAIN.version(language)
        )
        assert CLINIC.version(language) != PLAIN.version(language)
    assert len({PLAIN.version(language) for language in terms.LANGUAGES}) == 3
    assert PLAIN.fingerprints() == {lang: PLAIN.sha256(lang) for lang in terms.LANGUAGES}


def test_the_settings_choose_the_text() -> None:
    deployed = Terms.from_settings(
        Settings(_env_file=None, retention_days=30, triage_chat_id=-1001)
    )
    assert deployed == Terms.build(retention_days=30, clinic=True)
    assert Terms.from_settings(Settings(_env_file=None)) == PLAIN


def test_text_states_the_api_terms_and_how_to_withdraw() -> None:
    text = PLAIN.text("en")
    for must in ("permission", "keeps every", "train", "NOT certified by the FDA or CE"):
        assert must in text
    assert "not a diagnosis" in text
    assert "not responsible" in text and "down" in text
    for command in ("/withdraw", "/delete", "/privacy"):
        assert command in text
    # What /delete leaves is said before anyone agrees.
    assert "for 24 hours an anonymous count of the checks you sent" in text


def test_unknown_language_falls_back_to_english() -> None:
    assert terms.resolve_language("en-GB") == "en"
    assert terms.resolve_language("xx") == "en"
    assert terms.resolve_language(None) == "en"
    assert PLAIN.sha256("xx") == PLAIN.sha256("en")


def test_korean_and_spanish_texts_say_the_same_things() -> None:
    # The same points as the English text: permission, kept and used for training, not
    # certified, not a diagnosis, no responsibility, what the bot keeps, and the commands.
    musts = {
        "ko": (
            "허락",
            "모두",
            "학습",
            "FDA나 CE",
            "진단이 아니에요",
            "책임지지 않아요",
            "보관하는 것",
            "익명으로 24시간",
        ),
        "es": (
            "permiso",
            "guarda",
            "entrenar",
            "NO está certificado",
            "no es un diagnóstico",
            "no se hace responsable",
            "Lo que guarda este bot",
            "durante 24 horas un recuento anónimo",
        ),
    }
    for language, phrases in musts.items():
        text = PLAIN.text(language)
        for must in phrases:
            assert must in text, (language, must)
        for command in ("/withdraw", "/delete", "/privacy"):
            assert command in text
        # Four numbered points, like the English text.
        assert [line[:2] for line in text.splitlines() if line[:2] in {"1.", "2.", "3.", "4."}] == [
            "1.",
            "2.",
            "3.",
            "4.",
        ]
    assert set(terms.LANGUAGES) == {"en", "ko", "es"}


def test_regional_codes_get_their_language() -> None:
    assert terms.resolve_language("es-MX") == "es"
    assert terms.resolve_language("ko-KR") == "ko"
    assert PLAIN.sha256("es-419") == PLAIN.sha256("es")


@pytest.mark.parametrize(
    ("language", "clinic_words"),
    [("en", "clinicians see your photos"), ("ko", "의료진이"), ("es", "personal de salud ve")],
)
def test_with_triage_the_text_names_the_clinic_as_a_fifth_point(
    language: str, clinic_words: str
) -> None:
    plain, with_clinic = PLAIN.text(language), CLINIC.text(language)
    assert clinic_words in with_clinic and clinic_words not in plain
    # The clause is a fifth point, before what the bot keeps; the rest is the same text.
    assert "\n5. " in with_clinic and "\n5. " not in plain
    lines, plain_lines = with_clinic.splitlines(), plain.splitlines()
    fifth = next(i for i, line in enumerate(lines) if line.startswith("5. "))
    assert lines[fifth - 1].startswith("4. ") and lines[fifth + 1] == ""
    assert lines[:fifth] + lines[fifth + 1 :] == plain_lines
