"""The card's colours, and their contrast as WCAG 2 measures it.

One colour per tier, in the order of the urgency scale: crimson, orange, amber for the three
"see a doctor" tiers from the most urgent, then blue and green for the two that watch first.
Each tier's band carries its own ink (white on the dark colours, near-black on orange and
amber): amber or orange text on white would be unreadable (under 3:1), and the band keeps every
text on it at least TEXT_CONTRAST against its background. The colours are not the only
sign: each tier's icon has its own shape, and the tier is written out.
"""

from __future__ import annotations

from bot.card.layout import RGB, Ink, Surface, Tier

# WCAG 2.x, success criteria 1.4.3 (text) and 1.4.11 (icons and other graphics).
TEXT_CONTRAST = 4.5
GRAPHIC_CONTRAST = 3.0

BACKGROUND: RGB = (255, 255, 255)
DARK: RGB = (26, 26, 26)
WHITE: RGB = (255, 255, 255)

TIER_COLOUR: dict[Tier, RGB] = {
    Tier.URGENT_CARE: (150, 16, 32),
    Tier.WITHIN_DAYS: (235, 110, 15),
    Tier.WITHIN_2_WEEKS: (245, 185, 0),
    Tier.IF_NO_IMPROVEMENT: (0, 94, 168),
    Tier.SELF_CARE: (0, 122, 80),
}
# The texts and the icon on the tier's band.
TIER_INK: dict[Tier, RGB] = {
    Tier.URGENT_CARE: WHITE,
    Tier.WITHIN_DAYS: DARK,
    Tier.WITHIN_2_WEEKS: DARK,
    Tier.IF_NO_IMPROVEMENT: WHITE,
    Tier.SELF_CARE: WHITE,
}
INK: dict[Ink, RGB] = {Ink.TEXT: DARK, Ink.MUTED: (84, 84, 84)}
# Neutral slate, so the score bars do not read as a tier.
BAR_FILL: RGB = (64, 80, 96)
BAR_TRACK: RGB = (226, 230, 235)
RULE: RGB = (214, 218, 224)


def ink(which: Ink, tier: Tier) -> RGB:
    return TIER_INK[tier] if which is Ink.ON_TIER else INK[which]


def surface(which: Surface, tier: Tier) -> RGB:
    return TIER_COLOUR[tier] if which is Surface.TIER else BACKGROUND


def _linear(channel: int) -> float:
    value = channel / 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: RGB) -> float:
    r, g, b = (_linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """From 1 (the same) to 21 (black on white)."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
