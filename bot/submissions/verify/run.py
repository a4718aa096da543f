"""Verifying accepted entries: fetch their pages, assess them, record what was found."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from loguru import logger

from bot.settings.contest import Contest
from bot.submissions.book import EntryBook, EntryView
from bot.submissions.verify.assess import PageFacts, assess
from bot.submissions.verify.fetch import Verifier


async def verify_entries(
    book: EntryBook,
    verifier: Verifier,
    contest: Contest,
    receipts: Sequence[int],
    clock: Callable[[], datetime],
) -> list[EntryView]:
    """Verify the entries with these receipts; return those that now carry a flag."""
    entries = [entry for receipt in receipts if (entry := await book.get(receipt)) is not None]
    facts = await verifier.fetch_many(entry.url for entry in entries)
    flagged: list[EntryView] = []
    for entry in entries:
        found = facts[entry.url]
        flags = assess(found, kind=entry.kind, contest=contest)
        view = await book.record_verification(
            entry.receipt,
            status=found.status,
            title=found.title,
            text_length=found.text_length,
            published_on=found.published,
            flags=flags,
            now=clock(),
            fingerprint=found.fingerprint,
            snapshot=snapshot_of(found),
        )
        if view.flags:
            flagged.append(view)
    return flagged


def snapshot_of(facts: PageFacts) -> dict[str, object]:
    """What a later re-check compares against: the title, the first characters, the images."""
    return {"title": facts.title, "excerpt": facts.excerpt, "images": list(facts.images)}


async def verify_pending(
    book: EntryBook,
    verifier: Verifier,
    contest: Contest,
    clock: Callable[[], datetime],
    batch: int = 100,
) -> int:
    """Verify entries accepted but never verified (the bot stopped first); returns how many."""
    done = 0
    while pending := await book.pending_verification(limit=batch):
        await verify_entries(book, verifier, contest, [e.receipt for e in pending], clock)
        done += len(pending)
        if len(pending) < batch:
            break
    if done:
        logger.info(f"verified {done} entries left pending by an earlier run")
    return done
