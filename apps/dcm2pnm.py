"""dcm2pnm: render DICOM images to PGM/PPM, PNG, TIFF or BMP (also the engine of dcmj2pnm,
dcml2pnm and dcm2img, which differ in their names and a few option blocks)."""
from __future__ import annotations

import sys

from dcmpy.apps._cmdline import App, Options, log, run
from dcmpy.apps._files import READ_TS, add_input_format
from dcmpy.apps import _imgopts as io

TOOL = "dcm2pnm"
EXTENSIONS = {"raw": "pnm", "ascii8": "pnm", "ascii16": "pnm", "asciin": "pnm", "bmp": "bmp",
              "bmp8": "bmp", "bmp24": "bmp", "bmp32": "bmp", "tiff": "tif", "png": "png",
              "png16": "png", "jpeg": "jpg"}


def build_app(tool: str = TOOL, description: str = "Convert DICOM images to PGM/PPM, PNG, "
              "TIFF or BMP", jpeg: bool = False) -> App:
    app = App(tool, description, columns=(4, 20), param_column=10)
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("bitmap-out", "output filename to be written (default: stdout)", optional=True)
    app.group("input options:")
    add_input_format(app)
    app.group("image processing options:")
    io.add_frame_options(app)
    io.add_geometry_options(app)
    if jpeg:
        io.add_jpeg_decoding_options(app)
    io.add_modality_options(app)
    io.add_voi_options(app)
    io.add_presentation_options(app)
    io.add_overlay_options(app)
    io.add_display_options(app)
    io.add_compatibility_options(app)
    io.add_format_options(app, jpeg=jpeg)
    io.add_other_transformations(app)
    io.add_output_options(app, jpeg=jpeg)
    return app


def main(argv: list[str] | None = None, app: App | None = None,
         default_format=None) -> int:
    """``default_format(opts)``, if given, picks the format when no format option does."""
    app = app or build_app()
    opts = app.parse(argv)
    fmt = default_format(opts) if default_format else None
    if fmt and not any(opts.given(o) for o in _FORMAT_OPTIONS):
        opts.format = fmt
    return convert(opts)


_FORMAT_OPTIONS = ("--write-raw-pnm", "--write-8-bit-pnm", "--write-16-bit-pnm",
                   "--write-n-bit-pnm", "--write-bmp", "--write-8-bit-bmp", "--write-24-bit-bmp",
                   "--write-32-bit-bmp", "--write-tiff", "--write-png", "--write-16-bit-png",
                   "--write-jpeg")


def convert(opts: Options) -> int:
    from dcmpy.dcmimgle.image import DicomImage, ImageError
    ds = _read(opts)
    if ds is None:
        return 1
    log.info("preparing pixel data")
    first, count = _frames(opts)
    try:
        codec_options = {"conversion": opts.conversion} if hasattr(opts, "conversion") else {}
        image = DicomImage(ds, first, count, io.load_options(opts), codec_options)
    except ImageError as exc:
        return _image_failed(exc, first)
    if opts.image_info:
        _dump_info(image, opts)
    if opts.no_output:
        log.info("cleaning up memory")
        return 0
    try:
        _prepare(image, opts)
        return _write_frames(image, opts)
    except ImageError as exc:
        log.fatal("%s", exc)
        return 1


def _read(opts: Options):
    from dcmpy.dcmdata.reader import DicomError, ReadOptions, dcmread
    read = ReadOptions(read_mode=opts.read_mode,
                       transfer_syntax=READ_TS.get(opts.read_xfer),
                       ignore_meta_syntax=opts.read_xfer == "detect")
    log.info("reading DICOM file: %s", opts.dcmfile_in)
    try:
        return dcmread(opts.dcmfile_in, read)
    except OSError as exc:
        log.fatal("%s: reading file: %s", exc.strerror or exc, opts.dcmfile_in)
    except DicomError as exc:
        log.fatal("%s: reading file: %s", exc, opts.dcmfile_in)
    return None


def _frames(opts: Options) -> tuple[int, int]:
    if opts.all_frames:
        return 0, 0
    if opts.frame_range:
        return opts.frame_range[0] - 1, opts.frame_range[1]
    return opts.frame - 1, 1


