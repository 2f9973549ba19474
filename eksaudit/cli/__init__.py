"""The command line: parses options, calls the library, renders. Only this package imports typer."""
