"""The fake ModelDerm server itself: it must hold requests to the protocol and answer like the
real server, or every test built on it proves nothing."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.modelderm.errors import AnswerError
from bot.modelderm.protocol import parse_answer
from tests.fakes.modelderm_server import Behaviour, FakeModelDerm

ARGS2 = (
    "<id>c1</id><race>3</race><birth>1990</birth><sex>f</sex><location>leg</location>"
    "<pruritus>o</pruritus><pain>x</pain><onset>y</onset>"
)


async def test_answers_in_the_real_tag_format(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    files = [("file", ("a.jpg", b"\xff\xd8\xff1", "image/jpeg"))] * 7
    response = await http_client.post(
        modelderm_server.url, data={"args1": "test", "args2": ARGS2}, files=files
    )
    assert response.status_code == 200
    text = response.text
    assert text.startswith("<error>0</error> <race>3</race> <sex>2</sex> <age>")
    assert "<loc>leg</loc> <pruritus>o</pruritus> <pain>x</pain> <onset>y</onset>" in text
    # The real server analyses at most five photos.
    assert "<meta_used>1</meta_used> <no_photo>5</no_photo> <disease>Insect bite,0.2728," in text
    assert text.endswith("</disease> <malignancy_output>4</malignancy_output>")
    (request,) = modelderm_server.requests
    assert len(request.files) == 7
    assert request.metadata["birth"] == "1990"


@pytest.mark.parametrize(
    ("data", "files"),
    [
        ({"args1": "test", "args2": ARGS2, "json_format": "1"}, [("file", ("a.jpg", b"x"))]),
        ({"args1": "test", "args2": ARGS2}, [("image", ("a.jpg", b"x"))]),
        ({"args1": "test", "args2": ARGS2}, []),
    ],
)
async def test_refuses_what_the_protocol_does_not_describe(
    data: dict[str, str],
    files: list[tuple[str, tuple[str, bytes]]],
    modelderm_server: FakeModelDerm,
    http_client: httpx.AsyncClient,
) -> None:
    if files:
        response = await http_client.post(modelderm_server.url, data=data, files=files)
    else:
        response = await http_client.post(modelderm_server.url, data=data)
    assert response.status_code == 400
    assert modelderm_server.requests == []


async def test_scripted_behaviours_come_in_order_then_the_default(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.queue(
        Behaviour.proxy_error(),
        Behaviour.too_many_requests("3"),
        Behaviour.empty(),
        Behaviour.error(1),
        Behaviour.truncated(),
        Behaviour.json(),
    )
    files = [("file", ("a.jpg", b"\xff\xd8\xff1", "image/jpeg"))]

    async def post() -> httpx.Response:
        return await http_client.post(
            modelderm_server.url, data={"args1": "k", "args2": ARGS2}, files=files
        )

    proxy = await post()
    assert proxy.status_code == 502 and "<title>502 Proxy Error</title>" in proxy.text
    limited = await post()
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert (await post()).content == b""
    assert (await post()).text == "<error>1</error>"
    with pytest.raises(AnswerError, match="truncated"):
        parse_answer((await post()).content)
    as_json = await post()
    assert as_json.headers["content-type"].startswith("application/json")
    assert json.loads(as_json.text)["no_photo"] == 1
    assert parse_answer((await post()).content).photos_analysed == 1


async def test_drop_closes_the_connection_without_an_answer(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.queue(Behaviour.drop())
    with pytest.raises(httpx.RemoteProtocolError):
        await http_client.post(
            modelderm_server.url,
            data={"args1": "k", "args2": ARGS2},
            files=[("file", ("a.jpg", b"1", "image/jpeg"))],
        )


async def test_status_answers_users_and_message(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    modelderm_server.current_users = 0
    modelderm_server.status_message = "Server maintenance at 18:00"
    response = await http_client.get(f"{modelderm_server.url}?test")
    assert response.text == "0,Server maintenance at 18:00"
    assert modelderm_server.status_requests == ["test"]


def test_runs_in_a_thread_for_synchronous_callers(
    threaded_modelderm_server: FakeModelDerm,
) -> None:
    response = httpx.get(f"{threaded_modelderm_server.url}?test")
    assert response.status_code == 200 and response.text == "3,"


def test_runs_as_a_program_for_benchmarks() -> None:
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.modelderm_server", "--port", "0"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = json.loads(process.stdout.readline())["url"]
        assert httpx.get(f"{url}?test").text == "3,"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_process_url_names_the_sender_and_the_answer_is_timed(
    modelderm_server: FakeModelDerm, http_client: httpx.AsyncClient
) -> None:
    files = [("file", ("a.jpg", b"\xff\xd8\xff1", "image/jpeg"))]
    status = await http_client.get(modelderm_server.url_for("a") + "?KEY")
    assert status.text == (await http_client.get(modelderm_server.url + "?KEY")).text
    modelderm_server.hold()
    sending = asyncio.create_task(
        http_client.post(
            modelderm_server.url_for("a"), data={"args1": "test", "args2": ARGS2}, files=files
        )
    )
    (held,) = await modelderm_server.received(1)
    assert held.via == "a" and held.answered_at is None  # in flight
    modelderm_server.release()
    answer = await sending
    assert answer.status_code == 200 and answer.text.startswith("<error>0</error>")
    assert held.answered_at is not None and held.answered_at >= held.received_at
    plain = await http_client.post(
        modelderm_server.url, data={"args1": "test", "args2": ARGS2}, files=files
    )
    assert plain.text == answer.text and modelderm_server.requests[1].via is None
    with pytest.raises(ValueError, match="process name"):
        modelderm_server.url_for("a?b")
