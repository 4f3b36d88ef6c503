"""The result card: a PNG summary of a case's result, sent alongside the text result."""

from bot.card.fonts import missing_glyphs
from bot.card.layout import CardAdvice, CardLayout, CardRow, layout_card, percent_label
from bot.card.render import render_card, render_card_async

__all__ = [
    "CardAdvice",
    "CardLayout",
    "CardRow",
    "layout_card",
    "missing_glyphs",
    "percent_label",
    "render_card",
    "render_card_async",
]
