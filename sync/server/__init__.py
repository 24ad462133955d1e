"""Kedai head office (HQ): FastAPI app, central store, ingest, change feed, ``kedai-hq``.

Never imports ``terminal``. The till may import :mod:`sync.server.demo_data` (pure data)
and nothing else from here.
"""
