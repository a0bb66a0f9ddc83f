"""dcmmkdir: create a DICOMDIR file (DCMTK's dcmmkdir: dcmgpdir plus the application profiles).

dcmpy builds the general purpose profiles (STD-GEN-CD/DVD-RAM, -DVD-JPEG/-J2K, -BD-JPEG/-J2K,
-USB/MMC/CF/SD-JPEG/-J2K, -MIME); the options of the other profiles and of icon images are
accepted as DCMTK spells them and refused with an error.
"""
from __future__ import annotations

from dcmpy.apps._cmdline import run
from dcmpy.apps.dcmgpdir import build_app, main as _main

TOOL = "dcmmkdir"


def main(argv: list[str] | None = None) -> int:
    return _main(argv, TOOL, build_app(TOOL, "Create a DICOMDIR file", mkdir=True))


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
