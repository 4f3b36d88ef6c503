"""The bot's small HTTP server: /healthz and /metrics, and in webhook mode the webhook itself.

One server for all three in webhook mode, so a reverse proxy needs one upstream; in polling mode
it serves only /healthz and /metrics, on HEALTH_PORT, and only when that is set.

Tornado (already installed by python-telegram-bot's `webhooks` extra, which PTB's own
`run_webhook` uses) rather than PTB's `run_webhook`: PTB's server cannot serve other paths, and
health and metrics belong on the same port. Updates are put on `application.update_queue`,
exactly where PTB's own webhook server puts them, so handling is identical in both modes.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
from typing import Any

from telegram import Update
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application as TornadoApplication
from tornado.web import RequestHandler

from bot.conversation.common import LEADERSHIP_KEY, SERVICES_KEY, BotApplication
from bot.ops.health import health_report, refresh_gauges
from bot.runtime.leadership import Leadership
from bot.runtime.metrics import CONTENT_TYPE, Metrics
from bot.services.container import Services

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are small; anything far bigger is not from Telegram.
MAX_BODY_BYTES = 4 * 1024 * 1024


class _Base(RequestHandler):
    def initialize(self, bot_application: BotApplication) -> None:
        self.application_ = bot_application

    @property
    def services(self) -> Services | None:
        services: Services | None = self.application_.bot_data.get(SERVICES_KEY)
        return services

    @property
    def leadership(self) -> Leadership:
        leadership: Leadership = self.application_.bot_data[LEADERSHIP_KEY]
        return leadership

    def compute_etag(self) -> str | None:
        return None


class HealthHandler(_Base):
    async def get(self) -> None:
        status, body = await health_report(self.services, self.leadership)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class MetricsHandler(_Base):
    async def get(self) -> None:
        services = self.services
        if services is not None:
            await refresh_gauges(services)
        metrics: Metrics = self.application_.bot_data["metrics"]
        self.set_header("Content-Type", CONTENT_TYPE)
        self.finish(metrics.render())


class WebhookHandler(_Base):
    def initialize(self, bot_application: BotApplication, secret: str = "") -> None:
        super().initialize(bot_application)
        self.secret = secret.encode()
        self.refusal = ""

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        # Constant-time comparison: the secret is the only thing that tells Telegram from anyone.
        if not self.secret or not hmac.compare_digest(given, self.secret):
            self.set_status(403)
            self.finish()
            return
        if not self.leadership.leads() or not self.application_.running:
            # A standby, a leader still starting or one whose lease lapsed: Telegram, or the
            # reverse proxy in front of both processes, tries again, and the update is handled
            # by whoever serves then (an update taken now could be lost if this start failed).
            self.refusal = f"this process does not serve yet ({self.leadership.role})"
            self.set_status(503)
            self.finish()
            return
        update, self.refusal = _update_from(self.request.body, self.application_)
        if update is None:
            self.set_status(400)
            self.finish()
            return
        await self.application_.update_queue.put(update)
        self.set_status(200)
        self.finish()


def _update_from(body: bytes, application: BotApplication) -> tuple[Update | None, str]:
    """The update in a webhook body, or None and why not (for the request's log line)."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            raise ValueError("no integer update_id")
        return Update.de_json(data, application.bot), ""
    # Whatever the body holds, PTB's parser may fail in its own way on it (AttributeError for a
    # string where an object belongs, KeyError for a missing field, ...): all mean "not an update".
    except Exception as error:
        # The body could hold anyone's words: only the kind of failure is logged.
        return None, f"not a Telegram update ({type(error).__name__})"


def _log_request(handler: RequestHandler) -> None:
    # Every webhook call logged at INFO would drown the log; failures are what matter.
    status = handler.get_status()
    if status >= 500:
        level = logging.WARNING
    elif status >= 400:
        level = logging.INFO
    else:
        level = logging.DEBUG
    if log.isEnabledFor(level):
        refusal = getattr(handler, "refusal", "")
        log.log(
            level,
            "%d %s %s%s",
            status,
            handler.request.method,
            handler.request.path,
            f": {refusal}" if refusal else "",
        )


class OpsServer:
    """Serves /healthz, /metrics and (when `webhook_path` is given) the webhook."""

    def __init__(
        self,
        application: BotApplication,
        *,
        host: str,
        port: int,
        webhook_path: str | None = None,
        webhook_secret: str = "",
    ) -> None:
        routes: list[Any] = [
            ("/healthz", HealthHandler, {"bot_application": application}),
            ("/metrics", MetricsHandler, {"bot_application": application}),
        ]
        if webhook_path is not None:
            routes.append(
                (
                    webhook_path,
                    WebhookHandler,
                    {"bot_application": application, "secret": webhook_secret},
                )
            )
        self.webhook_path = webhook_path
        self._app = TornadoApplication(routes, log_function=_log_request)
        self.host, self.port = host, port
        self._server: HTTPServer | None = None

    async def start(self) -> None:
        sockets = bind_sockets(
            self.port, self.host, family=socket.AF_INET if "." in self.host else socket.AF_UNSPEC
        )
        self.port = sockets[0].getsockname()[1]
        self._server = HTTPServer(self._app, max_body_size=MAX_BODY_BYTES, xheaders=True)
        self._server.add_sockets(sockets)
        log.info(
            "HTTP server on %s:%d (%s)",
            self.host,
            self.port,
            "webhook, /healthz, /metrics" if self.webhook_path else "/healthz, /metrics",
        )

    async def stop(self) -> None:
        """Stop accepting connections, then close the open ones; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            await server.close_all_connections()
