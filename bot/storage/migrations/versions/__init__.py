"""One file per schema revision; see bot/migrations/README.md."""
