"""DCMTK's TLS option block for the network apps, on top of ``dcmpy.dcmnet.tls``.

An app adds the block, checks it right after parsing (``+cc`` lists the cipher suites and
exits there, before the parameters are looked at), and makes the context when it needs it::

    T.add_options(app, scp=False)             # SCU block: +tla, -rc/-ic; scp=True: +dp, -vc
    opts = app.parse(argv)
    tls = T.parse(app, opts, scp=False)       # TLSOptions, or None without +tls/+tla
    ...
    ctx = T.context(tls)                      # ssl.SSLContext, None, or an exit code (int)
    if isinstance(ctx, int):
        return ctx
    associate(host, port, contexts, tls=ctx)  # AE(..., tls=ctx) on the SCP side

Nothing here imports ``ssl`` unless TLS is asked for.
"""
from __future__ import annotations

import sys

from dcmpy.apps._cmdline import App, Options, log

PROFILES = [("+py", "--profile-bcp195-nd", "bcp195-nd", "Non-downgrading BCP 195 TLS Profile (default)"),
            ("+px", "--profile-bcp195", "bcp195", "BCP 195 TLS Profile"),
            ("+pz", "--profile-bcp195-ex", "bcp195-ex", "Extended BCP 195 TLS Profile"),
            ("+pa", "--profile-aes", "aes", "AES TLS Secure Transport Connection Profile\n(retired)"),
            ("+pn", "--profile-null", "null", "Authenticated unencrypted communication\n"
             "(retired, was used in IHE ATNA)")]
# options that need +tls (or +tla on an SCU), in help order: DCMTK reports the first one given
_PASSWORD = ["--std-passwd", "--use-passwd", "--null-passwd"]
_NEED_TLS = ["--pem-keys", "--der-keys", "--add-cert-file", "--add-cert-dir", "--add-crl-file",
             "--enable-crl-vfy", "--enable-crl-all", *(p[1] for p in PROFILES), "--cipher",
             "--dhparam", "--seed", "--write-seed", "--write-seed-file", "--require-peer-cert",
             "--verify-peer-cert", "--ignore-peer-cert"]


def add_options(app: App, scp: bool = False, offline: bool = False) -> None:
    """DCMTK's 'transport layer security (TLS) options' group: the SCU variant (with +tla,
    -rc/-ic; ``offline`` adds echoscu's +vc/+rc) or the SCP one (+dp, -rc/-vc/-ic)."""
    app.group("transport layer security (TLS) options:")
    app.subgroup("transport protocol stack:")
    app.option("-tls", "--disable-tls", "use normal TCP/IP connection (default)", dest="tls",
               const=None, default=None)
    app.option("+tls", "--enable-tls", "use authenticated secure TLS connection",
               value="[p]rivate key file, [c]ertificate file: string", nargs=2, dest="tls")
    if not scp:
        app.option("+tla", "--anonymous-tls", "use secure TLS connection without certificate",
                   dest="tls", const="anonymous")
    app.subgroup("private key password (only with --enable-tls):")
    app.option("+ps", "--std-passwd", "prompt user to type password on stdin (default)",
               dest="tls_password", const=None, default=None)
    app.option("+pw", "--use-passwd", "use specified password", value="[p]assword: string ",
               dest="tls_password")
    app.option("-pw", "--null-passwd", "use empty string as password", dest="tls_password", const="")
    app.subgroup("key and certificate file format:")
    app.option("-pem", "--pem-keys", "read keys and certificates as PEM file (default)",
               dest="tls_der", const=False)
    app.option("-der", "--der-keys", "read keys and certificates as DER file", dest="tls_der")
    app.subgroup("certification authority:")
    app.option("+cf", "--add-cert-file", "add certificate file to list of certificates",
               value="[f]ilename: string", dest="tls_ca_files", append=True)
    app.option("+cd", "--add-cert-dir", "add certificates in d to list of certificates",
               value="[d]irectory: string", dest="tls_ca_dirs", append=True)
    app.option("+crl", "--add-crl-file", "add certificate revocation list file\n"
               "(implies --enable-crl-vfy)", value="[f]ilename: string", dest="tls_crl_files",
               append=True)
    app.option("+crv", "--enable-crl-vfy", "enable leaf CRL verification", dest="tls_crl",
               const="leaf")
    app.option("+cra", "--enable-crl-all", "enable full chain CRL verification", dest="tls_crl",
               const="all")
    app.subgroup("security profile:")
    for short, long, name, text in PROFILES:
        app.option(short, long, text, dest="tls_profile", const=name, default="bcp195-nd")
    app.subgroup("ciphersuite:")
    app.option("+cc", "--list-ciphers", "show list of supported TLS ciphersuites and exit",
               dest="tls_list", exclusive=True)
    app.option("+cs", "--cipher", "add ciphersuite to list of negotiated suites\n"
               "(not with --profile-bcp195-ex)", value="[c]iphersuite name: string",
               dest="tls_ciphers", append=True)
    if scp:
        app.option("+dp", "--dhparam", "read DH parameters for DH/DSS ciphersuites",
                   value="[f]ilename: string", dest="tls_dhparam")
    app.subgroup("pseudo random generator:")
    app.option("+rs", "--seed", "seed random generator with contents of f",
               value="[f]ilename: string", dest="tls_seed")
    app.option("+ws", "--write-seed", "write back modified seed (only with --seed)",
               dest="tls_write_seed")
    app.option("+wf", "--write-seed-file", "write modified seed to file f",
               value="[f]ilename: string (only with --seed)", dest="tls_seed_out")
    app.subgroup("peer authentication:")
    app.option("-rc", "--require-peer-cert", "verify peer certificate, fail if absent (default)",
               dest="tls_verify", const="require", default="require")
    if scp:
        app.option("-vc", "--verify-peer-cert", "verify peer certificate if present",
                   dest="tls_verify", const="verify")
    app.option("-ic", "--ignore-peer-cert", "don't verify peer certificate", dest="tls_verify",
               const="ignore")
    if offline:
        app.subgroup("offline certificate verification:")
        app.option("+vc", "--verify-cert", "verify certificate against CA settings",
                   value="[f]ilename: string", dest="tls_verify_cert", exclusive=True)
        app.option("+rc", "--is-root-cert", "check if certificate is self-signed root CA",
                   value="[f]ilename: string", dest="tls_root_cert", exclusive=True)


