"""Settings of the reminders plugin (NoneBot config: `.env` or the environment)."""

from __future__ import annotations

from pydantic import BaseModel


class Config(BaseModel):
    # Run the automatic reminders (start at start-up, wake when due). Chat tests turn it off:
    # the commands still work, but no background job sends anything on its own.
    reminders_autorun: bool = True
    # How often to look in even when nothing is due: catches a clock jump, a database shared
    # with another process, a bot that connected late.
    reminders_heartbeat: float = 10.0
