import handlers  # noqa: F401 (it hooks aiogram's types before anything imports aiogram)
