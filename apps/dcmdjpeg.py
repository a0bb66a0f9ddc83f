"""dcmdjpeg: decode a JPEG-compressed DICOM file."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._codecapp import (add_colour_conversion, add_jpeg_workarounds,
                                  add_decompressed_output, add_uid_options,
                                  convert_file, parse_decompressor)
from dcmpy.apps._files import WRITE_TS, add_input_format

TOOL = "dcmdjpeg"


def build_app() -> App:
    app = App(TOOL, "Decode JPEG-compressed DICOM file", columns=(4, 21))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    add_input_format(app, transfer_syntax=False)
    app.group("processing options:")
    add_colour_conversion(app, "color space conversion:", "never convert YCbCr to RGB")
    app.subgroup("planar configuration:")
    app.option("+pa", "--planar-auto", "automatically determine planar configuration\n"
               "from SOP class and color space (default)", dest="planar", const="auto",
               default="auto")
    app.option("+px", "--color-by-pixel", "always store color-by-pixel", dest="planar", const=0)
    app.option("+pl", "--color-by-plane", "always store color-by-plane", dest="planar", const=1)
    add_uid_options(app)
    add_jpeg_workarounds(app, "workaround options for incorrect JPEG encodings:")
    add_decompressed_output(app)
    return app


def main(argv: list[str] | None = None) -> int:
    opts = parse_decompressor(build_app(), argv)
    out_ts = WRITE_TS[opts.write_xfer]

    def process(ds) -> None:
        from dcmpy.dcmdata.transcode import decompress, new_instance
        log.info("decompressing file")
        options = {}
        ts = ds.transfer_syntax
        if ts is not None and ts.lossy:
            options["conversion"] = opts.conversion
            options["incomplete"] = bool(opts.workaround_incomplete)
        elif ts is not None and ts.uid in ("1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"):
            options["workaround_pred6"] = bool(opts.workaround_pred6)
            options["workaround_cornell"] = bool(opts.workaround_cornell)
        decompress(ds, out_ts, planar=opts.planar, **options)
        if opts.new_uid:
            new_instance(ds)

    return convert_file(opts, process, out_ts, write_meta=opts.write_meta, new_meta=True)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
