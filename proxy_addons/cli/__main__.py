"""`python -m proxy_addons.cli ...` (as the Makefile's `make run` does): the same as the `gonogo` command."""

import sys

from . import main

sys.exit(main())
