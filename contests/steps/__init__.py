"""Step kinds: one module per kind, the registry that names them, and the services that
record a completion whatever the kind (``completion.py``).

Adding a kind is one module here (a ``StepKind`` subclass added to ``registry.KINDS``),
its two templates (``participant/steps/<kind>.html``, ``console/steps/<kind>.html``) and
its messages; the contract test in ``tests/test_step_kinds.py`` then runs it.
"""
