"""Subcommands of the `mdaread` command line.

Each module here defines ``register(subparsers)`` that adds its subcommand(s) and sets
``func=handler`` on the parser; a handler takes the parsed ``argparse.Namespace`` and returns the
exit status. Modules are discovered by name, so a new command is a new module.
"""
