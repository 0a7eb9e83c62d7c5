"""The command line: one module per subcommand, registered from one list
(:data:`slth_check.cli.main.SUBCOMMANDS`)."""

from slth_check.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
