"""Photo intake: turn what a person sent into the image the Model Dermatology API gets.

`prepare()` does the CPU work synchronously; `PhotoPreparer` runs it on a bounded worker pool so
the event loop keeps answering other people. Importing this package has no side effects (HEIF
support is registered with Pillow on the first HEIF photo).
"""

from bot.imaging.budget import DecodeBudget, DownloadBudget
from bot.imaging.errors import PhotoRejected, RejectionReason
from bot.imaging.formats import ImageFormat
from bot.imaging.pipeline import (
    DEFAULT_FORMAT,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PIXELS,
    DEFAULT_QUALITY,
    DEFAULT_SIDE,
    PhotoFormat,
    PreparedPhoto,
    prepare,
)
from bot.imaging.preparer import PhotoPreparer
from bot.imaging.quality import (
    DEFAULT_THRESHOLDS,
    QualityIssue,
    QualityReport,
    QualityThresholds,
)

__all__ = [
    "DEFAULT_FORMAT",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DEFAULT_QUALITY",
    "DEFAULT_SIDE",
    "DEFAULT_THRESHOLDS",
    "DecodeBudget",
    "DownloadBudget",
    "ImageFormat",
    "PhotoFormat",
    "PhotoPreparer",
    "PhotoRejected",
    "PreparedPhoto",
    "QualityIssue",
    "QualityReport",
    "QualityThresholds",
    "RejectionReason",
    "prepare",
]
