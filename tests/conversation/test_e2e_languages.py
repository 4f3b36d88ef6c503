"""A whole check in English, Korean and Spanish, and /language, through the real application."""

from __future__ import annotations

import io
import string

import pytest
from PIL import Image

from bot import terms
from bot.card.layout import WIDTH
from bot.db.models import Case, ConsentDecision, ConsentRecord, User
from bot.i18n import formatting
from bot.i18n.conditions import info_url, medical_name, plain_name
from bot.i18n.texts import MESSAGES, text_in
from bot.terms import Terms
from bot.views import result_card as card_module
from tests.conversation.flows import WAIT
from tests.conversation.lang_flows import ANSWERS, Conversation, first_line, says
from tests.conversation.test_e2e_consent import stored
from tests.fakes.modelderm_server import DEFAULT_CONDITIONS
from tests.fakes.plugin import World
from tests.fakes.telegram_user import ChatMessage

TELEGRAM_CODES = {"en": "en-GB", "ko": "ko-KR", "es": "es-MX"}


def reminder_offers(language: str) -> list[str]:
    """A "watch it" result's follow-up buttons (docs/follow-up.md), in 2 and 4 weeks."""
    weeks = (says(language, "reminder_weeks", count=n) for n in (2, 4))
    return [says(language, "reminder_offer", after=after) for after in weeks]


def card_png(world: World, card: ChatMessage) -> bytes:
    assert card.photo is not None
    stored_file = world.telegram.files.get(card.photo[-1]["file_id"])
    assert stored_file is not None
    return stored_file.data


def english_sentences_shown(language: str, messages: list[ChatMessage]) -> list[str]:
    """English texts (that have a different translation) found in what the bot sent."""
    leaks = []
    for key, english in MESSAGES.items():
        names = {n for _, n, _, _ in string.Formatter().parse(english) if n}
        plain = says("en", key, **dict.fromkeys(names, ""))
        if len(plain) < 12 or says(language, key, **dict.fromkeys(names, "")) == plain:
            continue
        leaks += [f"{key}: {plain!r}" for m in messages if plain in m.text]
    return leaks


@pytest.mark.parametrize("language", ["en", "ko", "es"])
async def test_a_whole_check_in_the_persons_language(world: World, language: str) -> None:
    person = world.person("Person", language_code=TELEGRAM_CODES[language])
    talk = Conversation(person, language)
    async with world.bot():
        result, card = await talk.check_to_result()
    # The consent gate showed the terms in the person's language, and the record proves it.
    in_force = Terms.from_settings(world.settings)
    shown = in_force.text(language).strip()
    assert [m for m in person.messages if shown in m.text], "the terms in the person's language"
    (record,) = await stored(world, ConsentRecord)
    assert record.decision is ConsentDecision.ACCEPTED
    assert record.language == language
    assert record.text_sha256 == terms.sha256_of(in_force.text(language))
    assert record.terms_version == in_force.version(language)
    # The text result: names in the person's language, linked; percent as the language writes it.
    # Plain name first, the medical name after.
    top = f"{plain_name('Insect bite', language)} ({medical_name('Insect bite', language)})"
    assert f"1. {top} — {formatting.percent(0.2728, language)}" in result.text
    if language == "es":
        assert "27\u00a0%" in result.text
    assert says(language, "disclaimer") in result.text
    assert result.buttons == [*reminder_offers(language), says(language, "button_new_case")]
    # Links only to checked articles in the person's own language (a mole page for Spanish).
    links = [e["url"] for e in result.entities if e["type"] == "text_link"]
    checked = {info_url(name, language) for name, _ in DEFAULT_CONDITIONS} - {None}
    assert set(links) <= checked
    mole = info_url("Melanocytic nevus", language)  # ranked second, so shown
    assert mole is None or mole in links
    # The card comes after the text, as a PNG as wide as the layout, captioned in the language.
    assert result.message_id < card.message_id
    png = card_png(world, card)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == WIDTH
    assert card.text.startswith(says(language, "card_caption", case="", date="")[:8])
    # Nothing in English slipped through.
    if language != "en":
        assert english_sentences_shown(language, person.messages) == []
    (user,) = await stored(world, User)
    assert user.language == language


async def test_unsupported_telegram_language_gets_english(world: World) -> None:
    person = world.person("Hans", language_code="de")
    async with world.bot():
        await person.send("/start")
        await person.wait_for(lambda m: "✅ I agree" in m.buttons, timeout=WAIT)
    (user,) = await stored(world, User)
    assert user.language == "en"


