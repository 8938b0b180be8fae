import sys

from deepgui.cli import main

sys.exit(main())
