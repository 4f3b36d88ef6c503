"""The result card: a readable PNG in English, Korean and Spanish, on a 360 px wide phone."""

from __future__ import annotations

import asyncio
import io
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pytest
from PIL import Image, ImageFont

import bot.card.render
from bot.card import (
    CardAdvice,
    CardLayout,
    CardRow,
    layout_card,
    missing_glyphs,
    percent_label,
    render_card,
    render_card_async,
)
from bot.card.fonts import Weight
from bot.card.layout import MARGIN, WIDTH
from bot.card.wrap import wrap
from bot.domain.advice import AdviceTier

QUADRANTS = {
    "top_left": (220, 40, 40),
    "top_right": (40, 180, 60),
    "bottom_left": (40, 60, 220),
    "bottom_right": (240, 220, 40),
}


def _photo(side: int = 512) -> bytes:
    """A JPEG like the prepared one the API receives, with four colours to find on the card."""
    image = Image.new("RGB", (side, side))
    half = side // 2
    for colour, (x, y) in zip(
        QUADRANTS.values(), [(0, 0), (half, 0), (0, half), (half, half)], strict=True
    ):
        image.paste(colour, (x, y, x + half, y + half))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@dataclass(frozen=True)
class Sample:
    language: str
    title: str
    rows: tuple[CardRow, ...]
    advice: CardAdvice
    disclaimer: str

    def strings(self) -> list[str]:
        return [self.title, self.advice.label, self.disclaimer, *(r.name for r in self.rows)]


SAMPLES = {
    "en": Sample(
        "en",
        "Most likely conditions",
        (
            CardRow("Insect bite", 0.273),
            CardRow("Melanocytic nevus", 0.246),
            CardRow("Seborrheic keratosis/irritated", 0.12),
            CardRow("Dermatofibroma", 0.051),
            CardRow("Nonspecific (normal)", 0.004),
        ),
        CardAdvice("within_2_weeks", "See a dermatologist soon"),
        "Not a diagnosis. The Model Dermatology algorithm is not certified by the FDA or CE; "
        "its output can be wrong. Show the skin problem to a doctor.",
    ),
    "ko": Sample(
        "ko",
        "가능성이 높은 피부 질환",
        (
            CardRow("곤충 물림", 0.273),
            CardRow("멜라닌세포 모반", 0.246),
            CardRow("지루각화증", 0.12),
            CardRow("피부섬유종", 0.051),
            CardRow("비특이적 소견(정상)", 0.004),
        ),
        CardAdvice("within_2_weeks", "피부과 전문의에게 곧 진료를 받으세요"),
        "이것은 진단이 아닙니다. Model Dermatology 알고리즘은 FDA나 CE 인증을 받지 않았으며 "
        "결과가 틀릴 수 있습니다. 피부 문제를 의사에게 보여 주세요.",
    ),
    "es": Sample(
        "es",
        "Afecciones más probables",
        (
            CardRow("Picadura de insecto", 0.273),
            CardRow("Nevo melanocítico", 0.246),
            CardRow("Queratosis seborreica irritada", 0.12),
            CardRow("Dermatofibroma", 0.051),
            CardRow("Inespecífico (normal)", 0.004),
        ),
        CardAdvice("self_care", "Cuidados en casa; consulte si empeora"),
        "Esto no es un diagnóstico. El algoritmo de Model Dermatology no está certificado por "
        "la FDA ni la CE; puede equivocarse. ¿Dudas? Muestre el problema a un médico. ¡Gracias!",
    ),
}


def _render(sample: Sample, **changes: Any) -> bytes:
    values: dict[str, Any] = {
        "rows": sample.rows,
        "advice": sample.advice,
        "disclaimer": sample.disclaimer,
        "title": sample.title,
    }
    values.update(changes)
    return render_card(
        _photo(),
        values["rows"],
        values["advice"],
        values["disclaimer"],
        title=values["title"],
        language=sample.language,
    )


