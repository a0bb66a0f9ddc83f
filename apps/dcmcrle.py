"""dcmcrle: encode a DICOM file to RLE Lossless."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._codecapp import (UNCOMPRESSED_PREDECESSOR, add_encapsulation_options,
                                  convert_file, to_secondary_capture)
from dcmpy.apps._files import add_input_format, add_output_encoding

TOOL = "dcmcrle"
RLE_LOSSLESS = "1.2.840.10008.1.2.5"


def build_app() -> App:
    app = App(TOOL, "Encode DICOM file to RLE transfer syntax", columns=(3, 21))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    add_input_format(app)
    app.group("encapsulated pixel data encoding options:")
    add_encapsulation_options(app)
    app.group("output options:")
    add_output_encoding(app, padding="file")
    return app


def main(argv: list[str] | None = None) -> int:
    opts = build_app().parse(argv)

    def process(ds) -> None:
        from dcmpy.dcmdata.transcode import (compress, compression_ratio, mark_derived,
                                              new_instance)
        log.info("Convert DICOM file to compressed transfer syntax")
        if 0x7FE00010 not in ds:
            log.warn("No pixel data present, nothing to compress")
        fragment = opts.fragment_kb * 1024 if opts.fragment_kb else None
        if fragment:
            log.warn("limiting the fragment size may result in non-standard conformant encoding")
        compress(ds, RLE_LOSSLESS, offset_table=opts.offset_table, fragment_size=fragment)
        log.info("Output transfer syntax RLE Lossless can be written")
        if opts.new_uid or opts.to_sc:
            mark_derived(ds, "Lossless RLE compression, compression ratio "
                             f"{compression_ratio(ds):.5g}")
            new_instance(ds, UNCOMPRESSED_PREDECESSOR)
        if opts.to_sc:
            to_secondary_capture(ds)

    return convert_file(opts, process, RLE_LOSSLESS, action="encoding file")


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
