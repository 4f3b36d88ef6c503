"""The operator's CSV export of every case, for audit and research, without anything that names a
person (`export` on the command line; a person's own checks are /export, bot/views/own_export.py).

Telegram ids become a keyed hash (HMAC-SHA256): stable per person for a given key, so cases of
one person can be grouped, but not reversible without the key. Patient references and Telegram
file ids are never exported.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, raiseload

from bot.db.models import Case, CasePhoto, User
from bot.db.spreadsheet import spreadsheet_text
from bot.domain.questionnaire import Questionnaire

TOP_CONDITIONS = 5
_QUESTIONNAIRE_FIELDS = tuple(Questionnaire().to_dict())
COLUMNS: tuple[str, ...] = (
    "case_id",
    "user_hash",
    "status",
    "subject",
    "created_at",
    "submitted_at",
    "completed_at",
    "failed_at",
    "cancelled_at",
    "photos",
    *_QUESTIONNAIRE_FIELDS,
    *(f"{kind}_{n}" for n in range(1, TOP_CONDITIONS + 1) for kind in ("condition", "probability")),
    "malignancy_output",
    "meta_used",
    "photos_analysed",
    "server",
    "latency_s",
    "attempts",
)


def user_hash(key: bytes, telegram_user_id: int) -> str:
    return hmac.new(key, str(telegram_user_id).encode("ascii"), hashlib.sha256).hexdigest()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    # Free text (the body site) must not run as a formula.
    return spreadsheet_text(str(value))


def _conditions(diagnosis: dict[str, Any] | None) -> list[Any]:
    cells: list[Any] = []
    ranked: Sequence[dict[str, Any]] = (diagnosis or {}).get("conditions") or []
    for n in range(TOP_CONDITIONS):
        if n < len(ranked):
            cells += [ranked[n].get("name"), ranked[n].get("probability")]
        else:
            cells += [None, None]
    return cells


def operator_export_csv(session: Session, out: TextIO, key: bytes) -> int:
    """Write every case as one CSV row to `out`, oldest first; returns the number of rows."""
    if not key:
        raise ValueError("an export needs a non-empty hash key")
    photo_count = (
        select(func.count(CasePhoto.id)).where(CasePhoto.case_id == Case.id).scalar_subquery()
    )
    query = (
        select(Case, User.telegram_user_id, photo_count)
        .join(Case.user)
        # Photos are counted above, the user joined here: no per-row loading.
        .options(raiseload(Case.photos), raiseload(Case.user))
        .order_by(Case.created_at, Case.id)
        .execution_options(yield_per=500)
    )
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    rows = 0
    # yield_per: fetched and written 500 rows at a time, never the whole table in memory.
    for case, telegram_user_id, photos in session.execute(query):
        answers = case.answers or {}
        diagnosis = case.diagnosis or {}
        row = [
            case.public_id,
            user_hash(key, telegram_user_id),
            case.status.value,
            case.subject.value,
            case.created_at,
            case.submitted_at,
            case.completed_at,
            case.failed_at,
            case.cancelled_at,
            photos,
            *(answers.get(name) for name in _QUESTIONNAIRE_FIELDS),
            *_conditions(case.diagnosis),
            diagnosis.get("malignancy_output"),
            diagnosis.get("meta_used"),
            diagnosis.get("photos_analysed"),
            case.server,
            case.latency_s,
            case.attempts,
        ]
        writer.writerow([_cell(v) for v in row])
        rows += 1
    return rows