def _image_failed(exc: Exception, first: int) -> int:
    text = str(exc)
    if text.startswith("cannot select frame"):
        log.fatal("cannot select frame %d, invalid frame number", first + 1)
    elif "Pixel Data" in text:
        log.error("no pixel data found in DICOM dataset")
        log.fatal("Missing attribute")
    else:
        log.error("%s", text)
        log.fatal("Invalid DICOM image")
    return 1


def _prepare(image, opts: Options) -> None:
    from dcmpy.dcmimgle.image import ImageError
    _overlays(image, opts)
    try:
        io.apply_voi(image, opts)
    except ImageError as exc:
        if opts.voi == "window" and "window(s) in file" not in str(exc):
            log.warn("cannot select VOI window %d", opts.voi_window)
            image.no_window()
        else:
            raise
    if opts.voi_function:
        log.info("setting VOI LUT function to %s", opts.voi_function)
    if opts.shape and image.is_monochrome:
        log.info("setting presentation LUT shape to %s", opts.shape)
        image.set_presentation_shape(opts.shape)
    if opts.polarity:
        log.info("setting polarity to REVERSE")
        image.set_polarity(True)


def _overlays(image, opts: Options) -> None:
    numbers = [] if opts.overlays == [] and not opts.overlay else (opts.overlay or [0])
    if opts.overlays == [] and opts.given("--display-overlay"):
        numbers = opts.overlay
    for number in numbers:
        if image.show_overlay(number, opts.overlay_mode, opts.overlay_threshold):
            for plane in image.overlays:
                if number in (0, plane.number):
                    log.info("activating overlay plane %d", plane.number)
        elif number:
            log.warn("cannot display overlay plane %d", number)


def _geometry(frame, image, opts: Options, bits: int):
    from dcmpy.dcmimage import geometry
    if opts.rotate:
        frame = geometry.rotate(frame, opts.rotate)
    if opts.flip:
        frame = geometry.flip(frame, opts.flip)
    if opts.clip:
        frame = geometry.clip(frame, *opts.clip, fill=image.background(bits))
    if opts.scale:
        aspect = image.pixel_aspect_ratio if opts.aspect else 1.0
        rows, columns = frame.shape[:2]
        size = geometry.scaled_size(columns, rows, opts.scale,
                                    getattr(opts, "scale_" + opts.scale), aspect)
        frame = geometry.scale(frame, *size, interpolate=bool(opts.interpolate))
    return frame


def _log_geometry(opts: Options) -> None:
    if opts.rotate:
        log.info("rotating image by %d degrees", opts.rotate)
    if opts.flip:
        log.info("flipping image %s", {"h": "horizontally", "v": "vertically",
                                       "hv": "horizontally and vertically"}[opts.flip])
    if opts.clip:
        log.info("clipping image to (%d,%d,%d,%d)", *opts.clip)
    if opts.scale:
        value = getattr(opts, "scale_" + opts.scale)
        what = {"xf": "X factor", "yf": "Y factor", "xv": "X size", "yv": "Y size"}[opts.scale]
        log.info("scaling image, %s=%s, Interpolation=%d, Aspect Ratio=%s", what,
                 f"{value:g}", opts.interpolate, "yes" if opts.aspect else "no")


def output_bits(opts: Options) -> int:
    return {"ascii16": 16, "asciin": opts.pnm_bits or 8, "png16": 16}.get(opts.format, 8)


def encode(frame, opts: Options, bits: int) -> bytes:
    """The picture file's bytes for one rendered frame."""
    from dcmpy.dcmimage import export
    fmt = opts.format
    if fmt in ("raw", "ascii8", "ascii16", "asciin"):
        return export.pnm(frame, (1 << bits) - 1, ascii=fmt != "raw")
    if fmt.startswith("bmp"):
        return export.bmp(frame, {"bmp": 0, "bmp8": 8, "bmp24": 24, "bmp32": 32}[fmt])
    if fmt == "tiff":
        compression = {"lzw": export.TIFF_LZW, "rle": export.TIFF_PACKBITS,
                       "none": export.TIFF_NONE}[opts.tiff_compression]
        return export.tiff(frame, compression, opts.tiff_predictor, opts.rows_per_strip)
    if fmt in ("png", "png16"):
        return export.png(frame, bits, interlace=opts.interlace, meta=opts.png_meta)
    return export.jpeg(frame, opts.jpeg_quality, opts.jpeg_sampling)


