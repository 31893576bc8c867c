"""Build dist/blog.pyz: the blog and everything it needs in one file (`make pyz`).

shiv makes the file: a zip Python runs directly, which unpacks its packages once into
~/.shiv (SHIV_ROOT) on the first run, since compiled extensions (nh3, Pillow, lxml, brotli)
cannot be imported from inside a zip. A plain zipapp with vendored wheels would need the
same unpacking, written by hand.

Compiled wheels are made for one Python version each. So the packages are installed once
per Python version named (default 3.11 to 3.14), all at the same versions (pinned from the
first resolution), and merged: their Python files are the same, and their extension
modules carry the version in their names (_imaging.cpython-312-x86_64-linux-gnu.so), so
they sit side by side. The platform is Linux x86-64 with glibc 2.28 or newer (manylinux
wheels: Debian 10+, Ubuntu 20.04+, RHEL 8+).

templates/ and static/ live at the top of the repository; here they are copied into the
installed package, where create_app() looks first.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLATFORMS = (
    "manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
)  # fmt: skip
DEFAULT_PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# name-version-... .whl, as the wheel file name convention spells it.
WHEEL_NAME = re.compile(r"^([A-Za-z0-9_.]+)-([A-Za-z0-9_.!+]+)-")


def pip(*args: str | Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *map(str, args)], check=True)


def pinned_versions(wheels: Path) -> str:
    """A constraints file's text: every wheel the first resolution chose, at its version."""
    lines = []
    for wheel in sorted(wheels.glob("*.whl")):
        match = WHEEL_NAME.match(wheel.name)
        if match and match.group(1) != "blog":
            lines.append(f"{match.group(1)}=={match.group(2)}")
    return "\n".join(lines) + "\n"


def merge(source: Path, target: Path) -> None:
    """Copy one Python version's packages over another's; their Python files must agree."""
    for path in sorted(source.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(source)
        destination = target / relative
        if destination.exists() and not (
            relative.parts[0].endswith(".dist-info") or filecmp.cmp(path, destination, False)
        ):
            raise SystemExit(f"{relative} differs between Python versions: cannot merge")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def strip_debug_info(site: Path) -> None:
    """Drop the debugging sections some wheels' extension modules keep (SQLAlchemy's and
    PyYAML's: most of their size; the code is untouched). Skipped without binutils' strip:
    the file is then larger, not different."""
    strip = shutil.which("strip")
    if strip is None:
        print("strip (binutils) not found: extension modules keep their debug sections")
        return
    modules = [str(path) for path in site.rglob("*.so")]
    for start in range(0, len(modules), 100):
        subprocess.run([strip, "--strip-debug", *modules[start : start + 100]], check=True)


def build(output: Path, pythons: list[str], work: Path) -> None:
    if work.exists():
        shutil.rmtree(work)
    wheels, site = work / "wheels", work / "site-packages"
    # The blog's wheel, and a wheel of every dependency (built here from those that
    # publish only sources), resolved for the Python running this.
    pip("wheel", "--wheel-dir", wheels, ROOT)
    constraints = work / "constraints.txt"
    constraints.write_text(pinned_versions(wheels))
    blog_wheel = next(wheels.glob("blog-*.whl"))
    for version in pythons:
        target = work / f"site-{version}"
        platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
        pip(
            "install", "--target", target, "--only-binary=:all:", *platforms,
            "--python-version", version, "--implementation", "cp",
            "--find-links", wheels, "--constraint", constraints, "--no-compile", blog_wheel,
        )  # fmt: skip
        merge(target, site)
    strip_debug_info(site)
    for folder in ("templates", "static"):
        shutil.copytree(ROOT / folder, site / "blog" / folder)
    # `python3 blog.pyz` runs blog.pyz:main; the shebang lets `./blog.pyz` run too.
    output.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "shiv", "--site-packages", str(site), "--entry-point",
         "blog.pyz:main", "--output-file", str(output), "--python", "/usr/bin/env python3",
         "--compressed", "--reproducible"],
        check=True,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / "blog.pyz")
    parser.add_argument(
        "--pythons",
        default=" ".join(DEFAULT_PYTHONS),
        help="Python versions to include compiled wheels for (space-separated).",
    )
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyz")
    args = parser.parse_args()
    build(args.output.resolve(), args.pythons.split(), args.work.resolve())
    size = args.output.stat().st_size
    print(f"{args.output}: {size / 1024 / 1024:.1f} MB, for CPython {args.pythons} on Linux x86-64")


if __name__ == "__main__":
    main()
