"""dask-gateway-server configuration for one replica site.

Environment (set by replica.ts): DEDL_SITE, DEDL_GATEWAY_PORT, DEDL_ISSUER, DEDL_JWKS_URL,
DEDL_SITE_DATA (the site's data folder), DEDL_CLUSTERS_DIR, DEDL_REPLICA_ID, and DEDL_IMAGES
(JSON: image name -> the Python that runs clusters of that image; the first is the default).

The gateway itself runs on DEDL's stack (dask-gateway-server 2023.1.1). The `image` option picks
the software of a cluster's scheduler and workers, as on DEDL, where it names a container image:
here each image is a Python environment of this machine.
"""

import json
import os
import sys

from dask_gateway_server.options import Float, Integer, Options, String

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keycloak_bearer_auth import KeycloakBearerAuthenticator  # noqa: E402

c = get_config()  # noqa: F821 (provided by traitlets)

site = os.environ["DEDL_SITE"]

c.DaskGateway.address = "127.0.0.1:0"
c.Proxy.address = "127.0.0.1:" + os.environ["DEDL_GATEWAY_PORT"]
c.DaskGateway.authenticator_class = KeycloakBearerAuthenticator
c.KeycloakBearerAuthenticator.issuer = os.environ["DEDL_ISSUER"]
c.KeycloakBearerAuthenticator.jwks_url = os.environ["DEDL_JWKS_URL"]

c.DaskGateway.backend_class = "dask_gateway_server.backends.local.UnsafeLocalBackend"
c.LocalBackend.clusters_directory = os.environ["DEDL_CLUSTERS_DIR"]
IMAGES = json.loads(os.environ["DEDL_IMAGES"])
DEFAULT_IMAGE = next(iter(IMAGES))


def _commands(python):
    # distributed >= 2026.6 no longer installs the dask-scheduler/dask-worker commands.
    return {
        "scheduler_cmd": [python, "-m", "distributed.cli.dask_scheduler"],
        "worker_cmd": [python, "-m", "distributed.cli.dask_worker"],
    }


for _name, _value in _commands(IMAGES[DEFAULT_IMAGE]).items():
    setattr(c.ClusterConfig, _name, _value)
c.ClusterConfig.environment = {
    "DEDL_SITE": site,
    "DEDL_SITE_DATA": os.environ["DEDL_SITE_DATA"],
    # Tags every scheduler and worker so `replica stop` finds them even if the gateway died.
    "DEDL_REPLICA_ID": os.environ["DEDL_REPLICA_ID"],
}
c.ClusterConfig.cluster_max_workers = 10
c.ClusterConfig.idle_timeout = 3600


def _options_handler(options, user):
    python = IMAGES.get(options.image)
    if python is None:
        # On DEDL an unknown image fails when the pod cannot pull it; here it is refused at once
        # (dask-gateway answers 422 with this text).
        raise ValueError(
            f"image {options.image!r} is not available at this site; choose one of: "
            + ", ".join(IMAGES)
        )
    return {
        "worker_cores": options.worker_cores,
        "worker_memory": int(options.worker_memory * 2**30),
        **_commands(python),
    }


c.Backend.cluster_options = Options(
    Integer("worker_cores", default=2, min=1, max=10, label="Worker Cores"),
    Float("worker_memory", default=4, min=1, max=32, label="Worker Memory (GB)"),
    String("image", default=DEFAULT_IMAGE,
           label="Image (default: DEDL's dask 2023.8.0; also: " + ", ".join(list(IMAGES)[1:]) + ")"),
    handler=_options_handler,
)
