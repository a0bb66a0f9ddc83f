"""dcmdrle: decode an RLE-compressed DICOM file."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._codecapp import (add_decompressed_output, add_uid_options,
                                  convert_file, parse_decompressor)
from dcmpy.apps._files import WRITE_TS, add_input_format

TOOL = "dcmdrle"


def build_app() -> App:
    app = App(TOOL, "Decode RLE-compressed DICOM file", columns=(3, 21))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    add_input_format(app, transfer_syntax=False)
    app.group("processing options:")
    add_uid_options(app)
    app.subgroup("RLE byte segment order:")
    app.option("+bd", "--byte-order-default", "most significant byte first (default)",
               dest="msb_first", default=True)
    app.option("+br", "--byte-order-reverse", "least significant byte first", dest="msb_first",
               const=False)
    add_decompressed_output(app)
    return app


def main(argv: list[str] | None = None) -> int:
    opts = parse_decompressor(build_app(), argv)
    out_ts = WRITE_TS[opts.write_xfer]

    def process(ds) -> None:
        from dcmpy.dcmdata.transcode import decompress, new_instance
        log.info("decompressing file")
        decompress(ds, out_ts, **({} if opts.msb_first else {"msb_first": False}))
        if opts.new_uid:
            new_instance(ds)

    return convert_file(opts, process, out_ts, write_meta=opts.write_meta)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
