"""Prepared photos held in memory until sent: per person, bounded in bytes and in time."""

from __future__ import annotations

import pytest

from bot.imaging import held as held_module
from bot.imaging.held import HeldPhotos
from bot.imaging.pipeline import PreparedPhoto, prepare
from tests.images import jpeg_bytes, make_skin_photo


@pytest.fixture(scope="module")
def prepared() -> PreparedPhoto:
    return prepare(jpeg_bytes(make_skin_photo(640, 480, seed=3)))


def test_a_photo_is_taken_once_and_only_by_the_person_who_sent_it(prepared: PreparedPhoto) -> None:
    photos = HeldPhotos()
    photos.hold(1, "u1", prepared)
    assert photos.take(2, "u1") is None
    assert photos.take(1, "u1") is prepared
    assert photos.take(1, "u1") is None
    assert (len(photos), photos.bytes) == (0, 0)


def test_forgetting_a_person_drops_all_their_photos_and_nobody_elses(
    prepared: PreparedPhoto,
) -> None:
    photos = HeldPhotos()
    for owner, unique_id in ((1, "a"), (1, "b"), (2, "c")):
        photos.hold(owner, unique_id, prepared)
    photos.forget(1)
    assert (len(photos), photos.bytes) == (1, len(prepared.data))
    assert photos.take(2, "c") is prepared


def test_the_oldest_photos_go_first_beyond_the_byte_budget(prepared: PreparedPhoto) -> None:
    photos = HeldPhotos(max_bytes=2 * len(prepared.data))
    for unique_id in "abc":
        photos.hold(1, unique_id, prepared)
    assert photos.bytes <= photos.max_bytes
    assert photos.take(1, "a") is None
    assert photos.take(1, "c") is prepared


def test_a_photo_held_longer_than_the_ttl_is_dropped(
    prepared: PreparedPhoto, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(held_module.time, "monotonic", lambda: now[0])
    photos = HeldPhotos(ttl_s=60)
    photos.hold(1, "old", prepared)
    now[0] += 30
    photos.hold(1, "new", prepared)
    now[0] += 31
    assert photos.take(1, "old") is None
    assert photos.take(1, "new") is prepared
    assert photos.bytes == 0
