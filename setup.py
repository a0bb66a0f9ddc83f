"""Build script: the Cython extensions and the package layout (codecs/ and apps/ install inside dcmpy)."""
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

EXTENSIONS = [
    Extension(f"dcmpy._ext.{name}", [f"dcmpy/_ext/{name}.pyx"], include_dirs=[numpy.get_include()])
    for name in ("scan", "rle", "ljpeg", "lut")
]

setup(
    packages=["dcmpy", "dcmpy._ext", "dcmpy.dcmdata", "dcmpy.dcmimgle", "dcmpy.dcmimage",
              "dcmpy.dcmnet", "dcmpy.dcmqrdb", "dcmpy.dcmwlm", "dcmpy.codecs", "dcmpy.apps"],
    package_dir={"dcmpy.codecs": "codecs", "dcmpy.apps": "apps"},
    ext_modules=cythonize(EXTENSIONS, language_level=3, compiler_directives={"boundscheck": False, "wraparound": False}),
    zip_safe=False,
)
