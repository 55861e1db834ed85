"""dask-gateway authenticator for the replica: accepts only Keycloak-signed bearer tokens.

The gateway's plugin interface is Python, so this small module is the one piece of the replica
written in it. A request must carry ``Authorization: Bearer <access token>``; the token must be an
RS256 JWT signed by a key of the realm's JWKS (fetched from Keycloak and cached), issued by the
configured issuer and not expired. The user is the token's ``preferred_username``.

Upstream's base class trusts its session cookie before it looks at the Authorization header, so a
wrong or expired token would ride on an old cookie. Here a request that carries an Authorization
header is always judged by that header; the cookie only serves requests that carry none.
"""

import asyncio

import jwt
from dask_gateway_server.auth import Authenticator, unauthorized
from dask_gateway_server.models import User
from traitlets import Unicode


class KeycloakBearerAuthenticator(Authenticator):
    issuer = Unicode(help="Expected `iss` of access tokens.", config=True)
    jwks_url = Unicode(help="The realm's JWKS URL.", config=True)

    async def setup(self, app):
        # PyJWKClient caches the key set and refetches it when a token names an unknown kid.
        self._jwks = jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=300, timeout=10)

    async def authenticate_and_handle(self, request, handler):
        if "Authorization" in request.headers:
            user = await self.authenticate(request)
            request["user"] = user
            response = await handler(request)
            cookie = self.cache.put(user)
            response.set_cookie(self.cookie_name, cookie, max_age=self.cache_max_age * 2)
            return response
        return await super().authenticate_and_handle(request, handler)

    async def authenticate(self, request):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("Bearer")
        try:
            key = await asyncio.get_running_loop().run_in_executor(
                None, self._jwks.get_signing_key_from_jwt, token
            )
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"require": ["exp", "iss"], "verify_aud": False},
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as exc:
            self.log.info("Rejected bearer token: %s", exc)
            raise unauthorized("Bearer") from None
        username = claims.get("preferred_username")
        if not username:
            raise unauthorized("Bearer")
        return User(username)
