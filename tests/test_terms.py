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


def test_triage_edition_is_its_own_registered_version() -> None:
    plain = terms.terms_text("en", triage=False)
    with_clinic = terms.terms_text("en", triage=True)
    assert "clinicians see your photos" in with_clinic and "clinicians" not in plain
    version = terms.TERMS_VERSION + terms.TRIAGE_SUFFIX
    assert terms.REGISTERED_SHA256[(version, "en")] == terms.sha256_of(with_clinic)
    assert terms.version_sha256(version, "en") != terms.version_sha256(terms.TERMS_VERSION, "en")
    terms.use_triage(True)
    assert terms.current_version() == version and terms.terms_text("en") == with_clinic
