"""Counting the SQL statements a piece of code runs, from Tortoise's own query log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from tortoise.log import db_client_logger

STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class QueryLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lstrip()
        if message.upper().startswith(STATEMENTS):
            self.statements.append(message)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def counting_queries() -> Iterator[QueryLog]:
    """Every statement run inside the block, this process's database client included."""
    log = QueryLog()
    level = db_client_logger.level
    db_client_logger.setLevel(logging.DEBUG)
    db_client_logger.addHandler(log)
    try:
        yield log
    finally:
        db_client_logger.removeHandler(log)
        db_client_logger.setLevel(level)
