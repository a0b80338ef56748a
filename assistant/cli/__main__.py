"""`python -m assistant.cli`: the same as `bankassist`."""

import sys

from assistant.cli import main

sys.exit(main())
