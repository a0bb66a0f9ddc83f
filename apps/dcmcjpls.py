"""dcmcjpls: encode a DICOM file to JPEG-LS (lossless or near-lossless)."""
from __future__ import annotations

from dcmpy.apps._cmdline import App, Int, log, run
from dcmpy.apps._codecapp import (UNCOMPRESSED_PREDECESSOR, add_encapsulation_options,
                                  convert_file, to_secondary_capture)
from dcmpy.apps._files import add_input_format, add_output_encoding

TOOL = "dcmcjpls"
LOSSLESS, NEAR_LOSSLESS = "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"


def build_app() -> App:
    app = App(TOOL, "Encode DICOM file to JPEG-LS transfer syntax", columns=(3, 21))
    app.param("dcmfile-in", "DICOM input filename to be converted")
    app.param("dcmfile-out", "DICOM output filename")
    app.group("input options:")
    add_input_format(app)
    app.group("JPEG-LS encoding options:")
    app.subgroup("JPEG-LS process:")
    app.option("+el", "--encode-lossless", "encode JPEG-LS lossless (default)", dest="near_lossless",
               const=False, default=False)
    app.option("+en", "--encode-nearlossless", "encode JPEG-LS TS near-lossless (NEAR: 2)",
               dest="near_lossless")
    app.subgroup("JPEG-LS bit rate (near-lossless only):")
    app.option("+md", "--max-deviation", "defines maximum deviation for an encoded pixel",
               value="[d]eviation: integer (default: 2)", type=Int(0), dest="deviation",
               default=2)
    app.subgroup("lossless compression:")
    app.option("+pr", "--prefer-raw", "prefer raw encoder mode (default)", dest="cooked",
               const=False, default=False)
    app.option("+pc", "--prefer-cooked", "prefer cooked encoder mode ", dest="cooked")
    app.subgroup("JPEG-LS compression:")
    for short, long, dest, default in (("+t1", "--threshold1", "t1", "3"),
                                       ("+t2", "--threshold2", "t2", "7"),
                                       ("+t3", "--threshold3", "t3", "21")):
        app.option(short, long, f"set JPEG-LS encoding parameter threshold {long[-1]}",
                   value=f"[t]hreshhold: integer (default for 8 bpp: {default})", type=Int(1),
                   dest=dest)
    app.option("+rs", "--reset", "set JPEG-LS encoding parameter reset",
               value="[r]eset: integer (default: 64)", type=Int(1), dest="reset")
    app.subgroup("JPEG-LS interleave:")
    app.option("+il", "--interleave-line", "force line-interleaved JPEG-LS images (default)",
               dest="interleave", const="line", default="line")
    app.option("+is", "--interleave-sample", "force sample-interleaved JPEG-LS images",
               dest="interleave", const="sample")
    app.option("+in", "--interleave-none", "force uninterleaved JPEG-LS images",
               dest="interleave", const="none")
    app.option("+iv", "--interleave-default", "use the fastest possible interleave mode",
               dest="interleave", const="sample")
    app.subgroup("JPEG-LS padding of odd-length bitstreams:")
    app.option("+ps", "--padding-standard", "pad with extended EOI marker (default)",
               dest="bitstream_pad", const="eoi", default="eoi")
    app.option("+pz", "--padding-zero", "pad with zero byte (non-standard)",
               dest="bitstream_pad", const="zero")
    app.group("encapsulated pixel data encoding options:")
    add_encapsulation_options(app, uid_default_lossy=True)
    app.group("output options:")
    add_output_encoding(app, padding="file", item_unit="byte")
    return app


def main(argv: list[str] | None = None) -> int:
    opts = build_app().parse(argv)
    target = NEAR_LOSSLESS if opts.near_lossless else LOSSLESS
    near = opts.deviation if opts.near_lossless else 0

    def process(ds) -> None:
        from dcmpy.dcmdata.pixels import PixelDataError, PixelInfo
        from dcmpy.dcmdata.transcode import (compress, compression_ratio, mark_derived,
                                              mark_lossy, new_instance)
        log.info("Convert DICOM file to compressed transfer syntax")
        if 0x7FE00010 not in ds:        # nothing to encode: DCMTK just changes the syntax
            log.warn("No pixel data present, nothing to compress")
            compress(ds, target)
            return
        info = PixelInfo.of(ds, strict=True)
        if not 2 <= info.bits_allocated <= 16:
            log.warn("cannot compress image with %d bit%s/sample: JPEG-LS %s",
                     info.bits_allocated, "" if info.bits_allocated == 1 else "s",
                     "requires at least 2 bits" if info.bits_allocated < 2 else
                     "supports max. 16 bits")
            raise PixelDataError("Unsupported bit depth in JPEG-LS transfer syntax")
        # near-lossless errors in two's complement or palette indices are not small: refused
        if near and info.signed:
            raise PixelDataError("Unsupported pixel representation for near-lossless JPEG-LS "
                                 "compression")
        if near and info.photometric == "PALETTE COLOR":
            raise PixelDataError("Unsupported photometric interpretation for near-lossless "
                                 "JPEG-LS compression")
        thresholds = None
        if opts.t1 or opts.t2 or opts.t3:
            thresholds = (opts.t1 or 0, opts.t2 or 0, opts.t3 or 0)
        fragment = opts.fragment_kb * 1024 if opts.fragment_kb else None
        compress(ds, target, offset_table=opts.offset_table, fragment_size=fragment, near=near,
                 interleave=opts.interleave, thresholds=thresholds, reset=opts.reset,
                 pad=opts.bitstream_pad, raw=not (opts.cooked or near))
        if near:
            ratio = compression_ratio(ds, stored_bits=True)
            mark_lossy(ds, ratio, "ISO_14495_1")
            mark_derived(ds, f"near lossless JPEG-LS compression, factor {ratio:.5g} "
                             f"(NEAR={near})")
        if opts.new_uid == "always" or opts.to_sc or (near and opts.new_uid == "default"):
            new_instance(ds, UNCOMPRESSED_PREDECESSOR)
        if opts.to_sc:
            to_secondary_capture(ds)

    return convert_file(opts, process, target, action="encoding file")


def entry() -> None:
    run(main, name=TOOL)


if __name__ == "__main__":
    entry()
