"""One module per ``glassnet`` subcommand: ``register(subparsers)`` and ``run(args)``."""