def _layout(sample: Sample, **changes: Any) -> CardLayout:
    values: dict[str, Any] = {
        "rows": sample.rows,
        "advice": sample.advice,
        "disclaimer": sample.disclaimer,
        "title": sample.title,
    }
    values.update(changes)
    return layout_card(
        values["rows"], values["advice"], values["disclaimer"], title=values["title"]
    )


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def _close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_card_is_a_small_png_as_wide_as_two_phone_screens(language: str) -> None:
    png = _render(SAMPLES[language])
    image = _open(png)
    assert image.width == 720
    assert 900 < image.height < 2200
    # Small enough to send quickly on a poor mobile connection.
    assert len(png) < 150_000


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_the_analysed_photo_is_at_the_top(language: str) -> None:
    sample = SAMPLES[language]
    image = _open(_render(sample))
    left, top, right, bottom = _layout(sample).photo_box
    assert right - left == bottom - top  # square
    assert bottom < image.height / 2
    quarter = (right - left) // 4
    centres = {
        "top_left": (left + quarter, top + quarter),
        "top_right": (right - quarter, top + quarter),
        "bottom_left": (left + quarter, bottom - quarter),
        "bottom_right": (right - quarter, bottom - quarter),
    }
    for name, point in centres.items():
        assert _close(image.getpixel(point), QUADRANTS[name]), name  # type: ignore[arg-type]


def _notdef_signature(face: ImageFont.FreeTypeFont) -> tuple[tuple[int, int], bytes]:
    mask = face.getmask("\U0010fffd")
    return mask.size, bytes(mask)


@pytest.mark.parametrize("weight", ["Regular", "Bold"])
@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_every_character_has_a_real_glyph_in_the_shipped_font(language: str, weight: str) -> None:
    data = resources.files("bot").joinpath("fonts", f"NotoSansKR-Subset-{weight}.otf").read_bytes()
    face = ImageFont.truetype(io.BytesIO(data), 32)
    notdef = _notdef_signature(face)
    strings = [*SAMPLES[language].strings(), "0123456789%<>.", "ÁÉÍÓÚÜÑáéíóúüñ¿¡àèçãõ"]
    for text in strings:
        for char in set(text) - {" "}:
            mask = face.getmask(char)
            assert (mask.size, bytes(mask)) != notdef, f"{char!r} in {text!r} has no glyph"
        assert missing_glyphs(text, Weight(weight)) == set()


def test_missing_glyphs_names_characters_the_font_cannot_draw() -> None:
    # Chinese and Japanese are not in the subset: a catalog in them would show boxes.
    assert missing_glyphs("Nevus 中 あ") == {"中", "あ"}


LONG = {
    "en": "Post-inflammatory hyperpigmentation of the skin after an eczema flare-up",
    "ko": "염증후과다색소침착증에의한피부변화와기타여러가지색소성질환",
    "es": "Hiperpigmentación postinflamatoria de la piel tras un brote de eczema atópico",
}


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_long_texts_wrap_inside_the_margins(language: str) -> None:
    sample = SAMPLES[language]
    rows = (CardRow(LONG[language], 0.4), *sample.rows[1:])
    layout = _layout(
        sample,
        rows=rows,
        title=LONG[language],
        advice=CardAdvice(sample.advice.tier, LONG[language]),
        disclaimer=" ".join([sample.disclaimer] * 3),
    )
    for placed in layout.texts:
        left, _, right, _ = placed.advance_box
        assert left >= MARGIN and right <= WIDTH - MARGIN, placed.text
        ink_left, _, ink_right, ink_bottom = placed.ink_box
        assert ink_left >= 0 and ink_right <= WIDTH and ink_bottom <= layout.height, placed.text
    first_name = [
        t.text
        for t in layout.texts
        if t.x > MARGIN and not t.align_right and t.y < layout.bars[0].box[1]
    ]
    assert len(first_name) >= 2
    assert "".join(first_name).replace(" ", "") == LONG[language].replace(" ", "")
    # The percentage stays clear of the wrapped name.
    percent = next(t for t in layout.texts if t.text == "40%")
    for placed in layout.texts:
        if placed.y == percent.y and placed is not percent:
            assert placed.advance_box[2] < percent.advance_box[0]


