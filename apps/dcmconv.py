"""dcmconv: convert the encoding of a DICOM file (transfer syntax, lengths, padding, charset)."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, Int, log, run
from dcmpy.apps._files import (WRITE_TS, add_input_options, add_output_encoding, add_write_xfer,
                               read_options_from)
from dcmpy.dcmdata import xfer

TOOL = "dcmconv"


def build_app() -> App:
    app = App(TOOL, "Convert DICOM file encoding", columns=(3, 21))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    add_input_options(app, scan_dirs=False, long_values=False)
    app.group("processing options:")
    app.subgroup("specific character set:")
    app.option("+U8", "--convert-to-utf8", "convert all element values that are affected\n"
               "by Specific Character Set (0008,0005) to UTF-8", dest="charset", const="ISO_IR 192")
    app.option("+L1", "--convert-to-latin1", "convert affected element values to ISO 8859-1",
               dest="charset", const="ISO_IR 100")
    app.option("+A7", "--convert-to-ascii", "convert affected element values to 7-bit ASCII",
               dest="charset", const="")
    app.option("+C", "--convert-to-charset", "convert affected element values to the character\n"
               "set specified by the DICOM defined term c", value="[c]harset: string",
               dest="charset")
    app.option("-Ct", "--transliterate", "try to approximate characters that cannot be\n"
               "represented through similar looking characters", dest="transliterate")
    app.option("-Cd", "--discard-illegal", "discard characters that cannot be represented\n"
               "in destination character set", dest="discard_illegal")
    app.subgroup("other processing options:")
    app.option("-ig", "--no-invalid-groups", "remove elements with invalid group number",
               dest="no_invalid_groups")
    app.group("output options:")
    app.subgroup("output file format:")
    app.option("+Fm", "--write-new-meta-info", "write file format\nwith new meta information (default)",
               dest="write_mode", const="new-meta", default="new-meta")
    app.option("+F", "--write-file", "write file format", dest="write_mode", const="file")
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_mode", const="dataset")
    add_write_xfer(app, deflated="write with deflated explicit VR little endian TS")
    app.option("+tg", "--write-xfer-ge", "write private GE LEI with big endian pixel TS\n"
               "(non-standard)", dest="write_xfer", const="ge")
    app.option("+tu", "--write-xfer-uid", "write with transfer syntax t, compressing or\n"
               "decompressing the pixel data (dcmpy)", value="[t]ransfer syntax: UID or name",
               dest="write_xfer")
    add_output_encoding(app, oversized=True)
    app.subgroup("deflate compression level (only with --write-xfer-deflated):")
    app.option("+cl", "--compression-level", "0=uncompressed, 1=fastest, 9=best compression",
               value="[l]evel: integer (default: 6)", type=Int(0, 9), dest="compression_level",
               default=6)
    return app


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    converting = opts.charset is not None
    app.check_conflict("--padding-create", "--write-dataset",
                       opts.write_mode == "dataset" and isinstance(opts.padding, tuple))
    app.check_dependence("--transliterate", "one of the --convert-to-xxx options",
                         converting or not opts.transliterate)
    app.check_dependence("--discard-illegal", "one of the --convert-to-xxx options",
                         converting or not opts.discard_illegal)
    from dcmpy.dcmdata.reader import DicomError, dcmread
    from dcmpy.dcmdata.writer import DicomWriteError, WriteOptions, dcmwrite

    if opts.write_xfer == "ge":
        log.fatal("the private GE transfer syntax (+tg) is not supported")
        return 1
    target = _target_syntax(opts.write_xfer)
    if target is None:
        log.fatal("unknown transfer syntax: %s", opts.write_xfer)
        return 1
    try:
        ds = dcmread(opts.dcmfile_in, read_options_from(opts))
    except OSError as exc:
        log.fatal("%s: reading file: %s", exc.strerror or exc, opts.dcmfile_in)
        return 1
    except DicomError as exc:
        log.fatal("%s: reading file: %s", exc, opts.dcmfile_in)
        return 1
    if converting:
        from dcmpy.dcmdata.charconv import CharsetConversionError, convert_charset
        try:
            convert_charset(ds, opts.charset, transliterate=bool(opts.transliterate),
                            discard=bool(opts.discard_illegal))
        except CharsetConversionError as exc:
            if exc.warning:
                log.warn("%s", exc.warning)
            log.fatal("%s: processing file: %s", exc, opts.dcmfile_in)
            return 1
    if opts.no_invalid_groups:
        ds.remove_invalid_groups()
    if target and ds.transfer_syntax is not None and (
            ds.transfer_syntax.encapsulated or xfer.lookup(target).encapsulated):
        from dcmpy.dcmdata.pixels import PixelDataError
        from dcmpy.dcmdata.transcode import transcode
        try:
            transcode(ds, target)
        except PixelDataError as exc:
            log.fatal("%s: converting file: %s", exc, opts.dcmfile_in)
            return 1
    write = WriteOptions(
        transfer_syntax=target or None,
        write_meta=opts.write_mode != "dataset",
        new_meta=opts.write_mode == "new-meta",
        group_lengths=opts.group_lengths,
        explicit_lengths=opts.explicit_lengths,
        compression_level=opts.compression_level,
        new_vrs=opts.new_vrs,
        padding=opts.padding,       # -F keeps existing padding unless -p is given, as DCMTK
        correct_strings=opts.data_correction,
    )
    try:
        dcmwrite(opts.dcmfile_out, ds, write)
    except DicomWriteError as exc:
        log.fatal("%s: writing file: %s", exc, opts.dcmfile_out)
        return 1
    except OSError as exc:
        log.fatal("%s: writing file: %s", exc.strerror or exc, opts.dcmfile_out)
        return 1
    return 0


def _target_syntax(option: str | None) -> str | None:
    """The output syntax's UID for the ``+t?`` choice (None keeps the input's); a ``+tu`` value
    may be a UID, a DCMTK name (``JPEG2000LosslessOnly``) or a PS3.6 keyword."""
    if option is None or option in WRITE_TS:
        return WRITE_TS.get(option) if option else ""
    from dcmpy.dcmdata.uid import uid_for_dcmtk_name, uid_for_keyword
    uid = uid_for_dcmtk_name(option) or uid_for_keyword(option) or option
    return uid if xfer.lookup(uid) is not None else None


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
