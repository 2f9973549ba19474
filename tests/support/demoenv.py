"""A local CloudWatch endpoint loaded with the demo scenario, and the environment pointing eksaudit at it."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eksaudit.demo.loader import load_to_cloudwatch, local_client
from eksaudit.demo.scenario import build_scenario
from eksaudit.demo.server import LocalCloudWatch

REGION = "us-east-1"


@contextmanager
def demo_cloudwatch_env(**extra: str) -> Iterator[dict[str, str]]:
    """The environment (no AWS_* of the developer's, fake credentials, the endpoint) plus `extra`."""
    with LocalCloudWatch() as cw:
        cw.reset()  # moto's state is per process: another module may have loaded the scenario already
        scenario = build_scenario(seed=0)
        load_to_cloudwatch(local_client(cw.endpoint, REGION), scenario.log_group, scenario.by_stream())
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "NO_COLOR"}
        env.update(
            AWS_ENDPOINT_URL=cw.endpoint, AWS_REGION=REGION, AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo",
            AWS_EC2_METADATA_DISABLED="true", PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            **extra,
        )
        yield env
