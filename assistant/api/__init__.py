"""HTTP and websocket surface (FastAPI)."""
