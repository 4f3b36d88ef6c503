"""A Babel extraction method for the message catalog in bot/i18n/texts.py.

`pybabel extract` finds translatable strings in calls like `_("...")`; the bot's English texts
are dict entries instead (message id -> text), so this method reads those dicts from the source
with `ast` (nothing is imported or run) and hands them to Babel as `pgettext(id, text)` and
`npgettext(id, singular, plural)`: the message id becomes the msgctxt. Wired in by
bot/locale/babel.cfg; see docs/languages.md for the commands.
"""

from __future__ import annotations

import ast
import string
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

CATALOG_NAMES = ("MESSAGES", "PLURALS")

Extracted = tuple[int, str, tuple[str, ...], list[str]]


def placeholders(text: str) -> frozenset[str]:
    """The names of the `{placeholders}` in a message."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def _comment(texts: tuple[str, ...]) -> list[str]:
    names = sorted(set().union(*(placeholders(t) for t in texts)))
    note = "Telegram HTML: keep the tags."
    if names:
        note += " Keep " + ", ".join("{" + n + "}" for n in names) + " unchanged."
    return [note]


def extract_messages(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[Extracted]:
    """Yield every entry of MESSAGES and PLURALS in the form Babel's `extract` expects."""
    del keywords, comment_tags, options
    tree = ast.parse(fileobj.read())
    for node in tree.body:
        if not (isinstance(node, ast.AnnAssign | ast.Assign) and node.value is not None):
            continue
        targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
        names = {t.id for t in targets if isinstance(t, ast.Name)}
        if not names & set(CATALOG_NAMES) or not isinstance(node.value, ast.Dict):
            continue
        for key_node, value_node in zip(node.value.keys, node.value.values, strict=True):
            assert key_node is not None, "no ** in a message catalog"
            key = ast.literal_eval(key_node)
            value = ast.literal_eval(value_node)
            if isinstance(value, str):
                yield key_node.lineno, "pgettext", (key, value), _comment((value,))
            else:
                singular, plural = value
                yield key_node.lineno, "npgettext", (key, singular, plural), _comment(value)
