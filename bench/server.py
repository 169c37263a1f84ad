"""Many sessions on one server: N simulated browsers with the Train page open while one training job runs.

A temporary workspace gets the demo dataset and one tiny training run (a real background worker) that
keeps training during the measurement. ``streamlit run app.py`` serves it on a free port of 127.0.0.1, and N
websocket clients speak Streamlit's own protocol (the BackMsg / ForwardMsg protobufs the browser sends):
each opens the Train page, then re-runs its live fragment whenever the server's auto-rerun asks (every
2 s), as a browser tab does. Poll latency is the time from a client's fragment-rerun request to the
server's ``script_finished``. Server CPU is the streamlit process's user + system time over wall time (100 %
= one core); its resident memory is read at the start and end of each round. Ratios are against N = 1,
measured in the same run.

    python bench/server.py [--sessions 1 5 20] [--seconds 40] [--memory-minutes 0] [--reconnect]

``--memory-minutes M`` adds a last round of M minutes at the largest N and reports every minute (polls,
latency, CPU, memory). Its N sessions are opened once and stay open throughout, as a lab's tabs do;
``--reconnect`` instead opens N new sessions every minute (and closes them), which adds session churn:
Streamlit keeps each closed session for a while (up to 128, for 2 minutes) before freeing it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    line = next(ln for ln in Path(f"/proc/{pid}/status").read_text().splitlines() if ln.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def prepare_workspace(home: Path) -> str:
    """Demo dataset and one queued tiny training run (long enough to outlast the benchmark); its run id."""
    os.environ["MEDGAN_HOME"] = str(home)
    from medgan.data.phantom import ensure_demo_dataset
    from medgan.jobs.training import start_training
    from medgan.train.config import TrainConfig

    ensure_demo_dataset()
    config = TrainConfig.from_dict(
        {
            "dataset": "demo-phantom",
            "arch": "dcgan",
            "resolution": 32,
            "batch_size": 8,
            "steps": 10_000_000,
            "width": 8,
            "z_dim": 16,
            "log_every": 10,
            "sample_every": 200,
            "checkpoint_every": 500,
            "device": "cpu",
        }
    )
    return start_training(config)[1]


def start_server(home: Path, port: int) -> subprocess.Popen:
    """``streamlit run app.py`` headless on 127.0.0.1:``port``; returns once it answers its health check."""
    env = dict(os.environ, MEDGAN_HOME=str(home))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise TimeoutError("streamlit did not start")


class Session:
    """One simulated browser tab on the Train page: it reruns each auto-refreshing fragment at the interval
    the server asked for (the watched run every 2 s, the runs table every 10 s), one request at a time."""

    def __init__(self, port: int) -> None:
        self.port, self.latencies, self.errors, self.full_runs = port, [], 0, 0
        self.intervals: dict[str, float] = {}  # fragment id -> seconds between its reruns
        self.page_hash = ""

    async def _send(self, conn, fragment_id: str = "") -> None:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = "train"
        msg.rerun_script.page_script_hash = self.page_hash
        if fragment_id:
            msg.rerun_script.fragment_id = fragment_id
            msg.rerun_script.is_auto_rerun = True
        await conn.send(msg.SerializeToString())

    async def _until_finished(self, conn) -> int:
        while True:
            raw = await conn.recv()
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":
                self.page_hash = self.page_hash or fwd.new_session.page_script_hash
            elif kind == "auto_rerun":
                self.intervals[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
            elif kind == "script_finished":
                return fwd.script_finished

    async def run(self, seconds: float) -> None:
        """Open the page, then poll its fragments at the server's intervals for ``seconds``."""
        url, origin = f"ws://127.0.0.1:{self.port}/_stcore/stream", f"http://127.0.0.1:{self.port}"
        async with connect(url, origin=origin, subprotocols=["streamlit"], max_size=64 << 20) as conn:
            await self._send(conn)
            await self._until_finished(conn)
            now = time.monotonic()
            end, due = now + seconds, {fragment: now for fragment in self.intervals}
            while due and time.monotonic() < end:
                fragment = min(due, key=due.get)
                await asyncio.sleep(max(0.0, due[fragment] - time.monotonic()))
                started = time.monotonic()
                due[fragment] = started + self.intervals[fragment]
                await self._send(conn, fragment)
                try:
                    finished = await asyncio.wait_for(self._until_finished(conn), timeout=30)
                    self.full_runs += finished != ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
                except TimeoutError:
                    self.errors += 1
                    continue
                self.latencies.append(time.monotonic() - started)


