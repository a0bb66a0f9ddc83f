"""What the image tools share (dcm2pnm, dcmj2pnm, dcml2pnm, dcm2img, dcmscale, dcmicmp):
DCMTK's option blocks for frames, geometry, VOI, presentation, overlays, display curves and
output formats, and applying the parsed options to a ``DicomImage``."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, Float, Int, Options, log
from dcmpy.apps._codecapp import add_colour_conversion, add_jpeg_workarounds


def add_frame_options(app: App) -> None:
    app.subgroup("frame selection:")
    app.option("+F", "--frame", "select specified frame (default: 1)", value="[n]umber: integer",
               type=Int(1), dest="frame", default=1)
    app.option("+Fr", "--frame-range", "select c frames beginning with frame n",
               value="[n]umber [c]ount: integer", nargs=2, type=(Int(1), Int(1)),
               dest="frame_range")
    app.option("+Fa", "--all-frames", "select all frames", dest="all_frames")


def add_geometry_options(app: App, *, rotation: bool = True, dcmscale: bool = False) -> None:
    if rotation:
        app.subgroup("rotation:")
        app.option("+Rl", "--rotate-left", "rotate image left (-90 degrees)", dest="rotate",
                   const=270, default=0)
        app.option("+Rr", "--rotate-right", "rotate image right (+90 degrees)", dest="rotate",
                   const=90)
        app.option("+Rtd", "--rotate-top-down", "rotate image top-down (180 degrees)",
                   dest="rotate", const=180)
        app.subgroup("flipping:")
        app.option("+Lh", "--flip-horizontally", "flip image horizontally", dest="flip",
                   const="h", default="")
        app.option("+Lv", "--flip-vertically", "flip image vertically", dest="flip", const="v")
        app.option("+Lhv", "--flip-both-axes", "flip image horizontally and vertically",
                   dest="flip", const="hv")
    app.subgroup("scaling:")
    app.option("+a", "--recognize-aspect", "recognize pixel aspect ratio when scaling "
               + ("(def)" if dcmscale else "(def.)"), dest="aspect", default=True)
    app.option("-a", "--ignore-aspect", "ignore pixel aspect ratio when scaling", dest="aspect",
               const=False)
    app.option("+i", "--interpolate", "use interpolation when scaling (1..4, def: 1)",
               value="[n]umber of algorithm: integer", type=Int(1, 4), dest="interpolate",
               default=1)
    app.option("-i", "--no-interpolation", "no interpolation when scaling", dest="interpolate",
               const=0)
    app.option("-S", "--no-scaling", "no scaling, ignore pixel aspect ratio (default)",
               dest="scale", const=None, default=None)
    for short, long, value, text, kind, typ in (
            ("+Sxf", "--scale-x-factor", "[f]actor: float", "scale x axis by factor, "
             "auto-compute y axis", "xf", Float(0, lo_open=True)),
            ("+Syf", "--scale-y-factor", "[f]actor: float", "scale y axis by factor, "
             "auto-compute x axis", "yf", Float(0, lo_open=True)),
            ("+Sxv", "--scale-x-size", "[n]umber: integer", "scale x axis to n pixels, "
             "auto-compute y axis", "xv", Int(1)),
            ("+Syv", "--scale-y-size", "[n]umber: integer", "scale y axis to n pixels, "
             "auto-compute x axis", "yv", Int(1))):
        app.option(short, long, text, value=value, type=typ, dest="scale_" + kind,
                   sets={"scale": kind})


def add_modality_options(app: App, use_first: bool = False) -> None:
    app.subgroup("modality LUT transformation:")
    options = [("-M", "--no-modality", "ignore stored modality LUT transformation", False),
               ("+M", "--use-modality", "use modality LUT transformation (default)", True)]
    for short, long, text, value in (options[::-1] if use_first else options):
        app.option(short, long, text, dest="modality", const=value, default=True)


def add_voi_options(app: App, *, dcmicmp: bool = False) -> None:
    app.subgroup("VOI LUT transformation:")
    app.option("-W", "--no-windowing", "no VOI windowing (default)", dest="voi", const="none",
               default="none")
    app.option("+Wi", "--use-window", "use the n-th VOI window from image file",
               value="[n]umber: integer", type=Int(1), dest="voi_window", sets={"voi": "window"})
    app.option("+Wl", "--use-voi-lut", "use the n-th VOI look up table from image file",
               value="[n]umber: integer", type=Int(1), dest="voi_lut", sets={"voi": "lut"})
    if dcmicmp:
        app.option("+Wm", "--min-max-window", "compute VOI window using min-max algorithm\n"
                   "on both images separately", dest="voi", const="minmax")
        app.option("+Wn", "--min-max-window-n", "compute VOI window using min-max algorithm\n"
                   "on both images separately, ignoring extremes", dest="voi", const="minmax-n")
        app.option("+Wr", "--min-max-ref", "compute VOI window using min-max algorithm\n"
                   "and use same window for the test image", dest="voi", const="minmax-ref")
        app.option("+Wq", "--min-max-n-ref", "compute VOI window using min-max algorithm,\n"
                   "ignoring extreme values\nand use same window for the test image",
                   dest="voi", const="minmax-n-ref")
    else:
        app.option("+Wm", "--min-max-window", "compute VOI window using min-max algorithm",
                   dest="voi", const="minmax")
        app.option("+Wn", "--min-max-window-n", "compute VOI window using min-max algorithm,\n"
                   "ignoring extreme values", dest="voi", const="minmax-n")
        app.option("+Wr", "--roi-min-max-window", "compute ROI window using min-max algorithm,\n"
                   "region of interest is specified by l,t,w,h",
                   value="[l]eft [t]op [w]idth [h]eight: integer", nargs=4,
                   type=(Int(signed=True), Int(signed=True), Int(1), Int(1)), dest="voi_roi",
                   sets={"voi": "roi"})
        app.option("+Wh", "--histogram-window", "compute VOI window using Histogram algorithm,\n"
                   "ignoring n percent", value="[n]umber: integer", type=Int(0, 100),
                   dest="voi_histogram", sets={"voi": "histogram"})
    app.option("+Ww", "--set-window", "compute VOI window using center c and width w",
               value="[c]enter [w]idth: float", nargs=2, type=(Float(), Float(1)),
               dest="voi_set", sets={"voi": "set"})
    app.option("+Wfl", "--linear-function", "set VOI LUT function to LINEAR",
               dest="voi_function", const="LINEAR")
    app.option("+Wfs", "--sigmoid-function", "set VOI LUT function to SIGMOID",
               dest="voi_function", const="SIGMOID")


def add_presentation_options(app: App) -> None:
    app.subgroup("presentation LUT transformation:")
    app.option("+Pid", "--identity-shape", "set presentation LUT shape to IDENTITY",
               dest="shape", const="IDENTITY")
    app.option("+Piv", "--inverse-shape", "set presentation LUT shape to INVERSE",
               dest="shape", const="INVERSE")
    app.option("+Pod", "--lin-od-shape", "set presentation LUT shape to LIN OD", dest="shape",
               const="LIN OD")


def add_overlay_options(app: App) -> None:
    app.subgroup("overlay:")
    app.option("-O", "--no-overlays", "do not display overlays", dest="overlays", const=[],
               default=None)
    app.option("+O", "--display-overlay", "display overlay n (0..16, 0=all, default: +O 0)",
               value="[n]umber: integer", type=Int(0, 16), dest="overlay", append=True)
    app.option("+Omr", "--ovl-replace", 'use overlay mode "Replace"\n'
               "(default for Graphic overlays)", dest="overlay_mode", const="replace")
    app.option("+Omt", "--ovl-threshold", 'use overlay mode "Threshold Replace"',
               dest="overlay_mode", const="threshold")
    app.option("+Omc", "--ovl-complement", 'use overlay mode "Complement"',
               dest="overlay_mode", const="complement")
    app.option("+Omv", "--ovl-invert", 'use overlay mode "Invert Bitmap"',
               dest="overlay_mode", const="invert")
    app.option("+Omi", "--ovl-roi", 'use overlay mode "Region of Interest"\n'
               "(default for ROI overlays)", dest="overlay_mode", const="roi")
    app.option("+Osf", "--set-foreground", "set overlay foreground density (0..1, def: 1)",
               value="[d]ensity: float", type=Float(0, 1), dest="overlay_foreground", default=1.0)
    app.option("+Ost", "--set-threshold", "set overlay threshold density (0..1, def: 0.5)",
               value="[d]ensity: float", type=Float(0, 1), dest="overlay_threshold", default=0.5)


def add_display_options(app: App) -> None:
    app.subgroup("display LUT transformation:")
    app.option("+Dm", "--monitor-file", "calibrate output according to monitor\n"
               "characteristics defined in f", value="[f]ilename: string", dest="monitor_file")
    app.option("+Dp", "--printer-file", "calibrate output according to printer\n"
               "characteristics defined in f", value="[f]ilename: string", dest="printer_file")
    app.option("+Da", "--ambient-light", "ambient light value (cd/m^2, default: file f)",
               value="[a]mbient light: float", type=Float(0), dest="ambient")
    app.option("+Di", "--illumination", "illumination value (cd/m^2, default: file f)",
               value="[i]llumination: float", type=Float(0), dest="illumination")
    app.option("+Dn", "--min-density", "Dmin value (default: off, only with +Dp)",
               value="[m]inimum optical density: float", type=Float(0), dest="min_density")
    app.option("+Dx", "--max-density", "Dmax value (default: off, only with +Dp)",
               value="[m]aximum optical density: float", type=Float(0), dest="max_density")
    app.option("+Dg", "--gsd-function", "use GSDF for calibration (default for +Dm/+Dp)",
               dest="display_function", const="gsdf", default="gsdf")
    app.option("+Dc", "--cielab-function", "use CIELAB function for calibration ",
               dest="display_function", const="cielab")


def add_compatibility_options(app: App, *, all_options: bool = True) -> None:
    app.subgroup("compatibility:")
    if all_options:
        app.option("+Ma", "--accept-acr-nema", "accept ACR-NEMA images without photometric\n"
                   "interpretation", dest="accept_acr_nema")
    app.option("+Mp", "--accept-palettes", "accept incorrect palette attribute tags\n"
               "(0028,111x) and (0028,121x)", dest="accept_palettes")
    if all_options:
        app.option("+Mc", "--check-lut-depth", "check 3rd value of the LUT descriptor, compare\n"
                   "with expected bit depth based on LUT data", dest="check_lut_depth")
        app.option("+Mm", "--ignore-mlut-depth", "ignore 3rd value of the modality LUT "
                   "descriptor,\ndetermine bits per table entry automatically",
                   dest="ignore_mlut_depth")
        app.option("+Mv", "--ignore-vlut-depth", "ignore 3rd value of the VOI LUT descriptor,\n"
                   "determine bits per table entry automatically", dest="ignore_vlut_depth")


def add_jpeg_decoding_options(app: App) -> None:
    """dcmj2pnm's colour space conversion and workaround blocks."""
    add_colour_conversion(app, "color space conversion (JPEG compressed images only):", "never convert color space")
    add_jpeg_workarounds(app, "workaround options for incorrect encodings (JPEG compressed images only):")


