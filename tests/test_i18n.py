"""Translations: every string a person sees exists in Spanish, keeps its placeholders,
and the committed catalogue template matches the strings in the code and templates."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from contests.errors import NP_, InvalidInput
from contests.i18n import ngettext_, translate, use_locale
from contests.templating import render

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "locale" / "messages.pot"
SPANISH = ROOT / "locale" / "es" / "LC_MESSAGES" / "messages.po"
ENGLISH = ROOT / "locale" / "en" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")
Text = str | tuple[str, ...] | list[str]
FIX = (
    "run scripts/messages.sh, then translate the empty msgstr of locale/es/LC_MESSAGES/messages.po"
)


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as po:
        return read_po(po, locale=locale)


def _forms(value: Text | None) -> tuple[str, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value or "",)


def _messages(catalog: Catalog) -> dict[tuple[str, ...], Message]:
    """Messages by msgid, a plural entry's msgid being its (singular, plural) pair."""
    return {_forms(message.id): message for message in catalog if message.id}


def _first(msgid: Text) -> str:
    return _forms(msgid)[0]


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def test_every_message_is_translated_into_spanish() -> None:
    spanish = _messages(_read(SPANISH, "es"))
    missing = []
    for msgid in _messages(_read(TEMPLATE)):
        message = spanish.get(msgid)
        if message is None:
            missing.append(f"not in the Spanish catalogue: {_first(msgid)!r}")
        elif message.fuzzy:
            missing.append(f"marked fuzzy: {_first(msgid)!r}")
        elif not all(form.strip() for form in _forms(message.string)):
            missing.append(f"untranslated: {_first(msgid)!r}")
    assert not missing, f"{len(missing)} message(s) lack Spanish ({FIX}):\n" + "\n".join(missing)


def test_plural_entries_have_both_spanish_forms() -> None:
    catalog = _read(SPANISH, "es")
    assert catalog.num_plurals == 2
    wrong = [
        _first(m.id)
        for m in catalog
        if m.id and m.pluralizable and len(_forms(m.string)) != catalog.num_plurals
    ]
    assert not wrong, f"plural entries without {catalog.num_plurals} forms: {wrong}"


def test_spanish_keeps_the_placeholders_of_each_message() -> None:
    wrong = []
    for message in _read(SPANISH, "es"):
        if not message.id:
            continue
        ids = _forms(message.id)
        for index, form in enumerate(_forms(message.string)):
            if not form:
                continue
            # Spanish plurals follow English: form 0 is the singular, the rest the plural.
            source = ids[min(index, len(ids) - 1)]
            expected, found = _placeholders(source), _placeholders(form)
            if expected != found:
                wrong.append(
                    f"{source!r} → {form!r}: expected {sorted(expected)}, got {sorted(found)}"
                )
    assert not wrong, "placeholders changed in translation:\n" + "\n".join(wrong)


def test_english_catalogue_stays_empty_and_falls_back_to_the_ids() -> None:
    english = _read(ENGLISH, "en")
    filled = [_first(m.id) for m in english if m.id and any(_forms(m.string))]
    assert not filled, f"the English catalogue should leave every msgstr empty: {filled}"
    missing = set(_messages(_read(TEMPLATE))) - set(_messages(english))
    assert not missing, f"not in the English catalogue ({FIX}): {sorted(map(_first, missing))}"


def test_catalogue_template_matches_the_code_and_templates(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    command = [
        sys.executable, "-m", "babel.messages.frontend", "extract",
        "-F", "babel.cfg", "-k", "N_", "-k", "gettext_", "-k", "ngettext_:1,2", "-k", "NP_:1,2",
        "-k", "translate",
        "--no-wrap", "--sort-by-file", "-o", str(fresh),
        "--project", "Gymkana", "--copyright-holder", "Gymkana contributors", ".",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    extracted = set(_messages(_read(fresh)))
    committed = set(_messages(_read(TEMPLATE)))
    added = sorted(map(_first, extracted - committed))
    removed = sorted(map(_first, committed - extracted))
    assert not added and not removed, (
        f"locale/messages.pot is stale: {FIX}.\n"
        f"New strings: {added}\nStrings no longer used: {removed}"
    )


def test_a_message_with_a_number_takes_the_plural_form_the_number_needs() -> None:
    wrong = NP_(
        "That is not right. You have %(num)s try left.",
        "That is not right. You have %(num)s tries left.",
    )
    assert translate(wrong, "es", num=1) == "No es correcto. Te queda 1 intento."
    assert translate(wrong, "es", num=2) == "No es correcto. Te quedan 2 intentos."
    assert translate(wrong, "en", num=1) == "That is not right. You have 1 try left."
    assert str(InvalidInput(wrong, "wrong_answer", num=2)) == (
        "That is not right. You have 2 tries left."
    )


def test_translate_picks_the_locale() -> None:
    assert translate("Sign in", "es") == "Entrar"
    assert translate("Sign in", "en") == "Sign in"
    assert translate("Your prize: %(prize)s", "es", prize="Bici") == "Tu premio: Bici"
    with use_locale("es"):
        assert ngettext_("%(num)s point", "%(num)s points", 1) == "1 punto"
        assert ngettext_("%(num)s point", "%(num)s points", 3) == "3 puntos"
    with use_locale("en"):
        assert ngettext_("%(num)s point", "%(num)s points", 3) == "3 points"


def test_sign_in_email_renders_in_spanish() -> None:
    context = {"link": "http://x/auth/email/t", "minutes": 15}
    spanish = render("email/sign_in.txt", locale="es", **context)
    english = render("email/sign_in.txt", locale="en", **context)

    assert "http://x/auth/email/t" in spanish
    assert "¡Hola!" in spanish
    assert "Aquí tienes tu enlace para iniciar sesión" in spanish
    assert "durante los próximos 15 minutos" in spanish
    assert "Here is your link to sign in" in english
    english_sentences = [
        line.strip() for line in english.splitlines() if line.strip() and "http" not in line
    ]
    assert english_sentences
    leaked = [sentence for sentence in english_sentences if sentence in spanish]
    assert not leaked, f"English left in the Spanish email: {leaked}"
