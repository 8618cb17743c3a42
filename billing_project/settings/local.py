"""Development on the embedded SQLite default: `make run`."""

import os

os.environ.setdefault("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production")
os.environ.setdefault("DEBUG", "True")
os.environ.setdefault("API_DOCS_PUBLIC", "True")

from .base import *  # noqa: F403
