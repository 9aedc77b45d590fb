"""The Glue jobs' Python dependencies: a pinned set of wheels derived from ``uv.lock``.

Glue installs ``--additional-python-modules`` with pip on every worker of every run. Given bare
names it resolves them on PyPI each time (unpinned below the top level, and unreachable from a
VPC without NAT). Instead ``make glue-wheels`` downloads exactly the locked versions of what the
jobs import on Glue 5.0 (Python 3.11, manylinux x86_64) into one zip; Terraform uploads it by
content hash and the jobs install it with ``--no-index``.

The set is the lock's dependency closure of :data:`GLUE_ROOTS`, minus :data:`GLUE_PROVIDED`
(what the Glue 5.0 runtime itself ships and the jobs take as is). pyarrow and typing-extensions
are shipped at the locked versions on purpose: pyiceberg's pyarrow I/O and pydantic 2 need
newer ones than Glue's, and the locked ones are the versions the local path is tested with.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

# What lake_glue imports on Glue besides the standard library, pyspark and boto3.
GLUE_ROOTS: dict[str, tuple[str, ...]] = {
    "dagster-pipes": (),
    "pyiceberg": ("glue", "pyarrow"),
    "pydantic": (),
}

# Shipped by the Glue 5.0 runtime and used as shipped: the AWS SDK (pyiceberg's glue extra asks
# only for boto3>=1.24.59) and Spark's own Python side.
GLUE_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3", "pyspark", "py4j"}
)

# PEP 508 marker environment of Glue 5.0 (Amazon Linux 2023, CPython 3.11, x86_64).
GLUE_ENVIRONMENT = {
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "python_version": "3.11",
    "python_full_version": "3.11.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
}

# pip download flags for the Glue 5.0 workers (glibc 2.34: manylinux2014 wheels and newer tags).
PIP_PLATFORM_ARGS = [
    "--only-binary=:all:",
    "--no-deps",
    "--implementation",
    "cp",
    "--python-version",
    "3.11",
    "--platform",
    "manylinux2014_x86_64",
    "--platform",
    "manylinux_2_28_x86_64",
    "--platform",
    "manylinux_2_34_x86_64",
]


def _applies(dependency: dict, extra: str = "") -> bool:
    marker = dependency.get("marker")
    return not marker or Marker(marker).evaluate({**GLUE_ENVIRONMENT, "extra": extra})


def glue_requirements(lock: dict, roots: dict[str, tuple[str, ...]] = GLUE_ROOTS) -> list[str]:
    """Pinned ``name==version`` lines of the roots' closure in a parsed ``uv.lock``, minus Glue's own.

    Dependencies whose markers do not hold on Glue 5.0 are left out; a root or dependency the
    lock does not hold is an error naming it.
    """
    packages = {canonicalize_name(p["name"]): p for p in lock["package"]}
    wanted: dict[str, str] = {}
    todo = [(canonicalize_name(name), extras) for name, extras in roots.items()]
    while todo:
        name, extras = todo.pop()
        if name in GLUE_PROVIDED:
            continue
        package = packages.get(name)
        if package is None:
            raise KeyError(f"uv.lock holds no package {name!r} (needed by the Glue jobs)")
        first_visit = name not in wanted
        wanted[name] = package["version"]
        deps = [d for d in package.get("dependencies", []) if _applies(d)] if first_visit else []
        for extra in extras:
            deps += [d for d in package.get("optional-dependencies", {}).get(extra, []) if _applies(d, extra)]
        todo += [(canonicalize_name(d["name"]), tuple(d.get("extra", ()))) for d in deps]
    return [f"{name}=={wanted[name]}" for name in sorted(wanted)]


def build(lock_path: Path, out: Path, pip: str) -> Path:
    """Download the wheels of :func:`glue_requirements` for Glue 5.0 and zip them flat into ``out``."""
    requirements = glue_requirements(tomllib.loads(lock_path.read_text()))
    with tempfile.TemporaryDirectory() as tmp:
        wheels = Path(tmp)
        (wheels / "requirements.txt").write_text("\n".join(requirements) + "\n")
        cmd = [pip, "download", *PIP_PLATFORM_ARGS, "-d", str(wheels), "-r", str(wheels / "requirements.txt")]
        subprocess.run(cmd, check=True)
        found = sorted(wheels.glob("*.whl"))
        if len(found) != len(requirements):
            raise RuntimeError(f"expected {len(requirements)} wheels for {requirements}, got {[w.name for w in found]}")
        out.parent.mkdir(parents=True, exist_ok=True)
        # Fixed timestamps: the same lock gives the same zip, so Terraform's content hash is stable.
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
            for wheel in found:
                info = zipfile.ZipInfo(wheel.name, date_time=(1980, 1, 1, 0, 0, 0))
                zf.writestr(info, wheel.read_bytes())
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m lake_platform.glue_wheels [--lock uv.lock] [--out dist/glue-wheels.zip] [--pip pip]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lock", type=Path, default=Path("uv.lock"))
    parser.add_argument("--out", type=Path, default=Path("dist/glue-wheels.zip"))
    parser.add_argument("--pip", default="pip")
    parser.add_argument("--print", action="store_true", help="print the requirement set and stop")
    args = parser.parse_args(argv)
    if args.print:
        print("\n".join(glue_requirements(tomllib.loads(args.lock.read_text()))))
        return 0
    print(build(args.lock, args.out, args.pip))
    return 0


if __name__ == "__main__":
    sys.exit(main())
