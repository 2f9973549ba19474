"""Falco rules files: loader, lists, macros, exceptions, matching and output formatting."""
