"""The instructors' and maintainers' tools for the course, as one command: ``coursetools``.

``helpers`` is what the notebooks import (learners' runtime only); this package is what the people
who run the course use: student copies, grading, nbgrader metadata, the shared setup cell and Colab
badges, the MNIST rebuild, the README's results table and the version pins. Run ``coursetools
--help`` (or ``python -m coursetools --help``) for the list; each subcommand has its own ``--help``.
The tools may import ``helpers``; ``helpers`` never imports them.
"""
