"""The one-reader queue behind each socket's sends and receives (app.platform.realtime.queues.OneReaderQueue)."""

from __future__ import annotations

import asyncio

import pytest

from app.platform.realtime.queues import OneReaderQueue


async def test_items_come_out_in_order_whether_or_not_the_reader_waits() -> None:
    queue = OneReaderQueue()
    queue.put_nowait("a")
    await queue.put("b")
    assert await queue.get() == "a"
    assert queue.get_nowait() == "b"
    waiting = asyncio.ensure_future(asyncio.wait_for(queue.get(), 1))
    await asyncio.sleep(0)
    queue.put_nowait("c")  # handed to the waiting reader
    queue.put_nowait("d")  # queued behind it
    assert await waiting == "c"
    assert queue.get_nowait() == "d"
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    assert queue.empty()


async def test_a_timed_out_wait_loses_nothing_put_afterwards() -> None:
    queue = OneReaderQueue()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    queue.put_nowait("late")
    assert await asyncio.wait_for(queue.get(), 1) == "late"


async def test_join_waits_until_every_item_is_done() -> None:
    queue = OneReaderQueue()
    await queue.join()  # nothing queued: returns at once
    queue.put_nowait(1)
    queue.put_nowait(2)
    joined = asyncio.ensure_future(queue.join())
    for _ in range(2):
        await queue.get()
        await asyncio.sleep(0)
        assert not joined.done()
        queue.task_done()
    await asyncio.wait_for(joined, 1)
