"""`diagnose` and `status`: the Model Dermatology API from the command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bot.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandError
from bot.config import Settings, load_settings
from bot.domain.diagnosis import Diagnosis
from bot.domain.questionnaire import Onset, Questionnaire, Severity, Sex
from bot.imaging import PhotoRejected, prepare
from bot.imaging.quality import QualityIssue
from bot.logs import configure_logging, secrets_of
from bot.modelderm.client import ModelDermClient, PhotoUpload, ServerStatus
from bot.modelderm.errors import MAX_PHOTOS, DiagnosisFailed, host_of

DISCLAIMER = (
    "Not a diagnosis. The Model Dermatology algorithm is not certified by the FDA or CE; "
    "its output can be wrong. Show the skin problem to a doctor, urgently if it bleeds, "
    "grows fast or you feel ill."
)

# Friendly option values first, then the API's own codes, which are accepted too.
SEVERITY_CHOICES = {
    "none": Severity.NONE,
    "mild": Severity.MILD_TO_MODERATE,
    "moderate": Severity.MILD_TO_MODERATE,
    "severe": Severity.SEVERE,
    **{s.value: s for s in Severity},
}
ONSET_CHOICES = {
    "days": Onset.UNDER_A_WEEK,
    "week": Onset.UNDER_A_WEEK,
    "month": Onset.UNDER_A_MONTH,
    "year": Onset.UNDER_A_YEAR,
    "longer": Onset.OVER_A_YEAR_OR_SINCE_BIRTH,
    "birth": Onset.OVER_A_YEAR_OR_SINCE_BIRTH,
    **{o.value: o for o in Onset},
}
SEX_CHOICES = {"male": Sex.MALE, "female": Sex.FEMALE, **{s.value: s for s in Sex}}


def register(subparsers: Any) -> None:
    diagnose: argparse.ArgumentParser = subparsers.add_parser(
        "diagnose",
        help="send up to five photos of one skin problem to the API and print the result",
        description="Send up to five photos of one skin problem (JPEG, PNG, WebP, HEIC or TIFF), "
        "prepared as the bot prepares them (square, small, no metadata), as one case "
        "to the Model Dermatology API and print the most likely conditions. "
        "Not a diagnosis: the algorithm is not certified by the FDA or CE.",
    )
    diagnose.add_argument("images", nargs="+", metavar="IMAGE", type=Path, help="photo file")
    diagnose.add_argument("--birth-year", type=int, metavar="YEAR", help="year of birth")
    diagnose.add_argument("--sex", choices=list(SEX_CHOICES), help="male/female (or m/f)")
    diagnose.add_argument(
        "--skin-type", type=int, choices=range(1, 7), metavar="1-6", help="Fitzpatrick skin type"
    )
    diagnose.add_argument("--location", metavar="TEXT", help="body site, e.g. 'left forearm'")
    diagnose.add_argument(
        "--itch", choices=list(SEVERITY_CHOICES), help="none, mild, severe (or x/o/v)"
    )
    diagnose.add_argument(
        "--pain", choices=list(SEVERITY_CHOICES), help="none, mild, severe (or x/o/v)"
    )
    diagnose.add_argument(
        "--onset",
        choices=list(ONSET_CHOICES),
        help="there for under a week, month, year, or longer (or d/w/m/y)",
    )
    diagnose.add_argument("--case-id", metavar="TEXT", help="your own reference for the case")
    diagnose.add_argument("--json", action="store_true", help="print the result as JSON")
    diagnose.set_defaults(handler=handle_diagnose)

    status: argparse.ArgumentParser = subparsers.add_parser(
        "status",
        help="show whether each configured API server is up",
        description="Ask every configured Model Dermatology server for its status. "
        "Exit status 0 when at least one is up, 1 when all are down.",
    )
    status.set_defaults(handler=handle_status)


# --------------------------------------------------------------------------------- diagnose


def handle_diagnose(args: argparse.Namespace) -> int:
    questionnaire = _questionnaire(args)
    settings = _settings()
    photos = read_photos(args.images, settings)
    try:
        diagnosis = asyncio.run(_diagnose(settings, photos, questionnaire, args.case_id))
    except DiagnosisFailed as exc:
        raise CommandError(f"the API failed: {exc}", EXIT_FAILED) from None
    if args.json:
        print(json.dumps({**diagnosis.to_dict(), "disclaimer": DISCLAIMER}, ensure_ascii=False))
    else:
        print(render_diagnosis(diagnosis))
    return EXIT_OK


def _questionnaire(args: argparse.Namespace) -> Questionnaire:
    try:
        return Questionnaire(
            birth_year=args.birth_year,
            sex=SEX_CHOICES[args.sex] if args.sex else None,
            skin_type=args.skin_type,
            body_site=args.location or None,
            itch=SEVERITY_CHOICES[args.itch] if args.itch else None,
            pain=SEVERITY_CHOICES[args.pain] if args.pain else None,
            onset=ONSET_CHOICES[args.onset] if args.onset else None,
        )
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None


def read_photos(paths: Sequence[Path], settings: Settings) -> list[PhotoUpload]:
    """The files, checked and prepared as the bot prepares photos (square, small, no metadata).

    A file that is not a usable photo stops the command before anything is sent; quality advice
    (blurred, dark...) is printed to stderr and the photo is still sent, as in the chat.
    """
    if len(paths) > MAX_PHOTOS:
        raise CommandError(
            f"give at most {MAX_PHOTOS} images of one skin problem, not {len(paths)}", EXIT_USAGE
        )
    photos = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}", EXIT_USAGE) from None
        try:
            prepared = prepare(
                data,
                side=settings.photo_side_px,
                fmt=settings.photo_format,
                quality=settings.photo_quality,
                max_bytes=settings.photo_max_bytes,
                max_pixels=settings.photo_max_pixels,
            )
        except PhotoRejected as exc:
            raise CommandError(f"{path}: {exc.message}", EXIT_USAGE) from None
        for issue in prepared.quality.warnings:
            print(f"note: {path} {QUALITY_NOTES[issue]}", file=sys.stderr)
        photos.append(PhotoUpload(prepared.data, prepared.mime_type, prepared.filename))
    return photos


QUALITY_NOTES = {
    QualityIssue.TOO_SMALL: "is small (under 300 px); a closer photo would help",
    QualityIssue.BLURRY: "looks blurry; a sharper photo would help",
    QualityIssue.TOO_DARK: "looks too dark; a photo in daylight would help",
    QualityIssue.OVEREXPOSED: "looks overexposed; a photo without direct flash would help",
}


def _settings() -> Settings:
    settings = load_settings()
    # A failure ends in one line that already says what happened on each server; per-attempt
    # warnings would only repeat it. LOG_LEVEL=DEBUG still shows everything.
    level = settings.log_level_number if settings.log_level == "DEBUG" else logging.ERROR
    configure_logging(level, secrets=secrets_of(settings))
    return settings


async def _diagnose(
    settings: Settings, photos: list[PhotoUpload], questionnaire: Questionnaire, case_id: str | None
) -> Diagnosis:
    async with httpx.AsyncClient() as http:
        client = ModelDermClient.from_settings(settings, http)
        return await client.diagnose(photos, questionnaire, case_id)


def render_diagnosis(diagnosis: Diagnosis) -> str:
    lines = ["Most likely conditions:"]
    if not diagnosis.conditions:
        lines.append("  (the server returned no conditions)")
    width = max((len(c.name) for c in diagnosis.conditions), default=0)
    for rank, condition in enumerate(diagnosis.conditions, start=1):
        lines.append(f"  {rank:>2}. {condition.name:<{width}}  {condition.probability * 100:5.1f}%")
    malignancy = (
        "not given" if diagnosis.malignancy_output is None else str(diagnosis.malignancy_output)
    )
    meta = {True: "yes", False: "no", None: "not said"}[diagnosis.meta_used]
    photos = "not said" if diagnosis.photos_analysed is None else str(diagnosis.photos_analysed)
    lines += [
        "",
        f"Malignancy output: {malignancy} (scale undocumented)",
        f"Photos analysed:   {photos}",
        f"Metadata used:     {meta}",
        f"Server:            {host_of(diagnosis.server)} in {diagnosis.latency_s:.2f}s "
        f"(attempt {diagnosis.attempts})",
        "",
        DISCLAIMER,
    ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------- status


def handle_status(args: argparse.Namespace) -> int:
    settings = _settings()
    statuses = asyncio.run(_status(settings))
    for status in statuses:
        print(render_status(status))
    return EXIT_OK if any(s.up for s in statuses) else EXIT_FAILED


async def _status(settings: Settings) -> list[ServerStatus]:
    async with httpx.AsyncClient() as http:
        return await ModelDermClient.from_settings(settings, http).status()


def render_status(status: ServerStatus) -> str:
    if not status.up:
        return f"{status.url}  down  {status.reason}"
    latency = "" if status.latency_s is None else f"  {status.latency_s * 1000:.0f} ms"
    message = f"  {status.message!r}" if status.message else ""
    return f"{status.url}  up  {status.current_users} current users{latency}{message}"
