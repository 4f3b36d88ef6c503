"""`diagnose` and `status` as a person runs them: a real subprocess against fake servers."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.modelderm_server import Behaviour, FakeModelDerm
from tests.images import blurred, encode, jpeg_bytes, make_skin_photo, png_bytes

ROOT = Path(__file__).resolve().parents[1]
# Real photos in the three formats, one of them a 12 MP phone-sized JPEG with GPS EXIF.
PHONE = make_skin_photo(1600, 1200, seed=1)
JPEG = jpeg_bytes(make_skin_photo(4032, 3024, seed=2), exif_orientation=6, gps=True)
PNG = png_bytes(PHONE)
WEBP = encode(make_skin_photo(900, 700, seed=3), "WEBP")


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("TELEGRAM_", "MODELDERM_"))
    }
    clean.pop("LOG_LEVEL", None)
    clean["PYTHONPATH"] = str(ROOT)
    # Fast retries, so that failure paths take well under a second.
    clean.update({"MODELDERM_BACKOFF_BASE_S": "0.01", "MODELDERM_BACKOFF_MAX_S": "0.05"})
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api"


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    paths = []
    # Names that lie about the format: the type comes from the bytes.
    for name, data in (("mole.jpg", JPEG), ("close-up.dat", PNG), ("side view.webp", WEBP)):
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def test_diagnose_prints_ranked_conditions_and_the_disclaimer_when_first_server_is_down(
    threaded_modelderm_server: FakeModelDerm, photos: list[Path], tmp_path: Path
) -> None:
    urls = f"{closed_port_url()},{threaded_modelderm_server.url}"
    result = run_cli(
        "diagnose",
        *map(str, photos),
        "--birth-year=1970",
        "--sex=female",
        "--skin-type=2",
        "--location=left forearm",
        "--itch=mild",
        "--pain=x",
        "--onset=month",
        cwd=tmp_path,
        env={"MODELDERM_API_URLS": urls},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = out.splitlines()
    assert lines[1].split() == ["1.", "Insect", "bite", "27.3%"]
    assert lines[2].split() == ["2.", "Melanocytic", "nevus", "24.6%"]
    assert lines[10].split() == ["10.", "Nonspecific", "(normal)", "1.6%"]
    # Percentages line up in one column.
    assert len({line.index("%") for line in lines[1:11]}) == 1
    assert "Malignancy output: 4" in out
    assert "Photos analysed:   3" in out
    assert "Metadata used:     yes" in out
    assert f"127.0.0.1:{threaded_modelderm_server.port}" in out
    assert "attempt 2" in out
    assert "not certified by the FDA or CE" in out
    assert "doctor" in out
    (request,) = threaded_modelderm_server.requests
    # Sent as the bot sends photos: prepared squares, small, without any metadata.
    assert [f.content_type for f in request.files] == ["image/webp"] * 3
    for sent in request.files:
        assert len(sent.data) < 100_000
        with Image.open(io.BytesIO(sent.data)) as image:
            assert image.size == (512, 512)
            assert not image.getexif()
    assert request.metadata == {
        "id": "",
        "race": "2",
        "birth": "1970",
        "sex": "f",
        "location": "left forearm",
        "pruritus": "o",
        "pain": "x",
        "onset": "w",
    }
    assert request.args1 == "test"


def test_diagnose_without_malignancy_output_says_not_given(
    threaded_modelderm_server: FakeModelDerm, photos: list[Path], tmp_path: Path
) -> None:
    threaded_modelderm_server.malignancy_output = None
    result = run_cli(
        "diagnose",
        str(photos[0]),
        cwd=tmp_path,
        env={"MODELDERM_API_URLS": threaded_modelderm_server.url},
    )
    assert result.returncode == 0, result.stderr
    assert "Malignancy output: not given" in result.stdout
    assert "Metadata used:     no" in result.stdout


def test_diagnose_json_prints_the_typed_result_and_the_disclaimer(
    threaded_modelderm_server: FakeModelDerm, photos: list[Path], tmp_path: Path
) -> None:
    result = run_cli(
        "diagnose",
        str(photos[0]),
        "--json",
        "--case-id=field-7",
        cwd=tmp_path,
        env={"MODELDERM_API_URLS": threaded_modelderm_server.url},
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["conditions"][0] == {"name": "Insect bite", "probability": 0.2728}
    assert len(data["conditions"]) == 10
    assert data["malignancy_output"] == 4
    assert data["photos_analysed"] == 1
    assert data["server"] == threaded_modelderm_server.url
    assert data["attempts"] == 1
    assert "not certified by the FDA or CE" in data["disclaimer"]
    assert set(data) == {
        "conditions",
        "malignancy_output",
        "meta_used",
        "photos_analysed",
        "echoed_metadata",
        "server",
        "latency_s",
        "attempts",
        "disclaimer",
    }
    assert threaded_modelderm_server.requests[0].metadata["id"] == "field-7"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["6"], "at most 5"),
        (["missing"], "cannot read"),
        (["text"], "is not a photo"),
        (["--skin-type=9"], "invalid choice"),
        (["--itch=terrible"], "invalid choice"),
        (["--birth-year=1850"], "year of birth"),
    ],
)
def test_diagnose_usage_errors_exit_2_without_any_request(
    extra: list[str],
    message: str,
    threaded_modelderm_server: FakeModelDerm,
    photos: list[Path],
    tmp_path: Path,
) -> None:
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("not an image")
    images = [str(photos[0])]
    if extra == ["6"]:
        images = [str(photos[0])] * 6
        extra = []
    elif extra == ["missing"]:
        images.append(str(tmp_path / "nope.jpg"))
        extra = []
    elif extra == ["text"]:
        images.append(str(text_file))
        extra = []
    result = run_cli(
        "diagnose",
        *images,
        *extra,
        cwd=tmp_path,
        env={"MODELDERM_API_URLS": threaded_modelderm_server.url},
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert threaded_modelderm_server.requests == []


def test_diagnose_api_failure_exits_1_with_one_line_per_server_story(
    threaded_modelderm_server: FakeModelDerm, photos: list[Path], tmp_path: Path
) -> None:
    threaded_modelderm_server.behaviour = Behaviour.proxy_error()
    dead = closed_port_url()
    result = run_cli(
        "diagnose",
        str(photos[0]),
        cwd=tmp_path,
        env={
            "MODELDERM_API_URLS": f"{dead},{threaded_modelderm_server.url}",
            "MODELDERM_MAX_ATTEMPTS": "2",
        },
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "connection refused" in lines[0]
    assert "HTTP 502 (502 Proxy Error)" in lines[0]
    assert result.stdout == ""


def test_status_lists_every_server_and_exits_0_when_one_is_up(
    threaded_modelderm_server: FakeModelDerm, tmp_path: Path
) -> None:
    threaded_modelderm_server.current_users = 5
    threaded_modelderm_server.status_message = "Server maintenance at 18:00"
    dead = closed_port_url()
    result = run_cli(
        "status",
        cwd=tmp_path,
        env={"MODELDERM_API_URLS": f"{threaded_modelderm_server.url},{dead}"},
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert first.startswith(f"{threaded_modelderm_server.url}  up  5 current users")
    assert "Server maintenance at 18:00" in first
    assert re.search(r"  \d+ ms  ", first)
    assert second == f"{dead}  down  connection refused"


def test_status_exits_1_when_all_servers_are_down(
    threaded_modelderm_server: FakeModelDerm, tmp_path: Path
) -> None:
    threaded_modelderm_server.set_down()
    result = run_cli(
        "status", cwd=tmp_path, env={"MODELDERM_API_URLS": threaded_modelderm_server.url}
    )
    assert result.returncode == 1
    assert result.stdout.strip() == (
        f"{threaded_modelderm_server.url}  down  HTTP 502 (502 Proxy Error)"
    )


def test_diagnose_notes_a_blurred_photo_but_still_sends_it(
    threaded_modelderm_server: FakeModelDerm, tmp_path: Path
) -> None:
    path = tmp_path / "shaky.jpg"
    path.write_bytes(jpeg_bytes(blurred(make_skin_photo(1200, 900, seed=4), 6)))
    result = run_cli(
        "diagnose",
        str(path),
        cwd=tmp_path,
        env={"MODELDERM_API_URLS": threaded_modelderm_server.url},
    )
    assert result.returncode == 0, result.stderr
    assert "shaky.jpg looks blurry" in result.stderr
    assert len(threaded_modelderm_server.requests) == 1
