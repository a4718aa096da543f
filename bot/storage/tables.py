"""Every table of the bot, registered on `SQLModel.metadata` by importing their modules.

A feature that adds a table adds its module here; the migrations' environment and the schema
tests import this module, so none of them can miss a table.
"""

import bot.accounts.models
import bot.dashboard.store
import bot.faq.store
import bot.judging.metrics
import bot.judging.models
import bot.judging.results
import bot.reminders.store
import bot.rounds.models
import bot.storage.changelog
import bot.submissions.models
import bot.submissions.recheck
import bot.units.models
import bot.units.people  # noqa: F401
