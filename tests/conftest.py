"""Settings for the whole suite."""

import os

# Tests draw views off-screen (EGL); set before anything imports arcade.
os.environ.setdefault("ARCADE_HEADLESS", "1")
