"""The game's arcade views and the pure screen model they read each frame."""

import os


def has_display() -> bool:
    """Whether a window can open here: an X display, or arcade's off-screen EGL."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("ARCADE_HEADLESS"))
