"""Give the memory of freed photos back to the system, instead of keeping it for ever.

Pillow allocates a decoded image in blocks of 16 MB. glibc's malloc serves blocks that large
with their own memory mapping, returned to the system when freed, but only until the first such
block is freed: from then on it raises its mapping threshold to that size ("dynamic mmap
threshold", mallopt(3)) and serves later blocks from its heaps, one per thread, which keep freed
memory for reuse. A burst of huge photos then leaves the process hundreds of megabytes bigger
for as long as it runs, though nothing uses them (tests/perf/bench_memory.py reports what stays
as held_after_mb; docs/photos.md has its numbers). Setting the threshold explicitly turns
the dynamic raise off (documented in mallopt(3)): every allocation of at least MMAP_THRESHOLD
bytes, Pillow's blocks among them, is mapped on its own and unmapped when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

# mallopt(3) parameter number, from glibc's <malloc.h>.
M_MMAP_THRESHOLD = -3
# Large enough that everyday allocations (Python objects, small photos' bytes) stay in the
# heaps, small enough that every image block Pillow allocates is mapped on its own.
MMAP_THRESHOLD = 1024 * 1024


def return_freed_memory() -> bool:
    """Fix glibc's mmap threshold; True if it was set (False elsewhere: musl, macOS, ...).

    Call once at start-up, before the photo threads exist.
    """
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    if not done:
        log.info("could not set malloc's mmap threshold; freed photo memory may stay mapped")
    return done
