"""dcmdjpeg: decode a JPEG-compressed DICOM file."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._codecapp import (WRITE_TS, add_decompressed_output, add_uid_options,
                                  convert_file, parse_decompressor)
from dcmpy.apps._files import add_input_format

TOOL = "dcmdjpeg"


def build_app() -> App:
    app = App(TOOL, "Decode JPEG-compressed DICOM file", columns=(4, 21))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    add_input_format(app, transfer_syntax=False)
    app.group("processing options:")
    app.subgroup("color space conversion:")
    for short, long, text, mode in (
            ("+cp", "--conv-photometric", "convert if YCbCr photometric interpr. (default)",
             "photometric"),
            ("+cl", "--conv-lossy", "convert YCbCr to RGB if lossy JPEG", "lossy"),
            ("+cg", "--conv-guess", "convert to RGB if YCbCr is guessed by library", "guess"),
            ("+cgl", "--conv-guess-lossy", "convert to RGB if lossy JPEG and YCbCr is\n"
             "guessed by the underlying JPEG library", "guess-lossy"),
            ("+ca", "--conv-always", "always convert YCbCr to RGB", "always"),
            ("+cn", "--conv-never", "never convert YCbCr to RGB", "never")):
        app.option(short, long, text, dest="conversion", const=mode, default="photometric")
    app.subgroup("planar configuration:")
    app.option("+pa", "--planar-auto", "automatically determine planar configuration\n"
               "from SOP class and color space (default)", dest="planar", const="auto",
               default="auto")
    app.option("+px", "--color-by-pixel", "always store color-by-pixel", dest="planar", const=0)
    app.option("+pl", "--color-by-plane", "always store color-by-plane", dest="planar", const=1)
    add_uid_options(app)
    app.subgroup("workaround options for incorrect JPEG encodings:")
    app.option("+w6", "--workaround-pred6", "enable workaround for JPEG lossless images\n"
               "with overflow in predictor 6", dest="workaround_pred6")
    app.option("+wi", "--workaround-incpl", "enable workaround for incomplete JPEG data",
               dest="workaround_incomplete")
    app.option("+wc", "--workaround-cornell", "enable workaround for 16-bit JPEG lossless\n"
               "Cornell images with Huffman table overflow", dest="workaround_cornell")
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
