import handlers  # noqa: F401 (aiogram's types built at first use, as in the app)
