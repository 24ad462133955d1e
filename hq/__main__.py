"""``python -m hq`` is ``kedai-hq``."""

from hq.cli import main

main()
