import sys

from mdaread.cli import main

sys.exit(main())
