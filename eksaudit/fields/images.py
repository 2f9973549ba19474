"""Container image references: `[registry[:port]/]path[:tag][@digest]`.

The Falco plugin cuts an image at its first `:` and so turns `localhost:5000/app:1` into
`localhost`; eksaudit keeps the registry port (`localhost:5000/app`), as Falco's pre-plugin engine
did. There is no normalisation: `nginx` stays `nginx` (not `docker.io/library/nginx`), so rule lists
written for Falco keep matching.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image reference split into parts; `repository` includes the registry, if any."""

    repository: str
    tag: str | None
    digest: str | None
    registry: str | None


@lru_cache(maxsize=4096)
def parse_image(image: str) -> ImageRef:
    """Split an image reference. The tag is the text after the last `:` that follows the last `/`."""
    name, at, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = None
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    registry = None
    first, sep, _rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry = first
    return ImageRef(repository=name, tag=tag, digest=digest if at else None, registry=registry)


def image_repository(image: str) -> str:
    """The repository part of an image reference, registry and port included, tag and digest removed."""
    return parse_image(image).repository
