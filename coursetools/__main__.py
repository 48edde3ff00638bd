"""``python -m coursetools``: the same command as the ``coursetools`` script."""

from coursetools.cli import main

raise SystemExit(main())