def test_wrapping_breaks_between_words_not_inside_them() -> None:
    face = bot.card.fonts.font(Weight.REGULAR, 32)
    text = LONG["es"]
    lines = wrap(text, face, 300)
    assert len(lines) > 2
    assert " ".join(lines) == text
    words = set(text.split())
    for line in lines:
        assert set(line.split()) <= words
        assert face.getlength(line) <= 300


def test_a_word_longer_than_the_line_is_cut_per_character() -> None:
    face = bot.card.fonts.font(Weight.REGULAR, 32)
    lines = wrap("곤충 " + LONG["ko"], face, 300)
    assert lines[0] == "곤충"  # the short word is not glued to a piece of the long one
    assert "".join(lines[1:]) == LONG["ko"]
    assert all(face.getlength(line) <= 300 for line in lines)


def test_hyphens_and_slashes_are_break_points() -> None:
    face = bot.card.fonts.font(Weight.REGULAR, 32)
    text = "Seborrheic keratosis/irritated"
    width = face.getlength("Seborrheic keratosis/") + 1
    assert wrap(text, face, width) == ["Seborrheic keratosis/", "irritated"]


def _label_has_dark_ink(image: Image.Image, layout: CardLayout) -> bool:
    for line in layout.label_lines:
        region = image.crop(line.ink_box).convert("L")
        darkest, _ = region.getextrema()
        if darkest > 80:  # type: ignore[operator]
            return False
    return True


