"""A field health worker's morning: patients in a row through "Next patient", each check under
its own code and its own record of permission; /history to find them again; /export to hand the
work on, as a file the worker keeps."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.db.base import utcnow
from bot.db.database import Database
from bot.db.models import Case, CaseStatus, Subject, TriageDecisionKind, TriagePost, User
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Questionnaire
from bot.i18n.formatting import date
from tests.conversation.flows import (
    WAIT,
    agree,
    photo,
    send_photos,
    skip_everything,
)
from tests.fakes.plugin import World
from tests.fakes.telegram_user import ChatMessage, FakeUser

# The seeded checks' advice: a top AI match score of 27% is too low for self-care.
NO_BETTER_IN_WEEKS = "See a doctor if it is no better in 2 to 4 weeks"
# ... which offers follow-up reminders (docs/follow-up.md).
REMINDERS = ("📅 Remind me in 2 weeks", "📅 Remind me in 4 weeks")

NEXT = "👥 Next patient"
AGREED = "✅ They (or their guardian) agreed"
OTHER = "Someone else's (they agreed)"


async def stored_cases(world: World) -> list[Case]:
    async with Database.open(world.settings.database_url) as database:
        return await database.run(
            lambda session: list(session.scalars(select(Case).order_by(Case.id)))
        )


async def photos_answers_send(user: FakeUser) -> ChatMessage:
    """From the photos step: one photo, Done, skip every question, send; the result."""
    await send_photos(user, 1)
    await user.press("✅ Done")
    await skip_everything(user)
    await user.press("📤 Send for analysis")
    return await user.wait_for("AI estimate (check", timeout=WAIT)


async def test_two_patients_in_a_row_each_under_its_own_code_and_permission(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.press(OTHER)
        await alice.wait_for("short reference", timeout=WAIT)
        await alice.send("PT-0417")
        await alice.wait_for("Now send 1 to 5 photos", timeout=WAIT)
        first = await photos_answers_send(alice)
        assert first.buttons == [NEXT, *REMINDERS, "➕ New check"]

        await alice.press(NEXT, message=first)
        asked = await alice.wait_for("Next patient", timeout=WAIT)
        # The code is asked first, and the only way on is the press that records permission.
        assert "Type this patient's code" in asked.text
        assert asked.buttons == [AGREED]
        await alice.send("  PT-0418 ")
        with_code = await alice.wait_for("Patient code: PT-0418", timeout=WAIT)
        assert with_code.buttons == [AGREED]
        # A photo before the permission press is kept, but does not go past it.
        await alice.send_photo(photo(7))
        kept = await alice.wait_for("Patient code: PT-0418", timeout=WAIT)
        assert kept.buttons == [AGREED]
        await alice.press(AGREED, message=kept)
        await alice.wait_for("1 photo received", timeout=WAIT)
        await alice.press("✅ Done")
        await skip_everything(alice)
        await alice.press("📤 Send for analysis")
        second = await alice.wait_for("AI estimate (check", timeout=WAIT)
        assert second.buttons == [NEXT, *REMINDERS, "➕ New check"]
        # Only the latest result keeps its buttons.
        assert first.buttons == []

        # A double tap on "Next patient": one screen, the second press told it is open already.
        data = str(second.button(NEXT)["callback_data"])  # type: ignore[index]
        one = await alice.press_data(data, message=second)
        two = await alice.press_data(data, message=second)
        await one.answer()
        answer = await two.answer()
        assert answer.text is not None and "open already" in answer.text
        await world.settled()
        screens = [m for m in alice.messages if "Type this patient's code" in m.text]
        assert len(screens) == 2  # the first patient's and this one: one per press that opened
        await alice.send("/cancel")
        await alice.wait_for("cancelled", timeout=WAIT)

        # Someone else's skin last time: "Someone else's" is offered first.
        await alice.send("/new")
        whose = await alice.wait_for("Whose skin", timeout=WAIT)
        assert whose.buttons == [OTHER, "My own skin"]

    first_case, second_case, _, _ = await stored_cases(world)
    assert (first_case.patient_ref, second_case.patient_ref) == ("PT-0417", "PT-0418")
    assert first_case.subject is second_case.subject is Subject.OTHER_WITH_PERMISSION
    assert first_case.status is second_case.status is CaseStatus.COMPLETED
    assert len(world.api.requests) == 2
    for request in world.api.requests:
        assert "PT-04" not in (request.args2 or "")


async def test_a_new_check_after_ones_own_offers_ones_own_first(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.press("My own skin")
        result = await photos_answers_send(alice)
        assert result.buttons == [
            *REMINDERS,
            "➕ New check",
        ]  # no "Next patient" for one's own skin
        await alice.press("➕ New check", message=result)
        whose = await alice.wait_for("Whose skin", timeout=WAIT)
        assert whose.buttons == ["My own skin", OTHER]


# ------------------------------------------------------------------ /history

DIAGNOSIS = Diagnosis(
    conditions=(Condition("Insect bite", 0.62), Condition("Acne", 0.21)),
    malignancy_output=3,
    meta_used=True,
    photos_analysed=1,
)


def _seed(
    telegram_user_id: int, count: int, start: dt.datetime
) -> Callable[[Session], list[dt.datetime]]:
    """`count` completed checks of the person's, a day apart from `start`: the 3rd, 12th and
    20th of code PT-0417, the 5th never delivered, the 12th decided by the clinic."""

    def add(session: Session) -> list[dt.datetime]:
        user = session.scalar(select(User).where(User.telegram_user_id == telegram_user_id))
        assert user is not None
        times = []
        for n in range(1, count + 1):
            when = start + dt.timedelta(days=n)
            times.append(when)
            case = Case(
                user=user,
                status=CaseStatus.COMPLETED,
                subject=Subject.OTHER_WITH_PERMISSION,
                patient_ref="PT-0417" if n in (3, 12, 20) else f"PT-{n:04d}",
                answers=Questionnaire(body_site="arm", birth_year=1950 + n).to_dict(),
                diagnosis=DIAGNOSIS.to_dict(),
                step="summary",
                created_at=when,
                updated_at=when,
                submitted_at=when,
                completed_at=when,
                delivered_at=None if n == 5 else when,
                delivery_given_up_at=when if n == 5 else None,
            )
            session.add(case)
            if n == 12:
                session.flush()
                session.add(
                    TriagePost(
                        case_id=case.id,
                        advice_tier="self_care",
                        waiting_since=when,
                        queued_at=when,
                        decision=TriageDecisionKind.WITHIN_2_WEEKS,
                        decided_at=when,
                    )
                )
        return times

    return add


async def seed(world: World, user: FakeUser, count: int) -> list[dt.datetime]:
    start = utcnow().replace(microsecond=0) - dt.timedelta(days=count + 1)
    async with Database.open(world.settings.database_url) as database:
        return await database.run(_seed(user.id, count, start))


def numbered(message: ChatMessage) -> list[str]:
    return [b for b in message.buttons if b.isdigit()]


async def test_history_pages_through_25_checks_opens_one_and_goes_back(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.send("/cancel")  # a check discarded is not listed
        await alice.wait_for("cancelled", timeout=WAIT)
        times = await seed(world, alice, 24)
        await alice.send("/new")  # the 25th check, begun: in progress
        await alice.wait_for("Whose skin", timeout=WAIT)
        await alice.send("/history")
        page = await alice.wait_for("Your checks", timeout=WAIT)
        assert "newest first (1–10 of 25)" in page.text
        lines = page.text.splitlines()
        assert lines[2] == f"1. {date(utcnow(), ZoneInfo('UTC'), 'en')} · in progress"
        newest_seeded = date(times[-1], ZoneInfo("UTC"), "en")
        assert (
            lines[3] == f"2. {newest_seeded} · PT-0024 · Arm · {NO_BETTER_IN_WEEKS} · Insect bite"
        )
        assert numbered(page) == [str(n) for n in range(1, 11)]
        assert page.buttons[-1] == "Older ▶️"
        assert "◀️ Newer" not in page.buttons

        await alice.press("Older ▶️", message=page)
        page = await alice.wait_for("(11–20 of 25)", timeout=WAIT)
        assert numbered(page) == [str(n) for n in range(11, 21)]
        assert page.buttons[-2:] == ["◀️ Newer", "Older ▶️"]
        older_of_page_2 = page.button("Older ▶️")
        assert older_of_page_2 is not None

        await alice.press("Older ▶️", message=page)
        page = await alice.wait_for("(21–25 of 25)", timeout=WAIT)
        assert numbered(page) == ["21", "22", "23", "24", "25"]
        # The 5th check seeded, the 21st newest, never reached the chat.
        assert page.text.splitlines()[2].endswith("PT-0005 · Arm · could not be delivered")
        assert page.buttons[-1] == "◀️ Newer"
        assert "Older ▶️" not in page.buttons

        await alice.press("◀️ Newer", message=page)
        page = await alice.wait_for("(11–20 of 25)", timeout=WAIT)
        # One message, edited in place all along.
        assert len([m for m in alice.messages if "Your checks" in m.text]) == 1

        # The 14th newest is the 12th seeded, the one the clinic decided.
        await alice.press("14", message=page)
        details = await alice.wait_for("AI match score", timeout=WAIT)
        assert "PT-0417" in details.text
        assert "Year of birth: 1962" in details.text
        assert "Body site: Arm" in details.text
        assert "1. Insect bite — AI match score 62%" in details.text
        assert "What to do: See a doctor if it is not better in 2 to 4 weeks" in details.text
        assert "The clinic's decision: 🟨 A dermatologist within 2 weeks" in details.text
        assert "alignancy" not in details.text
        assert details.buttons == ["⬅️ Back to the list"]
        await alice.press("⬅️ Back to the list", message=details)
        await alice.wait_for("(11–20 of 25)", timeout=WAIT)

        # The oldest checks are purged meanwhile: a button of their page says so kindly and
        # shows the list as it is now.
        async with Database.open(world.settings.database_url) as database:
            await database.run(
                lambda session: session.execute(delete(Case).where(Case.created_at <= times[4]))
            )
        press = await alice.press_data(str(older_of_page_2["callback_data"]), message=page)
        answer = await press.answer()
        assert answer.text is not None and "has changed" in answer.text
        await alice.wait_for("(1–10 of 20)", timeout=WAIT)
        # Data no /history message ever carried.
        for data in ("g|hist|zz", "g|hist|0.0." + "z" * 20):
            forged = await alice.press_data(data, message=page)
            assert (await forged.answer()).text == (
                "This button belongs to an earlier step and no longer works."
            )


async def test_history_filtered_by_a_patient_code(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.send("/cancel")
        await alice.wait_for("cancelled", timeout=WAIT)
        await seed(world, alice, 24)
        # Typed with stray spaces, as it is normalised when typed for a check.
        await alice.send("/history   PT-0417 ")
        page = await alice.wait_for("Your checks for PT-0417", timeout=WAIT)
        assert "(1–3 of 3)" in page.text
        entries = [line for line in page.text.splitlines() if line[:2] in ("1.", "2.", "3.")]
        assert len(entries) == 3 and all("PT-0417" in line for line in entries)
        assert numbered(page) == ["1", "2", "3"]
        assert "Older ▶️" not in page.buttons
        await alice.press("2", message=page)
        details = await alice.wait_for("The clinic's decision", timeout=WAIT)
        await alice.press("⬅️ Back to the list", message=details)
        await alice.wait_for("Your checks for PT-0417", timeout=WAIT)

        await alice.send("/history PT-9999")
        await alice.wait_for("no checks with the patient code PT-9999", timeout=WAIT)


# ------------------------------------------------------------------ /export


def _seed_formula(telegram_user_id: int) -> Callable[[Session], None]:
    def add(session: Session) -> None:
        user = session.scalar(select(User).where(User.telegram_user_id == telegram_user_id))
        when = utcnow()
        session.add(
            Case(
                user=user,
                status=CaseStatus.COMPLETED,
                subject=Subject.OTHER_WITH_PERMISSION,
                patient_ref="=2+3",
                answers=Questionnaire(body_site="+HYPERLINK(1)").to_dict(),
                diagnosis=DIAGNOSIS.to_dict(),
                step="summary",
                created_at=when,
                updated_at=when,
                submitted_at=when,
                completed_at=when,
                delivered_at=when,
            )
        )

    return add


async def test_export_sends_the_persons_checks_as_a_csv_they_keep(world: World) -> None:
    alice = world.person()
    async with world.bot():
        await agree(alice)
        await alice.press(OTHER)
        await alice.wait_for("short reference", timeout=WAIT)
        await alice.send("PT-0417")
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await alice.wait_for("year of birth", timeout=WAIT)
        await alice.send("1984")
        for label in ("Female", "III · sometimes burns, tans evenly"):
            await alice.wait_for(lambda m, label=label: label in m.buttons, timeout=WAIT)
            await alice.press(label)
        await alice.wait_for("body", timeout=WAIT)
        await alice.send("왼쪽 팔 안쪽")
        await skip_everything_left(alice)
        await alice.press("📤 Send for analysis")
        await alice.wait_for("AI estimate (check", timeout=WAIT)
        async with Database.open(world.settings.database_url) as database:
            await database.run(_seed_formula(alice.id))

        await alice.send("/export")
        question = await alice.wait_for("The file is yours to keep safe", timeout=WAIT)
        assert "/delete" in question.text and "cannot erase it" in question.text
        assert question.buttons == ["📄 Send me the file", "No, not now"]
        data = str(question.button("📄 Send me the file")["callback_data"])  # type: ignore[index]
        await alice.press("📄 Send me the file", message=question)
        sent = await alice.wait_for(lambda m: m.document is not None, timeout=WAIT)
        assert question.text.startswith("Here is the file")  # the question, answered in place
        assert "Keep this file safe" in sent.text
        # A second press on the answered question sends nothing again.
        again = await alice.press_data(data, message=question)
        assert (await again.answer()).text == "This question is answered already."
        await world.settled()

    (call,) = world.telegram.calls_to("sendDocument")
    assert call.params.get("protect_content") in (None, "false")
    document = sent.document
    assert document is not None and str(document["file_name"]).endswith(".csv")
    stored_file = world.telegram.files.get(str(document["file_id"]))
    assert stored_file is not None
    raw = stored_file.data
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8's byte order mark
    content = raw.decode("utf-8-sig")
    assert str(alice.id) not in content
    header, *rows = list(csv.reader(io.StringIO(content)))
    assert header[:3] == ["Patient code", "Date", "Check"]
    assert "Body site" in header and "AI match score 1 (%)" in header
    assert "Condition 3" in header and "Clinic's decision" in header
    assert len(rows) == 2
    real, formula = (dict(zip(header, row, strict=True)) for row in rows)
    assert real["Patient code"] == "PT-0417"
    assert real["Body site"] == "왼쪽 팔 안쪽"
    assert real["Year of birth"] == "1984"
    assert real["Advice"] == "See a doctor if it is no better in 2 to 4 weeks"
    assert (real["Condition 1"], real["AI match score 1 (%)"]) == ("Insect bite", "27")
    assert real["State"] == "done"
    # Cells a spreadsheet would run as formulas open as the text typed.
    assert formula["Patient code"] == "'=2+3"
    assert formula["Body site"] == "'+HYPERLINK(1)"
    assert "malignancy" not in content.lower()


async def skip_everything_left(user: FakeUser) -> None:
    """Skip the questions left after the body site (itch, pain, how long, changed lately)."""
    for _ in range(4):
        message = await user.wait_for(lambda m: "Skip" in m.buttons, timeout=WAIT)
        await user.press("Skip", message=message)
    await user.wait_for("Please check before sending", timeout=WAIT)


async def test_export_cancelled_or_empty_sends_no_file(world: World) -> None:
    alice, bob = world.person("Alice"), world.person("Bob")
    async with world.bot(protect_results=True):
        await agree(alice)
        await alice.press("My own skin")
        await photos_answers_send(alice)
        await alice.send("/export")
        question = await alice.wait_for("The file is yours to keep safe", timeout=WAIT)
        assert "not forwarded or saved" in question.text  # PROTECT_RESULTS is on
        await alice.press("No, not now", message=question)
        await alice.wait_for("Nothing was sent.", timeout=WAIT)

        await bob.send("/export")
        asked = await bob.wait_for("The file is yours to keep safe", timeout=WAIT)
        await bob.press("📄 Send me the file", message=asked)
        await bob.wait_for("no checks to put in a file yet", timeout=WAIT)

        # With PROTECT_RESULTS, the file goes protected.
        await alice.send("/export")
        question = await alice.wait_for("The file is yours to keep safe", timeout=WAIT)
        await alice.press("📄 Send me the file", message=question)
        await alice.wait_for(lambda m: m.document is not None, timeout=WAIT)
        await world.settled()
    (call,) = world.telegram.calls_to("sendDocument")
    assert call.params.get("protect_content") == "true"
