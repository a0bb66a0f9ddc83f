"""dcm2xml: convert a DICOM file or data set to XML (DCMTK's format or PS3.19's Native Model).

Options and output as DCMTK 3.6.7's dcm2xml (plus ``+bd``: Native Model bulk data as files).
Exit codes as DCMTK's: 1 syntax error or output not writable, 3 extended characters without a
Specific Character Set (or a failed conversion), 5 input not readable.
"""
from __future__ import annotations

import os

from dcmpy.apps._cmdline import App, Int, log, run
from dcmpy.apps.dcm2json import add_read_options, read_input, write_output

TOOL = "dcm2xml"
EXITCODE_CHARSET = 3
EXITCODE_READ = 5


def build_app() -> App:
    app = App(TOOL, "Convert DICOM file and data set to XML", columns=(4, 20))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("xmlfile-out", "XML output filename (default: stdout)", optional=True)
    add_read_options(app)
    app.subgroup("long tag values:")
    app.option("+M", "--load-all", "load very long tag values (e.g. pixel data)",
               dest="load_all")
    app.option("-M", "--load-short", "do not load very long values (default)", dest="load_all",
               const=False)
    app.option("+R", "--max-read-length", "set threshold for long values to k kbytes",
               value="[k]bytes: integer (4..4194302, default: 4)", type=Int(4, 4194302),
               dest="max_read_length", default=4)
    app.group("processing options:")
    app.subgroup("specific character set:")
    app.option("+Cr", "--charset-require", "require declaration of extended charset (def.)",
               dest="assume_charset", const=None)
    app.option("+Ca", "--charset-assume", "assume charset c if no extended charset declared",
               value="[c]harset: string", dest="assume_charset")
    app.option("+Cc", "--charset-check-all", "check all data elements with string values\n"
               "(default: only PN, LO, LT, SH, ST, UC and UT)", dest="check_all")
    app.option("+U8", "--convert-to-utf8", "convert all element values that are affected\n"
               "by Specific Character Set (0008,0005) to UTF-8", dest="to_utf8")
    app.group("output options:")
    app.subgroup("general XML format:")
    app.option("-dtk", "--dcmtk-format", "output in DCMTK-specific format (default)",
               dest="native", const=False)
    app.option("-nat", "--native-format", "output in Native DICOM Model format (part 19)",
               dest="native")
    app.option("+Xn", "--use-xml-namespace", "add XML namespace declaration to root element",
               dest="namespace")
    app.subgroup("DCMTK-specific format (not with --native-format):")
    app.option("+Xd", "--add-dtd-reference", "add reference to document type definition (DTD)",
               dest="dtd", const="reference")
    app.option("+Xe", "--embed-dtd-content", "embed document type definition into XML document",
               dest="dtd", const="embed")
    app.option("+Xf", "--use-dtd-file", "use specified DTD file (only with +Xe)\n"
               "(default: /usr/share/dcmtk/dcm2xml.dtd)", value="[f]ilename: string",
               dest="dtd_file")
    app.option("+Wn", "--write-element-name", "write name of the DICOM data elements (default)",
               dest="names", default=True)
    app.option("-Wn", "--no-element-name", "do not write name of the DICOM data elements",
               dest="names", const=False)
    app.option("+Wb", "--write-binary-data", "write binary data of OB and OW elements\n"
               "(default: off, be careful with --load-all)", dest="write_binary")
    app.subgroup("encoding of binary data:")
    app.option("+Eh", "--encode-hex", "encode binary data as hex numbers\n"
               "(default for DCMTK-specific format)", dest="encoding", const="hex")
    app.option("+Eu", "--encode-uuid", "encode binary data as a UUID reference\n"
               "(default for Native DICOM Model)", dest="encoding", const="uuid")
    app.option("+Eb", "--encode-base64", "encode binary data as Base64 (RFC 2045, MIME)",
               dest="encoding", const="base64")
    app.subgroup("bulk data (Native DICOM Model, not in DCMTK 3.6.7):")
    app.option("+bd", "--bulk-data-dir", "write binary values to files in d, referenced\n"
               "by BulkData uri (instead of uuid)", value="[d]irectory: string",
               dest="bulk_dir")
    return app


