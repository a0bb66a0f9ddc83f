"""dcmdjpls: decode a JPEG-LS-compressed DICOM file."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._codecapp import (add_decompressed_output, add_uid_options,
                                  convert_file, parse_decompressor)
from dcmpy.apps._files import WRITE_TS, add_input_format

TOOL = "dcmdjpls"


def build_app() -> App:
    app = App(TOOL, "Decode JPEG-LS compressed DICOM file", columns=(3, 21))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    add_input_format(app, transfer_syntax=False)
    app.group("processing options:")
    app.subgroup("planar configuration:")
    app.option("+pr", "--planar-restore", "restore original planar configuration (default)",
               dest="planar", const="restore", default="restore")
    app.option("+pa", "--planar-auto", "automatically determine planar configuration\n"
               "from SOP class and color space", dest="planar", const="auto")
    app.option("+px", "--color-by-pixel", "always store color-by-pixel", dest="planar", const=0)
    app.option("+pl", "--color-by-plane", "always store color-by-plane", dest="planar", const=1)
    add_uid_options(app)
    app.subgroup("workaround options for incorrect JPEG-LS encodings:")
    app.option("+wi", "--workaround-incpl", "enable workaround for incomplete JPEG-LS data",
               dest="workaround_incomplete")
    app.subgroup("other processing options:")
    app.option("+io", "--ignore-offsettable", "ignore offset table when decompressing",
               dest="ignore_offset_table")
    add_decompressed_output(app, padding_default_note=False)
    return app


def main(argv: list[str] | None = None) -> int:
    opts = parse_decompressor(build_app(), argv)
    out_ts = WRITE_TS[opts.write_xfer]

    def process(ds) -> None:
        from dcmpy.dcmdata.transcode import decompress, new_instance
        log.info("decompressing file")
        decompress(ds, out_ts, planar=opts.planar,
                   use_tables=not opts.ignore_offset_table)
        if opts.new_uid:
            new_instance(ds)

    return convert_file(opts, process, out_ts, write_meta=opts.write_meta, new_meta=True)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
