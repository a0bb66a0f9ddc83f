"""dcmdspfn: export the GSDF or CIELAB display curve for a luminance or optical density range."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, Float, Int, log, run

TOOL = "dcmdspfn"


def build_app() -> App:
    app = App(TOOL, "Export standard display curves to a text file", columns=(3, 15),
              general_columns=(3, 15))
    app.group("input options: (mutually exclusive)")
    for short, long, text in (
            ("+Im", "--monitor-file", "text file describing the monitor characteristics"),
            ("+Ic", "--camera-file", "text file describing the camera characteristics"),
            ("+Ip", "--printer-file", "text file describing the printer characteristics"),
            ("+Is", "--scanner-file", "text file describing the scanner characteristics")):
        app.option(short, long, text, value="[f]ilename: string", dest="device_file")
    app.option("+Il", "--lum-range", "minimum and maximum luminance (cd/m^2)",
               value="[m]in max: float", nargs=2, type=(Float(0), Float(0)), dest="lum_range")
    app.option("+Io", "--od-range", "minimum and maximum optical density (OD),\n"
               "automatically converted to luminance", value="[m]in max: float", nargs=2,
               type=(Float(0), Float(0)), dest="od_range")
    app.group("creation options:")
    app.option("+Ca", "--ambient-light", "ambient light value (cd/m^2, default: file f)",
               value="[a]mbient light: float", type=Float(0), dest="ambient")
    app.option("+Ci", "--illumination", "illumination value (cd/m^2, default: file f)",
               value="[i]llumination: float", type=Float(0), dest="illumination")
    app.option("+Dn", "--min-density", "Dmin value (default: off, only with +Ip and +Io)",
               value="[m]inimum optical density: float", type=Float(0), dest="min_density")
    app.option("+Dx", "--max-density", "Dmax value (default: off, only with +Ip and +Io)",
               value="[m]aximum optical density: float", type=Float(0), dest="max_density")
    app.option("+Cd", "--ddl-count", "number of Digital Driving Levels\n"
               "(default: 256, only with --lum/od-range)", value="[n]umber of DDLs: integer",
               type=Int(2, 65536), dest="ddl_count", default=256)
    app.option("+Cf", "--curve-fitting", "use polynomial curve fitting algorithm with order n\n"
               "(0..99, default: file setting or cubic spline)", value="[n]umber : integer",
               type=Int(0, 99), dest="curve_fitting")
    app.group("output options:")
    app.option("+Og", "--gsdf", "write GSDF curve data to file f", value="[f]ilename: string",
               dest="gsdf_file")
    app.option("+Oc", "--cielab", "write CIELAB curve data to file f",
               value="[f]ilename: string", dest="cielab_file")
    return app


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    app.check_dependence("--od-range", "--illumination", not opts.od_range or
                         opts.illumination is not None)
    if opts.device_file:
        log.fatal("display device files (+Im +Ic +Ip +Is) are not supported yet: %s",
                  opts.device_file)
        return 1
    if not opts.gsdf_file and not opts.cielab_file:
        log.warn("nothing to do, no output file specified")
        return 0
    from dcmpy.dcmimgle.gsdf import DisplayCurve, DisplayCurveError, od_to_luminance
    if opts.od_range:
        low = od_to_luminance(opts.od_range[1], opts.illumination)
        high = od_to_luminance(opts.od_range[0], opts.illumination)
    elif opts.lum_range:
        low, high = opts.lum_range
    else:
        log.fatal("no input: one of +Im +Ic +Ip +Is +Il +Io is needed")
        return 1
    curve = DisplayCurve(low, high, opts.ddl_count, opts.ambient or 0.0)
    for path, kind in ((opts.gsdf_file, "GSDF"), (opts.cielab_file, "CIELAB")):
        if not path:
            continue
        log.info("creating %s display curve ...", kind)
        try:
            text = curve_text(curve, kind, opts.curve_fitting)
        except DisplayCurveError:
            log.error("invalid DISPLAY values ... ignoring")
            log.fatal("can't create display curve")
            return 1
        log.info("writing output file: %s", path)
        from dcmpy.dcmimage.export import write_file
        try:
            write_file(path, text.encode())
        except OSError as exc:
            log.fatal("can't write output file: %s (%s)", path, exc.strerror)
            return 1
    return 0


def curve_text(curve, kind: str, fitting: int | None = None) -> str:
    """The text DCMTK writes for a curve (header, then one 'DDL<TAB>value' line per level)."""
    values = curve.gsdf() if kind == "GSDF" else curve.cielab()
    lines = [f"# Display function       : {'GSDF (DICOM Part 14)' if kind == 'GSDF' else 'CIELAB'}",
             "# Type of output device  : Monitor (softcopy)",
             f"# Digital driving levels : {curve.ddl_count}",
             f"# Ambient light [cd/m^2] : {curve.ambient:g}",
             f"# Luminance w/o [cd/m^2] : {curve.l_min:g} - {curve.l_max:g}"]
    if kind == "GSDF":
        j0, j1 = curve.jnd_range
        lines.append(f"# Barten JND index range : {j0:g} - {j1:g} ({j1 - j0:g})")
    method = ("Cubic spline interpolation" if fitting is None
              else f"Curve fitting algorithm with order {fitting}")
    lines += [f"# Interpolation method   : {method}", "",
              f"# NB: values for CC and {kind} are specified in cd/m^2", "", f"DDL\t{kind}"]
    lines += [f"{i}\t{v:.6f}" for i, v in enumerate(values)]
    return "\n".join(lines) + "\n"


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
