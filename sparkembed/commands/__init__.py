"""One module per subcommand: ``run(args, cfg) -> exit code``. Kept thin: parse, open
the session, read, call the stage, write."""
