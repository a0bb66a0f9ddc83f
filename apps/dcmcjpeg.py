"""dcmcjpeg: encode a DICOM file to a JPEG transfer syntax (lossless, baseline, extended)."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, Float, Int, Options, log, run
from dcmpy.apps._codecapp import (add_colour_conversion, add_jpeg_workarounds,
                                  UNCOMPRESSED_PREDECESSOR, add_encapsulation_options,
                                  convert_file, to_secondary_capture)
from dcmpy.apps._files import add_input_format, add_output_encoding

TOOL = "dcmcjpeg"
LOSSLESS_PROCESSES = ("lossless-sv1", "lossless")
SYNTAX = {"lossless-sv1": "1.2.840.10008.1.2.4.70", "lossless": "1.2.840.10008.1.2.4.57",
          "baseline": "1.2.840.10008.1.2.4.50", "extended": "1.2.840.10008.1.2.4.51",
          "spectral": "1.2.840.10008.1.2.4.53", "progressive": "1.2.840.10008.1.2.4.55"}
PROCESS_OPTION = {"lossless-sv1": "--encode-lossless-sv1", "lossless": "--encode-lossless",
                  "baseline": "--encode-baseline", "extended": "--encode-extended",
                  "spectral": "--encode-spectral", "progressive": "--encode-progressive"}
# +s2 +s4 +n2 +n1 +np: (libjpeg's chroma subsampling, Photometric Interpretation written)
SUBSAMPLING = {"s2": ("422", "YBR_FULL_422"), "s4": ("444", "YBR_FULL"),
               "n2": ("422", "YBR_FULL"), "n1": ("420", "YBR_FULL"),
               "np": ("420", "YBR_FULL_422")}
# options DCMTK refuses together with the true lossless codec (+tl, the default)
NOT_WITH_TRUE_LOSSLESS = (
    "--smooth", "--bits-force-8", "--bits-force-12", "--bits-force-16", "--color-rgb",
    "--monochrome", "--conv-lossy", "--conv-guess", "--conv-guess-lossy", "--conv-always",
    "--sample-422", "--nonstd-444", "--nonstd-422-full", "--nonstd-411-full", "--nonstd-411",
    "--use-window", "--use-voi-lut", "--min-max-window", "--min-max-window-n",
    "--roi-min-max-window", "--histogram-window", "--set-window")
WINDOW_OPTIONS = NOT_WITH_TRUE_LOSSLESS[-7:]
IMAGE_TYPE = 0x00080008
MODALITY_TRANSFORM = (0x00281052, 0x00281053, 0x00283000)   # rescale, Modality LUT Sequence


def build_app() -> App:
    app = App(TOOL, "Encode DICOM file to JPEG transfer syntax", columns=(4, 21))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    add_input_format(app)
    app.subgroup("compatibility (ignored by +tl):")
    app.option("+Ma", "--accept-acr-nema", "accept ACR-NEMA images without photometric\n"
               "interpretation", dest="accept_acr_nema")
    app.option("+Mp", "--accept-palettes", "accept incorrect palette attribute tags\n"
               "(0028,111x) and (0028,121x)", dest="accept_palettes")
    app.group("JPEG encoding options:")
    _encoding_options(app)
    app.group("encapsulated pixel data encoding options:")
    add_encapsulation_options(app, uid_default_lossy=True, before_uid=_rendering_options)
    app.group("output options:")
    add_output_encoding(app, padding="file")
    return app


def _encoding_options(app: App) -> None:
    app.subgroup("JPEG process:")
    for short, long, text, process in (
            ("+e1", "--encode-lossless-sv1", "encode lossless sv1 (default)", "lossless-sv1"),
            ("+el", "--encode-lossless", "encode lossless", "lossless"),
            ("+eb", "--encode-baseline", "encode baseline", "baseline"),
            ("+ee", "--encode-extended", "encode extended sequential", "extended"),
            ("+es", "--encode-spectral", "encode spectral selection", "spectral"),
            ("+ep", "--encode-progressive", "encode progressive", "progressive")):
        app.option(short, long, text, dest="process", const=process, default="lossless-sv1")
    app.subgroup("lossless JPEG codec selection:")
    app.option("+tl", "--true-lossless", "true lossless codec (default)", dest="true_lossless",
               default=True)
    app.option("+pl", "--pseudo-lossless", "old pseudo-lossless codec", dest="true_lossless",
               const=False)
    # the numbers are checked after the dependencies, in DCMTK's order (see _check)
    app.subgroup("lossless JPEG representation:")
    app.option("+sv", "--selection-value", "use selection value sv\nonly with --encode-lossless",
               value="[sv]: integer (1..7, default: 6)", dest="selection_value")
    app.option("+pt", "--point-transform", "use point transform pt",
               value="[pt]: integer (0..15, default: 0)", dest="point_transform")
    app.subgroup("lossy JPEG representation:")
    app.option("+q", "--quality", "use quality factor q",
               value="[q]: integer (0..100, default: 90)", dest="quality")
    app.option("+sm", "--smooth", "use smoothing factor s",
               value="[s]: integer (0..100, default: 0)", dest="smooth")
    app.subgroup("other JPEG options:")
    app.option("+ho", "--huffman-optimize", "optimize huffman tables (default)", dest="optimize",
               default=True)
    app.option("-ho", "--huffman-standard", "use standard huffman tables if 8 bits/sample",
               dest="optimize", const=False)
    app.subgroup("compressed bits per sample (always +ba with +tl):")
    for short, long, text, bits in (("+ba", "--bits-auto", "choose bits/sample automatically "
                                     "(default)", 0),
                                    ("+be", "--bits-force-8", "force 8 bits/sample", 8),
                                    ("+bt", "--bits-force-12", "force 12 bits/sample (not with "
                                     "baseline)", 12),
                                    ("+bs", "--bits-force-16", "force 16 bits/sample (lossless "
                                     "only)", 16)):
        app.option(short, long, text, dest="bits", const=bits, default=0)
    app.subgroup("compression color space conversion (overridden by +tl):")
    app.option("+cy", "--color-ybr", "use YCbCr for color images if lossy (default)",
               dest="colour", const="ybr", default="ybr")
    app.option("+cr", "--color-rgb", "use RGB for color images if lossy", dest="colour",
               const="rgb")
    app.option("+cm", "--monochrome", "convert color images to monochrome", dest="colour",
               const="mono")
    add_colour_conversion(app, "decompr. color space conversion (if input is compressed; always +cn with +tl):", "never convert color space")
    add_jpeg_workarounds(app, "decompr. workaround options for incorrect encodings (if input is compressed):")
    app.subgroup("YCbCr component subsampling (lossy JPEG only):")
    app.option("+s2", "--sample-422", "4:2:2 subsampling with YBR_FULL_422 (default)",
               dest="subsampling", const="s2", default="s2")
    app.subgroup("non-standard YCbCr component subsampling (lossy JPEG only):")
    for short, long, text, mode in (("+s4", "--nonstd-444", "4:4:4 sampling with YBR_FULL", "s4"),
                                    ("+n2", "--nonstd-422-full", "4:2:2 subsampling with "
                                     "YBR_FULL", "n2"),
                                    ("+n1", "--nonstd-411-full", "4:1:1 subsampling with "
                                     "YBR_FULL", "n1"),
                                    ("+np", "--nonstd-411", "4:1:1 subsampling with "
                                     "YBR_FULL_422", "np")):
        app.option(short, long, text, dest="subsampling", const=mode)


def _rendering_options(app: App) -> None:
    """DCMTK's VOI window, pixel scaling and rescale blocks (monochrome lossy only)."""
    app.subgroup("VOI windowing for monochrome images (not with +tl):")
    app.option("-W", "--no-windowing", "no VOI windowing (default)", dest="window", const=None)
    app.option("+Wi", "--use-window", "use the n-th VOI window from image file",
               value="[n]umber: integer", type=Int(1), dest="window")
    app.option("+Wl", "--use-voi-lut", "use the n-th VOI look up table from image file",
               value="[n]umber: integer", type=Int(1), dest="window")
    app.option("+Wm", "--min-max-window", "compute VOI window using min-max algorithm",
               dest="window", const="min-max")
    app.option("+Wn", "--min-max-window-n", "compute VOI window using min-max algorithm,\n"
               "ignoring extreme values", dest="window", const="min-max-n")
    app.option("+Wr", "--roi-min-max-window", "compute ROI window using min-max algorithm,\n"
               "region of interest is specified by l,t,w,h",
               value="[l]eft [t]op [w]idth [h]eight: integer", nargs=4,
               type=(Int(0), Int(0), Int(1), Int(1)), dest="window")
    app.option("+Wh", "--histogram-window", "compute VOI window using Histogram algorithm,\n"
               "ignoring n percent", value="[n]umber: integer", type=Int(0, 100),
               dest="window")
    app.option("+Ww", "--set-window", "compute VOI window using center c and width w",
               value="[c]enter [w]idth: float", nargs=2, type=(Float(), Float(1.0)),
               dest="window")
    app.subgroup("pixel scaling for monochrome images (-W; ignored by +tl):")
    app.option("+sp", "--scaling-pixel", "scale using min/max pixel value (default)",
               dest="scaling", const="pixel", default="pixel")
    app.option("+sr", "--scaling-range", "scale using min/max range", dest="scaling",
               const="range")
    app.subgroup("rescale slope/intercept encoding for monochrome (-W; ignored by +tl):")
    app.option("+ri", "--rescale-identity", "encode identity modality rescale (default)\n"
               "Never used for CT images", dest="rescale", const="identity", default="identity")
    app.option("+rm", "--rescale-map", "use modality rescale to scale pixel range\n"
               "Never used for XA/RF/XA Biplane images", dest="rescale", const="map")


