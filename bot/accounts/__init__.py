"""The bot's QQ accounts: which are connected, to which process, in which groups, muted or not;
which of them answers a group's message and which sends there (see registry.py)."""
