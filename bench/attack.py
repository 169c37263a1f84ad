"""Hostile inputs against the import: each is made here (bench/hostile.py), imported in a fresh subprocess
with its own empty workspace, and reported as refused or imported, with the peak memory above the process's
baseline (ru_maxrss of the importer after a warm-up import) and the largest decode worker's resident size
(forked workers share the importer's pages, which this counts too), the bytes left in the workspace, and the
seconds the import took. A benign 32 x 32 PNG is the reference row, measured in the same run.

    python bench/attack.py [--workers 4] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.hostile import HOSTILE_FILES, small_png  # noqa: E402

_IMPORT = """
import json, os, resource, sys, time
from pathlib import Path
import medgan.data.dicom, medgan.data.nifti, medgan.data.npz, medgan.data.raster, medgan.data.zipsafe
from medgan.data.ingest import ingest
ingest(sys.argv[3], "warm-up", workers=1)  # imports and first-use set-up are the baseline, not the attack
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
warm_bytes = sum(p.stat().st_size for p in Path(os.environ["MEDGAN_HOME"]).rglob("*") if p.is_file())
start = time.perf_counter()
try:
    result = ingest(sys.argv[1], "attack", workers=int(sys.argv[2]))
    outcome = {"imported": result.dataset.n_images, "skipped": [s.reason for s in result.skipped]}
except Exception as exc:
    outcome = {"imported": 0, "refused": f"{type(exc).__name__}: {exc}"}
outcome["seconds"] = time.perf_counter() - start
outcome["warm_bytes"] = warm_bytes
outcome["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
outcome["child_peak"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps(outcome))
"""


def _bytes_under(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def attack(name: str, path: Path, workers: int, warm_up: Path) -> dict:
    """Import ``path`` in a subprocess with an empty workspace (after a warm-up import of ``warm_up``)."""
    with tempfile.TemporaryDirectory(prefix="medgan-attack-") as home:
        env = {**os.environ, "MEDGAN_HOME": home}
        out = subprocess.run(
            [sys.executable, "-c", _IMPORT, str(path), str(workers), str(warm_up)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if out.returncode != 0:
            return {
                "input": name,
                "result": f"importer died (exit {out.returncode})",
                "peak_mib": float("nan"),
                "worker_mib": float("nan"),
                "written_mib": _bytes_under(Path(home)) / 2**20,
                "seconds": float("nan"),
            }
        m = json.loads(out.stdout.strip().splitlines()[-1])
        written = _bytes_under(Path(home)) - m["warm_bytes"]
    if m.get("refused"):
        result = f"refused: {m['refused']}"
    elif m["imported"] and not m["skipped"]:
        result = f"imported ({m['imported']} images)"
    else:
        result = f"imported {m['imported']}, skipped {len(m['skipped'])}: {'; '.join(m['skipped'])}"
    return {
        "input": f"{name} ({path.stat().st_size / 2**20:.2f} MB)",
        "result": result,
        "peak_mib": m["peak"] / 2**20,
        "worker_mib": m["child_peak"] / 2**20,
        "written_mib": written / 2**20,
        "seconds": m["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table (for the README)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="medgan-hostile-") as tmp:
        folder = Path(tmp)
        good = folder / "good.png"
        good.write_bytes(small_png())
        rows = [attack("reference: 32 x 32 PNG", good, args.workers, good)]
        for name, make in HOSTILE_FILES.items():
            one = folder / name.replace(" ", "_").replace("^", "").replace("/", "")
            one.mkdir()
            rows.append(attack(name, make(one), args.workers, good))
    header = [
        "input",
        "result",
        "importer peak above baseline (MiB)",
        "largest worker RSS (MiB)",
        "left in workspace (MiB)",
        "seconds",
    ]
    if args.markdown:
        print("| " + " | ".join(header) + " |\n|---|---|---:|---:|---:|---:|")
    for row in rows:
        cells = [
            row["input"],
            row["result"],
            f"{row['peak_mib']:.0f}",
            f"{row['worker_mib']:.0f}",
            f"{row['written_mib']:.2f}",
            f"{row['seconds']:.2f}",
        ]
        if args.markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(
                f"{cells[0]}\n  {cells[1]}\n  "
                + ", ".join(f"{h}: {c}" for h, c in zip(header[2:], cells[2:], strict=True))
            )


if __name__ == "__main__":
    main()