def _check(app: App, opts: Options) -> None:
    """DCMTK's option dependencies and conflicts, then the numbers they guard."""
    lossless = opts.process in LOSSLESS_PROCESSES
    if lossless and opts.true_lossless:
        for option in NOT_WITH_TRUE_LOSSLESS:
            app.check_conflict(option, "--true-lossless", opts.given(option))
    for option, forbidden in (("--bits-force-12", ("baseline",)),
                              ("--bits-force-16", ("baseline", "extended", "spectral",
                                                   "progressive"))):
        if opts.given(option) and opts.process in forbidden:
            app.check_conflict(option, PROCESS_OPTION[opts.process], True)
    numbers = (("--selection-value", "selection_value", Int(1, 7), 6,
                opts.process == "lossless", "--encode-lossless"),
               ("--point-transform", "point_transform", Int(0, 15), 0, lossless,
                "lossless JPEG"),
               ("--quality", "quality", Int(0, 100), 90, not lossless, "lossy JPEG"),
               ("--smooth", "smooth", Int(0, 100), 0, not lossless, "lossy JPEG"))
    for option, dest, convert, default, allowed, required in numbers:
        text = getattr(opts, dest)
        if text is None:
            setattr(opts, dest, default)
            continue
        app.check_dependence(option, required, allowed)
        try:
            setattr(opts, dest, convert(text))
        except ValueError as exc:
            app.error(f"Invalid value for option {option} ({exc})")


