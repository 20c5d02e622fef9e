"""aiogram FSM storage on the database (or Redis), never only in memory, never a raw chat id."""

from __future__ import annotations

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
    def __init__(self, store: StateStore) -> None:
        self._store = store

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await self._store.set_state(self._store.key(*_parts(key)), _state_name(state))

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._store.get(self._store.key(*_parts(key)))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._store.set_data(self._store.key(*_parts(key)), dict(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, data = await self._store.get(self._store.key(*_parts(key)))
        return data

    async def close(self) -> None:
        return None


class BlindKeyBuilder(KeyBuilder):
    """Redis keys for the FSM: a blind index instead of the chat and user ids."""

    def __init__(self, index_key: bytes, prefix: str = "sapa:fsm") -> None:
        self._key, self._prefix = index_key, prefix

    def build(self, key: StorageKey, part: Literal["data", "state", "lock"] | None = None) -> str:
        digest = blind_index("|".join(map(str, _parts(key))), key=self._key, namespace="bot_state")
        return f"{self._prefix}:{digest}:{part or ''}"
