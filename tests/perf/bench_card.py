"""The result card: its size, font sizes in a phone's chat bubble, contrast, render time, bytes.

    PYTHONPATH=. python -m tests.perf.bench_card [--runs 30] [--photo PHOTO.jpg]
    PYTHONPATH=. python -m tests.perf.bench_card --save docs/images [--photo PHOTO.jpg]
    PYTHONPATH=. python -m tests.perf.bench_card --choices

The default prints, for the three example answers (high risk, infection, benign) in English,
Korean and Spanish, as the bot draws them (bot.views.result_card.card_text with the catalogs'
texts): the card's size in pixels, its tier line's and condition names' font sizes when the
card is shown 250 px wide (a 360 dp phone's chat bubble; the bar is 11 and 9 px), the median and
p95 milliseconds to draw and encode it and its PNG bytes; then the lowest contrast ratio of any
text and of the icons with their backgrounds over every tier, and one JSON line.

The photo is the bot's own preparation (512 px JPEG, as the API receives it) of a made-up skin
photo (tests/images.py), or of --photo.

`--save DIR` writes the example cards for the docs (card-high-risk.png, card-infection.png,
card-benign.png in English; card-high-risk-ko.png and card-high-risk-es.png).

`--choices` measures how bot/card/render.py encodes the card, on the English high-risk card:
true colour against 256 shared colours, fast octree against median cut quantisation, and zlib
level 6 against optimize=True (milliseconds and bytes; one JSON line).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import statistics
import time
import uuid
from pathlib import Path

from PIL import Image

from bot.card import render_card
from bot.card.colours import (
    BACKGROUND,
    BAR_FILL,
    BAR_TRACK,
    INK,
    TIER_COLOUR,
    TIER_INK,
    contrast_ratio,
)
from bot.card.layout import WIDTH, CardLayout, Tier, display_px, layout_card
from bot.card.render import PALETTE_COLOURS, decode_photo, draw_card
from bot.domain.advice import Advice, AdviceTier
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Questionnaire
from bot.domain.result import CaseResult
from bot.i18n import speaking
from bot.imaging.pipeline import prepare
from bot.views.result_card import card_text
from tests.images import encode, make_skin_photo


def _diagnosis(*conditions: tuple[str, float]) -> Diagnosis:
    return Diagnosis(
        conditions=tuple(Condition(name, p) for name, p in conditions),
        malignancy_output=None,
        meta_used=True,
        photos_analysed=1,
    )


# The three answers the docs show (docs/result-card.md).
EXAMPLES = {
    "high-risk": (
        _diagnosis(
            ("Melanoma", 0.41),
            ("Basal cell carcinoma", 0.09),
            ("Melanocytic nevus", 0.08),
            ("Seborrheic keratosis", 0.05),
        ),
        AdviceTier.WITHIN_2_WEEKS,
    ),
    "infection": (
        _diagnosis(
            ("Cellulitis", 0.46),
            ("Erysipelas", 0.12),
            ("Insect bite", 0.07),
        ),
        AdviceTier.WITHIN_DAYS,
    ),
    "benign": (
        _diagnosis(
            ("Melanocytic nevus", 0.52),
            ("Seborrheic keratosis", 0.17),
            ("Lentigo", 0.06),
        ),
        AdviceTier.SELF_CARE,
    ),
}
CHECKED_AT = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def example_result(name: str, language: str, patient_ref: str | None = None) -> CaseResult:
    diagnosis, tier = EXAMPLES[name]
    return CaseResult(
        public_id=uuid.UUID(int=(0x3F9A2C71 + list(EXAMPLES).index(name)) << 96),
        chat_id=1,
        language=language,
        diagnosis=diagnosis,
        advice=Advice(tier=tier),
        clinic_queued=False,
        questionnaire=Questionnaire(),
        patient_ref=patient_ref,
        checked_at=CHECKED_AT,
    )


# A different made-up skin photo per example (tests/images.py), so the docs' cards differ.
EXAMPLE_SEEDS = {"high-risk": 3, "infection": 1, "benign": 0}


def made_up_photo(side: int = 1280, seed: int = 3) -> bytes:
    return encode(make_skin_photo(side, side, seed=seed), "JPEG", quality=90)


def worst_contrast() -> dict[str, float]:
    """The lowest contrast of texts and of icons with their backgrounds, over every tier."""
    on_card = min(contrast_ratio(colour, BACKGROUND) for colour in INK.values())
    on_band = min(contrast_ratio(TIER_INK[tier], TIER_COLOUR[tier]) for tier in Tier)
    bars = min(contrast_ratio(BAR_FILL, BAR_TRACK), contrast_ratio(BAR_FILL, BACKGROUND))
    return {
        "text_min_contrast": round(min(on_card, on_band), 2),
        "icon_min_contrast": round(on_band, 2),
        "bar_min_contrast": round(bars, 2),
    }


def bubble_sizes(layout: CardLayout) -> tuple[float, float]:
    """The tier line's and the names' font size in px when the card is shown 250 px wide."""
    return display_px(layout.sizes.tier, layout.width), display_px(layout.sizes.name, layout.width)


def encoding_choices(photo: bytes, runs: int) -> None:
    """Time and bytes of the ways the drawn card could be encoded; the bot's is fastoctree_z6."""
    with speaking("en"):
        content = card_text(example_result("high-risk", "en"), 5, dt.UTC)
    card = draw_card(decode_photo(photo), layout_card(content))
    octree, median_cut = Image.Quantize.FASTOCTREE, Image.Quantize.MEDIANCUT

    def true_colour() -> bytes:
        out = io.BytesIO()
        card.save(out, "PNG", compress_level=6)
        return out.getvalue()

    def paletted(method: Image.Quantize, **options: object) -> bytes:
        out = io.BytesIO()
        card.quantize(PALETTE_COLOURS, method=method).save(out, "PNG", **options)
        return out.getvalue()

    ways = {
        "true_colour_z6": true_colour,
        "fastoctree_z6": lambda: paletted(octree, compress_level=6),
        "fastoctree_optimize": lambda: paletted(octree, optimize=True),
        "mediancut_z6": lambda: paletted(median_cut, compress_level=6),
    }
    result: dict[str, float | int] = {"runs": runs}
    for name, encode_with in ways.items():
        times, png = [], b""
        for _ in range(runs):
            start = time.perf_counter()
            png = encode_with()
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        print(f"{name}: median {median:.1f} ms, {len(png)} bytes")
        result[f"{name}_ms"] = round(median, 1)
        result[f"{name}_bytes"] = len(png)
    print(json.dumps({"benchmark": "card_encoding", **result}))


