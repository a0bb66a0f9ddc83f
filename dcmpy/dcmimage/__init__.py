"""dcmimage: colour images (RGB, YBR, palette colour), export to PNM/PNG/BMP/TIFF/JPEG,
geometry (scaling, rotation, flipping, clipping), colour quantization and image comparison."""
