"""img2dcm: convert JPEG (kept as it is), BMP and PNG images into DICOM images."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, Int, log, run

TOOL = "img2dcm"


def build_app() -> App:
    app = App(TOOL, "Convert standard image formats into DICOM format", columns=(4, 21))
    app.param("imgfile-in", "image input filename", multiple=True)
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    app.subgroup("general:")
    app.option("-i", "--input-format", "supported formats: JPEG (default), BMP, PNG",
               value="[i]nput file format: string", dest="input_format", default="JPEG")
    app.option("-df", "--dataset-from", "use dataset from DICOM file f",
               value="[f]ilename: string", dest="dataset_from")
    app.option("-dx", "--dataset-from-xml", "use dataset from XML file f",
               value="[f]ilename: string", dest="dataset_from_xml")
    app.option("-stf", "--study-from", "read patient/study from DICOM file f",
               value="[f]ilename: string", dest="study_from")
    app.option("-sef", "--series-from", "read patient/study/series from DICOM file f",
               value="[f]ilename: string", dest="series_from")
    app.option("-ii", "--instance-inc", "increase instance number read from DICOM file",
               dest="instance_inc")
    app.subgroup("JPEG format:")
    app.option("-dp", "--disable-progr", "disable support for progressive JPEG",
               dest="progressive", const=False, default=True)
    app.option("-de", "--disable-ext", "disable support for extended sequential JPEG",
               dest="extended", const=False, default=True)
    app.option("-jf", "--insist-on-jfif", "insist on JFIF header", dest="insist_on_jfif")
    app.option("-ka", "--keep-appn", "keep APPn sections (except JFIF)", dest="keep_appn")
    app.option("-rc", "--remove-com", "remove COM segment", dest="remove_com")
    app.subgroup("XML validation:")
    app.option("+Vd", "--validate-document", "validate XML document against DTD", dest="")
    app.option("+Vn", "--check-namespace", "check XML namespace in document root", dest="")
    app.group("processing options:")
    app.subgroup("attribute checking:")
    app.option("", "--do-checks", "enable attribute validity checking (default)",
               dest="checks", default=True)
    app.option("", "--no-checks", "disable attribute validity checking", dest="checks",
               const=False)
    app.option("+i2", "--insert-type2", "insert missing type 2 attributes (default)\n"
               "(only with --do-checks)", dest="insert_type2", default=True)
    app.option("-i2", "--no-type2-insert", "do not insert missing type 2 attributes \n"
               "(only with --do-checks)", dest="insert_type2", const=False)
    app.option("+i1", "--invent-type1", "invent missing type 1 attributes (default)\n"
               "(only with --do-checks)", dest="invent_type1", default=True)
    app.option("-i1", "--no-type1-invent", "do not invent missing type 1 attributes\n"
               "(only with --do-checks)", dest="invent_type1", const=False)
    app.subgroup("character set conversion of study/series file:")
    app.option("-Ct", "--transliterate", "try to approximate characters that cannot be\n"
               "represented through similar looking characters", dest="")
    app.option("-Cd", "--discard-illegal", "discard characters that cannot be represented\n"
               "in destination character set", dest="")
    app.subgroup("other processing options:")
    app.option("-k", "--key", "add further attribute",
               value='[k]ey: gggg,eeee="str", path or dict. name="str"', dest="keys",
               append=True)
    app.group("output options:")
    app.subgroup("target SOP class:")
    app.option("-sc", "--sec-capture", "write Secondary Capture SOP class (default)",
               dest="iod", const="sc", default="sc")
    app.option("-nsc", "--new-sc", "write new Secondary Capture SOP classes", dest="iod",
               const="nsc")
    app.option("-vlp", "--vl-photo", "write Visible Light Photographic SOP class", dest="iod",
               const="vlp")
    app.option("-oph", "--oph-photo", "write Ophthalmic Photography SOP classes", dest="iod",
               const="oph")
    app.subgroup("output file format:")
    app.option("+F", "--write-file", "write file format (default)", dest="write_meta",
               default=True)
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_meta", const=False)
    add_encoding_options(app, padding_retain=False)
    return app


def add_encoding_options(app: App, padding_retain: bool) -> None:
    """Group length, sequence length and padding options (shared with pdf2dcm & co)."""
    app.subgroup("group length encoding:")
    app.option("+g=", "--group-length-recalc", "recalculate group lengths if present (default)",
               dest="group_lengths", const="recalc", default="recalc")
    app.option("+g", "--group-length-create", "always write with group length elements",
               dest="group_lengths", const="add")
    app.option("-g", "--group-length-remove", "always write without group length elements",
               dest="group_lengths", const="remove")
    app.subgroup("length encoding in sequences and items:")
    app.option("+e", "--length-explicit", "write with explicit lengths (default)",
               dest="explicit_lengths", default=True)
    app.option("-e", "--length-undefined", "write with undefined lengths",
               dest="explicit_lengths", const=False)
    app.subgroup("data set trailing padding (not with --write-dataset):")
    if padding_retain:
        app.option("-p=", "--padding-retain", "do not change padding (default)",
                   dest="padding", const="off", default="off")
    app.option("-p", "--padding-off", "no padding (implicit if --write-dataset)",
               dest="padding", const="off", default="off")
    app.option("+p", "--padding-create", "align file on multiple of f bytes\n"
               "and items on multiple of i bytes", value="[f]ile-pad [i]tem-pad: integer",
               nargs=2, type=(Int(0), Int(0)), dest="padding")


def write_options(opts, transfer_syntax: str):
    """The writer's options for the parsed output options."""
    from dcmpy.dcmdata.writer import WriteOptions
    write_meta = getattr(opts, "write_meta", True)
    return WriteOptions(transfer_syntax=transfer_syntax, write_meta=write_meta, new_meta=True,
                        group_lengths=opts.group_lengths, explicit_lengths=opts.explicit_lengths,
                        padding=opts.padding if write_meta else "off")


