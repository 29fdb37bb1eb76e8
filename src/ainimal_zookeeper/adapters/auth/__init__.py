"""The sign-in adapters: identity providers and a JSON-file store for accounts and grants.

`google.GoogleIdTokens` (google-auth) and `oidc.OAuthProvider` (Authlib, with the endpoints of
`oidc_presets`) implement the identity ports of `ports/identity.py`; `json_documents` is a
`DocumentStore` in one hand-editable JSON file. `bootstrap/authentication.py` picks them from
the config; the vendor SDKs are imported only when a provider needs them.
"""
