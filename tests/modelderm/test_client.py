"""The client against fake servers over real HTTP: failover, retries, deadline, refusals."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import httpx
import pytest

from bot.config import load_settings
from bot.domain.diagnosis import Condition
from bot.domain.questionnaire import Onset, Questionnaire, Severity, Sex
from bot.modelderm.client import ModelDermClient, PhotoUpload
from bot.modelderm.errors import DiagnosisFailed, PhotoCountError
from tests.fakes.modelderm_server import Behaviour, FakeModelDerm

JPEG = b"\xff\xd8\xff\xe0" + b"pretend jpeg " * 20
PHOTO = PhotoUpload(JPEG, "image/jpeg", "left arm (1).jpg")
SECRET_KEY = "sekrit-key-7f3a9"


class RecordingSleep:
    """Stands in for asyncio.sleep: records the delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


def make_client(
    urls: list[str], http: httpx.AsyncClient, sleep: RecordingSleep | None = None, **kwargs: Any
) -> ModelDermClient:
    options: dict[str, Any] = {
        "request_timeout_s": 5.0,
        "deadline_s": 30.0,
        "max_attempts": 4,
        "backoff_base_s": 1.0,
        "backoff_max_s": 8.0,
        "sleep": sleep or RecordingSleep(),
        "random": lambda: 1.0,
    }
    options.update(kwargs)
    return ModelDermClient(urls, SECRET_KEY, http, **options)


# ------------------------------------------------------------------------------- diagnose


