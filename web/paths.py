"""Path parameter shapes. An address whose parts cannot be ours (too long, odd
characters, an id beyond the database's range) is a plain 404 at the router, before any
query runs."""

from __future__ import annotations

from starlette.convertors import Convertor, register_url_convertor


class SlugConvertor(Convertor[str]):
    """Contest and brand slugs, as contests.ids.slugify makes them."""

    regex = "[a-z0-9][a-z0-9-]{0,79}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class PublicIdConvertor(Convertor[str]):
    """Random public ids (contests.ids.public_id)."""

    regex = "[A-Za-z0-9_-]{1,32}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class RowIdConvertor(Convertor[int]):
    """Database ids: at most nine digits, always inside a 32-bit integer column."""

    regex = "[1-9][0-9]{0,8}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


def register() -> None:
    register_url_convertor("slug", SlugConvertor())
    register_url_convertor("pid", PublicIdConvertor())
    register_url_convertor("rowid", RowIdConvertor())
