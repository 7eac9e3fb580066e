import sys

from streamdrift.cli.main import main

sys.exit(main())
