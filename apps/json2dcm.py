"""json2dcm: convert a DICOM JSON document (PS3.18 Annex F) to a DICOM file or data set.

Options on the pattern of DCMTK's xml2dcm (and 3.7.0's json2dcm). BulkDataURIs are read only
from local files inside the JSON document's folder (or ``+bd``). Malformed JSON gets one error
line naming the line/column or the attribute, exit code 1, and no output file.
"""
from __future__ import annotations

import os
import sys

from dcmpy.apps._files import WRITE_TS, add_output_encoding, add_read_meta, add_write_xfer
from dcmpy.apps._cmdline import App, Int, Options, log, run

TOOL = "json2dcm"


def add_uid_options(app: App) -> None:
    app.subgroup("unique identifiers:")
    app.option("+Ug", "--generate-new-uids", "generate new Study/Series/SOP Instance UID",
               dest="new_uids")
    app.option("-Uo", "--dont-overwrite-uids", "do not overwrite existing UIDs (default)",
               dest="overwrite_uids", const=False)
    app.option("+Uo", "--overwrite-uids", "overwrite existing UIDs", dest="overwrite_uids")


def add_write_options(app: App) -> None:
    """The 'output options' block of xml2dcm (json2dcm shares it)."""
    app.group("output options:")
    app.subgroup("output file format:")
    app.option("+F", "--write-file", "write file format (default)", dest="write_dataset",
               const=False)
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_dataset")
    app.option("+Fu", "--update-meta-info", "update particular file meta information",
               dest="update_meta")
    add_write_xfer(app)


def add_encoding_options(app: App) -> None:
    """VRs, group lengths, sequence lengths, padding and deflate level (as xml2dcm)."""
    add_output_encoding(app)
    app.subgroup("deflate compression level (only with --write-xfer-deflated):")
    app.option("+cl", "--compression-level", "0=uncompressed, 1=fastest, 9=best compression",
               value="[l]evel: integer (default: 6)", type=Int(0, 9), dest="compression_level",
               default=6)


def read_text(name: str, tool: str) -> bytes | None:
    """The input document's bytes ("-": stdin), or None after logging an error."""
    try:
        if name == "-":
            return sys.stdin.buffer.read()
        with open(name, "rb") as f:
            return f.read()
    except OSError as exc:
        log.error("%s: %s: reading file: %s", tool, exc.strerror or exc, name)
        return None


def new_uids(ds, overwrite: bool) -> None:
    """+Ug: Study, Series and SOP Instance UID (new ones where missing, or everywhere with +Uo)."""
    from dcmpy.dcmdata.element import Element
    from dcmpy.dcmdata.uid import generate_uid
    for tag in (0x0020000D, 0x0020000E, 0x00080018):
        if overwrite or tag not in ds or not bytes(ds[tag].raw).strip(b"\0 "):
            ds[tag] = Element(tag, "UI", generate_uid())


def write_dataset(ds, opts: Options, tool: str) -> int:
    """Write ``ds`` as the output options say (atomically); 0, or 1 after logging an error."""
    from dcmpy.dcmdata.writer import DicomWriteError, WriteOptions, dcmwrite
    if opts.new_uids:
        new_uids(ds, bool(opts.overwrite_uids))
    write = WriteOptions(
        transfer_syntax=WRITE_TS.get(opts.write_xfer),
        write_meta=not opts.write_dataset,
        group_lengths=opts.group_lengths,
        explicit_lengths=opts.explicit_lengths,
        compression_level=opts.compression_level,
        new_vrs=opts.new_vrs,
        padding="off" if opts.write_dataset else opts.padding,
    )
    name = opts.dcmfile_out
    log.info("writing DICOM output file: %s", name)
    try:
        if name == "-":
            data = dcmwrite(None, ds, write)
            sys.stdout.buffer.write(data)
        else:
            dcmwrite(name, ds, write)
    except DicomWriteError as exc:
        log.fatal("%s: writing file: %s", exc, name)
        return 1
    except OSError as exc:
        log.fatal("%s: writing file: %s", exc.strerror or exc, name)
        return 1
    return 0


def build_app() -> App:
    app = App(TOOL, "Convert JSON document to DICOM file or data set", columns=(3, 21))
    app.param("jsonfile-in", 'JSON input filename to be converted ("-" for stdin)')
    app.param("dcmfile-out", 'DICOM output filename ("-" for stdout)')
    app.group("input options:")
    add_read_meta(app)
    app.subgroup("bulk data:")
    app.option("+bd", "--bulk-data-dir", "read BulkDataURIs inside directory d only\n"
               "(default: the folder of jsonfile-in)", value="[d]irectory: string",
               dest="bulk_dir")
    app.group("processing options:")
    add_uid_options(app)
    add_write_options(app)
    add_encoding_options(app)
    return app


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    from dcmpy.dcmdata.jsonmodel import BulkDataResolver, JsonModelError, JsonOptions, from_json

    data = read_text(opts.jsonfile_in, TOOL)
    if data is None:
        return 1
    base = os.path.dirname(os.path.abspath(opts.jsonfile_in)) if opts.jsonfile_in != "-" else "."
    options = JsonOptions(read_meta=opts.read_meta,
                          bulk_resolver=BulkDataResolver(base, opts.bulk_dir))
    log.info("reading JSON input file: %s", opts.jsonfile_in)
    try:
        ds = from_json(data, options)
    except JsonModelError as exc:
        log.error("%s: %s: reading file: %s", TOOL, exc, opts.jsonfile_in)
        return 1
    return write_dataset(ds, opts, TOOL)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
