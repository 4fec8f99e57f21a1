"""The app's public addresses, as the domain needs them in emails.

The domain never builds the web app's URLs itself: whoever calls it (a route, a worker
task) hands it a ``Links`` made from the app's named routes and ``BASE_URL``.
"""

from __future__ import annotations

from typing import Protocol


class Links(Protocol):
    def contest(self, slug: str) -> str:
        """A contest's public page."""
        ...

    def draw(self, slug: str) -> str:
        """A contest's draw page, with its certificate."""
        ...

    def account(self) -> str:
        """The participant's account page, with their conversations with brands."""
        ...

    def console_sign_in(self, brand_slug: str) -> str:
        """Sign in, then on to a brand's console."""
        ...

    def email_sign_in(self, token: str) -> str:
        """Where an emailed sign-in link leads."""
        ...
