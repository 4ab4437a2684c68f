"""`mdaread …`: the command line. Subcommands live in `mdaread.commands`, one module each.

Errors for bad input are one line on stderr (``mdaread: error: …``) with exit status 2; set
``MDAREAD_DEBUG=1`` to see the traceback of an unexpected failure. A Python warning that reaches
the top (a library's RuntimeWarning, say) is one ``mdaread: warning: …`` line too, never the
raw two-line form with a source line of the library.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from mdaread import __version__
from mdaread.commands.output import error, warning
from mdaread.errors import MdareadError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdaread",
        description="Workstation for MD Anderson bone response reads in spine metastasis trials.",
    )
    parser.add_argument("--version", action="version", version=f"mdaread {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import mdaread.commands as commands_package

    names = sorted(m.name for m in pkgutil.iter_modules(commands_package.__path__))
    for name in names:
        module = importlib.import_module(f"mdaread.commands.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        if args.command is None and "gui" in _command_names(parser):
            args = parser.parse_args(["gui", *(argv or [])])
            func = args.func
        else:
            parser.print_help()
            return EXIT_OK
    # only the printer changes (not catch_warnings: it would also drop the filters that modules
    # imported by the command install, e.g. mdaread.io.headers' for pydicom's value warnings)
    shown = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return _run(func, args)
    finally:
        warnings.showwarning = shown


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: TextIO | None = None, line: str | None = None) -> None:
    """A warning as one escaped line (``warnings.showwarning`` while a command runs). pydicom's
    warnings about damaged values are dropped even when a caller reset the filters that
    mdaread.io.headers installs (pytest does): the skip reasons and errors say it in one line."""
    del lineno, file, line  # where in a library it came from is not for the user
    if "pydicom" in Path(filename).parts:
        return
    warning(f"{category.__name__}: {message}")


def _run(func: Any, args: argparse.Namespace) -> int:
    try:
        return int(func(args) or EXIT_OK)
    except MdareadError as exc:
        error(str(exc))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug, not bad input: still one line unless debugging
        if os.environ.get("MDAREAD_DEBUG"):
            raise
        error(f"unexpected {type(exc).__name__}: {exc} (set MDAREAD_DEBUG=1 for the traceback)")
        return EXIT_BAD_INPUT


def _command_names(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


if __name__ == "__main__":
    sys.exit(main())
