"""The one place that imports imagecodecs (libjpeg-turbo 3, CharLS, OpenJPEG, OpenJPH, libjxl
bundled, each releasing the GIL while it works), turning its errors into PixelDataError."""
from __future__ import annotations

from typing import Any, Callable

from ..dcmdata.pixels import PixelDataError

try:
    import imagecodecs
except ImportError as exc:   # pragma: no cover - imagecodecs is a dependency
    raise ImportError("imagecodecs (pip install imagecodecs)") from exc


def call(name: str, what: str, func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run an imagecodecs function; any failure becomes ``PixelDataError('<name>: ...')``."""
    try:
        return func(*args, **kwargs)
    except (imagecodecs.DelayedImportError, ImportError) as exc:
        raise PixelDataError(f"{name}: the library is missing ({exc})") from None
    except (ValueError, RuntimeError, TypeError, MemoryError, OverflowError) as exc:
        raise PixelDataError(f"{name}: cannot {what}: {exc}") from None
