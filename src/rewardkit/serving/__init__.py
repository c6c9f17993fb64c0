"""The reward server: a FastAPI app over a batching scheduler, and its clients."""
