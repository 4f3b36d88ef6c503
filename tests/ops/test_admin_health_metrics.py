"""/stats for operators only; /healthz and /metrics after a real case."""

from __future__ import annotations

import re

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.config import load_settings
from bot.i18n.texts import MESSAGES
from bot.ops.health import health_report
from bot.runtime.leadership import Leadership
from bot.services.container import Services
from tests.conversation.flows import WAIT, complete_case, reach_summary
from tests.fakes.modelderm_server import Behaviour, FakeModelDerm
from tests.fakes.plugin import World
from tests.ops.process import free_port


async def test_stats_is_an_unknown_command_for_everyone_but_operators(world: World) -> None:
    alice, operator = world.person("Alice"), world.person("Olga")
    async with world.bot(admin_user_ids=[operator.id]):
        await alice.send("/stats")
        refusal = await alice.next_reply(timeout=WAIT)
        await alice.send("/frobnicate")
        unknown = await alice.next_reply(timeout=WAIT)
        await complete_case(alice)
        await operator.send("/stats")
        stats = await operator.wait_for("Stats", timeout=WAIT)
    assert refusal.raw_text == unknown.raw_text == MESSAGES["unknown_command"]
    assert "Completed: 1" in stats.text
    assert "Cases started: 1" in stats.text
    assert "Pending now: 0" in stats.text
    assert re.search(r"🟢 127\.0\.0\.1:\d+: up", stats.text)
    for call in world.telegram.calls_to("setMyCommands"):
        assert "stats" not in str(call.params["commands"])


async def test_healthz_and_metrics_after_one_case(world: World) -> None:
    alice = world.person("Alice")
    port = free_port()
    async with world.bot(health_port=port), httpx.AsyncClient() as http:
        before = (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
        await complete_case(alice)
        health = await http.get(f"http://127.0.0.1:{port}/healthz")
        metrics = await http.get(f"http://127.0.0.1:{port}/metrics")
    assert before["api_servers"][0]["state"] == "unknown"
    assert health.status_code == 200
    body = health.json()
    assert body["database"] == "ok" and body["pending_cases"] == 0
    server = f"127.0.0.1:{world.api.port}"
    assert body["api_servers"] == [
        {
            "server": server,
            "state": "up",
            "seen_at": body["api_servers"][0]["seen_at"],
            "detail": body["api_servers"][0]["detail"],
        }
    ]
    assert metrics.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.text)
        for s in family.samples
    }

    def value(name: str, **labels: str) -> float:
        return samples[(f"modelderm_bot_{name}", tuple(sorted(labels.items())))]

    assert value("cases_started_total") == 1
    assert value("cases_submitted_total") == 1
    assert value("cases_completed_total") == 1
    assert value("cases_failed_total") == 0
    assert value("cases_pending") == 0
    assert value("api_request_seconds_count", server=server, outcome="ok") == 1
    assert value("api_failovers_total") == 0
    # Two photos, each prepared once: on arrival (the prepared copies are what is sent).
    assert value("photo_prepare_seconds_count") == 2
    # /start, agree, whose skin, 2 photos, Done, year, 6 answers, Send: 14 updates.
    assert value("update_seconds_count") >= 14


async def test_failovers_are_counted_and_shown(
    world: World, modelderm_backup_server: FakeModelDerm
) -> None:

    world.api.behaviour = Behaviour.proxy_error()
    alice = world.person("Alice")
    port = free_port()
    urls = [world.api.url, modelderm_backup_server.url]
    async with world.bot(health_port=port, modelderm_api_urls=urls), httpx.AsyncClient() as http:
        await complete_case(alice)
        health = (await http.get(f"http://127.0.0.1:{port}/healthz")).json()
        metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    states = {s["server"]: s["state"] for s in health["api_servers"]}
    assert states == {
        f"127.0.0.1:{world.api.port}": "down",
        f"127.0.0.1:{modelderm_backup_server.port}": "up",
    }
    assert "modelderm_bot_api_failovers_total 1.0" in metrics
    backup = f"127.0.0.1:{modelderm_backup_server.port}"
    assert f'_count{{outcome="ok",server="{backup}"}} 1.0' in metrics


async def test_a_refused_case_counts_as_failed(world: World) -> None:
    world.api.behaviour = Behaviour.raw(400, "bad request")
    alice = world.person("Alice")
    port = free_port()
    async with world.bot(health_port=port), httpx.AsyncClient() as http:
        await reach_summary(alice)
        await alice.press("📤 Send for analysis")
        await alice.wait_for("could not analyse", timeout=WAIT)
        metrics = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    server = f"127.0.0.1:{world.api.port}"
    assert "modelderm_bot_cases_failed_total 1.0" in metrics
    assert "modelderm_bot_cases_completed_total 0.0" in metrics
    assert (
        f'modelderm_bot_api_request_seconds_count{{outcome="error",server="{server}"}}' in metrics
    )


async def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    # A PostgreSQL URL on a port nobody listens on: the connection is refused at once.
    settings = load_settings(
        env_file=None, database_url="postgresql+asyncpg://bot@127.0.0.1:9/none"
    )
    services = Services.open(settings)
    try:
        status, body = await health_report(services, Leadership.alone("test"))
    finally:
        await services.close()
    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["database"].startswith("unreachable")