def add_format_options(app: App, *, jpeg: bool) -> None:
    app.subgroup("TIFF format:")
    app.option("+Tl", "--compr-lzw", "LZW compression (default)", dest="tiff_compression",
               const="lzw", default="lzw")
    app.option("+Tr", "--compr-rle", "RLE compression", dest="tiff_compression", const="rle")
    app.option("+Tn", "--compr-none", "uncompressed", dest="tiff_compression", const="none")
    app.option("+Pd", "--predictor-default", "no LZW predictor (default)", dest="tiff_predictor",
               const=0, default=0)
    app.option("+Pn", "--predictor-none", "LZW predictor 1 (no prediction)",
               dest="tiff_predictor", const=1)
    app.option("+Ph", "--predictor-horz", "LZW predictor 2 (horizontal differencing)",
               dest="tiff_predictor", const=2)
    app.option("+Rs", "--rows-per-strip", "rows per strip, default 8K per strip",
               value="[r]ows: integer (default: 0)", type=Int(0), dest="rows_per_strip",
               default=0)
    app.subgroup("PNG format:")
    app.option("+il", "--interlace", "create interlaced file (default)", dest="interlace",
               default=True)
    app.option("-il", "--nointerlace", "create non-interlaced file", dest="interlace",
               const=False)
    app.option("+mf", "--meta-file", "create PNG file meta information (default)",
               dest="png_meta", default=True)
    app.option("-mf", "--meta-none", "no PNG file meta information", dest="png_meta",
               const=False)
    if jpeg:
        app.subgroup("JPEG format")
        app.option("+Jq", "--compr-quality", "quality value for compression (in percent)",
                   value="[q]uality: integer (0..100, default: 90)", type=Int(0, 100),
                   dest="jpeg_quality", default=90)
        app.option("+Js4", "--sample-444", "4:4:4 sampling (no subsampling)",
                   dest="jpeg_sampling", const="444", default="422")
        app.option("+Js2", "--sample-422", "4:2:2 subsampling (horizontal subsampling of\n"
                   "chroma components, default)", dest="jpeg_sampling", const="422")
        app.option("+Js1", "--sample-411", "4:1:1 subsampling (horizontal and vertical\n"
                   "subsampling of chroma components)", dest="jpeg_sampling", const="411")


