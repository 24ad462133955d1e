"""``python -m terminal`` is ``kedai-till``."""

from terminal.cli import main

main()