async def test_language_command_switches_everything_at_once(world: World) -> None:
    person = world.person("Jiwoo", language_code="ko")
    korean = Conversation(person, "ko")
    spanish = Conversation(person, "es")
    async with world.bot():
        await korean.press("subject_own", await korean.agree())
        await korean.press("button_done", await korean.send_photo())
        question = await person.wait_for(korean.says("q_birth_year_own"), timeout=WAIT)
        await person.send("/language")
        menu = await person.wait_for(says("ko", "language_choose"), timeout=WAIT)
        assert menu.buttons == ["English", "한국어", "Español"]
        await person.press("Español", message=menu)
        # Said in Spanish on the menu itself, and the open question, where it is, in Spanish.
        switched = await person.wait_for(says("es", "language_set"), timeout=WAIT)
        assert switched.message_id == menu.message_id and switched.buttons == []
        again = await person.wait_for(says("es", "q_birth_year_own"), timeout=WAIT)
        assert again.message_id == question.message_id
        await person.send("1984")
        for key in ANSWERS:
            await spanish.press(key)
        summary = await person.wait_for(says("es", "summary_title"), timeout=WAIT)
        assert says("es", "summary_line", label="Sexo", value="Mujer") in summary.text
        await spanish.press("button_send", summary)
        result = await person.wait_for(says("es", "result_intro"), timeout=WAIT)
        card = await person.wait_for(lambda m: m.photo is not None, timeout=WAIT)
        assert "Picadura de insecto" in result.text
        assert card.text.startswith("El resultado de arriba")
        # A new Telegram language does not override the person's own choice.
        await person.send("/help")
        await person.wait_for(says("es", "help").splitlines()[0], timeout=WAIT)
    (user,) = await stored(world, User)
    assert user.language == "es"


async def test_switching_language_at_the_gate_shows_the_terms_again(world: World) -> None:
    person = world.person("Ana", language_code="en")
    async with world.bot():
        await person.send("/start")
        await person.wait_for(lambda m: "✅ I agree" in m.buttons, timeout=WAIT)
        await person.send("/language")
        menu = await person.wait_for(says("en", "language_choose"), timeout=WAIT)
        await person.press("Español", message=menu)
        gate = await person.wait_for(
            lambda m: says("es", "consent_agree") in m.buttons, timeout=WAIT
        )
        assert Terms.from_settings(world.settings).text("es").strip() in gate.text
        await person.press(says("es", "consent_agree"), message=gate)
        await person.wait_for(says("es", "subject_question"), timeout=WAIT)
    (record,) = await stored(world, ConsentRecord)
    es = Terms.from_settings(world.settings).sha256("es")
    assert (record.language, record.text_sha256) == ("es", es)


async def test_an_old_english_gate_pressed_after_switching_records_english(world: World) -> None:
    # The button names the text it was shown under: agreeing there is agreeing to English words.
    person = world.person("Ana", language_code="en")
    async with world.bot():
        await person.send("/start")
        english_gate = await person.wait_for(lambda m: "✅ I agree" in m.buttons, timeout=WAIT)
        await person.send("/language")
        menu = await person.wait_for(says("en", "language_choose"), timeout=WAIT)
        await person.press("한국어", message=menu)
        await person.wait_for(lambda m: says("ko", "consent_agree") in m.buttons, timeout=WAIT)
        await person.press("✅ I agree", message=english_gate)
        await person.wait_for(says("ko", "subject_question"), timeout=WAIT)
    (record,) = await stored(world, ConsentRecord)
    en = Terms.from_settings(world.settings).sha256("en")
    assert (record.language, record.text_sha256) == ("en", en)


async def test_command_menus_are_set_per_language(world: World) -> None:
    async with world.bot() as application:
        for language in ("ko", "es"):
            menu = await application.bot.get_my_commands(language_code=language)
            described = {c.command: c.description for c in menu}
            assert described["language"] == text_in(language, "command_language")
            assert described["new"] == text_in(language, "command_new")
        default = await application.bot.get_my_commands()
        assert "language" in {c.command for c in default}


async def test_a_card_that_cannot_be_drawn_never_costs_the_text_result(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> bytes:
        raise OSError("the font file went missing")

    monkeypatch.setattr(card_module, "render_card_async", broken)
    person = world.person("Ana", language_code="es")
    talk = Conversation(person, "es")
    async with world.bot():
        await talk.press("subject_own", await talk.agree())
        await talk.press("button_done", await talk.send_photo())
        await talk.press("button_send", await talk.answer_everything())
        result = await person.wait_for(says("es", "result_intro"), timeout=WAIT)
        assert result.buttons == [*reminder_offers("es"), says("es", "button_new_case")]
        # The next check starts normally: nothing is stuck.
        await talk.press("button_new_case", result)
        await person.wait_for(says("es", "subject_question"), timeout=WAIT)
    assert not any(m.photo for m in person.messages)
    (case, _) = sorted(await stored(world, Case), key=lambda c: c.id)
    assert case.delivered_at is not None


async def test_a_person_who_erased_their_data_is_spoken_to_in_their_telegram_language(
    world: World,
) -> None:
    # The bot remembers people's chosen languages between updates; erasing must forget it too.
    person = world.person("Jiwoo", language_code="ko")
    spanish = Conversation(person, "es")
    async with world.bot():
        await person.send("/language")
        menu = await person.wait_for(says("ko", "language_choose"), timeout=WAIT)
        await person.press("Español", message=menu)
        await person.wait_for(says("es", "language_set"), timeout=WAIT)
        await person.send("/help")
        await person.wait_for(first_line("es", "help"), timeout=WAIT)
        await person.send("/delete")
        await spanish.press("delete_yes")
        await person.wait_for(first_line("es", "deleted"), timeout=WAIT)
        await person.send("/help")
        await person.wait_for(first_line("ko", "help"), timeout=WAIT)
    assert await stored(world, User) == []
