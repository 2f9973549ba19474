"""`python -m eksaudit`."""

if __name__ == "__main__":
    try:
        from .cli.app import main
    except KeyboardInterrupt:  # Ctrl-C while the program is still loading
        raise SystemExit(130) from None
    main()
