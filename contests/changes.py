"""A count of the changes to what public pages show, made in this process.

Pages that every signed-out visitor sees alike are kept for a few seconds (see
web/page_cache.py). A change made in this process (anything the audit log
records: a marketer's edit, a publication, a close, a draw; a scheduled contest going
live) raises the count, so the pages kept here are rendered anew at the next request.
Other processes learn nothing from it: their copies expire on their own, within the
seconds they are kept for.
"""

from __future__ import annotations

_count = 0


def changed() -> None:
    """Something public pages may show has changed (or is about to, on commit)."""
    global _count
    _count += 1


def generation() -> int:
    """How many changes this process has made so far."""
    return _count
