"""Imported first by every experiment script: the frameworks' start-up logging off.

Sets `TF_CPP_MIN_LOG_LEVEL` to 3 (a level the user set in the environment is kept) and
imports kwgan, which then imports TensorFlow with its import-time log captured
(`kwgan/startup.py`): a user's one-line error is the only line. kwgan is imported here,
before the script's other imports, also for its TensorFlow defaults (`kwgan/__init__.py`).
`--verbose` keeps the log.
"""

import os
import sys

if "--verbose" not in sys.argv[1:]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import kwgan  # noqa: E402, F401
