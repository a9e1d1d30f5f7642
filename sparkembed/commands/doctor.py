"""`sparkembed doctor`: what the environment has (Java, Spark, UDF JAR, BLAS, GraphFrames)."""

from sparkembed.doctor import format_checks, run_checks


def add_arguments(p) -> None:
    pass


def run(args, cfg) -> int:
    checks = run_checks(cfg.spark)
    print(format_checks(checks))
    missing = [c.name for c in checks if c.required and not c.ok]
    if missing:
        print(f"doctor: required missing: {', '.join(missing)}")
        return 1
    print("doctor: all required components found")
    return 0
