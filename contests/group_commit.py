"""Group commit: many callers' writes gathered into one statement.

Each caller hands in an item and waits for its own result. While a write is in flight,
new items gather; when a writer is free, everything gathered (up to ``max_items``) goes
in one call. At low load a caller waits for one small write; under load each write
carries many items, so the database does one round trip and one commit for all of them.
A caller is answered only after the write that holds its item has returned: when the
write fails, every caller of that batch gets the error, none is told it was stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """Gathers items and writes them with ``write``, which returns one result per item,
    in order; at most ``writers`` writes run at once."""

    def __init__(
        self,
        write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]],
        *,
        max_items: int,
        writers: int,
    ) -> None:
        self._write = write
        self._max_items = max_items
        self._writers = writers
        self._writing = 0
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """Write ``item`` with whatever else is waiting; its result once it is stored."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._start()
        return await future

    async def wait(self) -> None:
        """Until every write started has returned."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start(self) -> None:
        while self._waiting and self._writing < self._writers:
            batch = self._waiting[: self._max_items]
            del self._waiting[: self._max_items]
            self._writing += 1
            task = asyncio.create_task(self._run(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} items")
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
        finally:
            self._writing -= 1
            self._start()
