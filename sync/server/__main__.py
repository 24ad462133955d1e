"""``python -m sync.server`` is ``kedai-hq``."""

from sync.server.cli import main

main()
