from handlers.aiogram_types import install as _defer_aiogram_types

_defer_aiogram_types()  # before anything imports aiogram (see handlers/aiogram_types.py)
