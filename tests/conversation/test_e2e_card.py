"""The result card as a person gets it: the next message after the result, naming the check."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from PIL import Image

from bot.card.layout import MAX_HEIGHT, WIDTH
from bot.db.models import Case
from bot.i18n import formatting
from bot.views.result import short_case_id
from tests.conversation.flows import WAIT, agree, send_photos
from tests.conversation.test_e2e_consent import stored
from tests.conversation.test_e2e_languages import card_png
from tests.conversation.test_e2e_steps import skip_rest
from tests.fakes.plugin import World


async def test_a_field_workers_card_follows_the_result_and_names_date_patient_and_check(
    world: World,
) -> None:
    alice = world.person()
    async with world.bot(timezone="Asia/Seoul"):
        await agree(alice)
        await alice.press("Someone else's (they agreed)")
        await alice.wait_for("short reference", timeout=WAIT)
        await alice.send("P-0042")
        await alice.wait_for("send 1 to 5 photos", timeout=WAIT)
        await send_photos(alice, 1)
        await alice.press("✅ Done")
        await alice.wait_for("year of birth", timeout=WAIT)
        await skip_rest(
            alice, ("sex", "skin type", "Where", "itch", "hurt", "How long", "changed lately")
        )
        await alice.press("Skip")
        summary = await alice.wait_for("Please check before sending", timeout=WAIT)
        await alice.press("📤 Send for analysis", message=summary)
        result = await alice.wait_for("AI estimate", timeout=WAIT)
        card = await alice.wait_for(lambda m: m.photo is not None, timeout=WAIT)
    (case,) = await stored(world, Case)
    assert case.requested_at is not None
    day = formatting.date(case.requested_at, ZoneInfo("Asia/Seoul"), "en")
    check = short_case_id(str(case.public_id))
    # The very next message after the result (edited in place of "Analysing…").
    after = [m for m in alice.messages if m.message_id > result.message_id]
    assert after[0].message_id == card.message_id
    assert day in card.text and "P-0042" in card.text and check in card.text
    # The disclaimer is on the card and in the result, not repeated in the caption.
    assert "FDA" not in card.text
    image = Image.open(io.BytesIO(card_png(world, card)))
    assert image.format == "PNG" and image.width == WIDTH and image.height <= MAX_HEIGHT