def ratio_text(ratio: float, precision: int = 5) -> str:
    """A compression ratio as DCMTK writes it: ``precision`` significant digits, where the
    zeros right after the decimal point do not count (14.0745, 221.032, 19.28)."""
    if not 0 < ratio < 10 ** precision:
        return f"{ratio:.{precision}g}"
    whole, fraction = f"{ratio:.17f}".split(".")
    digits = 0 if whole == "0" else len(whole)
    zeros = len(fraction) - len(fraction.lstrip("0"))
    text = f"{ratio:.{zeros + precision - digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    _check(app, opts)
    lossless = opts.process in LOSSLESS_PROCESSES
    if lossless and not opts.true_lossless:
        log.fatal("%s: --pseudo-lossless (DCMTK's old pseudo-lossless codec) is not "
                  "supported: use --true-lossless", TOOL)
        return 1
    if opts.process in ("spectral", "progressive"):
        log.fatal("%s: %s: dcmpy has no encoder for the retired JPEG spectral selection and "
                  "progressive processes: use --encode-baseline or --encode-extended", TOOL,
                  PROCESS_OPTION[opts.process])
        return 1
    if not lossless and opts.window is not None:
        given = next(o for o in WINDOW_OPTIONS if opts.given(o))
        log.fatal("%s: %s: VOI windowing needs DCMTK's DicomImage rendering, which dcmpy "
                  "does not reproduce", TOOL, given)
        return 1
    target = SYNTAX[opts.process]

    def process(ds) -> None:
        log.info("Convert DICOM file to compressed transfer syntax")
        encode(ds, opts, target)

    return convert_file(opts, process, target, action="encoding file")


def encode(ds, opts: Options, target: str) -> None:
    """Compress ``ds`` in place as dcmcjpeg with ``opts`` does (raises PixelDataError)."""
    from dcmpy.dcmdata.pixels import transfer_syntax_of
    from dcmpy.dcmdata.transcode import compress, decompress, new_instance
    source = transfer_syntax_of(ds)
    if 0x7FE00010 not in ds:
        log.warn("DcmDataset: No pixel data present, nothing to compress")
        compress(ds, target)
        return
    lossless = opts.process in LOSSLESS_PROCESSES
    renew = opts.new_uid == "always" or opts.to_sc or (not lossless and opts.new_uid == "default")
    if source.encapsulated:
        decompress(ds, **_decoder_options(opts, source, lossless))
    if lossless:
        _encode_lossless(ds, opts, target, derived=renew)
    else:
        _encode_lossy(ds, opts, target)
    # DCMTK's Source Image Sequence names the Secondary Capture class after a lossless
    # encode, the original class after a lossy one
    if opts.to_sc and lossless:
        to_secondary_capture(ds)
    if renew:
        new_instance(ds, UNCOMPRESSED_PREDECESSOR)
    if opts.to_sc and not lossless:
        to_secondary_capture(ds)


