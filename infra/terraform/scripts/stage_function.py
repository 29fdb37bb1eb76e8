"""Stage the Cloud Function's source: the folder `gcloud functions deploy --source` takes.

Cloud Functions (gen 2) builds a Python function from a folder with main.py and
requirements.txt at its root, and pip-installs requirements.txt from that folder
(/workspace). The zookeeper package is not on PyPI, so the staged folder carries its wheel
and requirements.txt points at it:

    build/function/
      main.py              functions/main.py, unchanged
      requirements.txt     functions/requirements.txt, the ainimal-zookeeper line replaced by
                           ./wheels/ainimal_zookeeper-<version>-py3-none-any.whl[cloud,gcp]
      wheels/ainimal_zookeeper-<version>-py3-none-any.whl
      zoo.yaml             the config (ZK_CONFIG=/workspace/zoo.yaml)
      catalog/             the folder the config's relative model paths point into

Usage (from the repository root, after `pip wheel --no-deps -w dist .`):

    python infra/terraform/scripts/stage_function.py --wheel-dir dist --out build/function \
        --zip build/function.zip

Only the standard library is used, so it runs in any python:3.11 build step.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
PACKAGE = "ainimal-zookeeper"
EXTRAS = ("cloud", "gcp")  # functions-framework, and the Firestore / GCS / Pub/Sub / GKE / Run clients
_REQUIREMENT = re.compile(r"^\s*ainimal[-_.]zookeeper\s*(\[(?P<extras>[^\]]*)\])?", re.IGNORECASE)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same zip


def find_wheel(wheel_dir: Path) -> Path:
    """The one ainimal_zookeeper wheel in `wheel_dir`; exits with a message otherwise."""
    wheels = sorted(wheel_dir.glob("ainimal_zookeeper-*.whl"))
    if len(wheels) != 1:
        found = ", ".join(w.name for w in wheels) or "none"
        sys.exit(
            f"error: expected one ainimal_zookeeper-*.whl in {wheel_dir}, found {found}; "
            f"build it with `pip wheel --no-deps -w {wheel_dir} .` in a clean folder"
        )
    return wheels[0]


def rewrite_requirements(text: str, wheel_name: str) -> str:
    """requirements.txt with the package line pointing at the bundled wheel.

    Raises:
        ValueError: no line names the package.
    """
    lines, replaced = [], False
    for line in text.splitlines():
        match = _REQUIREMENT.match(line)
        if match and not replaced:
            extras = {e.strip() for e in (match["extras"] or "").split(",") if e.strip()} | set(EXTRAS)
            line = f"./wheels/{wheel_name}[{','.join(sorted(extras))}]"
            replaced = True
        lines.append(line)
    if not replaced:
        raise ValueError(f"functions/requirements.txt has no {PACKAGE} line to point at the wheel")
    return "\n".join(lines) + "\n"


def stage(wheel: Path, out: Path, config: Path, catalog: Path, functions_dir: Path) -> None:
    """Fill `out` (emptied first) with the function source described in the module docstring."""
    if out.exists():
        shutil.rmtree(out)
    (out / "wheels").mkdir(parents=True)
    shutil.copy2(functions_dir / "main.py", out / "main.py")
    requirements = (functions_dir / "requirements.txt").read_text()
    (out / "requirements.txt").write_text(rewrite_requirements(requirements, wheel.name))
    shutil.copy2(wheel, out / "wheels" / wheel.name)
    shutil.copy2(config, out / "zoo.yaml")
    shutil.copytree(catalog, out / "catalog", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def write_zip(folder: Path, archive: Path) -> None:
    """Zip the folder's contents (not the folder itself) with fixed timestamps."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_ZIP_TIME)
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, stage, optionally zip; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel-dir", type=Path, default=REPO / "dist", help="folder holding the built wheel")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "function", help="staging folder (replaced)")
    parser.add_argument(
        "--config",
        type=Path,
        default=REPO / "infra" / "terraform" / "config" / "zoo.yaml",
        help="config copied to zoo.yaml",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        default=REPO / "examples",
        help="folder copied to catalog/ (the config's model and env files)",
    )
    parser.add_argument(
        "--functions-dir", type=Path, default=REPO / "functions", help="folder with main.py and requirements.txt"
    )
    parser.add_argument("--zip", type=Path, help="also write the staged folder as this zip")
    args = parser.parse_args(argv)

    wheel = find_wheel(args.wheel_dir)
    stage(wheel, args.out, args.config, args.catalog, args.functions_dir)
    if args.zip:
        write_zip(args.out, args.zip)
    print(f"staged {args.out} with {wheel.name}" + (f"; zipped to {args.zip}" if args.zip else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
