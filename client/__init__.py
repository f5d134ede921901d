"""The PoseJam client: networking and clock sync, bots; later pose, audio and views."""
