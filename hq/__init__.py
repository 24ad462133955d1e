"""Kedai head office (HQ): FastAPI app, central store, ingest, change feed, ``kedai-hq``.

Never imports ``terminal``, and the till never imports this package: what both ends
share lives beside it (:mod:`sync.protocol`, :mod:`sync.pins`, :mod:`sync.demo_data`).
"""
