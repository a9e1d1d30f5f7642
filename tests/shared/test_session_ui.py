"""A local session started by sparkembed: the UI listens on loopback, no ./spark-warehouse.

The session runs in a subprocess: the suite shares one SparkSession (and JVM) in-process, and
SPARK_LOCAL_IP is read only when the JVM starts.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANY_IPV4, ANY_IPV6 = "0" * 8, "0" * 32  # 0.0.0.0 and [::] as /proc/net/tcp{,6} print them
UI_PORT = 4077  # unusual, so another Spark on this machine is unlikely to hold it

CHILD = f"""
import json, sys
from sparkembed.config import SparkConfig
from sparkembed.session import get_spark

spark = get_spark(SparkConfig(master="local[1]", ui=True, conf={{"spark.ui.port": "{UI_PORT}"}}))
spark.sql("SHOW DATABASES").collect()
spark.catalog.listDatabases()
port = spark.sparkContext.uiWebUrl.rsplit(":", 1)[1]

listening = []
for name in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        lines = open(name).read().splitlines()[1:]
    except OSError:
        continue
    for line in lines:
        fields = line.split()
        addr, hexport = fields[1].rsplit(":", 1)
        if fields[3] == "0A" and int(hexport, 16) == int(port):  # 0A: LISTEN
            listening.append(addr)
print(json.dumps({{"port": int(port), "listening": listening}}))
spark.stop()
"""


def _proc_net_address(hexaddr: str) -> str:
    """An address of /proc/net/tcp (0100007F) or tcp6 (4 words), each 32-bit word in host
    (little-endian) order; an IPv4-mapped IPv6 address as its IPv4 address."""
    raw = b"".join(bytes.fromhex(hexaddr[i : i + 8])[::-1] for i in range(0, len(hexaddr), 8))
    ip = ipaddress.ip_address(raw)
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


def test_proc_net_address():
    assert _proc_net_address("0100007F") == "127.0.0.1"
    assert _proc_net_address("0000000000000000FFFF00000100007F") == "127.0.0.1"
    assert _proc_net_address(ANY_IPV6) == "::"


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_local_ui_binds_loopback_and_no_warehouse_in_cwd(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_LOCAL_IP",)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("PYSPARK_GATEWAY_PORT", None)  # not under spark-submit
    proc = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["port"] == UI_PORT, result  # else the port was taken and Spark moved on
    listening = result["listening"]
    assert listening, f"nothing listens on port {UI_PORT}: {result}"
    assert ANY_IPV4 not in listening and ANY_IPV6 not in listening, listening
    # A JVM with IPv6 binds 127.0.0.1 as ::ffff:127.0.0.1 (in /proc/net/tcp6).
    assert {_proc_net_address(a) for a in listening} == {"127.0.0.1"}, listening
    assert not (tmp_path / "spark-warehouse").exists(), sorted(p.name for p in tmp_path.iterdir())
