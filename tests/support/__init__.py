"""Real parts for the tests: servers on loopback, providers that misbehave on purpose."""
