"""Access tokens: the signature is verified once per process, the claims every time."""

import time

from odoo.addons.spp_dci.dci.errors import DCIError
from odoo.addons.spp_dci.dci.keys import SigningKey
from odoo.addons.spp_dci_server.services import tokens
from odoo.addons.spp_dci_server.services.tokens import issue_token, verify_token
from odoo.tests import tagged
from odoo.tests.common import BaseCase


@tagged("post_install", "-at_install")
class TestVerifiedTokenCache(BaseCase):
    NOW = int(time.time())

    def setUp(self):
        super().setUp()
        self.key = SigningKey.generate()
        self.keys = {self.key.kid: self.key.public_key}
        self.token, self.claims = issue_token(
            self.key,
            issuer="registry",
            audience="/dci/social",
            client_id="mis",
            scopes=["registry.search"],
            ttl=600,
            now=self.NOW,
        )

    def verify(self, keys=None, now=None, audience="/dci/social"):
        return verify_token(
            self.token,
            self.keys if keys is None else keys,
            issuer="registry",
            audience=audience,
            now=now or self.NOW,
        )

    def assertRefused(self, message, **kwargs):
        with self.assertRaises(DCIError) as caught:
            self.verify(**kwargs)
        self.assertEqual(caught.exception.http_status, 401)
        self.assertEqual(caught.exception.message, message)

    def test_signature_checked_once_claims_every_time(self):
        self.assertEqual(self.verify(), self.claims)
        self.assertIsNotNone(tokens._verified.get(self.token, self.keys))
        verified = self.verify()
        verified["scope"] = "changed by a caller"
        self.assertEqual(self.verify(), self.claims)  # callers get their own copy
        # the claims are checked on every request, cached or not
        self.assertRefused("the access token has expired", now=self.NOW + 3600)
        self.assertRefused(
            "the access token was issued for another server or endpoint", audience="/dci/crvs"
        )

    def test_retired_or_revoked_key_refuses_cached_tokens(self):
        self.verify()
        # our key is gone from the published keys (revoked): refused at once
        self.assertRefused("the access token was not signed by a key of this server", keys={})
        self.assertIsNone(tokens._verified.get(self.token, self.keys))
        # new key objects (Odoo's caches cleared after a key change): verified again
        self.verify()
        reloaded = {self.key.kid: SigningKey.from_private_key(self.key._private_key).public_key}
        self.assertEqual(self.verify(keys=reloaded), self.claims)
        self.assertIsNotNone(tokens._verified.get(self.token, reloaded))
        # another key under the same kid does not verify our signature
        impostor = {self.key.kid: SigningKey.generate().public_key}
        self.assertRefused("the access token signature is invalid", keys=impostor)

    def test_refused_tokens_are_not_remembered(self):
        tampered = self.token[:-4] + ("AAAA" if not self.token.endswith("AAAA") else "BBBB")
        for _attempt in range(2):
            with self.assertRaises(DCIError):
                verify_token(
                    tampered, self.keys, issuer="registry", audience="/dci/social", now=self.NOW
                )
        self.assertIsNone(tokens._verified.get(tampered, self.keys))

    def test_bounded(self):
        cache = tokens._VerifiedTokens(size=2)
        public = self.keys[self.key.kid]
        for name in ("a", "b", "c"):
            cache.add(name, "kid", public, {})
        self.assertIsNone(cache.get("a", {"kid": public}))
        self.assertEqual(cache.get("c", {"kid": public}), {})
