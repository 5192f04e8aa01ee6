"""Allow ``python -m topicnmf``."""

from topicnmf.cli import main

if __name__ == "__main__":
    main()