def _decoder_options(opts: Options, source, lossless: bool) -> dict:
    if source.lossy:
        return {"conversion": "never" if lossless else opts.conversion,
                "incomplete": bool(opts.workaround_incomplete)}
    if source.uid in (SYNTAX["lossless"], SYNTAX["lossless-sv1"]):
        return {"workaround_pred6": bool(opts.workaround_pred6),
                "workaround_cornell": bool(opts.workaround_cornell)}
    return {}


def _fragment_size(opts: Options) -> int | None:
    return opts.fragment_kb * 1024 if opts.fragment_kb else None


def _describe(ds, text: str, derived: bool) -> None:
    """Derivation Description ``text`` (before any earlier one); Image Type DERIVED if
    ``derived``, else unchanged."""
    from dcmpy.dcmdata.transcode import mark_derived
    image_type = ds.ImageType if IMAGE_TYPE in ds else None
    mark_derived(ds, text)
    if derived:
        return
    if image_type is None:
        del ds[IMAGE_TYPE]
    else:
        ds.ImageType = image_type


def _encode_lossless(ds, opts: Options, target: str, derived: bool) -> None:
    from dcmpy.dcmdata.pixels import PixelDataError, PixelInfo
    from dcmpy.dcmdata.transcode import compress, compression_ratio
    info = PixelInfo.of(ds, strict=True)
    if info.bits_allocated not in (8, 16):
        log.error("True lossless encoder: Only 8 or 16 bits allocated supported")
        raise PixelDataError(f"BitsAllocated {info.bits_allocated} is not 8 or 16")
    predictor = opts.selection_value if opts.process == "lossless" else 1
    compress(ds, target, offset_table=opts.offset_table, fragment_size=_fragment_size(opts),
             predictor=predictor, point_transform=opts.point_transform)
    _describe(ds, f"Lossless JPEG compression, selection value {predictor}, point transform "
                  f"{opts.point_transform}, compression ratio {ratio_text(compression_ratio(ds))}",
              derived)


def _rendering_needed(ds, info, bits: int) -> str | None:
    """Why a monochrome image cannot go into lossy JPEG of ``bits`` bits here, or None when
    DCMTK encodes its stored values as they are (unsigned, BitsAllocated and BitsStored 8,
    no modality transform, into 8-bit JPEG)."""
    if info.signed:
        kind = "signed"
    elif info.bits_allocated != 8 or info.bits_stored != 8 or bits != 8:
        kind = f"{info.bits_stored}-bit (BitsAllocated {info.bits_allocated})"
    elif any(tag in ds for tag in MODALITY_TRANSFORM):
        kind = "rescaled (Rescale Slope/Intercept or Modality LUT)"
    else:
        return None
    return (f"lossy JPEG ({bits} bit) of {kind} monochrome pixel data needs DCMTK's DicomImage "
            f"rendering (pixel scaling +sp/+sr, rescale +ri/+rm, VOI windows), which dcmpy "
            f"does not reproduce; use lossless +e1/+el, or dcmcjpls")


def _encode_lossy(ds, opts: Options, target: str) -> None:
    from dcmpy.dcmdata.pixels import PixelDataError, PixelInfo
    from dcmpy.dcmdata.transcode import compress, compression_ratio, mark_lossy
    info = PixelInfo.of(ds, strict=True)
    bits = 8 if opts.process == "baseline" else opts.bits or (8 if info.bits_stored <= 8 else 12)
    if info.samples == 1:
        reason = _rendering_needed(ds, info, bits)
    elif opts.colour == "mono":
        reason = ("--monochrome: DCMTK's colour to monochrome conversion is not reproduced "
                  "(it matches floor(0.299 R + 0.587 G + 0.114 B) at +q 100 only)")
    elif info.photometric != "RGB" or info.bits_allocated != 8:
        reason = (f"lossy JPEG of {info.photometric} colour with {info.bits_allocated} bits "
                  f"needs DCMTK's colour rendering, which dcmpy does not reproduce (8-bit RGB "
                  f"only)")
    else:
        reason = None if bits == 8 else "12-bit lossy JPEG of 8-bit colour is not supported"
    if reason:
        raise PixelDataError(reason)
    subsampling, photometric = SUBSAMPLING[opts.subsampling]
    compress(ds, target, offset_table=opts.offset_table, fragment_size=_fragment_size(opts),
             quality=opts.quality, subsampling=subsampling, optimize=opts.optimize,
             smoothing=opts.smooth, colour=opts.colour,
             extended=opts.process == "extended")
    if info.samples == 3 and opts.colour == "ybr":
        ds.PhotometricInterpretation = photometric
    ratio = ratio_text(compression_ratio(ds))
    mark_lossy(ds, ratio, "ISO_10918_1")
    name = "baseline" if opts.process == "baseline" else f"extended sequential {bits} bit"
    _describe(ds, f"Lossy compression with JPEG {name}, IJG quality factor {opts.quality}, "
                  f"compression ratio {ratio}", True)


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
