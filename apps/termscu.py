"""termscu: DICOM termination SCU: asks a DCMTK-style server (dcmqrscp --allow-shutdown, ...) to
shut down by proposing DCMTK's private Shutdown SOP Class."""
from __future__ import annotations

from dcmpy.apps import _netopts as N
from dcmpy.apps._cmdline import App, log, run

TOOL = "termscu"
SHUTDOWN_SOP_CLASS = "1.2.276.0.7230010.3.4.1915765545.18030.917282194.0"
_SYNTAXES = [N.IMPLICIT_LE, N.EXPLICIT_LE, N.EXPLICIT_BE]


def build_app() -> App:
    app = App(TOOL, "DICOM termination SCU", columns=(4, 11), general_columns=(6, 12), param_column=19)
    app.param("peer", "hostname of DICOM peer")
    app.param("port", "tcp/ip port number of peer")
    app.group("network options:")
    N.add_ae_titles(app, "TERMSCU")
    app.subgroup("other network options:")
    N.add_max_pdu(app)
    return app


def terminate(host: str, port: int, *, calling_ae: str = "TERMSCU", called_ae: str = "ANY-SCP",
              max_pdu: int = 16384, logger=log) -> int:
    """Propose the Shutdown SOP Class; the server shuts down (it answers with a rejection, as
    DCMTK's servers do, or accepts). Returns 0 if the server accepted, 1 otherwise (as termscu)."""
    from dcmpy.dcmnet.association import AssociationError, AssociationRejected
    from dcmpy.dcmnet.scu import associate
    logger.info("Requesting Association")
    try:
        assoc = associate(host, port, [(SHUTDOWN_SOP_CLASS, _SYNTAXES)], calling_ae=calling_ae,
                          called_ae=called_ae, max_pdu=max_pdu, log=logger)
    except AssociationRejected as exc:
        text = str(exc).replace("Association Rejected:", "Association Rejected: ", 1)
        logger.fatal("%s", text)
        return 1
    except (AssociationError, OSError) as exc:
        N.report_association_failure(exc, host)
        return 1
    if not assoc.contexts:
        logger.fatal("No Acceptable Presentation Contexts")
        assoc.abort()
        return 1
    logger.info("Releasing Association")
    try:
        assoc.release()
    except (AssociationError, OSError):
        assoc.close()      # the server may simply go away
    return 0


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    port = N.parse_port(app, opts.port)
    return terminate(opts.peer, port, calling_ae=N.check_ae_title(app, "--aetitle", opts.aetitle),
                     called_ae=N.check_ae_title(app, "--call", opts.call), max_pdu=opts.max_pdu)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
