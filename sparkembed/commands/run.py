import os
import sys
import tempfile
import time

from sparkembed.pipeline import is_complete, load_pipeline, stage_argv


def run(args, cfg) -> int:
    from sparkembed.cli import main

    pipeline = load_pipeline(args.pipeline)
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as tmp:
        tmp.write(pipeline.config_text)
    done, skipped, t0 = [], [], time.perf_counter()
    try:
        for stage in pipeline.stages:
            argv, outputs = stage_argv(pipeline, stage)
            if outputs and not args.force and all(is_complete(o) for o in outputs):
                print(
                    f"[run] {stage}: done already ({', '.join(outputs)}), skipped", file=sys.stderr
                )
                skipped.append(stage)
                continue
            print(f"[run] {stage}: sparkembed {' '.join(argv)}", file=sys.stderr, flush=True)
            code = main(
                [*argv, "--conf", tmp.name, *sum((["--set", o] for o in args.overrides), [])]
            )
            if code != 0:
                print(f"sparkembed run: error: stage {stage} failed (exit {code})", file=sys.stderr)
                return code
            done.append(stage)
    finally:
        os.unlink(tmp.name)
    total = time.perf_counter() - t0
    print(f"run: {len(done)} stages run, {len(skipped)} skipped | total {total:.1f}s")
    return 0
