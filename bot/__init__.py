"""学习博客大赛助手: the contest itself — rules, units, storage, outgoing messages.

Nothing in this package imports NoneBot except the entry point (`bot/app.py`), so the
contest logic can be used by the chat plugins, the CLI and (later) the dashboard alike.
"""

import os

__version__ = "0.1.0"

# The FAQ's semantic layer runs its own OpenMP threads; numpy's BLAS threads spinning beside
# them on the same few cores made each question's embedding 2-3x slower (bench/bench_faq.py).
# One BLAS thread is plenty for the layer's matrix-vector products. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
