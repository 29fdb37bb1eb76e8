"""A stand-in for Google's side of sign-in: a signing key with its certificate, and a transport
that serves the certificate where google-auth fetches Google's, so no network is needed."""

from __future__ import annotations

import datetime
import json
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, transport
from google.auth import jwt as google_jwt

CLIENT_ID = "1234-test.apps.googleusercontent.com"
GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"


class KeyPair:
    """An RSA key with a self-signed certificate, as Google publishes them."""

    def __init__(self, kid: str):
        self.kid = kid
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-google-signer")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()

    def sign(self, **overrides):
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": CLIENT_ID,
            "sub": "110169484474386276334",
            "email": "ada@example.org",
            "email_verified": True,
            "name": "Ada",
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        signer = crypt.RSASigner.from_string(self.private_pem, key_id=self.kid)
        return google_jwt.encode(signer, {k: v for k, v in claims.items() if v is not None}).decode()


class Response(transport.Response):
    def __init__(self, status, data, headers=None):
        self._status, self._data, self._headers = status, data, headers or {}

    @property
    def status(self):
        return self._status

    @property
    def headers(self):
        return self._headers

    @property
    def data(self):
        return self._data


class CertsTransport(transport.Request):
    """Serves certificates at any URL and remembers what was asked."""

    def __init__(self, *keys, status=200):
        self.certs = {key.kid: key.cert_pem for key in keys}
        self.status = status
        self.urls = []

    def __call__(self, url, method="GET", body=None, headers=None, timeout=None, **kwargs):
        self.urls.append(url)
        return Response(self.status, json.dumps(self.certs).encode(), {"cache-control": "public, max-age=100"})
