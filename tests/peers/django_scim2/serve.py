"""Start the django-scim2 peer on 127.0.0.1: python serve.py PORT TOKEN (prints "ready" when listening).

The database is SQLite in memory, shared by the server's threads, so that a run is not paced by disk syncs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


def main() -> None:
    port, token = sys.argv[1:3]
    os.environ.update({"DJANGO_SETTINGS_MODULE": "peer_settings", "PEER_PORT": port, "PEER_TOKEN": token,
                       "PEER_DB": f"file:django-scim2-{port}?mode=memory&cache=shared"})
    import django
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    from peer_app.models import User

    User.objects.get_or_create(username="scim-client")
    print("ready", flush=True)
    run("127.0.0.1", int(port), get_wsgi_application(), threading=True)


if __name__ == "__main__":
    main()
