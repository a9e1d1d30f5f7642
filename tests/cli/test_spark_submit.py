"""The jobs/ entry points run the same code under spark-submit, keeping its master."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_doctor_job_under_spark_submit(tmp_path):
    zip_path = tmp_path / "sparkembed.zip"
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "package.sh"), "--code", str(zip_path)],
        check=True,
        cwd=ROOT,
    )
    spark_submit = Path(sys.executable).parent / "spark-submit"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    out = subprocess.run(
        [
            str(spark_submit),
            "--master",
            "local[1]",
            "--py-files",
            str(zip_path),
            str(ROOT / "jobs" / "sparkembed_job.py"),
            "doctor",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "master local[1]" in out.stdout
    assert "doctor: all required components found" in out.stdout
