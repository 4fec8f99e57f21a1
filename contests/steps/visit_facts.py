"""What the beacon needs to know about a visit step, kept in the web process for a few
seconds: the step's settings, whether its contest is open, and its brand's domains.

A beacon then reads nothing from the database: the signed token names the entry and the
step, and these facts answer the rest. A change (the brand's domains, the contest closed
early, the step edited) is seen within ``seconds``; what the cache could let through in
that time the worker still refuses, judging each report against the database.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime

from contests.brands import host_allowed, url_allowed
from contests.lifecycle import accepting_entries
from contests.models import Brand, Contest, Step
from contests.steps.visit import VISIT, VisitSettings
from contests.urls import host_of

# Steps remembered at once; past it the oldest half is forgotten.
MAX_STEPS = 10_000


# Answers remembered per step (a crowd reports the same page from the same origin), and
# the longest addresses remembered: memory stays small whatever is sent.
MAX_ANSWERS = 256
MAX_REMEMBERED = 600


@dataclass(frozen=True)
class VisitFacts:
    """A visit step as the beacon checks it."""

    step: Step
    contest: Contest
    settings: VisitSettings
    _answers: dict[tuple[str | None, str], str] = field(default_factory=dict, compare=False)

    def refusal(self, origin: str | None, page_url: str) -> str:
        """Why a report from ``origin`` about ``page_url`` is refused ("bad_origin",
        "bad_page", "wrong_page"), or "" when the site and page are right. Parsing the
        addresses costs more than the rest of the beacon, and a crowd sends the same few
        pairs: each answer is kept as long as these facts."""
        key = (origin, page_url)
        answer = self._answers.get(key)
        if answer is None:
            if not self.origin_allowed(host_of(origin)):
                answer = "bad_origin"
            elif not self.page_allowed(page_url):
                answer = "bad_page"
            elif not self.settings.shows(page_url):
                answer = "wrong_page"
            else:
                answer = ""
            if len(page_url) + len(origin or "") <= MAX_REMEMBERED:
                if len(self._answers) >= MAX_ANSWERS:
                    self._answers.clear()
                self._answers[key] = answer
        return answer

    @property
    def brand(self) -> Brand:
        return self.contest.brand

    def origin_allowed(self, host: str | None) -> bool:
        return host_allowed(self.brand, host)

    def page_allowed(self, page_url: str) -> bool:
        return url_allowed(self.brand, page_url)

    def accepting(self, now: datetime) -> bool:
        return accepting_entries(self.contest, now)


async def load_facts(step_public_id: str) -> VisitFacts | None:
    """The facts of a visit step, read now (None: no such visit step)."""
    step = await Step.filter(public_id=step_public_id).first()
    if step is None or step.kind != VISIT.name:
        return None
    contest = await Contest.filter(id=step.contest_id).select_related("brand").get()  # type: ignore[attr-defined]
    return VisitFacts(step=step, contest=contest, settings=VISIT.settings(step))


class VisitFactsCache:
    """Facts by step, each read at most once per ``seconds`` however many beacons ask
    (callers asking together share one read)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._facts: dict[str, tuple[float, VisitFacts | None]] = {}
        self._reading: dict[str, asyncio.Future[VisitFacts | None]] = {}

    async def get(self, step_public_id: str) -> VisitFacts | None:
        known = self._facts.get(step_public_id)
        if known is not None and known[0] > time.monotonic():
            return known[1]
        reading = self._reading.get(step_public_id)
        if reading is not None:
            return await asyncio.shield(reading)
        future: asyncio.Future[VisitFacts | None] = asyncio.get_running_loop().create_future()
        self._reading[step_public_id] = future
        try:
            facts = await load_facts(step_public_id)
        except BaseException as exc:
            future.set_exception(exc)
            # Nobody else may be waiting: retrieving it keeps the loop from complaining.
            future.exception()
            raise
        finally:
            del self._reading[step_public_id]
        if len(self._facts) >= MAX_STEPS:
            for key in list(self._facts)[: MAX_STEPS // 2]:
                del self._facts[key]
        self._facts[step_public_id] = (time.monotonic() + self._seconds, facts)
        future.set_result(facts)
        return facts

    def forget(self, step_public_id: str) -> None:
        self._facts.pop(step_public_id, None)
