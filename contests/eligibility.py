"""Who may enter a contest by what they declare: a minimum age and a list of countries.

Both are declared, not proven: the entry keeps what the participant said, so the brand
can check it before handing over a prize. Country names come from Babel's CLDR data, in
the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from babel import Locale

from contests.errors import N_, InvalidInput
from contests.models import Contest

OLDEST = 120


@cache
def country_names(locale: str) -> dict[str, str]:
    """ISO 3166 two-letter codes and their names, sorted by name in ``locale``."""
    names = Locale.parse(locale).territories
    countries = {code: name for code, name in names.items() if len(code) == 2 and code.isalpha()}
    # Codes CLDR keeps for unknown or reserved regions are no one's country.
    for reserved in ("ZZ", "XA", "XB", "QO", "EU", "EZ", "UN"):
        countries.pop(reserved, None)
    return dict(sorted(countries.items(), key=lambda item: item[1]))


def check_min_age(age: int) -> int:
    if not 0 <= age <= 99:
        raise InvalidInput(N_("The minimum age must be between 0 (none) and 99."), "bad_min_age")
    return age


def check_countries(codes: Iterable[str]) -> list[str]:
    known = country_names("en")
    unknown = sorted(code for code in codes if code not in known)
    if unknown:
        raise InvalidInput(
            N_("“%(country)s” is not a country code."), "bad_country", country=unknown[0]
        )
    return sorted(set(codes))


def check_declared(contest: Contest, age: int | None, country: str | None) -> None:
    """Refuse an entry whose declarations the contest does not admit, saying why."""
    if contest.min_age:
        if age is None:
            raise InvalidInput(N_("Tell us your age to take part."), "age_required")
        if not 0 <= age <= OLDEST:
            raise InvalidInput(N_("Type your age in years."), "bad_age")
        if age < contest.min_age:
            raise InvalidInput(
                N_("This contest is for people aged %(age)s or over."),
                "too_young",
                age=contest.min_age,
            )
    if contest.countries:
        if not country:
            raise InvalidInput(
                N_("Tell us the country you live in to take part."), "country_required"
            )
        if country not in contest.countries:
            raise InvalidInput(
                N_("This contest is not open to people living in that country."),
                "country_not_admitted",
            )