def _check(app: App, opts) -> None:
    native = bool(opts.native)
    app.check_conflict("--add-dtd-reference", "--native-format", native and opts.dtd == "reference")
    app.check_conflict("--embed-dtd-content", "--native-format", native and opts.dtd == "embed")
    app.check_conflict("--write-binary-data", "--native-format", native and opts.write_binary)
    app.check_dependence("--use-dtd-file", "--embed-dtd-content",
                         opts.dtd_file is None or opts.dtd == "embed")
    app.check_dependence("--encode-uuid", "--native-format", native or opts.encoding != "uuid")
    app.check_conflict("--encode-hex", "--native-format", native and opts.encoding == "hex")
    app.check_dependence("--bulk-data-dir", "--native-format", native or opts.bulk_dir is None)


def _extended(ds, check_all: bool) -> bool:
    """True if a value (of the text VRs, or of every string VR) holds non-ASCII bytes."""
    from dcmpy.dcmdata.vr import STRING_VRS, TEXT_VRS
    vrs = STRING_VRS if check_all else TEXT_VRS
    stack = [iter(ds)]
    while stack:
        elem = next(stack[-1], None)
        if elem is None:
            stack.pop()
        elif elem.vr == "SQ":
            stack.extend(iter(item) for item in elem.value or [])
        elif elem.vr in vrs and not bytes(elem.raw).isascii():
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    _check(app, opts)
    from dcmpy.dcmdata.jsonmodel import BulkDataStore
    from dcmpy.dcmdata.tag import SPECIFIC_CHARACTER_SET
    from dcmpy.dcmdata.xmlmodel import DTD_FILE, XmlOptions, to_xml

    ds = read_input(opts, TOOL)
    if ds is None:
        return EXITCODE_READ
    target = opts.xmlfile_out or "standard output"
    charsets = None
    if opts.to_utf8:
        from dcmpy.dcmdata.charconv import CharsetConversionError, convert_to_utf8
        try:
            convert_to_utf8(ds)
        except CharsetConversionError as exc:
            log.fatal("%s: converting file to UTF-8: %s", exc, opts.dcmfile_in)
            return EXITCODE_CHARSET
    elif ds.get(SPECIFIC_CHARACTER_SET) is None:
        if opts.assume_charset is not None:
            charsets = [t.strip() for t in opts.assume_charset.split("\\")]
        elif _extended(ds, opts.check_all):
            log.error("%s: SpecificCharacterSet (0008,0005) element absent (on the main data "
                      "set level) but extended characters used in file: %s", TOOL, opts.dcmfile_in)
            log.error("%s: error (Missing Specific Character Set) writing to %s", TOOL, target)
            return EXITCODE_CHARSET
    store = None
    if opts.bulk_dir is not None:
        base = os.path.dirname(os.path.abspath(opts.xmlfile_out)) if opts.xmlfile_out else "."
        store = BulkDataStore(opts.bulk_dir, base=base)
    options = XmlOptions(native=bool(opts.native), namespace=bool(opts.namespace), dtd=opts.dtd,
                         dtd_file=opts.dtd_file or DTD_FILE, element_names=opts.names,
                         write_binary=bool(opts.write_binary), binary_encoding=opts.encoding,
                         load_limit=None if opts.load_all else opts.max_read_length * 1024,
                         bulk_store=store)
    try:
        data = to_xml(ds, options, charsets=charsets)
    except OSError as exc:
        log.error("%s: cannot read file %s: %s", TOOL, exc.filename, exc.strerror or exc)
        return 1
    return 0 if write_output(opts.xmlfile_out, data, TOOL) else 1


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
