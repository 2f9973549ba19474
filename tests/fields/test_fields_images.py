"""Image reference parsing: the registry port is kept, tag and digest are removed, no normalisation."""

from __future__ import annotations

import pytest

from eksaudit.fields.images import ImageRef, image_repository, parse_image


@pytest.mark.parametrize(
    ("image", "repo"),
    [
        ("nginx", "nginx"),
        ("nginx:1.25", "nginx"),
        ("docker.io/falcosecurity/falco:0.38", "docker.io/falcosecurity/falco"),
        ("nginx@sha256:abc123", "nginx"),
        ("gcr.io/x/y:tag@sha256:abc", "gcr.io/x/y"),
        ("localhost:5000/app:1", "localhost:5000/app"),
        ("localhost:5000/app", "localhost:5000/app"),
        ("myreg.io:443/team/app", "myreg.io:443/team/app"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:v2", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api"),
        ("", ""),
    ],
)
def test_repository(image, repo):
    assert image_repository(image) == repo


def test_parts():
    assert parse_image("localhost:5000/team/app:1@sha256:abc") == ImageRef(
        repository="localhost:5000/team/app", tag="1", digest="sha256:abc", registry="localhost:5000"
    )
    assert parse_image("falcosecurity/falco") == ImageRef("falcosecurity/falco", None, None, None)
    assert parse_image("busybox@sha256:d") == ImageRef("busybox", None, "sha256:d", None)
    assert parse_image("localhost/app:v") == ImageRef("localhost/app", "v", None, "localhost")
