"""The game's arcade views (play, spectate) and the pure screen model they read each frame."""
