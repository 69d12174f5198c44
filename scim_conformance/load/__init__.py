"""`scim-conformance load`: Entra's initial provisioning cycle replayed under load, and the races it exposes.

- `scenario`: what is sent (the profile's dialect, bodies from `IdentityFactory`) in which phases, and the three
  race probes; every create journalled before it is sent.
- `generator`: threads that send it, paced, bounded by time and a request cap, pausing the whole run on a 429
  for as long as the server asks (as Entra pauses its job), with a live progress line.
- `measurements`: what came back: latency per request kind, status counts, timeouts, 429s and their Retry-After.
- `result`: the judged requirements (capability `load`) as the suite's result document, JUnit and HTML with plots.
- `locustfile`: the same scenario as a Locust user class, for loads beyond one machine (extra `load`).
"""