def test_each_tier_has_its_own_colour_icon_and_word() -> None:
    sample = SAMPLES["en"]
    labels = {
        AdviceTier.WITHIN_2_WEEKS: "See a dermatologist soon",
        AdviceTier.WITHIN_DAYS: "See a doctor",
        AdviceTier.SELF_CARE: "Self-care",
    }
    fills = {}
    icons = {}
    for tier, label in labels.items():
        advice = CardAdvice(tier, label)
        layout = _layout(sample, advice=advice)
        image = _open(_render(sample, advice=advice))
        assert [line.text for line in layout.label_lines] == [label]
        assert _label_has_dark_ink(image, layout)
        _, top, right, bottom = layout.advice_box
        fills[tier] = image.getpixel((right - 12, (top + bottom) // 2))
        icons[tier] = image.crop(layout.icon_box).convert("L").point(lambda v: 255 * (v > 200))
    assert len(set(fills.values())) == 3
    assert all(fill != (255, 255, 255) for fill in fills.values())
    # The icon's shape differs too, so the tier does not rest on colour alone.
    tiers = list(icons)
    for i, a in enumerate(tiers):
        for b in tiers[i + 1 :]:
            assert icons[a].tobytes() != icons[b].tobytes()


def test_an_unknown_tier_is_refused() -> None:
    with pytest.raises(ValueError):
        _render(SAMPLES["en"], advice=CardAdvice("panic", "Panic"))


@pytest.mark.parametrize(("given", "shown"), [(7, 5), (5, 5), (2, 2), (0, 0)])
def test_at_most_five_conditions_are_shown(given: int, shown: int) -> None:
    sample = SAMPLES["ko"]
    rows = [CardRow(f"질환 {n}", 0.1) for n in range(given)]
    layout = _layout(sample, rows=rows)
    image = _open(_render(sample, rows=rows))
    assert len(layout.bars) == shown
    ranks = [t.text for t in layout.texts if t.text.endswith(".") and t.text[:-1].isdigit()]
    assert ranks == [f"{n}." for n in range(1, shown + 1)]
    assert image.height == layout.height
    assert " ".join(t.text for t in layout.label_lines) == sample.advice.label


def test_fewer_rows_make_a_shorter_card() -> None:
    sample = SAMPLES["es"]
    heights = [_layout(sample, rows=sample.rows[:n]).height for n in (0, 2, 5)]
    assert heights == sorted(heights) and len(set(heights)) == 3


def test_bars_are_as_long_as_the_probability() -> None:
    sample = SAMPLES["en"]
    rows = [CardRow("Half", 0.5), CardRow("Tiny", 0.004), CardRow("None", 0.0)]
    layout = _layout(sample, rows=rows)
    image = _open(_render(sample, rows=rows))
    blue = (0, 114, 178)

    def filled(bar_index: int, fraction: float) -> bool:
        left, top, right, bottom = layout.bars[bar_index].box
        point = (round(left + (right - left) * fraction), (top + bottom) // 2)
        return _close(image.getpixel(point), blue)  # type: ignore[arg-type]

    assert filled(0, 0.45) and not filled(0, 0.55)
    # Below 1% still shows a sliver, and the text says "<1%", not "0%".
    assert filled(1, 0.01) and not filled(1, 0.1)
    assert not filled(2, 0.01)
    texts = [t.text for t in layout.texts]
    assert "50%" in texts and "<1%" in texts and "0%" in texts


@pytest.mark.parametrize(
    ("probability", "label"),
    [(0.0, "0%"), (0.004, "<1%"), (0.01, "1%"), (0.273, "27%"), (0.995, ">99%"), (1.0, "100%")],
)
def test_percent_label(probability: float, label: str) -> None:
    assert percent_label(probability) == label


def test_photo_may_be_an_image_of_any_shape() -> None:
    wide = Image.new("RGB", (1200, 600), (40, 180, 60))
    sample = SAMPLES["en"]
    png = render_card(
        wide, sample.rows, sample.advice, sample.disclaimer, title=sample.title, language="en"
    )
    image = _open(png)
    left, top, right, bottom = _layout(sample).photo_box
    assert _close(image.getpixel((left + 20, (top + bottom) // 2)), (40, 180, 60))  # type: ignore[arg-type]
    assert _close(image.getpixel((right - 20, (top + bottom) // 2)), (40, 180, 60))  # type: ignore[arg-type]


async def test_async_rendering_runs_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    original = bot.card.render.render_card

    def recording(*args: Any, **kwargs: Any) -> bytes:
        threads.append(threading.get_ident())
        return original(*args, **kwargs)

    monkeypatch.setattr(bot.card.render, "render_card", recording)
    sample = SAMPLES["ko"]
    png = await render_card_async(
        _photo(), sample.rows, sample.advice, sample.disclaimer, title=sample.title, language="ko"
    )
    assert _open(png).width == 720
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="card") as executor:
        again = await render_card_async(
            _photo(),
            sample.rows,
            sample.advice,
            sample.disclaimer,
            title=sample.title,
            language="ko",
            executor=executor,
        )
        executor_thread = executor.submit(threading.get_ident).result()
    assert again == png
    loop_thread = threading.get_ident()
    assert len(threads) == 2 and loop_thread not in threads
    assert threads[1] == executor_thread


async def test_the_event_loop_keeps_running_while_a_card_renders() -> None:
    sample = SAMPLES["es"]
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await render_card_async(
        _photo(), sample.rows, sample.advice, sample.disclaimer, title=sample.title, language="es"
    )
    done.set()
    await task
    assert ticks > 1


def test_a_photo_that_compresses_badly_is_drawn_smaller_to_keep_the_card_small() -> None:
    # Pure noise is the worst case for PNG: at full size it alone would exceed the budget.
    noise = Image.frombytes("RGB", (512, 512), random.Random(8).randbytes(512 * 512 * 3))
    sample = SAMPLES["en"]
    png = render_card(
        noise, sample.rows, sample.advice, sample.disclaimer, title=sample.title, language="en"
    )
    image = _open(png)
    assert len(png) <= 150_000
    assert image.width == 720
    assert image.height < _layout(sample).height
