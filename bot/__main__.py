"""`python -m bot` is the same command line as `modelderm-bot`."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
