"""`python -m bookkit ...`: the same CLI as `dcca-book ...`."""

import sys

from .cli import main

sys.exit(main())
