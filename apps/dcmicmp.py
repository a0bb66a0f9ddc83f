"""dcmicmp: compare two DICOM images and print difference metrics (optionally check limits)."""
from __future__ import annotations

import sys

from dcmpy.apps._cmdline import App, Float, Int, log, run
from dcmpy.apps._files import READ_TS, add_input_format
from dcmpy.apps import _imgopts as io

TOOL = "dcmicmp"
EXIT_INVALID_INPUT = 22
EXIT_DISPLAY = 81
EXIT_MISMATCH = 82
EXIT_LIMITS = {"max_abs": 90, "mae": 91, "rmse": 92, "psnr": 93, "snr": 94}


def build_app() -> App:
    app = App(TOOL, "Compare DICOM images and compute difference metrics", columns=(4, 20),
              param_column=12)
    app.param("dcmfile-in-1", "Reference DICOM image file for comparison")
    app.param("dcmfile-in-2", "Test DICOM image file for comparison")
    app.group("input options:")
    add_input_format(app)
    app.group("image processing options:")
    io.add_modality_options(app, use_first=True)
    io.add_voi_options(app, dcmicmp=True)
    io.add_presentation_options(app)
    app.group("image comparison metrics options:", (6, 20))
    app.option("+ce", "--check-error", "check if max absolute error <= limit",
               value="[l]imit: integer", type=Int(0, 65535), dest="check_error")
    app.option("+cm", "--check-mae", "check if mean absolute error <= limit",
               value="[l]imit: float", type=Float(0), dest="check_mae")
    app.option("+cr", "--check-rmse", "check if root mean square error <= limit",
               value="[l]imit: float", type=Float(0), dest="check_rmse")
    app.option("+cp", "--check-psnr", "check if PSNR >= limit", value="[l]imit: float",
               type=Float(), dest="check_psnr")
    app.option("+cs", "--check-snr", "check if SNR >= limit", value="[l]imit: float",
               type=Float(), dest="check_snr")
    app.group("output options:", (6, 20))
    app.option("+sd", "--save-diff", "write secondary capture difference image",
               value="[f]ilename: string", dest="save_diff")
    app.option("+a", "--amplify", "multiply diff image pixel values by f",
               value="[f]actor: float", type=Float(0), dest="amplify")
    return app


def _load(path: str, opts, what: str):
    from dcmpy.dcmdata.reader import DicomError, ReadOptions, dcmread
    from dcmpy.dcmimgle.image import DicomImage, ImageError
    log.info("reading DICOM file: %s", path)
    read = ReadOptions(read_mode=opts.read_mode, transfer_syntax=READ_TS.get(opts.read_xfer),
                       ignore_meta_syntax=opts.read_xfer == "detect")
    try:
        return DicomImage(dcmread(path, read), 0, 0, io.load_options(opts))
    except OSError as exc:
        log.error("%s: reading file: %s", exc.strerror or exc, path)
        log.fatal("Error while loading %s image: %s", what, exc.strerror or exc)
    except (DicomError, ImageError) as exc:
        log.error("%s: reading file: %s", exc, path)
        log.fatal("Error while loading %s image: %s", what, exc)
    return None


def main(argv: list[str] | None = None) -> int:
    app = build_app()
    opts = app.parse(argv)
    if opts.save_diff:
        log.fatal("--save-diff is not supported yet")
        return 1
    ref = _load(opts.dcmfile_in_1, opts, "reference")
    if ref is None:
        return EXIT_INVALID_INPUT
    test = _load(opts.dcmfile_in_2, opts, "test")
    if test is None:
        return EXIT_INVALID_INPUT
    from dcmpy.dcmimage.compare import MismatchError, compare
    from dcmpy.dcmimgle.image import ImageError
    try:
        rendered = _apply_voi(ref, test, opts)
        metrics = compare(ref, test, rendered)
    except MismatchError as exc:
        log.fatal("%s", exc)
        what = str(exc).split(":")[0].lower()
        log.fatal("Error while performing image comparison: %s between reference and test "
                  "image", what)
        return EXIT_MISMATCH
    except ImageError as exc:
        log.fatal("%s", exc)
        what = "VOI LUT" if opts.voi == "lut" else "VOI window"
        log.fatal("Error while configuring display pipeline: cannot select %s", what)
        return EXIT_DISPLAY
    sys.stdout.write("\n".join(metrics.lines()) + "\n")
    return _check_limits(metrics, opts)


def _apply_voi(ref, test, opts) -> bool:
    """Set up both images' display pipelines (DCMTK's order and warnings); True if the values
    to compare are rendered ones."""
    voi = opts.voi
    window = None
    if voi in ("minmax-ref", "minmax-n-ref"):
        window = _min_max(ref, voi == "minmax-n-ref")
    for image in (ref, test):
        if voi in ("minmax-ref", "minmax-n-ref") and image is test:
            if window is not None and test.is_monochrome:
                test.set_window(window.center, window.width)
            else:
                log.warn("cannot set VOI window to specified values")
        elif not image.is_monochrome and voi in ("minmax", "minmax-n"):
            _min_max(image, False)
        elif not image.is_monochrome and voi == "set":
            log.warn("cannot set VOI window to specified values")
        elif voi == "window":
            image.use_window(opts.voi_window - 1)
        elif voi == "lut":
            image.use_voi_lut(opts.voi_lut - 1)
        elif voi in ("minmax", "minmax-n"):
            image.min_max_window(voi == "minmax-n")
        elif voi == "set":
            image.set_window(*opts.voi_set)
        if opts.voi_function:
            if image.is_monochrome:
                image.voi_function = opts.voi_function
                if image.pipeline.voi is not None and hasattr(image.pipeline.voi, "function"):
                    v = image.pipeline.voi
                    image.set_window(v.center, v.width, opts.voi_function)
            else:
                log.warn("cannot set VOI LUT function")
        if opts.shape:
            if image.is_monochrome:
                image.set_presentation_shape(opts.shape)
            else:
                log.warn("cannot set presentation LUT shape")
    return voi != "none"


def _min_max(image, ignore_extremes: bool):
    window = image.min_max_window(ignore_extremes)
    if window is None:
        log.warn("cannot compute min/max VOI window")
        log.warn("cannot retrieve VOI window")
    return window


def _check_limits(m, opts) -> int:
    checks = [("max_abs", opts.check_error, m.max_abs > (opts.check_error or 0),
               f"Maximum absolute error {m.max_abs:g} exceeds limit {opts.check_error}"),
              ("mae", opts.check_mae, m.mae > (opts.check_mae or 0),
               f"Mean absolute error {m.mae:g} exceeds limit {opts.check_mae:g}"
               if opts.check_mae is not None else ""),
              ("rmse", opts.check_rmse, m.rmse > (opts.check_rmse or 0),
               f"Root mean square error (RMSE) {m.rmse:g} exceeds limit {opts.check_rmse:g}"
               if opts.check_rmse is not None else ""),
              ("psnr", opts.check_psnr, m.psnr < (opts.check_psnr or 0),
               f"Peak signal to noise ratio (PSNR) {m.psnr:g} below limit {opts.check_psnr:g}"
               if opts.check_psnr is not None else ""),
              ("snr", opts.check_snr, m.snr < (opts.check_snr or 0),
               f"Signal to noise ratio (SNR) {m.snr:g} below limit {opts.check_snr:g}"
               if opts.check_snr is not None else "")]
    for key, limit, failed, message in checks:
        if limit is not None and failed:
            log.fatal("%s", message)
            return EXIT_LIMITS[key]
    return 0


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
