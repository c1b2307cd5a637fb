"""`acd`: the one command ops use, in the style of `nginx -t` and `asterisk -rx`.

Every command that prints data takes `--json`; every one has `--help`. The parser is
assembled in `acd.cli.main` from one module per command group, each with `register(sub)`;
what they share is in the leaf `acd.cli.common`. This package re-exports nothing: `main`
here would clash with the submodule `acd.cli.main`.
"""
