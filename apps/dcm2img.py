"""dcm2img: DCMTK 3.6.9's unified renderer (dcm2pnm + dcmj2pnm + dcml2pnm): the output format
follows the output file's extension unless a format option is given."""
from __future__ import annotations

import os

from dcmpy.apps._cmdline import run
from dcmpy.apps.dcm2pnm import build_app, main as render_main

TOOL = "dcm2img"
BY_EXTENSION = {".pgm": "raw", ".ppm": "raw", ".pnm": "raw", ".png": "png", ".bmp": "bmp",
                ".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg"}


def format_for(name: str | None) -> str | None:
    """The format option an output file name implies (None: the default)."""
    if not name:
        return None
    return BY_EXTENSION.get(os.path.splitext(name)[1].lower())


def main(argv: list[str] | None = None) -> int:
    app = build_app(TOOL, "Convert DICOM images to PGM/PPM, PNG, TIFF, JPEG or BMP", jpeg=True)
    return render_main(argv, app, default_format=lambda opts: format_for(opts.bitmap_out))


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
