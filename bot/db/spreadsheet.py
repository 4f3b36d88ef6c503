"""CSV cells that spreadsheet programs show as text and never run: every export writes through
this, the operator's (bot/db/export.py, bot/db/triage_audit.py) and the person's own (/export)."""

from __future__ import annotations

# A cell starting with one of these is read as a formula (or, after a tab or carriage return,
# can become one): free text a person typed must not be.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """`text` as a cell that opens as the same text: a leading quote stops a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
