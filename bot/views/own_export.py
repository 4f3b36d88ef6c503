"""The person's own export (/export): their checks as a CSV file in their language.

One row per check, oldest first: the patient code, the date, the answers, the advice, the top
three conditions with their AI match scores and the clinic's decision. No Telegram id, no photo
reference, no malignancy output. UTF-8 with a byte order mark, so that spreadsheet programs open
Korean and Spanish text as such; every cell goes through the same formula guard as the
operator's export (bot/db/spreadsheet.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable

from bot.db.history import CheckEntry
from bot.db.models import CaseStatus
from bot.db.spreadsheet import spreadsheet_text
from bot.domain.steps import QUESTIONS
from bot.i18n.texts import text
from bot.views.answers import answer_label
from bot.views.history import condition_name

EXPORT_CONDITIONS = 3
# A spreadsheet sorts this as a date and time whatever its language.
_WHEN = "%Y-%m-%d %H:%M"


def own_export_filename(today: dt.date) -> str:
    return f"skin-checks-{today.isoformat()}.csv"


def _header() -> list[str]:
    columns = [text("export_column_code"), text("export_column_date"), text("export_column_check")]
    columns += [text(f"label_{step.value}") for step in QUESTIONS]
    columns += [text("export_column_state"), text("export_column_advice")]
    for n in range(1, EXPORT_CONDITIONS + 1):
        columns += [text("export_column_condition", n=n), text("export_column_score", n=n)]
    columns.append(text("export_column_clinic"))
    return columns


def _local(moment: dt.datetime, zone: dt.tzinfo) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return aware.astimezone(zone).strftime(_WHEN)


def _state(entry: CheckEntry) -> str:
    if entry.undelivered:
        return text("status_undelivered")
    return text(f"status_{entry.status.value}")


def _row(entry: CheckEntry, zone: dt.tzinfo) -> list[str]:
    cells = [entry.patient_ref or "", _local(entry.checked_at, zone), entry.public_id.hex[:8]]
    cells += [answer_label(step, entry.questionnaire) or "" for step in QUESTIONS]
    cells.append(_state(entry))
    completed = entry.status is CaseStatus.COMPLETED and entry.advice is not None
    cells.append(text(f"card_tier_{entry.advice.tier.value}") if completed and entry.advice else "")
    conditions = entry.diagnosis.conditions if entry.diagnosis is not None else ()
    for n in range(EXPORT_CONDITIONS):
        if n < len(conditions):
            # Whole percent: a number every spreadsheet reads, whatever its decimal mark.
            cells += [condition_name(conditions[n]), str(round(conditions[n].probability * 100))]
        else:
            cells += ["", ""]
    decision = entry.clinic_decision
    cells.append(text(f"triage_decision_{decision.value}") if decision is not None else "")
    return cells


def own_export_csv(entries: Iterable[CheckEntry], zone: dt.tzinfo) -> bytes:
    """The file's bytes: a header in the person's language, then a row per check."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([spreadsheet_text(cell) for cell in _header()])
    for entry in entries:
        writer.writerow([spreadsheet_text(cell) for cell in _row(entry, zone)])
    return out.getvalue().encode("utf-8-sig")
