"""The fake Telegram's file store: file ids, file paths for download, and photo sizes.

Telegram keeps every photo in several sizes, each with its own file_id; a bot that downloads the
largest one gets the picture as the person sent it. The fake makes the smaller sizes by really
downscaling the image, so size-dependent code paths see genuine, decodable images.
"""

from __future__ import annotations

import functools
import io
import itertools
import mimetypes
import secrets
from dataclasses import dataclass
from typing import Any

from PIL import Image

JSON = dict[str, Any]

# Telegram's smaller sizes of a photo ("s", "m" and "x", by the longer side); the largest entry is
# the picture itself. Only sizes smaller than the picture are made, as Telegram does.
PHOTO_THUMB_SIDES = (90, 320, 800)
# getFile refuses bigger files for bots on the public Bot API server.
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str

    @property
    def size(self) -> int:
        return len(self.data)


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = itertools.count(1)

    def add(self, data: bytes, folder: str, extension: str) -> StoredFile:
        number = next(self._counter)
        # Real ids are long opaque base64url strings; prefixes loosely mimic the kind of file.
        prefix = {"photos": "AgACAgIAAxkB", "documents": "BQACAgIAAxkB"}.get(folder, "CAACAgIAAxkB")
        stored = StoredFile(
            file_id=f"{prefix}{number:06d}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{number:06d}{secrets.token_urlsafe(6)}",
            data=data,
            file_path=f"{folder}/file_{number}{extension}",
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)

    def by_unique_id(self, file_unique_id: str) -> StoredFile | None:
        return next((f for f in self._by_id.values() if f.file_unique_id == file_unique_id), None)

    def describe(self, stored: StoredFile) -> JSON:
        """The common fields of every file object (PhotoSize, Document, Video, ...)."""
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }

    def photo_sizes(self, data: bytes) -> list[JSON]:
        """PhotoSize entries, smallest first; the last one serves exactly `data`."""
        width, height, thumbs = _downscaled(data, PHOTO_THUMB_SIDES)
        smaller = [(blob, w, h) for blob, w, h in thumbs if max(w, h) < max(width, height)]
        sizes: list[JSON] = []
        for blob, w, h in [*smaller, (data, width, height)]:
            stored = self.add(blob, "photos", ".jpg")
            sizes.append({**self.describe(stored), "width": w, "height": h})
        return sizes

    def thumbnail(self, data: bytes) -> JSON | None:
        """A 320-pixel JPEG thumbnail of an image, or None when `data` is not an image."""
        try:
            _, _, [(blob, w, h)] = _downscaled(data, (320,))
        except ValueError:
            return None
        stored = self.add(blob, "thumbnails", ".jpg")
        return {**self.describe(stored), "width": w, "height": h}

    def document(
        self, data: bytes, file_name: str | None, mime_type: str | None, *, thumbnail: bool
    ) -> JSON:
        mime = mime_type or (mimetypes.guess_type(file_name or "")[0]) or "application/octet-stream"
        extension = mimetypes.guess_extension(mime) or ""
        stored = self.add(data, "documents", extension)
        document: JSON = {**self.describe(stored), "mime_type": mime}
        if file_name:
            document["file_name"] = file_name
        if thumbnail:
            thumb = self.thumbnail(data)
            if thumb is not None:
                document["thumbnail"] = thumb
        return document


def image_size(data: bytes) -> tuple[int, int]:
    width, height, _ = _downscaled(data, ())
    return width, height


# The load benchmark uploads the same few photos hundreds of times; downscaling each again on the
# fake's event loop (tens of milliseconds) made the fake, not the bot, the slow side.
@functools.lru_cache(maxsize=32)
def _downscaled(
    data: bytes, sides: tuple[int, ...]
) -> tuple[int, int, tuple[tuple[bytes, int, int], ...]]:
    """The image's size and JPEG copies whose longer side is at most each of `sides`."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            copies: list[tuple[bytes, int, int]] = []
            for side in sides:
                scale = min(1.0, side / max(width, height))
                size = (max(1, round(width * scale)), max(1, round(height * scale)))
                small = image.convert("RGB").resize(size, Image.Resampling.LANCZOS)
                buffer = io.BytesIO()
                small.save(buffer, format="JPEG", quality=87)  # about what Telegram uses
                copies.append((buffer.getvalue(), size[0], size[1]))
    except (OSError, ValueError) as error:
        raise ValueError(f"not an image Telegram would accept as a photo: {error}") from error
    return width, height, tuple(copies)