def save_examples(photo: bytes | None, folder: Path) -> None:
    """The docs' cards, on `photo` or each on its own made-up photo."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [(name, "en", f"card-{name}.png") for name in EXAMPLES]
    wanted += [
        ("high-risk", language, f"card-high-risk-{language}.png") for language in ("ko", "es")
    ]
    for name, language, file_name in wanted:
        with speaking(language):
            # The infection as a field worker's check, to show the patient's code.
            patient = "P-0042" if name == "infection" else None
            content = card_text(example_result(name, language, patient), 5, dt.UTC)
        source = photo or prepare(made_up_photo(seed=EXAMPLE_SEEDS[name])).data
        png = render_card(source, content, language=language)
        (folder / file_name).write_bytes(png)
        print(f"{folder / file_name}: {len(png)} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--photo", type=Path)
    parser.add_argument("--choices", action="store_true", help="compare ways of encoding the card")
    parser.add_argument("--save", type=Path, metavar="DIR", help="write the docs' example cards")
    args = parser.parse_args()
    if args.save:
        save_examples(prepare(args.photo.read_bytes()).data if args.photo else None, args.save)
        return
    # What the bot does: the photo as it is prepared for the API.
    photo = prepare(args.photo.read_bytes() if args.photo else made_up_photo()).data
    if args.choices:
        encoding_choices(photo, args.runs)
        return

    result: dict[str, float | int | str] = {"benchmark": "card", "runs": args.runs}
    for language in ("en", "ko", "es"):
        for name in EXAMPLES:
            with speaking(language):
                content = card_text(example_result(name, language, "P-0042"), 5, dt.UTC)
            layout = layout_card(content)
            tier_px, name_px = bubble_sizes(layout)
            # The first card loads the font; a running bot pays that once.
            render_card(photo, content, language=language)
            times, png = [], b""
            for _ in range(args.runs):
                start = time.perf_counter()
                png = render_card(photo, content, language=language)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            median = statistics.median(times)
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            height = Image.open(io.BytesIO(png)).height
            key = f"{language}_{name}"
            print(
                f"{key}: {WIDTH}x{height} px (height/width {height / WIDTH:.2f}), "
                f"at 250 px wide: tier {tier_px:.1f} px, names {name_px:.1f} px; "
                f"median {median:.1f} ms, p95 {p95:.1f} ms, {len(png)} bytes"
            )
            result[f"{key}_height"] = height
            result[f"{key}_tier_px"] = round(tier_px, 1)
            result[f"{key}_name_px"] = round(name_px, 1)
            result[f"{key}_ms"] = round(median, 1)
            result[f"{key}_p95_ms"] = round(p95, 1)
            result[f"{key}_bytes"] = len(png)
    contrast = worst_contrast()
    print(
        f"contrast: text at least {contrast['text_min_contrast']}:1, icons "
        f"{contrast['icon_min_contrast']}:1, score bars {contrast['bar_min_contrast']}:1"
    )
    result.update(contrast)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
