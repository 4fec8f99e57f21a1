"""Group commit: each caller answered by the write that holds its item, only once that
write has returned, and refused with it when it fails."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from contests.group_commit import GroupCommit


class Store:
    """Writes that take a while, as a database's commit does, and remember each batch."""

    def __init__(self, seconds: float = 0.01) -> None:
        self.seconds = seconds
        self.batches: list[list[int]] = []
        self.fail = False

    async def write(self, items: Sequence[int]) -> list[int]:
        await asyncio.sleep(self.seconds)
        if self.fail:
            raise ConnectionError("the database went away")
        self.batches.append(list(items))
        return [item * 10 for item in items]


async def _clients(commit: GroupCommit[int, int], clients: int, each: int) -> list[int]:
    """``clients`` callers each sending ``each`` items one after the other, as a client
    sends its next report once the last one is answered."""

    async def client(n: int) -> list[int]:
        return [await commit.submit(n * 100 + k) for k in range(each)]

    answers = await asyncio.gather(*(client(n) for n in range(clients)))
    return [answer for answered in answers for answer in answered]


async def test_each_caller_gets_the_result_of_its_own_item() -> None:
    store = Store()
    commit: GroupCommit[int, int] = GroupCommit(store.write, max_items=100, writers=1)
    answers = await _clients(commit, 5, 3)
    assert sorted(answers) == sorted(10 * (n * 100 + k) for n in range(5) for k in range(3))
    assert sorted(item for batch in store.batches for item in batch) == sorted(
        n * 100 + k for n in range(5) for k in range(3)
    )


async def test_a_failed_write_fails_every_caller_of_its_batch_and_no_other() -> None:
    store = Store()
    commit: GroupCommit[int, int] = GroupCommit(store.write, max_items=100, writers=1)
    store.fail = True
    failed = await asyncio.gather(*(commit.submit(n) for n in range(4)), return_exceptions=True)
    assert all(isinstance(answer, ConnectionError) for answer in failed)
    store.fail = False
    assert await commit.submit(7) == 70
    assert store.batches == [[7]]
