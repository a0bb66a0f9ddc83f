"""cda2dcm: encapsulate an HL7 CDA document into a DICOM Encapsulated CDA instance."""
from __future__ import annotations

from dcmpy.apps._cmdline import run
from dcmpy.apps.pdf2dcm import convert

TOOL = "cda2dcm"


def main(argv: list[str] | None = None) -> int:
    return convert(TOOL, "cda", argv)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
