"""One file per schema revision; see bot/storage/migrations/README.md."""
