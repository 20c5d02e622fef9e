"""Mounts the admin pages of setup, staff, audit and operations, and /metrics."""

from __future__ import annotations

from fastapi import FastAPI

from bot.settings import Settings
from handlers import admin_audit, admin_ops, admin_setup, admin_staff, metrics
from handlers.admin_kit import AdminHeaders


def mount(app: FastAPI, settings: Settings) -> None:
    """Needs the staff console mounted first (its sessions, CSRF and Stop handler)."""
    found = metrics.new_metrics()
    app.state.metrics = found
    app.add_middleware(AdminHeaders)
    app.add_middleware(metrics.Timing, metrics=found)
    for module in (admin_setup, admin_staff, admin_audit, admin_ops, metrics):
        app.include_router(module.router)