def add_other_transformations(app: App, *, full: bool = True) -> None:
    app.subgroup("other transformations:")
    if full:
        app.option("+G", "--grayscale", "convert color image to grayscale (monochrome)",
                   dest="grayscale")
        app.option("+P", "--change-polarity", "change polarity (invert pixel output)",
                   dest="polarity")
        app.option("+C", "--clip-region", "clip image region (l, t, w, h)",
                   value="[l]eft [t]op [w]idth [h]eight: integer", nargs=4,
                   type=(Int(signed=True), Int(signed=True), Int(1), Int(1)), dest="clip")
    else:
        app.option("+C", "--clip-region", "clip rectangular image region (l, t, w, h)",
                   value="[l]eft [t]op [w]idth [h]eight: integer", nargs=4,
                   type=(Int(signed=True), Int(signed=True), Int(1), Int(1)), dest="clip")


def add_output_options(app: App, *, jpeg: bool) -> None:
    app.group("output options:")
    app.subgroup("general:")
    app.option("-im", "--image-info", "print image details (requires verbose mode)",
               dest="image_info")
    app.option("-o", "--no-output", "do not create any output (useful with -im)",
               dest="no_output")
    app.subgroup("filename generation (only with --frame-range or --all-frames):")
    app.option("+Fc", "--use-frame-counter", "use 0-based counter for filenames (default)",
               dest="frame_numbers", const=False, default=False)
    app.option("+Fn", "--use-frame-number", "use absolute frame number for filenames",
               dest="frame_numbers")
    app.subgroup("image format:")
    formats = [
        ("+op", "--write-raw-pnm", "write 8-bit binary PGM/PPM (default for files)", "raw"),
        ("+opb", "--write-8-bit-pnm", "write 8-bit ASCII PGM/PPM (default for stdout)", "ascii8"),
        ("+opw", "--write-16-bit-pnm", "write 16-bit ASCII PGM/PPM", "ascii16")]
    for short, long, text, kind in formats:
        app.option(short, long, text, dest="format", const=kind, default="raw")
    app.option("+opn", "--write-n-bit-pnm", "write n-bit ASCII PGM/PPM (1..32)",
               value="[n]umber: integer", type=Int(1, 32), dest="pnm_bits",
               sets={"format": "asciin"})
    for short, long, text, kind in (
            ("+ob", "--write-bmp", "write 8-bit (monochrome) or 24-bit (color) BMP", "bmp"),
            ("+obp", "--write-8-bit-bmp", "write 8-bit palette BMP (monochrome only)", "bmp8"),
            ("+obt", "--write-24-bit-bmp", "write 24-bit truecolor BMP", "bmp24"),
            ("+obr", "--write-32-bit-bmp", "write 32-bit truecolor BMP", "bmp32"),
            ("+ot", "--write-tiff", "write 8-bit (monochrome) or 24-bit (color) TIFF", "tiff"),
            ("+on", "--write-png", "write 8-bit (monochrome) or 24-bit (color) PNG", "png"),
            ("+on2", "--write-16-bit-png", "write 16-bit (monochrome) or 48-bit (color) PNG",
             "png16")):
        app.option(short, long, text, dest="format", const=kind)
    if jpeg:
        app.option("+oj", "--write-jpeg", "write 8-bit lossy JPEG (baseline)", dest="format",
                   const="jpeg")


