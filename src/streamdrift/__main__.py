import sys

from streamdrift.cli import main

sys.exit(main())
