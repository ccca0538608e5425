"""JWKS cache against a real local HTTP server: caching, refresh, rate limits, errors."""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo.addons.spp_dci.dci import jwks as jwks_module
from odoo.addons.spp_dci.dci.envelope import build_envelope, verify_envelope
from odoo.addons.spp_dci.dci.jwks import (
    JWKSCache,
    JWKSError,
    JWKSFetchError,
    JWKSFormatError,
    JWKSKeyNotFound,
    default_cache,
)
from odoo.addons.spp_dci.dci.keys import ED25519, RSA_PSS_SHA512, SigningKey, build_jwks
from odoo.addons.spp_dci.dci.signature import UnknownSigningKey
from odoo.tests import tagged
from odoo.tests.common import BaseCase

JWKS_LOGGER = jwks_module.__name__


class _Clock:
    def __init__(self, start=1000.0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that time out or stop reading (size limit tests) close the socket.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _JwksServer:
    """A real HTTP server on 127.0.0.1 whose answer the test controls; counts GETs."""

    def __init__(self):
        self.hits = 0
        self.status = 200
        self.body = b'{"keys": []}'
        self.headers = {}
        self.delay = 0.0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server._lock:
                    server.hits += 1
                    status, body, headers, delay = (
                        server.status,
                        server.body,
                        dict(server.headers),
                        server.delay,
                    )
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"

    def publish(self, *keys, cache_control=None, **extra_headers):
        self.body = json.dumps(build_jwks(keys)).encode()
        self.status = 200
        self.headers = dict(extra_headers)
        if cache_control is not None:
            self.headers["Cache-Control"] = cache_control

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@tagged("post_install", "-at_install", "dci_core")
class TestJwksCache(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.key1 = SigningKey.generate(ED25519, kid="k1")
        cls.key2 = SigningKey.generate(ED25519, kid="k2")
        cls.rsa = SigningKey.generate(RSA_PSS_SHA512, kid="rsa", rsa_key_size=2048)

    def setUp(self):
        super().setUp()
        self.server = _JwksServer()
        self.addCleanup(self.server.stop)
        self.clock = _Clock()
        self.cache = self._cache()

    def _cache(self, **kwargs):
        options = {"allow_http": True, "clock": self.clock, "timeout": 2.0, "max_ttl": 3600}
        options.update(kwargs)
        cache = JWKSCache(**options)
        self.addCleanup(cache.close)
        return cache

    def test_hit_then_cached(self):
        self.server.publish(self.key1, self.rsa)
        self.assertEqual(self.cache.get_key(self.server.url, "k1"), self.key1.public_key)
        self.assertEqual(self.cache.get_key(self.server.url, "rsa"), self.rsa.public_key)
        self.clock.advance(299)
        self.assertEqual(self.cache.get_key(self.server.url, "k1"), self.key1.public_key)
        self.assertEqual(self.server.hits, 1)
        self.assertEqual(set(self.cache.get_keys(self.server.url)), {"k1", "rsa"})
        self.assertEqual(self.server.hits, 1)

    def test_default_ttl_when_no_cache_control(self):
        self.server.publish(self.key1)
        self.cache.get_key(self.server.url, "k1")
        self.clock.advance(299)
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 1)
        self.clock.advance(2)  # 301 s > default 300 s
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 2)

    def test_max_age_is_honoured(self):
        self.server.publish(self.key1, cache_control="public, max-age=60")
        self.cache.get_key(self.server.url, "k1")
        self.clock.advance(59)
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 1)
        self.clock.advance(2)
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 2)

    def test_age_header_shortens_max_age(self):
        self.server.publish(self.key1, cache_control="max-age=60", Age="50")
        self.cache.get_key(self.server.url, "k1")
        self.clock.advance(11)
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 2)

    def test_no_store_keeps_keys_only_for_min_ttl(self):
        self.server.publish(self.key1, cache_control="no-store")
        self.cache.get_key(self.server.url, "k1")
        self.clock.advance(9)
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 1)
        self.clock.advance(2)  # past min_ttl (10 s)
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 2)

    def test_ttl_bounds(self):
        self.server.publish(self.key1, cache_control="max-age=999999")
        self.cache.get_key(self.server.url, "k1")
        self.clock.advance(3599)
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 1)
        self.clock.advance(2)  # max_ttl = 3600
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 2)
        self.server.publish(self.key1, cache_control="max-age=1")
        self.clock.advance(3601)
        self.cache.get_key(self.server.url, "k1")
        self.clock.advance(5)  # max-age=1 is raised to min_ttl = 10
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 3)

    def test_rotation_refreshes_on_unknown_kid_rate_limited(self):
        self.server.publish(self.key1, cache_control="max-age=3600")
        self.cache.get_key(self.server.url, "k1")
        self.server.publish(self.key2, cache_control="max-age=3600")  # the peer rotates
        self.clock.advance(5)
        with self.assertRaises(JWKSKeyNotFound):  # refreshed less than 30 s ago
            self.cache.get_key(self.server.url, "k2")
        self.assertEqual(self.server.hits, 1)
        self.clock.advance(26)
        self.assertEqual(self.cache.get_key(self.server.url, "k2"), self.key2.public_key)
        self.assertEqual(self.server.hits, 2)
        with self.assertRaises(JWKSKeyNotFound):  # the old key is gone after the refresh
            self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 2)

    def test_flood_of_bogus_kids_cannot_hammer_the_peer(self):
        self.server.publish(self.key1, cache_control="max-age=3600")
        self.cache.get_key(self.server.url, "k1")
        for second in range(120):
            self.clock.advance(1)
            for n in range(5):
                with self.assertRaises(JWKSKeyNotFound):
                    self.cache.get_key(self.server.url, f"bogus-{second}-{n}")
        # 600 lookups over 120 s: at most one refresh per 30 s after the first fetch
        self.assertEqual(self.server.hits, 1 + 4)
        self.assertEqual(self.cache.get_key(self.server.url, "k1"), self.key1.public_key)

    def test_fetch_errors(self):
        with self.assertLogs(JWKS_LOGGER, "WARNING"):  # each failed fetch is logged
            self.server.status = 404
            with self.assertRaises(JWKSFetchError) as caught:
                self.cache.get_key(self.server.url, "k1")
            self.assertIn("404", str(caught.exception))
            self.assertEqual(caught.exception.url, self.server.url)
            for body, message in (
                (b"{not json", "not valid JSON"),
                (b'{"foo": []}', '"keys"'),
                (b"[]", '"keys"'),
            ):
                with self.subTest(body=body):
                    cache = self._cache()
                    self.server.status, self.server.body = 200, body
                    with self.assertRaises(JWKSFormatError) as caught:
                        cache.get_key(self.server.url, "k1")
                    self.assertIn(message, str(caught.exception))

    def test_failure_backoff(self):
        with self.assertLogs(JWKS_LOGGER, "WARNING"):  # each failed fetch is logged
            self.server.status = 500
            with self.assertRaises(JWKSFetchError):
                self.cache.get_key(self.server.url, "k1")
            self.server.publish(self.key1)
            self.clock.advance(5)
            with self.assertRaises(JWKSFetchError):  # remembered, the peer is not asked again
                self.cache.get_key(self.server.url, "k1")
            self.assertEqual(self.server.hits, 1)
            self.clock.advance(6)
            self.assertEqual(self.cache.get_key(self.server.url, "k1"), self.key1.public_key)
            self.assertEqual(self.server.hits, 2)

    def test_network_failure_and_timeout(self):
        with self.assertLogs(JWKS_LOGGER, "WARNING"):  # each failed fetch is logged
            closed = _JwksServer()
            url = closed.url
            closed.stop()
            with self.assertRaises(JWKSFetchError):
                self.cache.get_key(url, "k1")
            self.server.publish(self.key1)
            self.server.delay = 1.0
            cache = self._cache(timeout=0.2)
            with self.assertRaises(JWKSFetchError):
                cache.get_key(self.server.url, "k1")

    def test_invalid_or_unusable_jwks_members(self):
        document = build_jwks([self.key1, self.key2, self.rsa])
        document["keys"][1]["x"] = "AAAA"  # k2: broken
        rsa_jwk = document["keys"][2]
        document["keys"].append({**rsa_jwk, "use": "enc", "kid": "enc-only"})
        document["keys"].append(dict(rsa_jwk))  # "rsa" twice
        document["keys"].append({"kty": "oct", "k": "c2VjcmV0", "kid": "sym", "alg": "HS256"})
        self.server.body = json.dumps(document).encode()
        self.assertEqual(self.cache.get_key(self.server.url, "k1"), self.key1.public_key)
        with self.assertRaises(JWKSFormatError):
            self.cache.get_key(self.server.url, "k2")
        with self.assertRaises(JWKSFormatError):
            self.cache.get_key(self.server.url, "rsa")
        with self.assertRaises(JWKSFormatError):
            self.cache.get_key(self.server.url, "sym")
        with self.assertRaises(JWKSKeyNotFound):
            self.cache.get_key(self.server.url, "enc-only")
        self.assertEqual(self.server.hits, 1)

    def test_size_limit(self):
        with self.assertLogs(JWKS_LOGGER, "WARNING"):  # each failed fetch is logged
            self.server.publish(self.key1)
            cache = self._cache(max_bytes=64)
            with self.assertRaises(JWKSFetchError):
                cache.get_key(self.server.url, "k1")

    def test_https_required_unless_allowed(self):
        self.server.publish(self.key1)
        strict = JWKSCache(clock=self.clock)
        self.addCleanup(strict.close)
        for url in (self.server.url, "ftp://example.org/jwks.json", None):
            with self.subTest(url=url), self.assertRaises(JWKSError):
                strict.get_key(url, "k1")
        self.assertEqual(self.server.hits, 0)

    def test_concurrent_cold_lookups_fetch_once(self):
        self.server.publish(self.key1)
        self.server.delay = 0.3
        results, errors = [], []

        def lookup():
            try:
                results.append(self.cache.get_key(self.server.url, "k1"))
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=lookup) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual(errors, [])
        self.assertEqual(len(results), 16)
        self.assertEqual(self.server.hits, 1)

    def test_invalidate(self):
        self.server.publish(self.key1)
        self.cache.get_key(self.server.url, "k1")
        self.cache.invalidate(self.server.url)
        self.cache.get_key(self.server.url, "k1")
        self.cache.invalidate()
        self.cache.get_key(self.server.url, "k1")
        self.assertEqual(self.server.hits, 3)

    def test_resolver_verifies_envelopes(self):
        self.server.publish(self.key1, self.rsa)
        urls = {"peer.example.org": self.server.url}
        resolver = self.cache.resolver(urls.get)
        envelope = build_envelope(
            {"sender_id": "peer.example.org", "action": "search"}, {}, self.rsa, "peer.example.org"
        )
        self.assertEqual(verify_envelope(envelope, resolver).key_id, "rsa")
        stranger = build_envelope(
            {"sender_id": "peer.example.org"}, {}, self.key2, "peer.example.org"
        )
        with self.assertRaises(UnknownSigningKey):
            verify_envelope(stranger, resolver)
        unknown_sender = build_envelope(
            {"sender_id": "x.example.org"}, {}, self.key1, "x.example.org"
        )
        with self.assertRaises(UnknownSigningKey):
            verify_envelope(unknown_sender, resolver)
        self.assertEqual(self.server.hits, 1)

    def test_default_cache_is_a_singleton(self):
        self.assertIs(default_cache(), default_cache())
        self.assertIsInstance(default_cache(), JWKSCache)
