"""Prepared photos held in memory until sent: under their case's key, bounded in bytes and time."""

from __future__ import annotations

import uuid

import pytest

from bot.imaging import held as held_module
from bot.imaging.held import HeldPhotos
from bot.imaging.pipeline import PreparedPhoto, prepare
from tests.images import jpeg_bytes, make_skin_photo

CASE, OTHER_CASE = uuid.uuid4(), uuid.uuid4()


@pytest.fixture(scope="module")
def prepared() -> PreparedPhoto:
    return prepare(jpeg_bytes(make_skin_photo(640, 480, seed=3)))


def test_a_photo_is_taken_once_and_only_for_its_own_case(prepared: PreparedPhoto) -> None:
    photos = HeldPhotos()
    photos.hold((CASE, "u1"), prepared, sender=1)
    # The same file sent again for another check is another photo of the database.
    assert photos.take((OTHER_CASE, "u1")) is None
    assert photos.take((CASE, "u1")) is prepared
    assert photos.take((CASE, "u1")) is None
    assert (len(photos), photos.bytes) == (0, 0)


def test_forgetting_a_case_keeps_the_same_persons_other_case(prepared: PreparedPhoto) -> None:
    # Cancelling a new check drops its photos only, not those of the same person's other case.
    photos = HeldPhotos()
    photos.hold((CASE, "a"), prepared, sender=1)
    photos.hold((OTHER_CASE, "b"), prepared, sender=1)
    photos.forget_case(CASE)
    assert photos.take((CASE, "a")) is None
    assert photos.take((OTHER_CASE, "b")) is prepared


def test_forgetting_a_sender_drops_all_their_photos_and_nobody_elses(
    prepared: PreparedPhoto,
) -> None:
    photos = HeldPhotos()
    for case, unique_id, sender in ((CASE, "a", 1), (OTHER_CASE, "b", 1), (uuid.uuid4(), "c", 2)):
        photos.hold((case, unique_id), prepared, sender=sender)
    photos.forget_sender(1)
    assert (len(photos), photos.bytes) == (1, len(prepared.data))


def test_the_oldest_photos_go_first_beyond_the_byte_budget(prepared: PreparedPhoto) -> None:
    photos = HeldPhotos(max_bytes=2 * len(prepared.data))
    for unique_id in "abc":
        photos.hold((CASE, unique_id), prepared, sender=1)
    assert photos.bytes <= photos.max_bytes
    assert photos.take((CASE, "a")) is None
    assert photos.take((CASE, "c")) is prepared


def test_a_photo_held_longer_than_the_ttl_is_dropped(
    prepared: PreparedPhoto, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    monkeypatch.setattr(held_module.time, "monotonic", lambda: now[0])
    photos = HeldPhotos(ttl_s=60)
    photos.hold((CASE, "old"), prepared, sender=1)
    now[0] += 30
    photos.hold((CASE, "new"), prepared, sender=1)
    now[0] += 31
    assert photos.take((CASE, "old")) is None
    assert photos.take((CASE, "new")) is prepared
    assert photos.bytes == 0