async def _round(sessions: list[Session], seconds: float) -> None:
    await asyncio.gather(*(s.run(seconds) for s in sessions))


def _row(pid: int, n: int, sessions: list[Session], marks: list[tuple], start: tuple) -> dict:
    """The figures of ``sessions`` since ``marks`` (their counters then) and ``start`` (rss, cpu, wall)."""
    rss_start, cpu_start, wall_start = start
    cpu_used = _cpu_seconds(pid) - cpu_start
    cpu = 100 * cpu_used / (time.monotonic() - wall_start)
    latencies = sorted(t for s, (i, _, _) in zip(sessions, marks, strict=True) for t in s.latencies[i:])
    if not latencies:
        raise RuntimeError(f"no fragment reruns measured with {n} sessions (no auto-rerun seen?)")
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    return {
        "sessions": n,
        "polls": len(latencies),
        "timeouts": sum(s.errors - e for s, (_, e, _) in zip(sessions, marks, strict=True)),
        "not_fragment_runs": sum(s.full_runs - f for s, (_, _, f) in zip(sessions, marks, strict=True)),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * p95, 1),
        "server_cpu_percent": round(cpu, 1),
        "server_cpu_ms_per_poll": round(1000 * cpu_used / len(latencies), 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": round(_rss_mb(pid), 1),
    }


def _start(pid: int) -> tuple[float, float, float]:
    return _rss_mb(pid), _cpu_seconds(pid), time.monotonic()


def _marks(sessions: list[Session]) -> list[tuple[int, int, int]]:
    return [(len(s.latencies), s.errors, s.full_runs) for s in sessions]


def measure(port: int, pid: int, n: int, seconds: float) -> dict:
    """One round of ``n`` new sessions: poll latency percentiles (ms), server CPU (%) and memory (MB)."""
    start, sessions = _start(pid), [Session(port) for _ in range(n)]
    asyncio.run(_round(sessions, seconds))
    return _row(pid, n, sessions, [(0, 0, 0)] * n, start)


async def _kept_open(port: int, pid: int, n: int, minutes: int) -> None:
    """``n`` sessions opened once and kept polling for ``minutes`` (tabs left open); prints a row per minute."""
    sessions = [Session(port) for _ in range(n)]
    task = asyncio.ensure_future(_round(sessions, 60.0 * minutes + 5))
    for minute in range(minutes):
        start, marks = _start(pid), _marks(sessions)
        await asyncio.sleep(60.0)
        print(json.dumps({"minute": minute + 1, **_row(pid, n, sessions, marks, start)}), flush=True)
    await task


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--seconds", type=float, default=40.0, help="length of each round")
    parser.add_argument("--memory-minutes", type=int, default=0, help="extra long round at the largest N")
    parser.add_argument(
        "--reconnect",
        action="store_true",
        help="memory round: new sessions every minute (default: the same sessions stay open throughout)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="medgan-bench-server-") as tmp:
        home = Path(tmp)
        run_id = prepare_workspace(home)
        port = _free_port()
        server = start_server(home, port)
        try:
            rows = [measure(port, server.pid, n, args.seconds) for n in args.sessions]
            base = rows[0]
            for row in rows:
                row["p95_vs_first"] = round(row["p95_ms"] / max(base["p95_ms"], 1e-9), 2)
                print(json.dumps(row), flush=True)
            if args.memory_minutes:
                n = max(args.sessions)
                if args.reconnect:
                    for minute in range(args.memory_minutes):
                        row = measure(port, server.pid, n, 60.0)
                        print(json.dumps({"minute": minute + 1, **row}), flush=True)
                else:
                    asyncio.run(_kept_open(port, server.pid, n, args.memory_minutes))
        finally:
            server.terminate()
            server.wait(timeout=15)
            from medgan.jobs.training import cancel_run

            cancel_run(run_id)
            time.sleep(3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
