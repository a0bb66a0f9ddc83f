"""dcm2cda: extract the CDA document of a DICOM Encapsulated CDA instance, byte for byte
(DCMTK 3.6.7 has no such tool; 3.6.9 added dcm2cda; it follows dcm2pdf)."""
from __future__ import annotations

from dcmpy.apps._cmdline import run
from dcmpy.apps.dcm2pdf import extract_main

TOOL = "dcm2cda"


def main(argv: list[str] | None = None) -> int:
    return extract_main(TOOL, "cda", argv)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
