"""One module per command, each with its own Typer app."""
