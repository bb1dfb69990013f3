"""Allow `python -m chs`."""

from chs.cli import main

main()
