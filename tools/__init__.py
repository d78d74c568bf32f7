"""Maintainer tools: they write the checkout (presets, registry, RESULTS.md,
README tables, sample pictures). Run from the repository root as
`python -m tools.<name>`; the `ganzoo` package never imports them."""

import sys

if sys.argv[:1] == ["-m"]:
    # `python -m tools.NAME`: Python imports this package with argv[0]
    # "-m", before the tool imports TensorFlow (through ganzoo), so its C++
    # start-up lines can still be hidden, as the `ganzoo` command hides them.
    # It starts TensorFlow's runtime: a tool that needs a
    # MultiWorkerMirroredStrategy must create it before (here).
    from ganzoo import cli

    cli.quiet_start(sys.argv)
