"""Settings, read from the environment and an optional `.env` file, validated at start-up.

Every setting is listed with its default and meaning in `.env.example`; keep the two in step.
Nothing here runs at import time: call `load_settings()`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.advice import DEFAULT_RULES

PUBLIC_MODELDERM_URL = "https://t.modelderm.com/api"
# The API's README documents `test` as the key anyone may use.
PUBLIC_MODELDERM_KEY = "test"
# `sqlite+aiosqlite:///...` (the default before) is accepted too: SQLite always runs through
# Python's own sqlite3 driver (bot/db/database.py).
DEFAULT_DATABASE_URL = "sqlite:///./data/modelderm-bot.sqlite3"
SQLITE_SCHEMES = ("sqlite", "sqlite+pysqlite", "sqlite+aiosqlite")
# Seconds a unit of work waits for a SQLite file locked by another program (a backup, the CLI).
DEFAULT_DATABASE_LOCK_WAIT_S = 30.0

TOKEN_HELP = (
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram, "
    "then put its token in the environment or in a .env file "
    "(see .env.example)."
)


def parse_hours(value: str) -> tuple[int, int]:
    """ "9-20" as (9, 20): from 9:00 until 20:00; ValueError with the reason otherwise."""
    start, separator, end = value.strip().partition("-")
    try:
        first, last = int(start), int(end)
    except ValueError:
        first = last = -1
    if not separator or not 0 <= first < last <= 24:
        raise ValueError(
            f"{value!r} is not a range of hours such as 9-20 (from 9:00 to 20:00; 0-24 for any "
            "time)"
        )
    return first, last


class ConfigError(Exception):
    """A configuration mistake, explained in one sentence a person can act on."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    # Telegram
    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"

    # Model Dermatology API
    modelderm_api_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [PUBLIC_MODELDERM_URL]
    )
    modelderm_api_key: SecretStr = SecretStr(PUBLIC_MODELDERM_KEY)
    modelderm_request_timeout_s: float = Field(default=60.0, gt=0)
    modelderm_deadline_s: float = Field(default=180.0, gt=0)
    modelderm_max_attempts: int = Field(default=4, ge=1, le=20)
    modelderm_backoff_base_s: float = Field(default=1.0, ge=0)
    modelderm_backoff_max_s: float = Field(default=20.0, ge=0)

    # Photos
    # Defaults measured and explained in bot/imaging/pipeline.py and docs/photos.md.
    photo_side_px: int = Field(default=512, ge=128, le=2048)
    photo_format: Literal["jpeg", "webp"] = "webp"
    photo_quality: int = Field(default=85, ge=30, le=100)
    photo_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    photo_max_pixels: int = Field(default=50_000_000, ge=10_000)
    photo_workers: int = Field(default=2, ge=1, le=32)
    # Megabytes of decoded pixels all photo work together may hold at once (bot/imaging/budget.py).
    photo_decode_budget_mb: int = Field(default=256, ge=16)

    # Storage
    database_url: str = DEFAULT_DATABASE_URL
    database_lock_wait_s: float = Field(default=DEFAULT_DATABASE_LOCK_WAIT_S, gt=0, le=600)
    retention_days: int = Field(default=90, ge=1)
    # How often the running bot purges expired cases (bot/services/retention.py); a day by default.
    retention_purge_interval_s: float = Field(default=86400.0, ge=0.1)
    # Work a process takes (a case to send or deliver, a post for the clinic) is claimed for
    # this long and renewed while it works (bot/db/claims.py): after a crash or a freeze, another
    # process takes the work over once the claim has run out.
    claim_lease_s: float = Field(default=30.0, ge=0.5, le=3600)
    # PostgreSQL: the leading process (the one that takes Telegram's updates and runs the jobs)
    # holds a lease this long and renews it every quarter of it; a standby takes over once it ran
    # out, and a leader that could not renew stops acting before that (docs/deployment.md).
    leader_lease_s: float = Field(default=8.0, ge=1.0, le=600)
    # Keyed hash for exports, so that research CSVs carry no Telegram ids.
    export_hash_key: SecretStr | None = None

    # Conversation and analysis
    # Quiet time after a photo before acknowledging, so an album gets one answer, not one each.
    album_quiet_s: float = Field(default=1.2, ge=0.05, le=10)
    # How often the background job looks for cases waiting for a retry, and their backoff.
    retry_interval_s: float = Field(default=30.0, ge=0.1)
    retry_base_s: float = Field(default=60.0, ge=0.1)
    retry_max_s: float = Field(default=3600.0, ge=0.1)
    # The advice rule table's thresholds (a heuristic, see bot/domain/advice.py and
    # docs/advice.md); their defaults are the rules' own.
    advice_top_n: int = Field(default=DEFAULT_RULES.top_n, ge=1, le=10)
    advice_emergency_min_score: float = Field(default=DEFAULT_RULES.emergency_min_score, ge=0, le=1)
    advice_treatment_min_score: float = Field(default=DEFAULT_RULES.treatment_min_score, ge=0, le=1)
    advice_cancer_min_score: float = Field(default=DEFAULT_RULES.cancer_min_score, ge=0, le=1)
    advice_malignancy_output_threshold: int | None = DEFAULT_RULES.malignancy_output_threshold
    advice_persists_min_score: float = Field(default=DEFAULT_RULES.persists_min_score, ge=0, le=1)
    advice_unsure_below: float = Field(default=DEFAULT_RULES.unsure_below, ge=0, le=1)
    advice_rules_file: str | None = None
    result_top_n: int = Field(default=5, ge=1, le=10)
    # Telegram's protect_content: no forwarding or saving. Off for the person's result, so that
    # they can forward it to their doctor; on for the clinic's posts of people's photos.
    protect_results: bool = False
    protect_clinic_posts: bool = True
    # Follow-up reminders (docs/follow-up.md): the days after a result a person may ask to be
    # reminded (fractions allowed), the daytime hours they are sent in (in TIMEZONE, "0-24":
    # any time) and how often the bot looks for reminders due.
    follow_up_after_days: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [14.0, 28.0]
    )
    reminder_hours: str = "9-20"
    reminder_check_interval_s: float = Field(default=60.0, ge=0.1)

    # Triage by the clinic's clinicians in their Telegram group (bot/services/triage_desk.py);
    # off when unset.
    triage_chat_id: int | None = None
    triage_clinician_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    triage_reminder_after_s: float = Field(default=4 * 3600.0, ge=1)
    triage_check_interval_s: float = Field(default=15.0, ge=0.1)
    # Operation (docs/operations.md): how updates arrive, health, fair use, admins.
    telegram_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_path: str | None = None
    webhook_listen_host: str = "127.0.0.1"
    webhook_listen_port: int = Field(default=8080, ge=1, le=65535)
    health_port: int = Field(default=0, ge=0, le=65535)
    cases_per_hour: int = Field(default=5, ge=1)
    cases_per_day: int = Field(default=20, ge=1)
    api_concurrency: int = Field(default=4, ge=1, le=64)
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    shutdown_grace_s: float = Field(default=10.0, ge=0, le=600)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    # The time zone (IANA name, e.g. "Asia/Seoul") of every date shown to people.
    timezone: str = "UTC"

    @field_validator("modelderm_api_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        # Operators write a comma-separated list in .env; JSON lists are accepted as well.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("modelderm_api_urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("give at least one Model Dermatology API URL")
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return [url.rstrip("/") for url in value]

    @field_validator("triage_clinician_ids", "admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("follow_up_after_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("follow_up_after_days")
    @classmethod
    def _check_days(cls, value: list[float], info: ValidationInfo) -> list[float]:
        retention = info.data.get("retention_days")
        for days in value:
            if days <= 0:
                raise ValueError(f"{days:g} is not a number of days after the result")
            if retention is not None and days >= retention:
                raise ValueError(
                    f"every reminder must come before the check is deleted, so each must be "
                    f"shorter than RETENTION_DAYS ({retention}), and {days:g} is not"
                )
        return sorted(set(value))

    @field_validator("reminder_hours")
    @classmethod
    def _check_hours(cls, value: str) -> str:
        parse_hours(value)
        return value.strip()

    @property
    def reminder_window(self) -> tuple[int, int]:
        """REMINDER_HOURS as (first hour, hour it ends), e.g. (9, 20); (0, 24) is any time."""
        return parse_hours(self.reminder_hours)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "telegram_bot_token",
        "export_hash_key",
        "advice_malignancy_output_threshold",
        "advice_rules_file",
        "triage_chat_id",
        "webhook_url",
        "webhook_secret",
        "webhook_path",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `.env.example` lists optional settings with empty values; empty means "not set".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone name such as Asia/Seoul") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @model_validator(mode="after")
    def _check_backoff(self) -> Settings:
        if self.modelderm_backoff_max_s < self.modelderm_backoff_base_s:
            raise ValueError("MODELDERM_BACKOFF_MAX_S must not be below MODELDERM_BACKOFF_BASE_S")
        return self

    @property
    def triage_enabled(self) -> bool:
        return self.triage_chat_id is not None

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    def require_token(self) -> str:
        """The bot token, or a ConfigError telling the operator how to get one."""
        if self.telegram_bot_token is None:
            raise ConfigError(TOKEN_HELP)
        return self.telegram_bot_token.get_secret_value()

    def sqlite_path(self) -> Path | None:
        """The database file when the URL names a SQLite file, so it can be created."""
        scheme, separator, rest = self.database_url.partition(":///")
        if separator and scheme in SQLITE_SCHEMES and rest and rest != ":memory:":
            return Path(rest.split("?", 1)[0])
        return None


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Read and validate the settings; raise ConfigError with one plain sentence if wrong."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "_".join(str(part) for part in first["loc"]).upper() or "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"The setting {name} is invalid: {message}.") from None
    except ValueError as exc:  # e.g. malformed JSON list
        raise ConfigError(f"A setting could not be read: {exc}.") from None
