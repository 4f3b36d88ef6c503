"""Result card rendering time and PNG size per language.

    PYTHONPATH=. python tests/perf/bench_card.py [--runs 30] [--photo PHOTO.jpg]

Without --photo it uses a made-up 512 px photo with skin-like tones and sensor noise (noise is
what makes a PNG big, so this errs on the large side). Prints median and p95 milliseconds and the
PNG size per language, then one JSON line.

The "bot_*" lines are the card as the bot sends it: the photo prepared by the bot's own pipeline
(512 px JPEG), the fake API's default answer, and every text from the message catalogs in that
language (bot.views.result_card.card_content).

`--choices` measures, instead, how bot/card/render.py encodes the card, on the English sample:
true colour against 256 shared colours, fast octree against median cut quantisation, and zlib
level 6 against optimize=True (milliseconds and bytes; one JSON line).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from pathlib import Path

from PIL import Image, ImageFilter

from bot.card import CardAdvice, CardRow, layout_card, render_card
from bot.card.render import PALETTE_COLOURS, decode_photo, draw_card
from bot.domain.advice import AdviceRules, advise
from bot.domain.diagnosis import Condition, Diagnosis
from bot.domain.questionnaire import Questionnaire
from bot.i18n import speaking
from bot.imaging.pipeline import prepare
from bot.views.result_card import card_content

# The fake ModelDerm server's default answer (tests/fakes/modelderm_server.py).
ANSWER = Diagnosis(
    conditions=tuple(
        Condition(name, p)
        for name, p in (
            ("Insect bite", 0.2728),
            ("Melanocytic nevus", 0.2456),
            ("Xerotic eczema", 0.0761),
            ("Hemangioma", 0.0704),
            ("Folliculitis", 0.0561),
        )
    ),
    malignancy_output=4,
    meta_used=True,
    photos_analysed=1,
)

SAMPLES = {
    "en": (
        "Most likely conditions",
        [
            ("Insect bite", 0.273),
            ("Melanocytic nevus", 0.246),
            ("Seborrheic keratosis/irritated", 0.12),
            ("Post-inflammatory hyperpigmentation", 0.051),
            ("Dermatofibroma", 0.004),
        ],
        CardAdvice("within_2_weeks", "See a dermatologist soon"),
        "Not a diagnosis. The Model Dermatology algorithm is not certified by the FDA or CE; its "
        "output can be wrong. Show the skin problem to a doctor.",
    ),
    "ko": (
        "가능성이 높은 피부 질환",
        [
            ("곤충 물림", 0.273),
            ("멜라닌세포 모반", 0.246),
            ("지루각화증", 0.12),
            ("염증후 과다색소침착", 0.051),
            ("피부섬유종", 0.004),
        ],
        CardAdvice("within_days", "의사의 진료를 받으세요"),
        "이것은 진단이 아닙니다. Model Dermatology 알고리즘은 FDA나 CE 인증을 받지 않았으며 "
        "결과가 틀릴 수 있습니다. 피부 문제를 의사에게 보여 주세요.",
    ),
    "es": (
        "Afecciones más probables",
        [
            ("Picadura de insecto", 0.273),
            ("Nevo melanocítico", 0.246),
            ("Queratosis seborreica irritada", 0.12),
            ("Hiperpigmentación postinflamatoria", 0.051),
            ("Dermatofibroma", 0.004),
        ],
        CardAdvice("self_care", "Cuidados en casa; consulte si empeora"),
        "Esto no es un diagnóstico. El algoritmo de Model Dermatology no está certificado por la "
        "FDA ni la CE; puede equivocarse. Muestre el problema a un médico.",
    ),
}


def made_up_photo(side: int = 512) -> bytes:
    skin = Image.new("RGB", (side, side), (214, 170, 140))
    lesion = Image.new("L", (side, side), 0)
    lesion.paste(255, (side // 3, side // 3, 2 * side // 3, 2 * side // 3))
    lesion = lesion.filter(ImageFilter.GaussianBlur(side // 12))
    skin.paste((120, 70, 50), (0, 0), lesion)
    noise = Image.effect_noise((side, side), 24).convert("RGB")
    photo = Image.blend(skin, noise, 0.12)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90)
    return out.getvalue()


def encoding_choices(photo: bytes, runs: int) -> None:
    """Time and bytes of the ways the drawn card could be encoded; the bot's is fastoctree_z6."""
    title, rows, advice, disclaimer = SAMPLES["en"]
    layout = layout_card([CardRow(name, p) for name, p in rows], advice, disclaimer, title=title)
    card = draw_card(decode_photo(photo), layout)
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
    for name, encode in ways.items():
        times, png = [], b""
        for _ in range(runs):
            start = time.perf_counter()
            png = encode()
            times.append((time.perf_counter() - start) * 1000)
        median = statistics.median(times)
        print(f"{name}: median {median:.1f} ms, {len(png)} bytes")
        result[f"{name}_ms"] = round(median, 1)
        result[f"{name}_bytes"] = len(png)
    print(json.dumps({"benchmark": "card_encoding", **result}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--photo", type=Path)
    parser.add_argument("--choices", action="store_true", help="compare ways of encoding the card")
    args = parser.parse_args()
    photo = args.photo.read_bytes() if args.photo else made_up_photo()
    if args.choices:
        encoding_choices(photo, args.runs)
        return

    result: dict[str, float | int] = {"runs": args.runs}
    cases = {
        language: (title, [CardRow(name, p) for name, p in rows], advice, disclaimer)
        for language, (title, rows, advice, disclaimer) in SAMPLES.items()
    }
    # What the bot does: prepare the photo as it is sent to the API, then the catalog's texts.
    prepared = prepare(made_up_photo(1280) if not args.photo else photo).data
    for language in ("en", "ko", "es"):
        with speaking(language):
            content = card_content(ANSWER, advise(ANSWER, Questionnaire(), AdviceRules()), 5)
        cases[f"bot_{language}"] = (
            content.title,
            content.rows,
            content.advice,
            content.disclaimer,
        )
    for name, (title, card_rows, advice, disclaimer) in cases.items():
        language = name.removeprefix("bot_")
        source = prepared if name.startswith("bot_") else photo
        # The first card loads the font; a running bot pays that once.
        render_card(source, card_rows, advice, disclaimer, title=title, language=language)
        times = []
        png = b""
        for _ in range(args.runs):
            start = time.perf_counter()
            png = render_card(source, card_rows, advice, disclaimer, title=title, language=language)
            times.append((time.perf_counter() - start) * 1000)
        times.sort()
        median = statistics.median(times)
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        height = Image.open(io.BytesIO(png)).height
        print(
            f"{name}: median {median:.1f} ms, p95 {p95:.1f} ms, {len(png)} bytes, 720x{height} px"
        )
        result[f"{name}_ms"] = round(median, 1)
        result[f"{name}_p95_ms"] = round(p95, 1)
        result[f"{name}_bytes"] = len(png)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
