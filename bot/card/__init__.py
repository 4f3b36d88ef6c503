"""The result card: a PNG summary of a case's result, sent after the text result."""

from bot.card.fonts import missing_glyphs
from bot.card.layout import CardLayout, CardRow, CardText, layout_card, percent_label
from bot.card.render import render_card, render_card_async

__all__ = [
    "CardLayout",
    "CardRow",
    "CardText",
    "layout_card",
    "missing_glyphs",
    "percent_label",
    "render_card",
    "render_card_async",
]
