"""Intimate photos: a child's never leave the bot; an adult's leave only after one confirmation."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3

import pytest

from bot.db.models import Case, CasePhoto, CaseStatus
from tests.conversation.flows import WAIT, agree, answer_everything, send_photos
from tests.conversation.lang_flows import Conversation, says
from tests.conversation.test_e2e_consent import stored
from tests.conversation.test_e2e_triage import card_of, clinic_of, triage_bot
from tests.fakes.modelderm_server import Behaviour
from tests.fakes.plugin import World
from tests.fakes.telegram_user import ChatMessage, FakeUser

# Sent or not, the person sees one of these after pressing Send.
RESULT = "AI estimate (check"
REFUSED = "Nothing was sent"
CONFIRM = "intimate area"


def a_child_born() -> str:
    return str(dt.date.today().year - 10)


async def to_summary(person: FakeUser, birth_year: str | None, site: str | None) -> ChatMessage:
    """From /start to the summary, with the body site pressed (a label) or typed (`site`)."""
    await agree(person)
    await person.press("My own skin")
    await send_photos(person, 2)
    await person.press("✅ Done")
    question = await person.wait_for("year of birth", timeout=WAIT)
    if birth_year is None:
        await person.press("Skip", message=question)
    else:
        await person.send(birth_year)
    for label in ("Female", "III · sometimes burns, tans evenly"):
        await person.wait_for(lambda m, label=label: label in m.buttons, timeout=WAIT)
        await person.press(label)
    where = await person.wait_for(lambda m: "Genital area" in m.buttons, timeout=WAIT)
    if site is None:
        await person.press("Genital area", message=where)
    else:
        await person.press("Other (type it)", message=where)
        await person.wait_for("Please type where it is", timeout=WAIT)
        await person.send(site)
    for label in ("Mild or moderate", "No", "Less than a month", "No change"):
        await person.wait_for(lambda m, label=label: label in m.buttons, timeout=WAIT)
        await person.press(label)
    return await person.wait_for("Please check before sending", timeout=WAIT)


async def after_send(person: FakeUser) -> ChatMessage:
    await person.press("📤 Send for analysis")
    return await person.wait_for(
        lambda m: any(s in m.text for s in (RESULT, REFUSED, CONFIRM)), timeout=WAIT
    )


@pytest.mark.parametrize("site", [None, "penis", "perianal rash"])
async def test_a_childs_intimate_photos_are_never_sent(world: World, site: str | None) -> None:
    alice = world.person()
    async with world.bot():
        await to_summary(alice, a_child_born(), site)
        answer = await after_send(alice)
        assert world.api.requests == [], "a child's intimate photos reached the AI service"
        assert REFUSED in answer.text and answer.text == says("en", "intimate_child_refused")
        assert answer.buttons == []
        # The check is gone, with its photo references and answers; a new one can start.
        await alice.send("/new")
        await alice.wait_for("Whose skin", timeout=WAIT)
    (refused,) = await stored(world, Case, Case.status == CaseStatus.CANCELLED)
    assert refused.answers is None
    assert await stored(world, CasePhoto, CasePhoto.case_id == refused.id) == []


async def test_an_adults_intimate_photos_need_one_confirmation(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await to_summary(alice, "1984", None)
        confirm = await after_send(alice)
        assert world.api.requests == [], "sent before the person confirmed"
        assert CONFIRM in confirm.text
        assert confirm.buttons == ["✅ Yes, send", "✏️ Change the body site", "✖️ Cancel"]
        assert "Model Dermatology" in confirm.text and "train" in confirm.text
        assert "clinic" not in confirm.text  # no triage in this deployment
        assert "18 or older" not in confirm.text  # the year of birth says so already
        await alice.press("✅ Yes, send", message=confirm)
        await alice.wait_for(RESULT, timeout=WAIT)
    (request,) = world.api.requests
    assert request.metadata["location"] == "genital"


async def test_changing_the_body_site_from_the_confirmation(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await to_summary(alice, "1984", None)
        confirm = await after_send(alice)
        await alice.press("✏️ Change the body site", message=confirm)
        where = await alice.wait_for(lambda m: "Arm" in m.buttons, timeout=WAIT)
        await alice.press("Arm", message=where)
        summary = await alice.wait_for("Please check before sending", timeout=WAIT)
        assert "Body site: Arm" in summary.text
        result = await after_send(alice)
        assert RESULT in result.text  # no confirmation for an arm
    # One screen all along: the confirmation became the body site question, the summary and,
    # after Send, the result.
    assert result.message_id == confirm.message_id
    assert len(world.api.requests) == 1


async def test_the_confirmation_survives_a_restart_and_cancel_discards(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await to_summary(alice, None, "groin")
        confirm = await after_send(alice)
        assert "18 or older" in confirm.text  # the year was skipped
    async with world.bot():
        await alice.send("/new")
        again = await alice.wait_for(CONFIRM, timeout=WAIT)
        await alice.press("✖️ Cancel", message=again)
        await alice.wait_for("The check was cancelled", timeout=WAIT)
    assert world.api.requests == []


@pytest.mark.parametrize(
    ("language", "code", "typed"),
    [("en", "en-US", "penis"), ("ko", "ko-KR", "생식기 주변"), ("es", "es-ES", "Genitales")],
)
async def test_typed_intimate_sites_in_every_language(
    world: World, language: str, code: str, typed: str
) -> None:
    person = world.person("Person", language_code=code)
    talk = Conversation(person, language)
    async with world.bot():
        await talk.press("subject_own", await talk.agree())
        await talk.press("button_done", await talk.send_photo())
        await talk.press("button_skip", await person.wait_for(talk.says("q_birth_year_own"), WAIT))
        await talk.press("sex_m")
        await talk.press("skin_4")
        await talk.press("site_other")
        await person.wait_for(talk.says("q_body_site_text"), timeout=WAIT)
        await person.send(typed)
        for key in ("severity_o", "severity_x", "onset_w", "q_change_no_change"):
            await talk.press(key)
        await talk.press("button_send", await person.wait_for(talk.says("summary_title"), WAIT))
        confirm = await person.wait_for(talk.says("intimate_confirm_title"), timeout=WAIT)
        assert world.api.requests == []
        expected = "\n".join(
            talk.says(key)
            for key in (
                "intimate_confirm_title",
                "intimate_confirm_api",
                "intimate_confirm_adult_own",
                "intimate_confirm_question",
            )
        )
        assert confirm.text == expected
        assert confirm.buttons == [
            talk.says("intimate_confirm_send"),
            talk.says("intimate_confirm_change_site"),
            talk.says("button_cancel"),
        ]
        await talk.press("intimate_confirm_send", confirm)
        await person.wait_for(talk.says("result_intro"), timeout=WAIT)
    assert len(world.api.requests) == 1


async def test_with_triage_the_confirmation_names_the_clinics_group(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        await to_summary(alice, "1984", None)
        confirm = await after_send(alice)
        assert says("en", "intimate_confirm_clinic") in confirm.text
        await alice.press("✅ Yes, send", message=confirm)
        await alice.wait_for(RESULT, timeout=WAIT)
        card = await card_of(clinic)
    assert "Body site: Genital area" in card.text


async def test_with_triage_a_childs_intimate_photos_reach_no_one(world: World) -> None:
    clinic = clinic_of(world)
    alice = clinic.alice
    async with triage_bot(world, clinic):
        await to_summary(alice, a_child_born(), None)
        assert REFUSED in (await after_send(alice)).text
        # Another check (of an arm) goes through: the clinic gets that one only.
        await alice.send("/new")
        await alice.wait_for("Whose skin", timeout=WAIT)
        await alice.press("My own skin")
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await answer_everything(alice)
        await alice.press("📤 Send for analysis")
        await alice.wait_for(RESULT, timeout=WAIT)
        card = await card_of(clinic)
    assert "Body site: Arm" in card.text and len(world.api.requests) == 1
    assert len([m for m in clinic.doctor.messages if "Case " in m.text]) == 1


async def test_a_parked_case_that_may_not_be_sent_is_refused_at_its_upload(world: World) -> None:
    """The check at every upload holds even for a case that never passed the one at "Send"
    (parked for a retry before the rule existed): its photos stay, and the person is told."""
    alice = world.person()
    world.api.behaviour = Behaviour.proxy_error()
    async with world.bot():
        await to_summary(alice, "1984", None)
        confirm = await after_send(alice)
        await alice.press("✅ Yes, send", message=confirm)
        await alice.wait_for("not answering right now", timeout=WAIT)
    tried = len(world.api.requests)
    # As if parked by a build without the rule: the stored answers say a child's.
    database = world.settings.database_url.split("///", 1)[1]
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        (answers,) = db.execute("SELECT answers FROM cases").fetchone()
        child = {**json.loads(answers), "birth_year": int(a_child_born())}
        db.execute("UPDATE cases SET answers = ?", (json.dumps(child),))
    world.api.behaviour = Behaviour.normal()
    async with world.bot():
        refused = await alice.wait_for(REFUSED, timeout=WAIT)
    assert refused.text == says("en", "intimate_child_refused")
    assert len(world.api.requests) == tried, "the parked photos were uploaded"
    (case,) = await stored(world, Case)
    assert case.status is CaseStatus.CANCELLED and case.answers is None
