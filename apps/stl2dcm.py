"""stl2dcm: encapsulate a binary STL model into a DICOM Encapsulated STL instance."""
from __future__ import annotations

from dcmpy.apps._cmdline import run
from dcmpy.apps.pdf2dcm import convert

TOOL = "stl2dcm"


def main(argv: list[str] | None = None) -> int:
    return convert(TOOL, "stl", argv)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
