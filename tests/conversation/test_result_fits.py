"""Whatever the API answers, what the bot then sends is valid Telegram HTML that fits.

Arbitrary answers (names with any Unicode: control and direction characters, line breaks,
markup-like text, huge lengths; any probabilities) go through parse_answer -> advise -> the
result text in every language, the result card and the clinic's case card. Telegram's own
parser (the fake's copy of it) must accept each text, and its length as Telegram counts it must
fit the message limit.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import unicodedata
import uuid
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.card.layout import WIDTH
from bot.db.models import (
    PATIENT_REF_MAX,
    Case,
    Subject,
    TriageDecision,
    TriageDecisionKind,
    TriagePost,
)
from bot.domain.advice import Advice, AdviceRules, Reason, Why, advise
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Onset, Questionnaire, RecentChange, Severity
from bot.domain.result import CaseResult
from bot.i18n import SUPPORTED, speaking
from bot.i18n.limits import CAPTION_MAX_UTF16, TEXT_MAX_UTF16
from bot.i18n.texts import text
from bot.modelderm.errors import AnswerError
from bot.modelderm.protocol import parse_answer
from bot.views.clinic_card import render_card
from bot.views.result import RESULT_MAX_UTF16, render_result
from bot.views.result_card import card_caption, render_result_card
from tests.fakes.telegram_text import parse_html, utf16_len
from tests.images import jpeg_bytes, make_skin_photo

PUBLIC_ID = str(uuid.UUID(int=7))
# The answers that bring every caveat: dark skin, a child, and (with one photo) a single photo.
EVERY_CAVEAT = Questionnaire(birth_year=2020, skin_type=6)
NO_ANSWERS = Questionnaire()
# Answers that fire every rule about the person's answers: the most reasons a card can list.
EVERY_ANSWER_RULE = Questionnaire(
    itch=Severity.SEVERE,
    pain=Severity.SEVERE,
    onset=Onset.UNDER_A_WEEK,
    recent_change=RecentChange.BLEEDS,
)
# What an API, or someone in between, could put in a name to change how the text around it reads.
HOSTILE = (
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\u200f",  # right-to-left mark
    "\u200b",  # zero-width space
    "\ufeff",
    "\n",
    "\r\n",
    "\u2028",
    "\x00",
    "\x1b[31m",
    "\t",
    "<b>",
    "</b>",
    "<a href='x'>",
    "&amp;",
    "&lt;",
    "&",
    "You are healthy",
    "\u0301" * 12,  # a pile of combining accents
    "😀",
    "👩🏽‍⚕️",
    "🇰🇷",
    "한국어",
    "Melanoma",
    "x" * 900,
)
DIRECTION_AND_INVISIBLE = set(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u2060\ufeff\u2028\u2029"
)
name_text = st.lists(
    st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE)), min_size=1, max_size=12
).map("".join)
probability = st.one_of(
    st.integers(min_value=0, max_value=2_000).map(lambda n: f"{n / 10_000:.4f}"),
    st.sampled_from(["0.5", "27%", "1e-3", "-0.2", "nan", "1.5", "", "0,1"]),
)
pairs = st.lists(st.tuples(name_text, probability), max_size=12)


@st.composite
def answers(draw: st.DrawFn) -> bytes:
    """An answer body as the API (or something pretending to be it) could send."""
    conditions = draw(pairs)
    malignancy = draw(st.none() | st.integers(min_value=-5, max_value=100))
    if draw(st.booleans()):
        disease = ",".join(f"{name},{p}" for name, p in conditions)
        parts = ["<error>0</error>", f"<disease>{disease}</disease>"]
        if malignancy is not None:
            parts.append(f"<malignancy_output>{malignancy}</malignancy_output>")
        if draw(st.booleans()):
            parts.append(f"<no_photo>{draw(st.integers(0, 9))}</no_photo>")
        return " ".join(parts).encode("utf-8", errors="surrogatepass")
    data: dict[str, object] = {"error": 0, "disease": [[n, p] for n, p in conditions]}
    if malignancy is not None:
        data["malignancy_output"] = malignancy
    return json.dumps(data).encode()


@functools.cache
def card_photo() -> bytes:
    return jpeg_bytes(make_skin_photo(96, 96))


def diagnosis_of(body: bytes) -> Diagnosis | None:
    try:
        return parse_answer(body)
    except AnswerError:
        return None


def assert_fits(markup: str, limit: int) -> str:
    """`markup` as Telegram would show it; fails if Telegram would refuse it."""
    plain, _ = parse_html(markup)  # raises on markup Telegram cannot parse
    assert utf16_len(plain) <= limit, (utf16_len(plain), limit)
    # The bot's own texts use no control or direction characters (their emoji may join with
    # U+200D, which is why not every format character is looked for).
    odd = {ch for ch in plain if unicodedata.category(ch) == "Cc" and ch != "\n"} | (
        set(plain) & DIRECTION_AND_INVISIBLE
    )
    assert not odd, odd
    return plain


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=answers(),
    top=st.integers(min_value=1, max_value=10),
    questionnaire=st.sampled_from([EVERY_CAVEAT, NO_ANSWERS]),
    patient_ref=st.none() | name_text.map(lambda t: t[:PATIENT_REF_MAX]),
    doubts=st.booleans(),
)
def test_any_answer_gives_a_result_text_that_fits_in_every_language(
    body: bytes, top: int, questionnaire: Questionnaire, patient_ref: str | None, doubts: bool
) -> None:
    diagnosis = diagnosis_of(body)
    if diagnosis is None:
        return
    advice = advise(diagnosis, questionnaire, AdviceRules())
    if doubts:
        # Every line of doubt, and every reason there is, on top of what the rules said.
        reasons = tuple(Reason(why, advice.tier) for why in Why)
        advice = Advice(advice.tier, reasons, unsure=True, nonspecific=True)
    case_result = CaseResult(
        public_id=uuid.UUID(PUBLIC_ID),
        chat_id=1,
        language=None,
        diagnosis=diagnosis,
        advice=advice,
        clinic_queued=True,
        questionnaire=questionnaire,
        patient_ref=patient_ref,
        checked_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    for language in SUPPORTED:
        with speaking(language):
            result = render_result(case_result, zone=ZoneInfo("Asia/Seoul"), top=top)
            plain = assert_fits(result, RESULT_MAX_UTF16)
            # Each condition is one line: its name cannot break it.
            ranks = [line for line in plain.splitlines() if line[:1].isdigit() and ". " in line]
            assert len(ranks) == min(top, len(diagnosis.conditions))
            # As deliver() sends it: with the clinic's note and the late result's intro.
            noted = render_result(
                case_result,
                zone=ZoneInfo("Asia/Seoul"),
                top=top,
                after_headline=[text("triage_result_note")],
            )
            assert_fits(noted, RESULT_MAX_UTF16)
            around = f"{text('pending_result_intro')}\n\n{noted}"
            assert_fits(around, TEXT_MAX_UTF16)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=answers(),
    language=st.sampled_from(SUPPORTED),
    patient_ref=st.one_of(st.none(), st.text(max_size=PATIENT_REF_MAX)),
)
async def test_any_answer_gives_a_card_that_renders(
    body: bytes, language: str, patient_ref: str | None
) -> None:
    diagnosis = diagnosis_of(body)
    if diagnosis is None:
        return
    result = CaseResult(
        public_id=uuid.UUID(PUBLIC_ID),
        chat_id=1,
        language=language,
        diagnosis=diagnosis,
        advice=advise(diagnosis, NO_ANSWERS, AdviceRules()),
        clinic_queued=False,
        questionnaire=NO_ANSWERS,
        patient_ref=patient_ref,
        checked_at=dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
    )
    with speaking(language):
        png = await render_result_card(result, card_photo(), 5, dt.UTC)
        caption = card_caption(result, dt.UTC)
    # The caption is Telegram HTML that fits, whatever the patient's code.
    assert_fits(caption, CAPTION_MAX_UTF16)
    with Image.open(io.BytesIO(png)) as card:
        assert card.format == "PNG"
        assert card.width == WIDTH
        # Names are cleaned and cut short: even three of the longest, in any script, make a
        # card no taller than two bubble widths (every real name fits in 1.25, test_card.py).
        assert card.height <= 2 * WIDTH


clinician_names = st.lists(
    st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE)), max_size=8
).map("".join)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=answers(),
    names=st.lists(clinician_names, max_size=60),
    language=st.sampled_from(SUPPORTED),
)
def test_any_answer_and_any_decisions_give_a_case_card_that_fits(
    body: bytes, names: list[str], language: str
) -> None:
    diagnosis = diagnosis_of(body)
    if diagnosis is None:
        return
    now = dt.datetime(2026, 1, 1, 12, 0)
    case = Case(public_id=uuid.UUID(int=7), answers={}, subject=Subject.OWN, photos=[])
    post = TriagePost(round=1, waiting_since=now)
    decisions = [
        TriageDecision(
            decision=list(TriageDecisionKind)[n % len(TriageDecisionKind)],
            clinician_name=name,
            decided_at=now,
            changed=n > 0,
        )
        for n, name in enumerate(names)
    ]
    with speaking(language):
        card = render_card(
            post,
            case,
            diagnosis,
            advise(diagnosis, EVERY_ANSWER_RULE, AdviceRules()),
            decisions,
            top=10,
            now=now,
        )
    plain = assert_fits(card, TEXT_MAX_UTF16)
    if decisions:
        assert plain.count("✅") >= 1  # the latest decision is always shown


def test_a_case_card_with_more_decisions_than_fit_counts_the_oldest() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0)
    diagnosis = Diagnosis(
        conditions=(Condition("Insect bite", 0.4),),
        malignancy_output=2,
        meta_used=True,
        photos_analysed=1,
    )
    case = Case(public_id=uuid.UUID(int=7), answers={}, subject=Subject.OWN, photos=[])
    post = TriagePost(round=1, waiting_since=now)
    decisions = [
        TriageDecision(
            decision=TriageDecisionKind.IF_NO_IMPROVEMENT,
            clinician_name=f"Dr {n:03d} " + "x" * 56,
            decided_at=now,
            changed=n > 0,
        )
        for n in range(100)
    ]
    card = render_card(
        post,
        case,
        diagnosis,
        advise(diagnosis, EVERY_ANSWER_RULE, AdviceRules()),
        decisions,
        top=5,
        now=now,
    )
    plain = assert_fits(card, TEXT_MAX_UTF16)
    assert "Dr 099" in plain  # the latest decision
    assert "Dr 000" not in plain
    hidden = 100 - plain.count("✅")
    assert f"… and {hidden} earlier decisions" in plain
