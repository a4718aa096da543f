"""学习博客大赛助手: the contest itself — rules, units, storage, outgoing messages.

Nothing in this package imports NoneBot except the entry point (`bot/app.py`), so the
contest logic can be used by the chat plugins, the CLI and (later) the dashboard alike.
"""

__version__ = "0.1.0"
