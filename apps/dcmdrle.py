"""dcmdrle: decode an RLE-compressed DICOM file."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._codecapp import WRITE_TS, add_input_format, add_output_encoding, convert_file

TOOL = "dcmdrle"


def build_app() -> App:
    app = App(TOOL, "Decode RLE-compressed DICOM file", columns=(3, 21))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    add_input_format(app, transfer_syntax=False)
    app.group("processing options:")
    app.subgroup("SOP Instance UID:")
    app.option("+ud", "--uid-default", "keep same SOP Instance UID (default)", dest="new_uid",
               const=False, default=False)
    app.option("+ua", "--uid-always", "always assign new UID", dest="new_uid")
    app.subgroup("RLE byte segment order:")
    app.option("+bd", "--byte-order-default", "most significant byte first (default)",
               dest="msb_first", default=True)
    app.option("+br", "--byte-order-reverse", "least significant byte first", dest="msb_first",
               const=False)
    app.group("output options:")
    app.subgroup("output file format:")
    app.option("+F", "--write-file", "write file format (default)", dest="write_meta",
               default=True)
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_meta", const=False)
    app.subgroup("output transfer syntax:")
    app.option("+te", "--write-xfer-little", "write with explicit VR little endian (default)",
               dest="write_xfer", const="little", default="little")
    app.option("+tb", "--write-xfer-big", "write with explicit VR big endian TS",
               dest="write_xfer", const="big")
    app.option("+ti", "--write-xfer-implicit", "write with implicit VR little endian TS",
               dest="write_xfer", const="implicit")
    add_output_encoding(app, dataset_padding=True)
    return app


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    app.check_conflict("--padding-create", "--write-dataset",
                       not opts.write_meta and isinstance(opts.padding, tuple))
    out_ts = WRITE_TS[opts.write_xfer]

    def process(ds) -> None:
        from dcmpy.dcmdata.transcode import decompress, derive
        log.info("decompressing file")
        decompress(ds, out_ts, **({} if opts.msb_first else {"msb_first": False}))
        if opts.new_uid:
            derive(ds, image_type=False)

    return convert_file(opts, process, out_ts, write_meta=opts.write_meta)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
