"""Entry point of the packaged executable."""

import sys

from frontdesk.app import main

if __name__ == "__main__":
    sys.exit(main())
