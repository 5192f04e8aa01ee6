"""``python -m topicnmf`` and the ``topicnmf`` console script."""

import sys


def run() -> None:
    """Run the command line; a Ctrl-C while it is still loading is reported like later ones."""
    try:
        from topicnmf.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("Error: interrupted; no output file was written or changed\n")
        sys.exit(130)
    sys.exit(main())


if __name__ == "__main__":
    run()
