"""dcmimgle: the grayscale rendering pipeline of PS3.3/PS3.4 (modality, VOI and presentation
LUTs, MONOCHROME1, overlays) and the GSDF of PS3.14; ``DicomImage`` renders any image.

    from dcmpy.dcmimgle import DicomImage
    img = DicomImage("ct.dcm"); img.use_window(0); frame = img.render(0)
"""
from .image import DicomImage, ImageError, LoadOptions

__all__ = ["DicomImage", "ImageError", "LoadOptions"]
