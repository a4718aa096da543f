"""Contest rounds (issue 15, part 3): this year's contest in the live tables, earlier years
archived whole and read-only (`book.py` starts a round, `archive.py` opens an old one)."""
