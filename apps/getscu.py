"""getscu: DICOM retrieve (C-GET) SCU, with DCMTK's options, log lines and exit codes (1 when
the association fails). The storage SOP classes are proposed in the SCP role and the objects
arrive on the same association; each streams into a temporary file in ``-od`` and is renamed
once complete (``-B`` and ``+B`` both write the data set bytes as received; ``+B`` names the
files by their SOP Instance UID alone, as DCMTK does)."""
from __future__ import annotations

from dcmpy.apps import _netopts as N
from dcmpy.apps import _qropts as Q
from dcmpy.apps._cmdline import App, log, run

TOOL = "getscu"


def build_app() -> App:
    app = App(TOOL, "DICOM retrieve (C-GET) SCU", columns=(4, 21))
    Q.add_params(app)
    app.option("+v", "--verbose-pc", "show presentation contexts in verbose mode", dest="verbose_pc")
    app.group("network options:")
    Q.add_keys(app, '[k]ey: gggg,eeee="str", path or dic. name="str"')
    Q.add_models(app, "retrieve information model:", ["patient", "study", "psonly"], "patient")
    N.add_ae_titles(app, "GETSCU")
    Q.add_prefer(app, "preferred storage transfer syntaxes (incoming associations):", False)
    Q.add_propose(app, "proposed retrieve transfer syntaxes (outgoing associations):")
    Q.add_network_tail(app, socket_timeout=False)
    N.add_repeat_abort(app)
    app.group("output options:")
    app.subgroup("general:")
    app.option("-od", "--output-directory", "write received objects to existing directory d",
               value='[d]irectory: string (default: ".")', dest="output_directory", default=".")
    app.subgroup("storage mode:")
    app.option("-B", "--normal", "receive in memory, then write to disk (default)",
               dest="bit_preserving", const=False)
    app.option("+B", "--bit-preserving", "receive directly to disk", dest="bit_preserving")
    app.option("", "--ignore", "ignore store data, receive but do not store", dest="ignore")
    return app


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    Q.raw_stderr()
    port = N.parse_port(app, opts.port)
    Q.check_files(app, opts)
    app.check_conflict("--output-directory", "--ignore",
                       bool(opts.ignore and opts.given("--output-directory")))
    if not opts.ignore and not Q.output_dir_ok(opts.output_directory):
        return 1
    queries = Q.queries(opts)
    if queries is None:
        return 1
    from dcmpy.dcmnet.qrscu import GetOptions, GetSCU
    from dcmpy.dcmnet.qrstore import StoreOptions
    store = StoreOptions(output_dir=opts.output_directory, ignore=bool(opts.ignore),
                         uid_names=bool(opts.bit_preserving))
    options = Q.common(app, opts, GetOptions, storage_syntaxes=Q.preferred(opts.prefer),
                       store=store)
    return GetSCU(opts.peer, port, options, log).run(queries)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
