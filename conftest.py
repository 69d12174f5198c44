# From a checkout, `pytest conformance --scim-url ... --profile ...` finds the plugin through this line;
# an installed copy registers the same module through its pytest11 entry point (same name, so only once).
pytest_plugins = ["scim_conformance.plugin"]
