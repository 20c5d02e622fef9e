"""Build aiogram's Telegram types when they are first used, not all of them at import.

aiogram declares its types `defer_build`, then, at the end of `aiogram.types`, rebuilds every
one of them (about 300) to resolve their forward references. That builds each type's pydantic
validator and serialiser, each with its own copy of every type it nests (a Message holds almost
all of them); and its API methods (about 170) are not deferred at all. Together about 100 MB
of the app's memory, for a service that meets about ten types and a dozen methods.

`install()` (cheap: it imports nothing) hooks the import of `aiogram.types`: while that module
runs, the eager rebuild of deferred types is skipped, and afterwards the names it would have
resolved are put into each aiogram type module's namespace, where pydantic finds them when a
type is first validated or serialised; the hook on `aiogram.methods.base` makes every method
inherit `defer_build`. The types behave as before (tests/unit/test_aiogram_types.py
compares every type's and method's schema with stock aiogram's); only the work moves to first use.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import Any, Literal, Optional, Union

TARGET = "aiogram.types"
METHODS = "aiogram.methods.base"
_lock = threading.Lock()


def install() -> bool:
    """Hook aiogram's types; False when aiogram.types was imported already (it still works)."""
    with _lock:
        if any(isinstance(finder, _DeferTypes) for finder in sys.meta_path):
            return True
        if TARGET in sys.modules:
            return False
        sys.meta_path.insert(0, _DeferTypes())
        return True


def deferred() -> bool:
    """Whether aiogram's types were left to be built at first use in this process."""
    module = sys.modules.get(TARGET)
    return module is not None and isinstance(getattr(module, "__loader__", None), _Loader)


class _DeferTypes(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in (TARGET, METHODS):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        if module.__name__ == METHODS:
            self.inner.exec_module(module)
            # every API method (SendMessage, ...) inherits this: built when first called
            module.TelegramMethod.model_config["defer_build"] = True
            return
        with _no_eager_rebuild():
            self.inner.exec_module(module)
        _share_names(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@contextlib.contextmanager
def _no_eager_rebuild() -> Iterator[None]:
    from pydantic import BaseModel

    original = BaseModel.__dict__["model_rebuild"]

    def model_rebuild(  # the signature of pydantic's BaseModel.model_rebuild
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: dict[str, Any] | None = None,
    ) -> bool | None:
        if (
            _types_namespace is not None
            and not force
            and not cls.__pydantic_complete__
            and cls.model_config.get("defer_build")
        ):
            return None  # built at first use, from the names _share_names puts in its module
        depth = _parent_namespace_depth + 1 if _parent_namespace_depth > 0 else 0
        result: bool | None = original.__func__(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=depth,
            _types_namespace=_types_namespace,
        )
        return result

    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[assignment,method-assign]
    try:
        yield
    finally:
        BaseModel.model_rebuild = original  # type: ignore[method-assign]


def _share_names(types: ModuleType) -> None:
    """The names aiogram's rebuild resolved types from, put where pydantic looks at first use."""
    from aiogram.client.default import Default

    names: dict[str, Any] = {
        "List": list,
        "Optional": Optional,
        "Union": Union,
        "Literal": Literal,
        "Default": Default,
        **{name: getattr(types, name) for name in types.__all__},
    }
    modules = {getattr(value, "__module__", "") for value in names.values()}
    for name in sorted(m for m in modules if m.startswith(TARGET + ".")):
        namespace = sys.modules[name].__dict__
        for key, value in names.items():
            namespace.setdefault(key, value)
