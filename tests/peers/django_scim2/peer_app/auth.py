from __future__ import annotations

import hmac
import os

from django.contrib.auth.models import AnonymousUser


class BearerTokenMiddleware:
    """The project's own authentication: django-scim2 only checks that some earlier middleware logged a user in."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.expected = f"Bearer {os.environ['PEER_TOKEN']}".encode()

    def __call__(self, request):
        from peer_app.models import User

        sent = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(sent, self.expected):
            request.user = User.objects.get(username="scim-client")
        else:
            request.user = AnonymousUser()
        return self.get_response(request)