def save(ds, path: str, options) -> int:
    """Write atomically; 0, or DCMTK's exit code 40 (cannot write output file) after an error."""
    from dcmpy.dcmdata.writer import DicomWriteError, dcmwrite
    try:
        dcmwrite(path, ds, options)
    except (OSError, DicomWriteError) as exc:
        log.error("%s: writing file: %s", getattr(exc, "strerror", None) or exc, path)
        return 40
    return 0


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    from dcmpy.dcmdata.encapdoc import InstanceError
    from dcmpy.dcmdata.imageimport import FORMATS, ImageImportError, JpegOptions, read_image
    from dcmpy.dcmdata.imageiod import ImageIODOptions, image_dataset
    fmt = opts.input_format.upper()
    if fmt not in FORMATS:
        app.error(f"No plugin for input format '{opts.input_format}' (supported: "
                  f"{', '.join(FORMATS)})")
    jpeg = JpegOptions(opts.progressive, opts.extended, opts.insist_on_jfif, opts.keep_appn,
                       opts.remove_com)
    template = opts.dataset_from
    if opts.dataset_from_xml:
        template = _xml_template(opts.dataset_from_xml)
        if template is None:
            return 1
    iod = ImageIODOptions(opts.iod, template, opts.study_from, opts.series_from,
                          opts.instance_inc, opts.checks, opts.insert_type2, opts.invent_type1,
                          tuple(opts.keys))
    images = []
    for name in opts.imgfile_in:
        log.info("Starting image conversion of file: %s", name)
        try:
            with open(name, "rb") as f:
                images.append(read_image(f.read(), fmt, jpeg))
        except OSError as exc:
            log.fatal("Error converting file: %s: %s", name, exc.strerror or exc)
            return 1
        except ImageImportError as exc:
            log.fatal("Error converting file: %s: %s", name, exc)
            return 1
    try:
        ds = image_dataset(images, iod)
    except (ImageImportError, InstanceError) as exc:
        log.fatal("Error converting file: %s", exc)
        return 1
    log.info("Saving output DICOM to file %s", opts.dcmfile_out)
    code = save(ds, opts.dcmfile_out, write_options(opts, images[0].transfer_syntax))
    return 1 if code else 0


def _xml_template(path: str):
    """The data set of a DCMTK-format XML file (-dx), or None after logging why not."""
    from dcmpy.dcmdata.xmlmodel import XmlModelError, from_xml
    try:
        with open(path, "rb") as f:
            return from_xml(f.read())
    except ImportError as exc:      # the XML reader is not part of this build
        log.fatal("Error converting file: cannot read XML (%s): %s", exc, path)
    except OSError as exc:
        log.fatal("Error converting file: %s: reading file: %s", exc.strerror or exc, path)
    except XmlModelError as exc:
        log.fatal("Error converting file: %s: reading file: %s", exc, path)
    return None


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
