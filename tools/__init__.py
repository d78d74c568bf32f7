"""Maintainer tools: they write the checkout (presets, registry, RESULTS.md,
README tables, sample pictures). Run from the repository root as
`python -m tools.<name>`; the `ganzoo` package never imports them."""
