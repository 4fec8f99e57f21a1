"""SQLite as a Tortoise engine whose transactions take the write lock when they begin.

Tortoise begins SQLite transactions with a deferred ``BEGIN``: a transaction that reads
and then writes fails at once with "database is locked" when another process (the web
app and the worker are two) committed in between. ``BEGIN IMMEDIATE`` takes the write
lock up front, so concurrent writers wait their turn (up to the busy timeout) instead.

When the wait times out, Tortoise's transaction context has already taken its
connection lock and pointed the task at the transaction, and never gives either back
(its exit does not run when entering fails): every later query of the process would
queue behind a lock nobody releases, or run inside a transaction that never commits.
Entering here undoes both before the error goes up.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tortoise.backends.base.client import TransactionalDBClient
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections
from tortoise.exceptions import TransactionManagementError


class ImmediateTransactionWrapper(SqliteTransactionWrapper):
    async def begin(self) -> None:
        try:
            await self._connection.commit()
            await self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransactionManagementError(exc) from exc


class ImmediateTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection  # type: ignore[no-any-return]


class ImmediateSqliteClient(SqliteClient):
    def _in_transaction(self) -> SqliteTransactionContext:
        return ImmediateTransactionContext(ImmediateTransactionWrapper(self), self._lock)


client_class: Any = ImmediateSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return ImmediateSqliteClient