def _write_frames(image, opts: Options) -> int:
    from dcmpy.dcmimage import export
    _log_geometry(opts)
    multi = bool(opts.all_frames or opts.frame_range)
    bits = output_bits(opts)
    for n in range(image.count):
        frame = _geometry(image.render(n, bits), image, opts, bits)
        name = _output_name(opts, image, n, frame.ndim == 3) if opts.bitmap_out else None
        log.info("writing frame %d to %s", image.first + n + 1, name or "stdout")
        try:
            data = encode(frame, opts, bits)
        except ValueError:
            log.fatal("cannot write frame")
            return 1
        if name is None:
            sys.stdout.buffer.write(data)
            continue
        try:
            export.write_file(name, data)
        except OSError:
            log.fatal("cannot create file %s", name)
            return 1
        if not multi:
            break
    log.info("cleaning up memory")
    return 0


def _output_name(opts: Options, image, n: int, colour: bool) -> str:
    name = opts.bitmap_out
    if not (opts.all_frames or opts.frame_range):
        return name
    ext = EXTENSIONS[opts.format]
    if ext == "pnm":
        ext = "ppm" if colour else "pgm"
    number = f"f{image.first + n + 1}" if opts.frame_numbers else str(n)
    return f"{name}.{number}.{ext}"


def _dump_info(image, opts: Options) -> None:
    if not log.enabled(2):   # INFO
        return
    from dcmpy.dcmdata.uid import dcmtk_name as uid_name
    ds = image.ds
    ts = getattr(ds, "transfer_syntax", None)
    sop_class = str(getattr(ds, "SOPClassUID", "") or "") if "SOPClassUID" in ds else ""
    lines = ["dumping image parameters",
             f"  filename            : {opts.dcmfile_in}",
             f"  transfer syntax     : {ts.name if ts else 'unknown'}",
             f"  SOP class           : {(uid_name(sop_class) or sop_class) if sop_class else ''}",
             f"  SOP instance UID    : {getattr(ds, 'SOPInstanceUID', '') if 'SOPInstanceUID' in ds else ''}",
             f"  columns x rows      : {image.columns} x {image.rows}",
             f"  bits per sample     : {_depth(image)}",
             f"  color model         : {image.photometric}",
             f"  pixel aspect ratio  : {image.pixel_aspect_ratio:.2f}",
             f"  number of frames    : {image.info.frames} ({image.count} processed)"]
    mono = image.is_monochrome
    function = image.voi_function if mono and image.voi_function != "LINEAR" else "<default>"
    lines.append(f"  VOI LUT function    : {function}")
    windows = image.windows if mono else []
    lines.append(f"  VOI windows in file : {len(windows)}")
    lines += [f"  - {w.explanation or '<no explanation>'}" for w in windows]
    luts = image.voi_luts if mono else []
    lines.append(f"  VOI LUTs in file    : {len(luts)}")
    from dcmpy.dcmimgle import attrs
    lines += [f"  - {attrs.text(item, 0x00283003) or '<no explanation>'}" for item in luts]
    shape = image.presentation_shape if mono and image.presentation_shape else "<default>"
    lines.append(f"  presentation shape  : {shape}")
    lines.append(f"  overlays in file    : {len(image.overlays) if mono else 0}")
    if mono:
        vmin, vmax = image.min_max()
        lines.append(f"  maximum pixel value : {vmax:g}")
        lines.append(f"  minimum pixel value : {vmin:g}")
    log.info("\n".join(lines))


def _depth(image) -> int:
    if not image.is_monochrome:
        return image.color.bits
    lo, hi = image.pipeline.abs_range
    import math
    lo, hi = math.floor(lo), math.ceil(hi)
    if lo < 0:
        return max(int(hi).bit_length(), int(-lo - 1).bit_length()) + 1
    return max(1, int(hi).bit_length())


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
