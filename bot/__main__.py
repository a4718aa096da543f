"""`python -m bot [check | import-units FILE | migrate]` — see bot/cli.py."""

import sys

from bot.cli import main

sys.exit(main(sys.argv[1:]))
