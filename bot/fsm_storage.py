"""aiogram FSM storage on the database (or Redis), never only in memory, never a raw chat id."""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Literal

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, KeyBuilder, StateType, StorageKey

from storage.bot_state import StateStore
from storage.crypto import blind_index


def _parts(key: StorageKey) -> tuple[object, ...]:
    return (key.bot_id, key.chat_id, key.user_id, key.thread_id, key.destiny)


def _state_name(state: StateType) -> str | None:
    return state.state if isinstance(state, State) else state


class SqlFsmStorage(BaseStorage):
    """State in the database; with `cache_size`, also remembered in memory (write-through).

    aiogram reads the state of every update before any handler runs. When this process is
    the only one writing the state (SQLite serves one worker), those reads come from memory:
    a write goes to the database first, so a restart still continues every conversation.
    Several workers share the state in Redis or the database, without this cache."""

    def __init__(self, store: StateStore, *, cache_size: int = 0) -> None:
        self._store, self._cache_size = store, cache_size
        self._cache: OrderedDict[str, tuple[str | None, dict[str, Any]]] = OrderedDict()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        index = self._store.key(*_parts(key))
        await self._store.set_state(index, _state_name(state))
        if (cached := self._cache.get(index)) is not None:
            self._cache[index] = (_state_name(state), cached[1])

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._get(self._store.key(*_parts(key)))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        index, value = self._store.key(*_parts(key)), copy.deepcopy(dict(data))
        await self._store.set_data(index, value)
        if (cached := self._cache.get(index)) is not None:
            self._cache[index] = (cached[0], value)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._get(self._store.key(*_parts(key)))
        return copy.deepcopy(data)  # a handler changing it must not change the cache

    async def _get(self, index: str) -> tuple[str | None, dict[str, Any]]:
        if (cached := self._cache.get(index)) is not None:
            self._cache.move_to_end(index)
            return cached
        found = await self._store.get(index)
        if self._cache_size:
            self._cache[index] = found
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return found

    async def close(self) -> None:
        return None


class BlindKeyBuilder(KeyBuilder):
    """Redis keys for the FSM: a blind index instead of the chat and user ids."""

    def __init__(self, index_key: bytes, prefix: str = "sapa:fsm") -> None:
        self._key, self._prefix = index_key, prefix

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        digest = blind_index("|".join(map(str, _parts(key))), key=self._key, namespace="bot_state")
        return f"{self._prefix}:{digest}:{part or ''}"
