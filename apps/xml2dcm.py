"""xml2dcm: convert an XML document (DCMTK's dcm2xml format or the PS3.19 Native DICOM Model)
to a DICOM file or data set.

Options as DCMTK 3.6.7's xml2dcm. The parser never expands entities nor loads external DTDs:
a document declaring entities is refused. Malformed XML gets one error line with line and
column, exit code 1, and no output file.
"""
from __future__ import annotations

import os

from dcmpy.apps._cmdline import App, log, run
from dcmpy.apps._files import add_read_meta
from dcmpy.apps.json2dcm import add_encoding_options, add_uid_options, add_write_options, read_text, write_dataset

TOOL = "xml2dcm"
_NAMESPACES = ("http://dicom.offis.de/dcmtk", "http://dicom.nema.org/PS3.19/models/NativeDICOM")


def build_app() -> App:
    app = App(TOOL, "Convert XML document to DICOM file or data set", columns=(3, 21))
    app.param("xmlfile-in", 'XML input filename to be converted (stdin: "-")')
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    add_read_meta(app)
    app.group("processing options:")
    app.subgroup("validation:")
    app.option("+Vd", "--validate-document", "validate XML document against DTD",
               dest="validate")
    app.option("+Vn", "--check-namespace", "check XML namespace in document root",
               dest="check_namespace")
    add_uid_options(app)
    add_write_options(app)
    app.subgroup("error handling:")
    app.option("-E", "--stop-on-error", "do not write if document is invalid (default)",
               dest="ignore_errors", const=False)
    app.option("+E", "--ignore-errors", "attempt to write even if document is invalid",
               dest="ignore_errors")
    add_encoding_options(app)
    return app


def _namespace_ok(data: bytes) -> bool:
    """+Vn: the root element declares DCMTK's or PS3.19's namespace."""
    from xml.parsers import expat
    found = []

    def start(name: str, attrs: dict) -> None:
        found.append(attrs.get("xmlns"))
        raise StopIteration

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EntityDeclHandler = lambda *a: None
    try:
        parser.Parse(data, True)
    except (StopIteration, expat.ExpatError):
        pass
    return bool(found) and found[0] in _NAMESPACES


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    from dcmpy.dcmdata.jsonmodel import BulkDataResolver
    from dcmpy.dcmdata.xmlmodel import XmlModelError, from_xml

    data = read_text(opts.xmlfile_in, TOOL)
    if data is None:
        return 1
    if opts.validate:
        log.warn("%s: --validate-document: DTD validation is not supported, checking "
                 "well-formedness and structure only", TOOL)
    if opts.check_namespace and not _namespace_ok(data):
        log.error("%s: document has no or the wrong XML namespace: %s", TOOL, opts.xmlfile_in)
        return 1
    base = os.path.dirname(os.path.abspath(opts.xmlfile_in)) if opts.xmlfile_in != "-" else "."
    log.info("reading XML input file: %s", opts.xmlfile_in)
    try:
        ds = from_xml(data, read_meta=opts.read_meta, bulk_resolver=BulkDataResolver(base))
    except XmlModelError as exc:
        log.error("%s: %s: reading file: %s", TOOL, exc, opts.xmlfile_in)
        return 1
    return write_dataset(ds, opts, TOOL)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
