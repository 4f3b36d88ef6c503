from __future__ import annotations

import pytest

from bot import terms


def test_every_current_text_is_registered_under_the_current_version() -> None:
    # Fails when someone edits the consent text without bumping TERMS_VERSION and registering
    # the new hash: old consents must keep pointing at the text they really saw.
    for language in terms.languages():
        registered = terms.REGISTERED_SHA256.get((terms.TERMS_VERSION, language))
        assert registered == terms.terms_sha256(language), (
            f"the {language} consent text changed: bump TERMS_VERSION and register "
            f"({terms.TERMS_VERSION!r}, {language!r}) -> {terms.terms_sha256(language)}"
        )


def test_text_states_the_api_terms_and_how_to_withdraw() -> None:
    text = terms.terms_text("en")
    for must in ("permission", "keeps every", "train", "NOT certified by the FDA or CE"):
        assert must in text
    assert "not a diagnosis" in text
    assert "not responsible" in text and "down" in text
    for command in ("/withdraw", "/delete", "/privacy"):
        assert command in text


def test_unknown_language_falls_back_to_english() -> None:
    assert terms.resolve_language("en-GB") == "en"
    assert terms.resolve_language("xx") == "en"
    assert terms.resolve_language(None) == "en"
    assert terms.terms_sha256("xx") == terms.terms_sha256("en")


def test_a_text_never_shown_cannot_be_looked_up() -> None:
    with pytest.raises(terms.UnknownTerms):
        terms.registered_sha256("0.9", "en")


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
        ),
        "es": (
            "permiso",
            "guarda",
            "entrenar",
            "NO está certificado",
            "no es un diagnóstico",
            "no se hace responsable",
            "Lo que guarda este bot",
        ),
    }
    for language, phrases in musts.items():
        text = terms.terms_text(language)
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
    assert set(terms.languages()) == {"en", "ko", "es"}


def test_regional_codes_get_their_language() -> None:
    assert terms.resolve_language("es-MX") == "es"
    assert terms.resolve_language("ko-KR") == "ko"
    assert terms.terms_sha256("es-419") == terms.registered_sha256("1", "es")


@pytest.mark.parametrize(
    ("language", "clinic_words"),
    [("en", "clinicians see your photos"), ("ko", "의료진이"), ("es", "personal de salud ve")],
)
def test_triage_edition_is_its_own_registered_version(language: str, clinic_words: str) -> None:
    plain = terms.terms_text(language, triage=False)
    with_clinic = terms.terms_text(language, triage=True)
    assert clinic_words in with_clinic and clinic_words not in plain
    # The clause is a fifth point, before what the bot keeps.
    assert "\n5. " in with_clinic and "\n5. " not in plain
    version = terms.TERMS_VERSION + terms.TRIAGE_SUFFIX
    assert terms.REGISTERED_SHA256[(version, language)] == terms.sha256_of(with_clinic)
    assert terms.version_sha256(version, language) != terms.version_sha256(
        terms.TERMS_VERSION, language
    )
    terms.use_triage(True)
    assert terms.current_version() == version and terms.terms_text(language) == with_clinic
