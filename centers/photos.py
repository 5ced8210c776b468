"""Photos the public uploads with a store report: bounded, checked, re-encoded without metadata.

Every photo is decoded with Pillow and written again as a fresh JPEG (at most ``MAX_SIDE`` px on the long
side): nothing of the uploaded file survives but its pixels, so EXIF (GPS position, phone model, time),
XMP, ICC profiles and comments are gone, and a file that is not an image is refused with a readable error.
"""

from __future__ import annotations

import io
import uuid

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from servicehub.errors import DomainError

MAX_PHOTOS = 3
MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 1600
# A small file can still decode to a huge bitmap (a "decompression bomb"): refuse it before decoding.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 85


def _refuse(code: str, message: str) -> DomainError:
    return DomainError(code, message, status=400, field="photos")


def photos_check_count(photos) -> None:
    if len(photos) > MAX_PHOTOS:
        raise _refuse("too_many_photos", _("At most %(n)d photos per report.") % {"n": MAX_PHOTOS})


def photo_clean(upload) -> ContentFile:
    """The uploaded file as a clean JPEG ``ContentFile``; 400 ``photo_too_large`` / ``not_an_image``."""
    name = getattr(upload, "name", "") or "photo"
    size = getattr(upload, "size", None)
    if size is None:
        size = len(upload.read())
        upload.seek(0)
    if size > MAX_BYTES:
        raise _refuse(
            "photo_too_large",
            _("%(name)s is larger than %(mb)d MB.") % {"name": name, "mb": MAX_BYTES // (1024 * 1024)},
        )
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise _refuse("photo_too_large", _("%(name)s has too many pixels.") % {"name": name})
            probe.verify()  # structure check; the image must be opened again to decode it
        upload.seek(0)
        with Image.open(upload) as opened:
            opened.load()
            img: Image.Image = ImageOps.exif_transpose(opened)  # upright once its orientation tag is gone
            if img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
            # A fresh image holding only the pixels: no info dict (exif, icc_profile, comment, xmp) to carry over.
            clean = Image.new(img.mode, img.size)
            clean.paste(img)
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _refuse(
            "not_an_image", _("%(name)s is not a photo we can read (use JPEG, PNG or WebP).") % {"name": name}
        ) from None
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return ContentFile(out.getvalue(), name=f"{uuid.uuid4().hex}.jpg")
