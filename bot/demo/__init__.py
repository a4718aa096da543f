"""`python -m bot demo`: try the bot without QQ (see bot/demo/server.py).

Never loaded by the production bot: `python -m bot` (bot/app.py) and plugins/ do not import it.
"""
