"""The Starlette app: participant pages, console, JSON API, snippet, CLI."""

from web.paths import register as _register_path_shapes

# Route modules use the {slug}, {pid} and {rowid} shapes at import: register them first.
_register_path_shapes()