def load_options(opts: Options):
    """The library's LoadOptions for the compatibility and modality options."""
    from dcmpy.dcmimgle.image import LoadOptions
    return LoadOptions(accept_acr_nema=bool(getattr(opts, "accept_acr_nema", False)),
                       accept_palettes=bool(getattr(opts, "accept_palettes", False)),
                       ignore_mlut_depth=bool(getattr(opts, "ignore_mlut_depth", False)),
                       ignore_vlut_depth=bool(getattr(opts, "ignore_vlut_depth", False)),
                       use_modality=bool(getattr(opts, "modality", True)))


def apply_voi(image, opts: Options) -> None:
    """Select the VOI transform the options ask for (DCMTK's messages); raises ImageError."""
    from dcmpy.dcmimgle.image import ImageError
    if opts.voi_function and image.is_monochrome:
        image.voi_function = opts.voi_function
    voi = opts.voi
    if voi == "window":
        log.info("activating VOI window %d", opts.voi_window)
        image.use_window(opts.voi_window - 1)
    elif voi == "lut":
        log.info("activating VOI LUT %d", opts.voi_lut)
        image.use_voi_lut(opts.voi_lut - 1)
    elif voi == "minmax":
        log.info("activating VOI window min-max algorithm")
        image.min_max_window(False)
    elif voi == "minmax-n":
        log.info("activating VOI window min-max algorithm, ignoring extreme values")
        image.min_max_window(True)
    elif voi == "roi":
        log.info("activating region of interest VOI window")
        image.roi_window(*opts.voi_roi)
    elif voi == "histogram":
        log.info("activating VOI window histogram algorithm, ignoring %d%%", opts.voi_histogram)
        try:
            image.histogram_window(opts.voi_histogram / 100.0)
        except ImageError as exc:
            log.warn("%s", exc)
    elif voi == "set":
        log.info("activating VOI window center=%s, width=%s", _num(opts.voi_set[0]),
                 _num(opts.voi_set[1]))
        image.set_window(*opts.voi_set)
    else:
        log.info("disabling VOI window computation")
        image.no_window()


def _num(value: float) -> str:
    return f"{value:g}"