async def test_diagnose_sends_the_protocols_request_and_reads_the_answer(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    client = make_client([modelderm_server.url], http_client)
    photos = [PHOTO, PhotoUpload(b"\x89PNG\r\n\x1a\nxx", "image/png", "zweite Ansicht é.png")]
    questionnaire = Questionnaire(
        birth_year=1980,
        sex=Sex.MALE,
        skin_type=2,
        body_site="arm",
        itch=Severity.SEVERE,
        pain=Severity.NONE,
        onset=Onset.UNDER_A_YEAR,
    )
    diagnosis = await client.diagnose(photos, questionnaire, "case-9")

    (request,) = modelderm_server.requests
    assert [f.data for f in request.files] == [JPEG, b"\x89PNG\r\n\x1a\nxx"]
    assert [f.content_type for f in request.files] == ["image/jpeg", "image/png"]
    assert [f.unquoted_filename for f in request.files] == [
        "left arm (1).jpg",
        "zweite Ansicht é.png",
    ]
    assert all("%" in f.filename for f in request.files)  # URL-quoted on the wire
    assert request.args1 == SECRET_KEY
    assert request.metadata_tags == [
        ("id", "case-9"),
        ("race", "2"),
        ("birth", "1980"),
        ("sex", "m"),
        ("location", "arm"),
        ("pruritus", "v"),
        ("pain", "x"),
        ("onset", "m"),
    ]
    assert diagnosis.conditions[0] == Condition("Insect bite", 0.2728)
    assert len(diagnosis.conditions) == 10
    assert diagnosis.malignancy_output == 4
    assert diagnosis.photos_analysed == 2
    assert diagnosis.meta_used is True
    assert diagnosis.echoed_metadata["loc"] == "arm"
    assert diagnosis.echoed_metadata["sex"] == "1"
    assert diagnosis.server == modelderm_server.url
    assert diagnosis.attempts == 1
    assert 0 < diagnosis.latency_s < 5


async def test_json_answer_is_read(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.queue(Behaviour.json())
    diagnosis = await make_client([modelderm_server.url], http_client).diagnose(
        [PHOTO], Questionnaire()
    )
    assert diagnosis.conditions[1] == Condition("Melanocytic nevus", 0.2456)
    assert diagnosis.meta_used is False


@pytest.mark.parametrize("count", [0, 6])
async def test_zero_or_six_photos_are_refused_before_any_request(
    count: int, modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    client = make_client([modelderm_server.url], http_client)
    with pytest.raises(PhotoCountError) as caught:
        await client.diagnose([PHOTO] * count, Questionnaire())
    assert caught.value.count == count
    assert isinstance(caught.value, ValueError)
    assert modelderm_server.requests == []


async def test_five_photos_are_accepted(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    diagnosis = await make_client([modelderm_server.url], http_client).diagnose(
        [PHOTO] * 5, Questionnaire()
    )
    assert diagnosis.photos_analysed == 5
    assert len(modelderm_server.requests[0].files) == 5


@pytest.mark.parametrize(
    "site",
    [
        "arm</location><sex>m",
        "arm＜/location＞＜sex＞m",
        "arm‹/location›«sex»m",
        "arm〈/location〉",
    ],
)
async def test_tag_injection_through_body_site_and_case_id_never_reaches_the_server(
    site: str, modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    client = make_client([modelderm_server.url], http_client)
    await client.diagnose([PHOTO], Questionnaire(body_site=site, sex=Sex.FEMALE), "x</id><race>6")
    (request,) = modelderm_server.requests
    assert len(request.metadata_tags) == 8
    assert [name for name, _ in request.metadata_tags] == [
        "id",
        "race",
        "birth",
        "sex",
        "location",
        "pruritus",
        "pain",
        "onset",
    ]
    assert request.metadata["sex"] == "f"
    assert request.metadata["race"] == ""
    assert request.metadata["location"].startswith("arm")
    assert request.metadata["id"].startswith("x")


# ------------------------------------------------------------------------ failover, retries


async def test_first_server_down_second_answers(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    sleep = RecordingSleep()
    client = make_client([closed_port_url(), modelderm_server.url], http_client, sleep)
    diagnosis = await client.diagnose([PHOTO], Questionnaire())
    assert diagnosis.server == modelderm_server.url
    assert diagnosis.attempts == 2
    assert len(modelderm_server.requests) == 1


async def test_servers_are_tried_in_order_and_wrap_around(
    modelderm_server: FakeModelDerm,
    modelderm_backup_server: FakeModelDerm,
    http_client: httpx.AsyncClient,
) -> None:
    first, second = modelderm_server, modelderm_backup_server
    first.queue(Behaviour.proxy_error(), Behaviour.drop())
    second.queue(Behaviour.garbage())
    client = make_client([first.url, second.url], http_client)
    diagnosis = await client.diagnose([PHOTO], Questionnaire())
    # 1: first (502), 2: second (garbage), 3: first (dropped), 4: second (answers).
    assert [r.answered_with for r in first.requests] == ["raw", "drop"]
    assert [r.answered_with for r in second.requests] == ["raw", "normal"]
    assert first.requests[0].received_at < second.requests[0].received_at
    assert second.requests[0].received_at < first.requests[1].received_at
    assert diagnosis.server == second.url
    assert diagnosis.attempts == 4


@pytest.mark.parametrize(
    "failure",
    [
        Behaviour.proxy_error(),
        Behaviour.raw(503, "unavailable"),
        Behaviour.raw(408, "timeout"),
        Behaviour.too_many_requests(),
        Behaviour.drop(),
        Behaviour.garbage(),
        Behaviour.empty(),
        Behaviour.truncated(),
        Behaviour.error(1),
        Behaviour.raw(200, "<html><title>Maintenance</title></html>", "text/html"),
    ],
    ids=lambda b: f"{b.kind}-{b.status}-{len(b.body)}",
)
async def test_transient_failures_are_retried_on_the_same_single_server(
    failure: Behaviour, modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.queue(failure)
    sleep = RecordingSleep()
    diagnosis = await make_client([modelderm_server.url], http_client, sleep).diagnose(
        [PHOTO], Questionnaire()
    )
    assert diagnosis.attempts == 2
    assert len(modelderm_server.requests) == 2
    assert len(sleep.delays) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413])
async def test_client_errors_are_not_retried_and_not_retryable(
    status: int, modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.behaviour = Behaviour.raw(status, "no")
    sleep = RecordingSleep()
    client = make_client([modelderm_server.url], http_client, sleep)
    with pytest.raises(DiagnosisFailed) as caught:
        await client.diagnose([PHOTO], Questionnaire())
    assert len(modelderm_server.requests) == 1
    assert caught.value.retryable is False
    assert sleep.delays == []
    assert f"HTTP {status}" in str(caught.value)


async def test_a_rejecting_server_is_skipped_for_the_next_one(
    modelderm_server: FakeModelDerm,
    modelderm_backup_server: FakeModelDerm,
    http_client: httpx.AsyncClient,
) -> None:
    modelderm_server.behaviour = Behaviour.raw(404, "Not Found")
    modelderm_backup_server.queue(Behaviour.proxy_error())
    client = make_client([modelderm_server.url, modelderm_backup_server.url], http_client)
    diagnosis = await client.diagnose([PHOTO], Questionnaire())
    assert len(modelderm_server.requests) == 1
    assert len(modelderm_backup_server.requests) == 2
    assert diagnosis.attempts == 3


async def test_every_server_rejecting_ends_at_once(
    modelderm_server: FakeModelDerm,
    modelderm_backup_server: FakeModelDerm,
    http_client: httpx.AsyncClient,
) -> None:
    for server in (modelderm_server, modelderm_backup_server):
        server.behaviour = Behaviour.raw(400, "bad request")
    client = make_client(
        [modelderm_server.url, modelderm_backup_server.url], http_client, max_attempts=10
    )
    with pytest.raises(DiagnosisFailed) as caught:
        await client.diagnose([PHOTO], Questionnaire())
    assert len(caught.value.attempts) == 2
    assert caught.value.retryable is False


async def test_max_attempts_bounds_the_tries_and_the_error_tells_each_server(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.behaviour = Behaviour.proxy_error()
    dead = closed_port_url()
    client = make_client([dead, modelderm_server.url], http_client, max_attempts=3)
    with pytest.raises(DiagnosisFailed) as caught:
        await client.diagnose([PHOTO], Questionnaire())
    failed = caught.value
    assert failed.retryable is True
    assert [a.server for a in failed.attempts] == [dead, modelderm_server.url, dead]
    assert len(modelderm_server.requests) == 1
    message = str(failed)
    assert message.startswith("all 3 attempts failed: ")
    assert "connection refused" in message
    assert "HTTP 502 (502 Proxy Error)" in message
    assert "\n" not in message


async def test_backoff_grows_exponentially_with_full_jitter_up_to_the_cap(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.behaviour = Behaviour.raw(500, "boom")
    sleep = RecordingSleep()
    client = make_client(
        [modelderm_server.url],
        http_client,
        sleep,
        max_attempts=6,
        backoff_base_s=0.5,
        backoff_max_s=3.0,
        random=lambda: 0.5,
    )
    with pytest.raises(DiagnosisFailed):
        await client.diagnose([PHOTO], Questionnaire())
    # Half (the jitter) of 0.5, 1, 2, 3 (capped), 3.
    assert sleep.delays == [0.25, 0.5, 1.0, 1.5, 1.5]


async def test_retry_after_is_honoured(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.queue(Behaviour.too_many_requests("7"))
    sleep = RecordingSleep()
    client = make_client([modelderm_server.url], http_client, sleep, random=lambda: 0.0)
    diagnosis = await client.diagnose([PHOTO], Questionnaire())
    assert diagnosis.attempts == 2
    assert len(sleep.delays) == 1
    assert 6.0 < sleep.delays[0] <= 7.0


async def test_retry_after_beyond_the_deadline_stops_instead_of_sleeping(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.queue(Behaviour.too_many_requests("120"))
    sleep = RecordingSleep()
    client = make_client([modelderm_server.url], http_client, sleep, deadline_s=10.0)
    with pytest.raises(DiagnosisFailed) as caught:
        await client.diagnose([PHOTO], Questionnaire())
    assert sleep.delays == []
    assert caught.value.retryable is True
    assert "deadline" in str(caught.value)
    assert "HTTP 429" in str(caught.value)


async def test_the_deadline_stops_a_slow_server(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.hold()  # the server never answers
    client = ModelDermClient(
        [modelderm_server.url],
        SECRET_KEY,
        http_client,
        request_timeout_s=600.0,
        deadline_s=0.6,
        max_attempts=10,
        backoff_base_s=0.05,
        backoff_max_s=0.1,
    )
    # Only the deadline can end this (the request would wait 600 s), long before the test's.
    with pytest.raises(DiagnosisFailed) as caught:
        async with asyncio.timeout(30):
            await client.diagnose([PHOTO], Questionnaire())
    assert caught.value.retryable is True
    assert "no answer within" in str(caught.value)


async def test_before_upload_is_awaited_right_before_every_request(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.queue(Behaviour.proxy_error(), Behaviour.proxy_error())
    requests_seen: list[int] = []

    async def before_upload() -> None:
        requests_seen.append(len(modelderm_server.requests))

    client = make_client([modelderm_server.url], http_client)
    diagnosis = await client.diagnose([PHOTO], Questionnaire(), before_upload=before_upload)
    assert diagnosis.attempts == 3
    # Once before each of the three requests, each time before that request went out.
    assert requests_seen == [0, 1, 2]


class Withdrawn(Exception):
    """What a caller's check raises when the photos may no longer leave."""


async def test_a_refusing_before_upload_stops_at_once_and_its_error_comes_out(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.behaviour = Behaviour.proxy_error()
    calls = 0

    async def before_upload() -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise Withdrawn

    sleep = RecordingSleep()
    client = make_client([modelderm_server.url], http_client, sleep)
    with pytest.raises(Withdrawn):
        await client.diagnose([PHOTO], Questionnaire(), before_upload=before_upload)
    assert len(modelderm_server.requests) == 1
    assert calls == 2
    assert len(sleep.delays) == 1  # the backoff happened; the second request did not


async def test_a_refusal_before_the_first_upload_sends_nothing(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    async def before_upload() -> None:
        raise Withdrawn

    client = make_client([modelderm_server.url], http_client)
    with pytest.raises(Withdrawn):
        await client.diagnose([PHOTO], Questionnaire(), before_upload=before_upload)
    assert modelderm_server.requests == []


async def test_only_unreadable_answers_are_a_protocol_error_not_an_outage(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.behaviour = Behaviour.raw(200, "<error>0</error><disease>Acne,-0.2</disease>")
    client = make_client([modelderm_server.url], http_client, max_attempts=2)
    with pytest.raises(DiagnosisFailed) as caught:
        await client.diagnose([PHOTO], Questionnaire())
    assert caught.value.unreadable_answers_only is True
    assert caught.value.retryable is True

    modelderm_server.queue(Behaviour.proxy_error())
    with pytest.raises(DiagnosisFailed) as caught:
        await client.diagnose([PHOTO], Questionnaire())
    assert caught.value.unreadable_answers_only is False


# --------------------------------------------------------------------------------- status


async def test_status_reports_up_and_down_servers(
    modelderm_server: FakeModelDerm,
    modelderm_backup_server: FakeModelDerm,
    http_client: httpx.AsyncClient,
) -> None:
    modelderm_server.current_users = 7
    modelderm_server.status_message = "Server maintenance at 18:00"
    modelderm_backup_server.set_down()
    dead = closed_port_url()
    client = make_client([modelderm_server.url, modelderm_backup_server.url, dead], http_client)
    up, proxied, refused = await client.status()
    assert up.up and up.current_users == 7 and up.message == "Server maintenance at 18:00"
    assert up.latency_s is not None and up.reason is None
    assert modelderm_server.status_requests == [SECRET_KEY]
    assert not proxied.up and proxied.reason == "HTTP 502 (502 Proxy Error)"
    assert not refused.up and refused.reason == "connection refused"


async def test_status_with_an_unreadable_body_is_down(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.set_down(Behaviour.raw(200, "<html>hello</html>"))
    (status,) = await make_client([modelderm_server.url], http_client).status()
    assert not status.up
    assert status.reason is not None and "unreadable" in status.reason


# ---------------------------------------------------------------------------------- secrets


async def test_the_api_key_never_reaches_the_logs(
    modelderm_server: FakeModelDerm,
    http_client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    modelderm_server.queue(Behaviour.proxy_error(), Behaviour.raw(400, SECRET_KEY))
    client = make_client([modelderm_server.url], http_client)
    await client.status()
    with pytest.raises(DiagnosisFailed) as caught:
        await client.diagnose([PHOTO], Questionnaire())
    messages = [record.getMessage() for record in caplog.records]
    # The status URL carries the key (httpx logs it) and the 400 body echoes it back.
    assert any("ModelDerm attempt" in m for m in messages)
    assert any("HTTP Request: GET" in m for m in messages)
    assert all(SECRET_KEY not in m for m in messages)
    assert SECRET_KEY not in str(caught.value)
    assert SECRET_KEY not in repr(client)


async def test_from_settings_uses_the_configured_values(http_client: httpx.AsyncClient) -> None:
    settings = load_settings(
        modelderm_api_urls="http://127.0.0.1:9/api, http://127.0.0.1:10/api",
        modelderm_api_key="k",
        modelderm_request_timeout_s=3,
        modelderm_deadline_s=9,
        modelderm_max_attempts=2,
        modelderm_backoff_base_s=0.1,
        modelderm_backoff_max_s=0.4,
    )
    client = ModelDermClient.from_settings(settings, http_client)
    assert client.urls == ("http://127.0.0.1:9/api", "http://127.0.0.1:10/api")
    assert (client.request_timeout_s, client.deadline_s, client.max_attempts) == (3, 9, 2)
    assert (client.backoff_base_s, client.backoff_max_s) == (0.1, 0.4)
