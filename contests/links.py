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

    def claim(self, token: str) -> str:
        """A winner's page, where they claim their prize."""
        ...

    def verify_email(self, token: str) -> str:
        """Where an emailed link confirms a participant's address."""

    def account(self) -> str:
        """The participant's account page, with their conversations with brands."""
        ...

    def console_sign_in(self, brand_slug: str) -> str:
        """Sign in, then on to a brand's console."""
        ...

    def email_sign_in(self, token: str) -> str:
        """Where an emailed sign-in link leads."""
        ...

    def media(self, file: str) -> str:
        """An uploaded image (a brand's logo), for emails to show."""
        ...

    def snippet(self) -> str:
        """The snippet's script, as the tag pasted on brand pages names it."""
        ...
