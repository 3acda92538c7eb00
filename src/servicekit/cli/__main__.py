"""``python -m servicekit.cli``: the same as the ``servicekit`` command."""

import sys

from servicekit.cli import main

sys.exit(main())
