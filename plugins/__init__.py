"""The bot's chat plugins: each turns messages into calls to `bot/` and results into replies."""
