"""dask-gateway-server configuration for one replica site.

Environment (set by replica.ts): DEDL_SITE, DEDL_GATEWAY_PORT, DEDL_ISSUER, DEDL_JWKS_URL,
DEDL_SITE_DATA (the site's data folder), DEDL_CLUSTERS_DIR and DEDL_REPLICA_ID.
"""

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
# distributed >= 2026.6 no longer installs the dask-scheduler/dask-worker commands.
c.ClusterConfig.scheduler_cmd = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
c.ClusterConfig.worker_cmd = [sys.executable, "-m", "distributed.cli.dask_worker"]
c.ClusterConfig.environment = {
    "DEDL_SITE": site,
    "DEDL_SITE_DATA": os.environ["DEDL_SITE_DATA"],
    # Tags every scheduler and worker so `replica stop` finds them even if the gateway died.
    "DEDL_REPLICA_ID": os.environ["DEDL_REPLICA_ID"],
}
c.ClusterConfig.cluster_max_workers = 10
c.ClusterConfig.idle_timeout = 3600


def _options_handler(options, user):
    return {
        "worker_cores": options.worker_cores,
        "worker_memory": int(options.worker_memory * 2**30),
        # The local backend runs no containers: the image is accepted and ignored.
    }


c.Backend.cluster_options = Options(
    Integer("worker_cores", default=2, min=1, max=10, label="Worker Cores"),
    Float("worker_memory", default=4, min=1, max=32, label="Worker Memory (GB)"),
    String("image", default="registry.eodc.eu/eodc/clusters/dedl-deployment/dedl-dask:latest",
           label="Image"),
    handler=_options_handler,
)
