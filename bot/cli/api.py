"""`diagnose` and `status`: the Model Dermatology API from the command line."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    """Added by the API client work (issue 2)."""
