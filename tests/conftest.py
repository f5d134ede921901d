"""Settings for the whole suite."""

import os
import tempfile

# Tests draw views off-screen (EGL); set before anything imports arcade.
os.environ.setdefault("ARCADE_HEADLESS", "1")
# Whatever journals a jam by default (posejam server, solo) writes under here, never
# into the user's own ~/.local/share/posejam.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="posejam-tests-")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="posejam-tests-config-")  # settings.json
