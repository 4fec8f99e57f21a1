#!/usr/bin/env bash
# Re-extracts the translatable strings of the code and templates into
# locale/messages.pot, merges them into the Spanish and English catalogues and
# tells how many Spanish messages still need a translation. Run it after adding
# or changing any string a participant or marketer sees, then translate the
# empty msgstr entries of locale/es/LC_MESSAGES/messages.po.
# (The English catalogue stays empty: its message ids are the English text.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYBABEL=.venv/bin/pybabel
PYTHON=.venv/bin/python
[[ -x $PYBABEL ]] || {
  echo "error: $PYBABEL not found; run scripts/bootstrap.sh first" >&2
  exit 1
}

"$PYBABEL" extract -F babel.cfg -k N_ -k gettext_ -k ngettext_:1,2 -k NP_:1,2 -k translate --no-wrap --sort-by-file \
  -o locale/messages.pot --project Gymkana --copyright-holder "Gymkana contributors" .

# No fuzzy matching: a new string shows up empty rather than wrongly guessed
# from a similar one.
for locale in es en; do
  "$PYBABEL" update -i locale/messages.pot -d locale -l "$locale" \
    --no-wrap --ignore-obsolete --no-fuzzy-matching
done

"$PYTHON" - <<'EOF'
from babel.messages.pofile import read_po

with open("locale/es/LC_MESSAGES/messages.po", "rb") as po:
    catalog = read_po(po)


def untranslated(message):
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return message.fuzzy or not all(strings)


missing = [m for m in catalog if m.id and untranslated(m)]
if missing:
    print(f"{len(missing)} Spanish message(s) still untranslated in locale/es/LC_MESSAGES/messages.po:")
    for message in missing[:20]:
        print("  -", message.id[0] if isinstance(message.id, tuple) else message.id)
    if len(missing) > 20:
        print(f"  ... and {len(missing) - 20} more")
else:
    print("All Spanish messages are translated.")
EOF
