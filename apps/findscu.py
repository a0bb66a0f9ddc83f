"""findscu: DICOM query (C-FIND) SCU, with DCMTK's options, log lines, response files and exit
codes (0, 1 for command line and input errors, 2 when the association or the query fails)."""
from __future__ import annotations

from dcmpy.apps import _netopts as N
from dcmpy.apps import _qropts as Q
from dcmpy.apps._cmdline import INFO, App, Int, Logger, log, run

TOOL = "findscu"


def build_app() -> App:
    app = App(TOOL, "DICOM query (C-FIND) SCU", columns=(4, 20))
    Q.add_params(app)
    app.group("network options:")
    Q.add_keys(app, '[k]ey: gggg,eeee="str", path or dict. name="str"')
    Q.add_models(app, "query information model:", ["worklist", "patient", "study", "psonly"],
                 "worklist")
    N.add_ae_titles(app, "FINDSCU")
    app.subgroup("post-1993 value representations:")
    app.option("+u", "--enable-new-vr", "enable support for new VRs (UN/UT) (default)",
               dest="new_vrs", default=True)
    app.option("-u", "--disable-new-vr", "disable support for new VRs, convert to OB",
               dest="new_vrs", const=False)
    Q.add_propose(app, "proposed transmission transfer syntaxes:")
    app.subgroup("deflate compression level (only with --propose-deflated):")
    app.option("+cl", "--compression-level", "0=uncompressed, 1=fastest, 9=best compression",
               value="[l]evel: integer (default: 6)", type=Int(0, 9), dest="compression_level",
               default=6)
    Q.add_network_tail(app, socket_timeout=True)
    N.add_repeat_abort(app)
    Q.add_cancel(app)
    N.add_tls(app)
    app.group("output options:")
    app.subgroup("general:")
    app.option("-od", "--output-directory", "write output files to existing directory d",
               value='[d]irectory: string (default: ".")', dest="output_directory", default=".")
    app.subgroup("automatic data correction:")
    app.option("+dc", "--enable-correction", "enable automatic data correction", dest="correct")
    app.option("-dc", "--disable-correction", "disable automatic data correction (default)",
               dest="correct", const=False)
    app.subgroup("C-FIND responses:")
    app.option("+sr", "--show-responses", "always output responses to the logger",
               dest="show_responses", const="show")
    app.option("-sr", "--hide-responses", "do not output responses to the logger",
               dest="show_responses", const="hide")
    app.option("-X", "--extract", "extract responses to DICOM file (rsp0001.dcm...)",
               dest="extract", const="dicom", sets={"extract_single": None})
    app.option("-Xx", "--extract-xml", "extract responses to XML file (rsp0001.xml...)",
               dest="extract", const="xml", sets={"extract_single": None})
    app.option("-Xs", "--extract-xml-single", "extract all responses to given XML file f",
               value="[f]ilename: string", dest="extract_single", sets={"extract": None})
    app.option("-Xlo", "--limit-output", "limit number of responses extracted to file to n\n"
               "(default: unlimited)", value="[n]umber: integer", type=Int(1), dest="limit")
    return app


def response_logger(opts) -> Logger | None:
    """DCMTK's response logger: shown with +sr; by default only when not extracting and the
    log level is info (or was not set at all)."""
    if opts.show_responses is not None:
        return Logger(INFO) if opts.show_responses == "show" else None
    if opts.extract or opts.extract_single:
        return None
    level_set = any(opts.given(o) for o in ("--quiet", "--verbose", "--debug", "--log-level",
                                            "--log-config"))
    return Logger(INFO) if not level_set or log.enabled(INFO) else None


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    Q.raw_stderr()
    port = N.parse_port(app, opts.port)
    app.check_dependence("--limit-output", "--extract, --extract-xml or --extract-xml-single",
                         opts.limit is None or bool(opts.extract or opts.extract_single))
    Q.check_files(app, opts)
    failed = N.check_tls(opts)
    if failed is not None:
        return failed
    if opts.extract and not Q.output_dir_ok(opts.output_directory):
        return 1
    queries = Q.queries(opts)
    if queries is None:
        return 1
    from dcmpy.dcmnet.qrscu import FindOptions, FindSCU
    options = Q.common(app, opts, FindOptions, extract=opts.extract,
                       extract_single=opts.extract_single, extract_limit=opts.limit,
                       output_dir=opts.output_directory, correct=bool(opts.correct))
    return FindSCU(opts.peer, port, options, log, response_logger(opts)).run(queries)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
