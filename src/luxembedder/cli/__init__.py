"""The ``luxembedder`` command line: one typer app, each subcommand a thin wrapper over a library call."""
