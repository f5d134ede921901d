"""The authoritative PoseJam server: room logic as plain classes and a thin websockets shell."""
