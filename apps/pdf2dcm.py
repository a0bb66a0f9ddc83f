"""pdf2dcm: encapsulate a PDF file into a DICOM Encapsulated PDF instance.

``build_app`` and ``convert`` serve cda2dcm and stl2dcm as well: the three tools share
DCMTK's document options and differ only in a few of their own.
"""
from __future__ import annotations

from dcmpy.apps._cmdline import App, Int, log, run

TOOL = "pdf2dcm"
_WRITE_TS = {"little": "1.2.840.10008.1.2.1", "big": "1.2.840.10008.1.2.2",
             "implicit": "1.2.840.10008.1.2"}


def build_app(tool: str, kind: str) -> App:
    """The option layout of pdf2dcm (kind 'pdf'), cda2dcm ('cda') or stl2dcm ('stl')."""
    from dcmpy.apps.img2dcm import add_encoding_options
    name = kind.upper()
    app = App(tool, f"Encapsulate {name} file into DICOM format", columns=(3, 21))
    app.param(f"{kind}file-in", f"{name} input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    app.group("DICOM document options:")
    app.subgroup("document title:")
    app.option("+t", "--title", "document title", value="[t]itle: string (default: empty)",
               dest="title")
    app.option("+cn", "--concept-name", "coded representation of document title defined\n"
               "by coding scheme designator CSD,\ncode value CV and code meaning CM",
               value="[CSD] [CV] [CM]: string (default: empty)", nargs=3, dest="concept_name")
    app.subgroup("patient data:")
    app.option("+pn", "--patient-name", "patient's name in DICOM PN syntax",
               value="[n]ame: string", dest="patient_name")
    app.option("+pi", "--patient-id", "patient identifier", value="[i]d: string",
               dest="patient_id")
    app.option("+pb", "--patient-birthdate", "patient's birth date",
               value="[d]ate: string (YYYYMMDD)", dest="patient_birthdate")
    app.option("+ps", "--patient-sex", "patient's sex", value="[s]ex: string (M, F or O)",
               dest="patient_sex")
    app.subgroup("study and series:")
    app.option("+sg", "--generate", "generate new study and\nseries UIDs (default)",
               dest="source", const=None, sets={"source_level": None})
    app.option("+st", "--study-from", "read patient/study data from DICOM file",
               value="[f]ilename: string", dest="source", sets={"source_level": "study"})
    app.option("+se", "--series-from", "read patient/study/series data from DICOM file",
               value="[f]ilename: string", dest="source", sets={"source_level": "series"})
    app.subgroup("instance number:")
    app.option("+i1", "--instance-one", "use instance number 1\n(default, not with +se)",
               dest="instance", const="one", default="one")
    app.option("+ii", "--instance-inc", "increment instance number (only with +se)",
               dest="instance", const="inc")
    app.option("+is", "--instance-set", "use instance number i",
               value="[i]nstance number: integer", type=Int(), dest="instance")
    app.subgroup("burned-in annotation:")
    app.option("+an", "--annotation-yes", "document contains patient identifying data\n"
               "(default)", dest="annotation", default=True)
    app.option("-an", "--annotation-no", "document does not contain patient identif. data",
               dest="annotation", const=False)
    if kind == "cda":
        app.subgroup("override CDA data:")
        app.option("-ov", "--no-override", "CDA patient and document data must match study,\n"
                   "series or manually entered information (default)", dest="override",
                   const=False, default=False)
        app.option("+ov", "--override", "CDA's data will be overwritten by study, series\n"
                   "or manually entered information", dest="override")
    if kind == "stl":
        _stl_options(app)
    app.group("processing options:")
    app.subgroup("other processing options:")
    app.option("-k", "--key", "add further attribute",
               value='[k]ey: gggg,eeee="str", path or dict. name="str"', dest="keys",
               append=True)
    app.group("output options:")
    app.subgroup("output transfer syntax:")
    app.option("+te", "--write-xfer-little", "write with explicit VR little endian (default)",
               dest="write_xfer", const="little", default="little")
    app.option("+tb", "--write-xfer-big", "write with explicit VR big endian TS",
               dest="write_xfer", const="big")
    app.option("+ti", "--write-xfer-implicit", "write with implicit VR little endian TS",
               dest="write_xfer", const="implicit")
    add_encoding_options(app, padding_retain=True)
    return app


def _stl_options(app: App) -> None:
    app.subgroup("enhanced general equipment:")
    app.option("+mn", "--manufacturer", "manufacturer's name", value="[n]ame: string",
               dest="manufacturer")
    app.option("+mm", "--manufacturer-model", "manufacturer's model name",
               value="[n]ame: string", dest="model_name")
    app.option("+ds", "--device-serial", "device serial number", value="[n]umber: string",
               dest="device_serial")
    app.option("+sv", "--software-versions", "software versions", value="[v]ersions: string",
               dest="software_versions")
    app.subgroup("3d model measurement units:")
    app.option("+mu", "--measurement-units", "measurement units defined by coding scheme\n"
               "designator CSD, code value CV, code meaning CM",
               value="[CSD] [CV] [CM]: string (default: UCUM, um, um)", nargs=3, dest="units")


def convert(tool: str, kind: str, argv: list[str] | None = None) -> int:
    """Parse the command line of ``tool`` and encapsulate its input document."""
    app = build_app(tool, kind)
    opts = app.parse(argv)
    app.check_dependence("--instance-inc", "--series-from",
                         opts.instance != "inc" or opts.source_level == "series")
    from dcmpy.dcmdata.encapdoc import DocumentOptions, InstanceError, check_document, encapsulate
    name = kind.upper()
    doc = DocumentOptions(
        title=opts.title, concept_name=opts.concept_name, patient_name=opts.patient_name,
        patient_id=opts.patient_id, patient_birthdate=opts.patient_birthdate,
        patient_sex=opts.patient_sex,
        study_from=opts.source if opts.source_level == "study" else None,
        series_from=opts.source if opts.source_level == "series" else None,
        instance=opts.instance, annotation=opts.annotation, keys=opts.keys,
        override=bool(getattr(opts, "override", False)))
    if kind == "stl":
        doc.manufacturer, doc.model_name = opts.manufacturer, opts.model_name
        doc.device_serial, doc.software_versions = opts.device_serial, opts.software_versions
        doc.units = tuple(opts.units) if opts.units else doc.units
    source = getattr(opts, f"{kind}file_in")
    log.info("creating encapsulated %s object", name)
    try:
        with open(source, "rb") as f:
            data = f.read()
    except OSError as exc:
        log.error("file %s not found (%s)", source, exc.strerror or exc)
        log.error("unable to create %s encapsulation to DICOM format", name)
        return 21
    try:
        log.info("file %s: %s", source, check_document(kind, data, source))
        ds = encapsulate(kind, data, doc, source)
    except InstanceError as exc:
        log.error("%s", exc)
        log.error("unable to create %s encapsulation to DICOM format", name)
        return exc.exit_code
    log.info("writing encapsulated %s object as file %s", name, opts.dcmfile_out)
    from dcmpy.apps.img2dcm import save, write_options
    code = save(ds, opts.dcmfile_out, write_options(opts, _WRITE_TS[opts.write_xfer]))
    if not code:
        log.info("%s encapsulation successful", name)
    return code


def main(argv: list[str] | None = None) -> int:
    return convert(TOOL, "pdf", argv)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
