"""Falco's condition language: lexer, parser, compiler to closures, literal prefilter."""
