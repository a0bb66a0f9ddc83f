"""dcm2stl: extract the STL document of a DICOM Encapsulated STL instance, byte for byte
(DCMTK 3.6.7 has no such tool; it follows dcm2pdf)."""
from __future__ import annotations

from dcmpy.apps._cmdline import run
from dcmpy.apps.dcm2pdf import extract_main

TOOL = "dcm2stl"


def main(argv: list[str] | None = None) -> int:
    return extract_main(TOOL, "stl", argv)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
