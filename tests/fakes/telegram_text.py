"""Telegram's text formatting, as the Bot API applies it to the text a bot or a person sends.

The real server turns `parse_mode` markup into plain text plus MessageEntity objects (offsets in
UTF-16 code units) and refuses markup it cannot parse with a 400 "can't parse entities" error; it
also detects commands, links, mentions and hashtags by itself. The fake does the same so that a
bot's formatting mistakes fail in tests the way they would fail in production.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

JSON = dict[str, Any]


class EntityParseError(ValueError):
    """The markup cannot be parsed; the message is Telegram's description after the prefix."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


class _HtmlToEntities(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source_bytes = source.encode()
        self._source = source
        self.parts: list[str] = []
        self.length = 0
        self.entities: list[JSON] = []
        self._open: list[tuple[str, JSON]] = []

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        lines = self._source.split("\n")
        chars = sum(len(x) + 1 for x in lines[: line - 1]) + col
        return len(self._source[:chars].encode())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        entity: JSON
        if tag in _HTML_SIMPLE:
            entity = {"type": _HTML_SIMPLE[tag]}
        elif tag == "span" and attributes.get("class") == "tg-spoiler":
            entity = {"type": "spoiler"}
        elif tag == "a":
            href = attributes.get("href") or ""
            entity = {"type": "text_link", "url": href}
        elif tag == "blockquote":
            kind = "expandable_blockquote" if "expandable" in attributes else "blockquote"
            entity = {"type": kind}
        elif tag == "tg-emoji":
            entity = {"type": "custom_emoji", "custom_emoji_id": attributes.get("emoji-id") or ""}
        else:
            raise EntityParseError(
                f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}'
            )
        # <pre><code class="language-x"> is one pre entity with a language, as in Telegram.
        if tag == "code" and self._open and self._open[-1][0] == "pre":
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self._open[-1][1]["language"] = language
            self._open.append((tag, {"type": "_merged"}))
            return
        entity["offset"] = self.length
        self._open.append((tag, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1][0] != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {self._byte_offset()}, expected "</'
                f'{self._open[-1][0] if self._open else ""}>", found "</{tag}>"'
            )
        _, entity = self._open.pop()
        if entity["type"] == "_merged":
            return
        entity["length"] = self.length - entity["offset"]
        if entity["length"] > 0:
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += utf16_len(data)

    def finish(self) -> tuple[str, list[JSON]]:
        self.close()
        if self._open:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self._open[-1][0]}"'
            )
        return "".join(self.parts), self.entities


def parse_html(text: str) -> tuple[str, list[JSON]]:
    parser = _HtmlToEntities(text)
    parser.feed(text)
    return parser.finish()


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_MARKERS = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}
_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
}


def parse_markdown(text: str, *, v2: bool) -> tuple[str, list[JSON]]:
    """MarkdownV2 (strict escaping) or the legacy Markdown mode."""
    out: list[str] = []
    length = 0
    entities: list[JSON] = []
    open_: list[tuple[str, int, int]] = []  # marker, utf16 offset, byte offset of the marker
    i = 0

    def byte_at(index: int) -> int:
        return len(text[:index].encode())

    def emit(chunk: str) -> None:
        nonlocal length
        out.append(chunk)
        length += utf16_len(chunk)

    while i < len(text):
        char = text[i]
        if char == "\\" and v2:
            if i + 1 < len(text) and ord(text[i + 1]) <= 126:
                emit(text[i + 1])
                i += 2
                continue
            raise EntityParseError("Character '\\' is reserved and must be escaped with '\\'")
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                kind = "Pre" if fence == "```" else "Code"
                raise EntityParseError(
                    f"Can't find end of {kind} entity at byte offset {byte_at(i)}"
                )
            body = text[i + len(fence) : end]
            language = ""
            if fence == "```" and "\n" in body:
                first, rest = body.split("\n", 1)
                if first and " " not in first:
                    language, body = first, rest
            if v2:
                body = re.sub(r"\\([`\\])", r"\1", body)
            entity: JSON = {"type": "pre" if fence == "```" else "code", "offset": length}
            emit(body)
            entity["length"] = length - entity["offset"]
            if language:
                entity["language"] = language
            if entity["length"]:
                entities.append(entity)
            i = end + len(fence)
            continue
        if char == "[":
            open_.append(("[", length, byte_at(i)))
            i += 1
            continue
        if char == "]" and any(m == "[" for m, _, _ in open_):
            marker, start, _ = open_.pop()
            if marker != "[" or not text.startswith("(", i + 1):
                raise EntityParseError(f"Can't find end of TextUrl entity at byte offset {i}")
            end = text.find(")", i + 2)
            while v2 and end > 0 and text[end - 1] == "\\":
                end = text.find(")", end + 1)
            if end < 0:
                raise EntityParseError(f"Can't find end of a URL at byte offset {byte_at(i)}")
            url = text[i + 2 : end]
            if v2:
                url = re.sub(r"\\(.)", r"\1", url)
            if length > start:
                entities.append(
                    {"type": "text_link", "offset": start, "length": length - start, "url": url}
                )
            i = end + 1
            continue
        marker = ""
        if v2:
            for candidate in ("__", "||", "*", "_", "~"):
                if text.startswith(candidate, i):
                    marker = candidate
                    break
        elif char in "*_":
            marker = char
        if marker:
            if open_ and open_[-1][0] == marker:
                _, start, _ = open_.pop()
                kind = _MDV2_MARKERS[marker]
                if length > start:
                    entities.append({"type": kind, "offset": start, "length": length - start})
            else:
                open_.append((marker, length, byte_at(i)))
            i += len(marker)
            continue
        if v2 and char in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(char)
        i += 1
    if open_:
        marker, _, at = open_[-1]
        kind = "text_link" if marker == "[" else _MDV2_MARKERS[marker]
        raise EntityParseError(
            f"Can't find end of {_ENTITY_NAMES[kind]} entity at byte offset {at}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def parse_formatted(text: str, parse_mode: str | None) -> tuple[str, list[JSON]]:
    """Plain text and its explicit entities; raises EntityParseError like Telegram does."""
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return parse_html(text)
    if mode in ("markdown", "markdownv2"):
        return parse_markdown(text, v2=mode == "markdownv2")
    raise ValueError("unsupported parse_mode")


_AUTO_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]]")),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}\b")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)


def detect_entities(text: str, explicit: list[JSON]) -> list[JSON]:
    """Explicit entities plus the ones Telegram finds on its own, sorted by offset."""
    taken: list[tuple[int, int]] = [(e["offset"], e["offset"] + e["length"]) for e in explicit]
    found: list[JSON] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(match.group())
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return sorted([*explicit, *found], key=lambda e: (e["offset"], -e["length"]))
