"""dcmj2pnm: dcm2pnm with JPEG decoding options and JPEG output (+oj)."""
from __future__ import annotations

from dcmpy.apps._cmdline import run
from dcmpy.apps.dcm2pnm import build_app, main as render_main

TOOL = "dcmj2pnm"


def main(argv: list[str] | None = None) -> int:
    return render_main(argv, build_app(TOOL, "Convert DICOM images to PGM/PPM, PNG, TIFF, JPEG "
                                             "or BMP", jpeg=True))


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
