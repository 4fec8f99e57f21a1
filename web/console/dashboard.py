"""The contest's dashboard: entrants over time, the step funnel, sources and referrals,
and the flags, as server-drawn charts with the same numbers in tables."""

from __future__ import annotations

from babel.dates import format_date
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contests import dashboard, signals
from contests.clock import utcnow
from contests.errors import N_
from contests.i18n import translate
from contests.models import ReferralStatus
from web.console.access import VIEWER, contest_for, role_for
from web.console.charts import bar_chart
from web.rendering import page
from web.session import request_locale

REFERRAL_LABELS = {
    ReferralStatus.PENDING: N_("waiting for a first step"),
    ReferralStatus.CREDITED: N_("counted"),
    ReferralStatus.REFUSED: N_("not counted"),
}


async def dashboard_page(request: Request) -> Response:
    role = await role_for(request, VIEWER)
    contest = await contest_for(request, role)
    locale = request_locale(request)
    figures = await dashboard.figures(contest, now=utcnow())
    days = [(format_date(day, "d MMM", locale=locale), count) for day, count in figures.per_day]
    ends = (N_("Entered the contest"), N_("Every required step done"))
    stages = [
        (
            stage.step.title if stage.step else translate(ends[stage.every_required], locale),
            stage.count,
        )
        for stage in figures.funnel
    ]
    sources = [
        (translate(N_("Came directly"), locale), figures.directly),
        (translate(N_("Came through a referral link"), locale), figures.through_referral),
    ]
    flags = [
        (translate(signals.LABELS[signals.Reason(reason)], locale), count)
        if reason in signals.Reason.__members__.values()
        else (reason, count)
        for reason, count in figures.flags.items()
    ]

    def chart(title: str, rows: list[tuple[str, int]], horizontal: bool = True) -> str:
        return bar_chart(
            translate(title, locale),
            [label for label, _ in rows],
            [count for _, count in rows],
            horizontal=horizontal,
        )

    return await page(
        request,
        "console/dashboard.html",
        brand=role.brand,
        contest=contest,
        figures=figures,
        days=days,
        stages=stages,
        sources=sources,
        referral_labels=REFERRAL_LABELS,
        flags=flags,
        days_chart=chart(N_("New entrants per day"), days, horizontal=False),
        funnel_chart=chart(N_("Step funnel"), stages),
        sources_chart=chart(N_("Where entrants came from"), sources),
        flags_chart=chart(N_("Flags by reason"), flags) if flags else "",
    )


routes = [
    Route(
        "/console/{brand:slug}/contests/{contest:rowid}/dashboard",
        dashboard_page,
        name="console_dashboard",
    ),
]
