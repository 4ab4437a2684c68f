"""Which reads an actor may see: the blinding rule, held once for every use case.

A reader sees their own reads; while reading for one purpose, only those of that purpose (their
own primary reads are hidden from their re-read). While reading as the primary reader they also see
the other primary reads that are signed — the trial's one primary record, which a reader who
takes over the trial continues (baseline lesions, nadir). They never see another reader's
re-reads or adjudications, nor, in a re-read, the primary reads. The adjudicator and the data
manager see every read. The arm is a separate rule (storage gives it to the data manager only).

Roles are still declared, not authenticated (see README): the rule holds for an honest role.
"""

from __future__ import annotations

from collections.abc import Iterable

from mdaread.storage import Actor, ReadRecord

SEES_EVERY_READ: frozenset[str] = frozenset({"adjudicator", "data_manager"})


def may_see(actor: Actor, read: ReadRecord, purpose: str | None = None) -> bool:
    """Whether ``actor`` may see ``read`` (its category, measurements, answers).

    ``purpose`` is what the actor is reading for now (None: browsing a list or the status)."""
    if actor.role in SEES_EVERY_READ:
        return True
    if purpose is not None and read.purpose != purpose:  # a re-read hides the primary reads
        return False
    if read.reader == actor.user:
        return True
    return purpose == "primary" and read.purpose == "primary" and read.status == "signed"


def visible_reads(actor: Actor, reads: Iterable[ReadRecord],
                  purpose: str | None = None) -> list[ReadRecord]:
    """The reads of ``reads`` that ``actor`` may see, in their order."""
    return [read for read in reads if may_see(actor, read, purpose)]
