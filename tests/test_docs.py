"""The README and docs/ as a newcomer follows them: every link leads somewhere, every page is
reachable from the README, every file they name exists, and the test command is the CI's."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
DOCUMENTS = [README, *PAGES]

FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
# A repository path as the docs write one in backquotes: bot/..., tests/..., and so on.
REPO_PATH = re.compile(r"^(?:bot|tests|migrations|docs|\.ci)(?:/[\w.\-]+)*/?$")
EXTERNAL = ("http://", "https://", "mailto:", "tg://")


def prose(markdown: str) -> str:
    """The text outside fenced code blocks and code spans, where links are links."""
    return CODE_SPAN.sub("", FENCE.sub("", markdown))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = CODE_SPAN.sub(r"\2", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text).strip().lower()
    kept = "".join(
        c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN" or c.isdigit()
    )
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path) -> list[str]:
    return LINK.findall(prose(path.read_text(encoding="utf-8")))


def test_the_slug_is_githubs() -> None:
    assert slug("Consent and erasure reach the group") == "consent-and-erasure-reach-the-group"
    assert slug("Text from the API, and Telegram's limits") == (
        "text-from-the-api-and-telegrams-limits"
    )
    assert slug("`diagnose` and `status`") == "diagnose-and-status"
    assert slug("Languages (한국어)") == "languages-한국어"


def test_the_link_pattern_finds_links_and_skips_code() -> None:
    markdown = "See [Photos](docs/photos.md#memory), `[not](a-link.md)`, ![img](x.png).\n"
    assert LINK.findall(prose(markdown)) == ["docs/photos.md#memory"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(document: Path) -> None:
    broken = []
    for target in links(document):
        if target.startswith(EXTERNAL):
            continue
        file_part, _, anchor = target.partition("#")
        destination = (document.parent / file_part).resolve() if file_part else document
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading with anchor #{anchor}")
    assert not broken, f"{document.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_repository_path_named_in_backquotes_exists(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    named = {span.strip() for _, span in CODE_SPAN.findall(FENCE.sub("", text))}
    missing = sorted(p for p in named if REPO_PATH.match(p) and not (ROOT / p).exists())
    assert not missing, f"{document.relative_to(ROOT)} names files that do not exist: {missing}"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {
        (ROOT / t.partition("#")[0]).resolve() for t in links(README) if not t.startswith("#")
    }
    unlinked = [p.name for p in PAGES if p.resolve() not in linked]
    assert PAGES, "docs/ has no pages"
    assert not unlinked, f"docs pages the README does not link to: {unlinked}"


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    blocks = re.findall(r"^```sh\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)
    commands = [line for block in blocks for line in block.splitlines() if "pytest" in line]
    assert len(commands) == 1, commands
    assert commands[0] in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