def parse(app: App, opts: Options, scp: bool = False):
    """DCMTK's checks of the block; lists the cipher suites (+cc) and runs the offline checks
    (+vc/+rc) and exits; returns the TLSOptions, or None without TLS."""
    if opts.tls_list:
        _list_ciphers(app)
    mode = opts.tls
    needs = "--enable-tls" if scp else "--enable-tls or --anonymous-tls"
    for name in _PASSWORD:
        if opts.given(name) and not isinstance(mode, tuple):
            app.error(f"{name} only allowed with --enable-tls")
    for name in _NEED_TLS:
        if opts.given(name) and mode is None:
            app.error(f"{name} only allowed with {needs}")
    for name in ("--write-seed", "--write-seed-file"):
        app.check_dependence(name, "--seed", not opts.given(name) or opts.tls_seed is not None)
    app.check_conflict("--cipher", "--profile-bcp195-ex",
                       bool(opts.tls_ciphers) and opts.tls_profile == "bcp195-ex")
    if mode is None and not (getattr(opts, "tls_verify_cert", None) or getattr(opts, "tls_root_cert", None)):
        return None
    from dcmpy.dcmnet.tls import TLSOptions
    key, cert = mode if isinstance(mode, tuple) else (None, None)
    password = opts.tls_password if opts.tls_password is not None else _prompt
    seed_out = opts.tls_seed_out or (opts.tls_seed if opts.tls_write_seed else None)
    tls = TLSOptions(server=scp, key_file=key, cert_file=cert, password=password,
                     der=bool(opts.tls_der), ca_files=list(opts.tls_ca_files),
                     ca_dirs=list(opts.tls_ca_dirs), crl_files=list(opts.tls_crl_files),
                     crl=opts.tls_crl, profile=opts.tls_profile, ciphers=list(opts.tls_ciphers),
                     dh_params=getattr(opts, "tls_dhparam", None), seed_file=opts.tls_seed,
                     write_seed_file=seed_out, verify=opts.tls_verify, warn=log.warn)
    _offline_checks(opts, tls)
    return tls


def context(tls, code: int = 1):
    """The ssl.SSLContext for ``tls`` (None without TLS); on failure the F: line and ``code``."""
    if tls is None:
        return None
    from dcmpy.dcmnet.tls import TLSSetupError, create_context
    try:
        return create_context(tls)
    except TLSSetupError as exc:
        if exc.detail:
            log.error("%s", exc.detail)
        log.fatal("%s", exc)
        return code


def libraries() -> list[str]:
    """What --version lists for a TLS-capable app."""
    import ssl
    return [ssl.OPENSSL_VERSION]


def _prompt() -> str:
    """+ps: the key's password from the terminal (or the first line of stdin)."""
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass
        return getpass.getpass("Enter PEM pass phrase:")
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def _list_ciphers(app: App) -> None:
    from dcmpy.dcmnet.tls import supported_ciphers
    head = app.format_version().split("\nExternal libraries used:")[0]
    names = "".join(f"  {name}\n" for name in supported_ciphers())
    sys.stdout.write(f"{head}\nSupported TLS ciphersuites are:\n{names}")
    sys.exit(0)


def _offline_checks(opts: Options, tls) -> None:
    """echoscu's +vc (verify a certificate file against +cf/+cd) and +rc (is it a
    self-signed root CA?): print the verdict and exit (0 yes, 22 no)."""
    verify, root = getattr(opts, "tls_verify_cert", None), getattr(opts, "tls_root_cert", None)
    if verify is None and root is None:
        return
    from dcmpy.dcmnet.tls import check_certificate
    path = verify if verify is not None else root
    ok, message = check_certificate(path, tls, root=verify is None)
    if message and (verify is None or opts.tls is not None):   # DCMTK: no TLS layer, no reason
        log.error("%s", message)
    if verify is not None:
        sys.stdout.write(f"Verification of certificate '{path}' {'passed' if ok else 'failed'}.\n")
    elif ok:
        sys.stdout.write(f"Certificate '{path}' is a valid, self-signed root CA.\n")
    else:
        sys.stdout.write(f"Certificate '{path}' is not a valid, self-signed root CA.\n")
    sys.exit(0 if ok else 22)
