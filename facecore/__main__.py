"""Entry point for ``python -m facecore`` (see facecore/cli.py)."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter off the terminal

from facecore.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
