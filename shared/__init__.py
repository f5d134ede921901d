"""What the client and the server both need, and nothing that does I/O.

Message types and their msgpack codec, tempo and clock-sync math, drum pattern
types and the loop stack. No asyncio, websockets, torch, pyo or arcade here.
"""
