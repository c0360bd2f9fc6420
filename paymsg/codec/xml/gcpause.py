"""The cyclic collector paused while a large tree of bound objects is built.

Used by every binder (:mod:`paymsg.codec.xml.binding`, the fast decoders, the JSON reader
and the streamers); it imports nothing from paymsg, so any of them can use it.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# CPython's cyclic collector runs a young collection every 700 new container objects and,
# now and then, a full one over the whole heap. Binding a large document makes hundreds of
# thousands of objects, so those collections made bind time grow faster than the document
# (decoding a 10,000-entry camt.053: 650 ms with 496/45/4 collections of the three
# generations, 387 ms with the collector off; 36 ms either way for 1,000 entries). A bind
# creates no reference cycles: the bound objects form a tree (dataclasses, lists, strings,
# decimals, shared enum members and dates), and tests/codec/test_engines.py checks that
# neither engine leaves garbage only the collector could free. So automatic collection is
# paused while a bind runs; the objects are still scanned later, in time linear in their
# number.
#
# The pause belongs to the application as little as possible:
# - it never calls gc.disable() or gc.enable(): it sets the young generation's threshold
#   to 0 (which stops automatic collection) and puts the thresholds back after, so an
#   application that disables or enables the collector meanwhile (from another thread)
#   keeps its choice, and one that sets other thresholds meanwhile keeps those;
# - pauses from several threads are counted: the first one saves the thresholds, the last
#   one to end restores them;
# - a long bind does not keep collection off for its whole length: the decoders call
#   breathe() after every GC_CHUNK items of a repeated element, which runs one young
#   collection (unless the application has disabled the collector), so cyclic garbage
#   that other threads make meanwhile is still reclaimed. The older generations resume
#   their normal schedule when the pause ends.
_GC_LOCK = threading.Lock()
_gc_pauses = 0
_gc_saved: tuple[int, int, int] | None = None
_gc_paused: tuple[int, int, int] | None = None
#: repeated elements decoded between two young collections during a pause (a power of 2)
GC_CHUNK = 1024


@contextmanager
def paused_gc() -> Iterator[None]:
    """Automatic cyclic collection paused while the block runs (for work that builds a
    large tree of objects and no cycles), the application's settings kept (see above),
    also on error."""
    global _gc_pauses, _gc_saved, _gc_paused
    with _GC_LOCK:
        if _gc_pauses == 0:
            saved = gc.get_threshold()
            _gc_saved = (saved[0], saved[1], saved[2])
            _gc_paused = (0, saved[1], saved[2])
            gc.set_threshold(*_gc_paused)
        _gc_pauses += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _gc_pauses -= 1
            if _gc_pauses == 0:
                assert _gc_saved is not None
                if gc.get_threshold() == _gc_paused:  # else the application set its own
                    gc.set_threshold(*_gc_saved)
                _gc_saved = _gc_paused = None


def breathe() -> None:
    """One young collection, during a long pause (the decoders call it every
    :data:`GC_CHUNK` items of a repeated element); nothing if the application has
    disabled the collector."""
    if _gc_pauses and gc.isenabled():
        gc.collect(0)
